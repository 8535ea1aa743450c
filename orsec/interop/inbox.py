"""The partner inbox: every message in is kept, imported once, and answered in its own standard.

:func:`do_import_inbound` is the one writer of imports coming from EDXL-DE and Hub Santé
messages (the importers registered in :data:`orsec.interop.importing.IMPORTERS` call it); it
checks the envelope against the authenticated partner (sender id of its organisation, expiry),
answers a replayed ``distributionID`` with the stored answer without importing anything, and in
ONE transaction: opens the event of a new shared case (or finds the event already linked to the
case id), files a field report per ``createCase``, writes a main courante entry mentioning the
message (raw form attached as a text file, and kept in :class:`~orsec.interop.models.
InboundMessage`), and records the message with what it created.

:func:`receive` is the HTTP side (``POST /api/v1/interop/inbox``): size and content type, two-step
validation, the importer, the answer (EDXL-DE Ack/Error envelope, Hub Santé RC-REF/RS-ERROR, JSON
verdict for CAP) and the HTTP status (200 accepted or replay, 400 refused for security, 413 too
large, 415 unknown format, 422 invalid or not acceptable). A message refused for security writes
nothing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, transaction
from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from orsec.accounts.access import scope_of
from orsec.events.actions import EventRuleError, do_open_event
from orsec.journal.actions import JournalError, do_add_entry
from orsec.journal.chain import chain_for_event, watch_chain_for
from orsec.reports.actions import ReportError, do_submit_report
from orsec.territories.models import Territory

from .edxlde.serialize import DEFAULT_SENDER_ID
from .edxlde.serialize import error_answer as edxlde_error
from .errors import InteropError, InvalidMessage, ValidationError, Verdict
from .hubsante.read import STATUS_TO_MODE, CreateCase
from .hubsante.serialize import error_answer as hub_error
from .importing import ImportContext, ImportOutcome, NotImportable, importer_for
from .models import InboundMessage, PartnerSender
from .models import Verdict as VerdictChoice
from .validate import validate_message

MAX_INBOX_BYTES = 2 * 1024 * 1024
ACCEPTED_TYPES = frozenset(
    {
        "application/xml",
        "text/xml",
        "application/json",
        "application/cap+xml",
        "application/edxl-de+xml",
        "application/octet-stream",
        "",
    }
)


def our_sender_id() -> str:
    return str(getattr(settings, "ORSEC_INTEROP_SENDER_ID", DEFAULT_SENDER_ID))


@dataclass
class Received:
    """What the envelope of a valid message says, as the importers read it."""

    standard: str
    sender_id: str
    distribution_id: str
    status: str
    expires: dt.datetime | None = None
    summary: str = ""
    cases: list[CreateCase] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def allowed_senders(organisation: Any) -> set[str]:
    if organisation is None:
        return set()
    return set(
        PartnerSender.objects.filter(organisation=organisation).values_list("sender_id", flat=True)
    )


def check_envelope(received: Received, context: ImportContext, now: dt.datetime) -> None:
    """Sender = the authenticated partner; not expired. Raises ``InvalidMessage``."""
    if context.organisation is not None and received.sender_id not in allowed_senders(
        context.organisation
    ):
        raise InvalidMessage(
            "sender_not_partner",
            _(
                "L'émetteur « %(sender)s » de l'enveloppe n'est pas un identifiant déclaré pour "
                "le partenaire authentifié (%(org)s) : message refusé."
            )
            % {"sender": received.sender_id[:200], "org": context.organisation},
            "/senderID",
        )
    if received.expires is not None and received.expires <= now:
        raise InvalidMessage(
            "message_expired",
            _("Message expiré le %(when)s (dateTimeExpires) : il n'est plus importé.")
            % {"when": timezone.localtime(received.expires).strftime("%d/%m/%Y %H:%M")},
            "/dateTimeExpires",
        )


def _territory_of(actor: Any, organisation: Any) -> Territory:
    paths = scope_of(actor).paths
    if paths:
        found = Territory.objects.filter(path=paths[0]).first()
        if found is not None:
            return found
    if organisation is not None:
        return organisation.territory
    raise InvalidMessage(
        "no_territory", _("Aucun territoire pour recevoir ce message (compte sans périmètre).")
    )


def _event_for_case(case: CreateCase, organisation: Any) -> Any:
    if not case.case_id:
        return None
    earlier = (
        InboundMessage.objects.filter(case_id=case.case_id, event__isnull=False, imported=True)
        .select_related("event")
        .order_by("-received_at")
        .first()
    )
    return earlier.event if earlier is not None else None


def _case_text(case: CreateCase) -> str:
    parts = [
        _("Affaire partagée %(case)s") % {"case": case.case_id},
        f"{case.what_code} {case.what_label}".strip(),
    ]
    if case.location_kind:
        parts.append(case.location_kind)
    if case.address or case.city:
        parts.append(", ".join(p for p in (case.address, case.city) if p))
    if case.risks:
        parts.append(_("Risques : %(risks)s") % {"risks": ", ".join(case.risks)})
    if case.victims:
        parts.append(_("Victimes : %(count)s") % {"count": case.victims})
    parts += list(case.notes)
    return "\n".join(p for p in parts if p)


def _refused(error: Exception, code: str) -> InvalidMessage:
    return InvalidMessage(code, _("Import impossible : %(reason)s") % {"reason": error}, "/")


def do_import_inbound(
    data: bytes,
    context: ImportContext,
    received: Received,
    *,
    content_type: str,
    build_ack: Callable[[], tuple[bytes, str]],
    now: dt.datetime | None = None,
) -> ImportOutcome:
    """Import a valid message once (see the module docstring); a replay imports nothing."""
    now = now or timezone.now()
    check_envelope(received, context, now)
    earlier = InboundMessage.objects.filter(
        sender_id=received.sender_id, distribution_id=received.distribution_id, imported=True
    ).first()
    if earlier is not None:
        _record(data, context, received, content_type, now, replay_of=earlier)
        return ImportOutcome(
            standard=received.standard,
            summary=_("Message déjà reçu (rejeu) : rien n'a été importé de nouveau."),
            event_id=earlier.event_id,
            replay=True,
            response=bytes(earlier.response),
            response_type=earlier.response_type,
        )
    try:
        with transaction.atomic():
            return _import(data, context, received, content_type, build_ack, now)
    except IntegrityError:
        # the same distribution imported concurrently: answer as a replay
        return do_import_inbound(
            data, context, received, content_type=content_type, build_ack=build_ack, now=now
        )
    except (EventRuleError, ReportError, JournalError) as error:
        raise _refused(error, getattr(error, "code", "import_refused")) from error


def _import(
    data: bytes,
    context: ImportContext,
    received: Received,
    content_type: str,
    build_ack: Callable[[], tuple[bytes, str]],
    now: dt.datetime,
) -> ImportOutcome:
    actor = context.actor
    mode = STATUS_TO_MODE.get(received.status, "test")
    event = context.event
    if event is not None and event.mode != mode:
        raise InvalidMessage(
            "mode_mismatch",
            _(
                "Le message est en mode « %(message)s » et l'événement en mode « %(event)s » : "
                "un exercice ne se mélange pas au réel."
            )
            % {"message": mode, "event": event.mode},
            "/distributionStatus",
        )
    channel = "partner"
    report_ids: list[int] = []
    case_id = ""
    for case in received.cases:
        case_id = case_id or case.case_id
        target = event or _event_for_case(case, context.organisation)
        if target is None:
            target = do_open_event(
                actor,
                title=(case.what_label or _("Affaire partagée"))[:150]
                + (f" — {case.city}" if case.city else ""),
                event_type=case.event_type,
                territory=_territory_of(actor, context.organisation),
                mode=mode,
                description=_case_text(case),
                organisation=context.organisation,
                now=now,
            )
        event = target
        location = (
            {"type": "Point", "coordinates": [case.lon, case.lat]}
            if case.lat is not None and case.lon is not None
            else None
        )
        report = do_submit_report(
            actor,
            event=target,
            template="general",
            figures={},
            text=_case_text(case),
            location=location,
            channel=channel,
            organisation=context.organisation,
            now=now,
        )
        report_ids.append(report.pk)
    response, response_type = build_ack()
    message = _record(
        data,
        context,
        received,
        content_type,
        now,
        imported=True,
        event=event,
        case_id=case_id,
        report_ids=report_ids,
        response=response,
        response_type=response_type,
    )
    chain = (
        chain_for_event(event)
        if event is not None
        else watch_chain_for(_territory_of(actor, context.organisation))
    )
    text = _(
        "Message %(standard)s reçu de %(partner)s (émetteur %(sender)s, distribution %(id)s, "
        "message entrant n° %(pk)s) : %(summary)s"
    ) % {
        "standard": received.standard,
        "partner": context.organisation or actor,
        "sender": received.sender_id,
        "id": received.distribution_id,
        "pk": message.pk,
        "summary": received.summary,
    }
    raw_file = SimpleUploadedFile(f"message-{message.pk}.txt", data)
    try:
        entry = do_add_entry(
            actor,
            chain,
            kind="information",
            text=text[:4000],
            channel=channel,
            organisation=context.organisation,
            files=[raw_file],
            now=now,
        )
    except JournalError:
        # not a text the attachment store accepts (UTF-16…): the raw form stays in the message
        entry = do_add_entry(
            actor,
            chain,
            kind="information",
            text=text[:4000],
            channel=channel,
            organisation=context.organisation,
            now=now,
        )
    message.entry_ids = [entry.pk]
    message.save(update_fields=["entry_ids"])
    return ImportOutcome(
        standard=received.standard,
        summary=received.summary,
        event_id=event.pk if event is not None else None,
        entry_ids=[entry.pk],
        report_ids=report_ids,
        response=response,
        response_type=response_type,
    )


def _record(
    data: bytes,
    context: ImportContext,
    received: Received | None,
    content_type: str,
    now: dt.datetime,
    *,
    standard: str = "",
    verdict: str = VerdictChoice.VALID,
    errors: list[ValidationError] | None = None,
    imported: bool = False,
    replay_of: InboundMessage | None = None,
    event: Any = None,
    case_id: str = "",
    report_ids: list[int] | None = None,
    response: bytes = b"",
    response_type: str = "",
) -> InboundMessage:
    token = getattr(context, "partner", None)
    return InboundMessage.objects.create(
        organisation=context.organisation,
        received_by=context.actor if getattr(context.actor, "pk", None) else None,
        partner_name=str(token or context.organisation or "")[:100],
        standard=(received.standard if received else standard)[:40],
        sender_id=(received.sender_id if received else "")[:255],
        distribution_id=(received.distribution_id if received else "")[:255],
        case_id=case_id[:255],
        mode=STATUS_TO_MODE.get(received.status, "") if received else "",
        content_type=content_type[:100],
        sha256=hashlib.sha256(data).hexdigest(),
        size=len(data),
        raw=data,
        received_at=now,
        verdict=verdict,
        errors=[e.as_dict() for e in errors or []],
        imported=imported,
        replay_of=replay_of,
        event=event,
        report_ids=report_ids or [],
        summary=received.summary if received else "",
        response=response,
        response_type=response_type,
    )


# --- HTTP side ----------------------------------------------------------------------------------


def _json_response(status: int, body: dict[str, Any]) -> HttpResponse:
    return HttpResponse(
        json.dumps(body, ensure_ascii=False),
        status=status,
        content_type="application/json; charset=utf-8",
    )


def _problem(status: int, code: str, message: str) -> HttpResponse:
    return _json_response(status, {"code": code, "message": message})


def error_answer(data: bytes, verdict: Verdict) -> tuple[bytes, str]:
    """The standard's own Error answer for an invalid message (best effort on its envelope)."""
    if verdict.standard.startswith("EDXL-DE"):
        answer = edxlde_error(data, verdict.errors)
        if answer is not None:
            return answer
    if verdict.standard == "Hub Santé":
        answer = hub_error(data, verdict.errors)
        if answer is not None:
            return answer
    body = json.dumps(verdict.as_dict(), ensure_ascii=False).encode()
    return body, "application/json; charset=utf-8"


def receive(data: bytes, content_type: str, context: ImportContext) -> HttpResponse:
    """Answer one message posted to the inbox (see the module docstring)."""
    media = content_type.split(";", 1)[0].strip().lower()
    if len(data) > MAX_INBOX_BYTES:
        return _problem(
            413,
            "payload_too_large",
            _("Message trop volumineux (%(max)s octets au plus).") % {"max": MAX_INBOX_BYTES},
        )
    if media not in ACCEPTED_TYPES:
        return _problem(
            415,
            "unsupported_media_type",
            _(
                "Type de contenu « %(type)s » non pris en charge : XML (EDXL-DE, CAP, Hub Santé) "
                "ou JSON (Hub Santé)."
            )
            % {"type": media[:100]},
        )
    verdict = validate_message(data)
    if verdict.verdict == "refused":
        first = verdict.errors[0]
        return _problem(400, first.code, first.message)
    if (
        not verdict.is_valid
        and verdict.errors
        and verdict.errors[0].code
        in (
            "json_unknown_standard",
            "cap_not_an_alert",
        )
    ):
        return _problem(
            415,
            "unknown_standard",
            _("Format de message non reconnu (EDXL-DE, Hub Santé/CISU, CAP attendus)."),
        )
    now = timezone.now()
    if not verdict.is_valid:
        body, body_type = error_answer(data, verdict)
        _record(
            data,
            context,
            None,
            media,
            now,
            standard=verdict.standard,
            verdict=VerdictChoice.INVALID,
            errors=verdict.errors,
            response=body,
            response_type=body_type,
        )
        return HttpResponse(body, status=422, content_type=body_type)
    try:
        outcome = importer_for(verdict.standard)(data, context)
    except NotImportable as exc:
        return _json_response(
            422,
            {
                "standard": verdict.standard,
                "verdict": "valid",
                "errors": [exc.as_error().as_dict()],
            },
        )
    except InteropError as exc:
        failed = Verdict(standard=verdict.standard, verdict="invalid", errors=[exc.as_error()])
        body, body_type = error_answer(data, failed)
        _record(
            data,
            context,
            None,
            media,
            now,
            standard=verdict.standard,
            verdict=VerdictChoice.INVALID,
            errors=failed.errors,
            response=body,
            response_type=body_type,
        )
        return HttpResponse(body, status=422, content_type=body_type)
    if outcome.response:
        return HttpResponse(outcome.response, status=200, content_type=outcome.response_type)
    return _json_response(
        200, {"standard": outcome.standard, "verdict": "valid", "replay": outcome.replay}
    )
