"""The one writer of messages received from partners (inbox and ``orsec interop import``).

:func:`do_receive_message` takes the raw bytes of one message and, in ONE transaction:

* validates it in two steps (:func:`orsec.interop.validate.validate_message`);
* **refused** for security (DOCTYPE, entity, oversize…): an audit record
  (``interop.inbound.refused``: size, SHA-256, reason) and *nothing else*;
* **invalid** (or a valid message its importer refuses: sender, expiry, mode…): the message is
  kept (:class:`~orsec.interop.models.InboundMessage`, raw bytes, errors, the Error answer sent
  back) and audited (``interop.inbound.invalid``);
* **valid**: the importer of its standard (:data:`orsec.interop.importing.IMPORTERS`) writes
  the events, reports and main courante entries through their own actions; the message is kept
  with what it created, audited (``interop.inbound.imported`` or ``interop.inbound.replay``) and,
  when something was imported, a live message ``interop.message`` goes to the event topic (or
  to the watch topics of the logs written to).

EDXL-DE and Hub Santé importers call :func:`import_enveloped`: it checks the envelope against
the authenticated partner (sender id of its organisation, expiry), answers a replayed
``distributionID`` with the stored answer without importing anything, opens the event of a new
shared case (or finds the event already linked to the case id), files a field report per
``createCase``, imports the CAP and EMSI payloads through their own importers, writes a main
courante entry mentioning the message (raw form attached as a text file) and records the message
with what it created and the answer.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from orsec.accounts.access import scope_of
from orsec.audit.actions import record_audit
from orsec.directory.access import organisations_administered_by
from orsec.events.actions import EventRuleError, do_open_event
from orsec.events.models import Event
from orsec.journal.actions import JournalError, do_add_entry
from orsec.journal.chain import chain_for_event, watch_chain_for
from orsec.journal.models import JournalEntry
from orsec.live.outbox import event_topic, queue_live_message, watch_topic
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

#: first error codes meaning "not a message of a standard the portal knows"
UNKNOWN_STANDARD_CODES = frozenset({"json_unknown_standard", "cap_not_an_alert"})
JSON_TYPE = "application/json; charset=utf-8"


def our_sender_id() -> str:
    return str(getattr(settings, "ORSEC_INTEROP_SENDER_ID", DEFAULT_SENDER_ID))


@dataclass
class Received:
    """What the envelope of a valid message says, as the importers read it.

    ``payloads`` are embedded messages of another standard imported through that standard's
    importer in the same transaction (CAP alerts, EMSI): ``(standard, bytes)``.
    """

    standard: str
    sender_id: str
    distribution_id: str
    status: str
    expires: dt.datetime | None = None
    summary: str = ""
    cases: list[CreateCase] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    payloads: list[tuple[str, bytes]] = field(default_factory=list)


@dataclass
class Reception:
    """What :func:`do_receive_message` did, and the answer to give (HTTP status, body, type)."""

    verdict: str  # imported | replay | invalid | not_importable | unknown | refused
    standard: str
    status: int
    body: bytes
    content_type: str
    errors: list[ValidationError] = field(default_factory=list)
    outcome: ImportOutcome | None = None
    inbound_id: int | None = None


def allowed_senders(organisation: Any) -> set[str]:
    if organisation is None:
        return set()
    return set(
        PartnerSender.objects.filter(organisation=organisation).values_list("sender_id", flat=True)
    )


def check_envelope(received: Received, context: ImportContext, now: dt.datetime) -> None:
    """Sender = the authenticated partner (inbox: ``partner`` channel; at the command line the
    operator's account vouches for the file); not expired. Raises ``InvalidMessage``."""
    if (
        context.channel == "partner"
        and context.organisation is not None
        and received.sender_id not in allowed_senders(context.organisation)
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


def _event_for_case(case: CreateCase) -> Any:
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


def import_enveloped(
    data: bytes,
    context: ImportContext,
    received: Received,
    *,
    content_type: str,
    build_ack: Callable[[], tuple[bytes, str]],
    now: dt.datetime | None = None,
) -> ImportOutcome:
    """Import a valid enveloped message once (see the module docstring); a replay imports
    nothing. Called by the EDXL-DE and Hub Santé importers, inside :func:`do_receive_message`."""
    now = now or timezone.now()
    check_envelope(received, context, now)
    earlier = InboundMessage.objects.filter(
        sender_id=received.sender_id, distribution_id=received.distribution_id, imported=True
    ).first()
    if earlier is not None:
        message = _record(data, context, received, content_type, now, replay_of=earlier)
        return ImportOutcome(
            standard=received.standard,
            summary=_("Message déjà reçu (rejeu) : rien n'a été importé de nouveau."),
            event_id=earlier.event_id,
            replay=True,
            response=bytes(earlier.response),
            response_type=earlier.response_type,
            inbound_id=message.pk,
        )
    try:
        with transaction.atomic():
            return _import(data, context, received, content_type, build_ack, now)
    except IntegrityError:
        # the same distribution imported concurrently: answer as a replay
        return import_enveloped(
            data, context, received, content_type=content_type, build_ack=build_ack, now=now
        )
    except (EventRuleError, ReportError, JournalError) as error:
        raise _refused(error, getattr(error, "code", "import_refused")) from error


def _mode_of(received: Received) -> str:
    return STATUS_TO_MODE.get(received.status, "test")


def _import(
    data: bytes,
    context: ImportContext,
    received: Received,
    content_type: str,
    build_ack: Callable[[], tuple[bytes, str]],
    now: dt.datetime,
) -> ImportOutcome:
    actor = context.actor
    mode = _mode_of(received)
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
    entry_ids: list[int] = []
    case_id = ""
    for case in received.cases:
        case_id = case_id or case.case_id
        target = event or _event_for_case(case)
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
    # embedded CAP alerts and EMSI messages: through their own importers, same transaction
    for standard, payload in received.payloads:
        inner = ImportContext(
            actor=actor, organisation=context.organisation, event=event, channel=channel
        )
        outcome = importer_for(standard)(payload, inner)
        entry_ids += outcome.entry_ids
        report_ids += outcome.report_ids
        if event is None and outcome.event_id is not None:
            event = Event.objects.get(pk=outcome.event_id)
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
        with transaction.atomic():
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
    entry_ids.insert(0, entry.pk)
    message.entry_ids = entry_ids
    message.save(update_fields=["entry_ids"])
    return ImportOutcome(
        standard=received.standard,
        summary=received.summary,
        event_id=event.pk if event is not None else None,
        entry_ids=entry_ids,
        report_ids=report_ids,
        response=response,
        response_type=response_type,
        inbound_id=message.pk,
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
    entry_ids: list[int] | None = None,
    report_ids: list[int] | None = None,
    summary: str = "",
    response: bytes = b"",
    response_type: str = "",
    mode: str = "",
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
        mode=(_mode_of(received) if received else mode)[:10],
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
        entry_ids=entry_ids or [],
        report_ids=report_ids or [],
        summary=(received.summary if received else summary)[:4000],
        response=response,
        response_type=response_type,
    )


# --- The action ---------------------------------------------------------------------------------


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
    return body, JSON_TYPE


def _json(body: dict[str, Any]) -> bytes:
    return json.dumps(body, ensure_ascii=False).encode()


def _fingerprint(data: bytes, context: ImportContext, content_type: str) -> dict[str, Any]:
    return {
        "sha256": hashlib.sha256(data).hexdigest(),
        "size": len(data),
        "content_type": content_type[:100],
        "organisation_id": getattr(context.organisation, "pk", None),
        "channel": context.channel,
    }


def _publish(message: InboundMessage, outcome: ImportOutcome) -> None:
    """Live message ``interop.message`` on the event topic, or the watch topics written to."""
    payload = {
        "inbound_message": message.pk,
        "event": outcome.event_id,
        "entries": outcome.entry_ids[:50],
        "reports": outcome.report_ids[:50],
    }
    if outcome.event_id is not None:
        event = Event.objects.filter(pk=outcome.event_id).only("mode").first()
        mode = event.mode if event is not None else message.mode
        queue_live_message([event_topic(outcome.event_id)], "interop.message", payload, mode=mode)
        return
    paths = set(
        JournalEntry.objects.filter(pk__in=outcome.entry_ids, chain__event__isnull=True)
        .values_list("chain__territory_path", flat=True)
        .distinct()
    )
    if paths:
        queue_live_message(
            sorted(watch_topic(path) for path in paths),
            "interop.message",
            payload,
            mode=message.mode or "real",
        )


@transaction.atomic
def do_receive_message(
    data: bytes,
    context: ImportContext,
    *,
    content_type: str = "",
    now: dt.datetime | None = None,
) -> Reception:
    """Validate, import, keep, audit and publish one message (see the module docstring)."""
    now = now or timezone.now()
    verdict = validate_message(data)
    actor = context.actor if getattr(context.actor, "is_authenticated", False) else None
    if verdict.verdict == "refused":
        first = verdict.errors[0]
        record_audit(
            "interop.inbound.refused",
            actor=actor,
            outcome="denied",
            data={**_fingerprint(data, context, content_type), "code": first.code},
        )
        return Reception(
            "refused",
            verdict.standard,
            400,
            _json({"code": first.code, "message": first.message}),
            JSON_TYPE,
            errors=list(verdict.errors),
        )
    if not verdict.is_valid and verdict.errors and verdict.errors[0].code in UNKNOWN_STANDARD_CODES:
        record_audit(
            "interop.inbound.unknown",
            actor=actor,
            outcome="denied",
            data={**_fingerprint(data, context, content_type), "code": verdict.errors[0].code},
        )
        return Reception(
            "unknown",
            verdict.standard,
            415,
            _json(
                {
                    "code": "unknown_standard",
                    "message": _(
                        "Format de message non reconnu (EDXL-DE, Hub Santé/CISU, CAP, EMSI "
                        "attendus)."
                    ),
                }
            ),
            JSON_TYPE,
            errors=list(verdict.errors),
        )
    if verdict.is_valid:
        try:
            with transaction.atomic():
                outcome = importer_for(verdict.standard)(data, context)
        except NotImportable as exc:
            failed = Verdict(standard=verdict.standard, verdict="invalid", errors=[exc.as_error()])
            body = _json({**failed.as_dict(), "verdict": "valid"})
            return _kept_failure(
                data, context, content_type, now, failed, "not_importable", body, JSON_TYPE
            )
        except InteropError as exc:
            failed = Verdict(standard=verdict.standard, verdict="invalid", errors=[exc.as_error()])
            body, body_type = error_answer(data, failed)
            return _kept_failure(
                data, context, content_type, now, failed, "invalid", body, body_type
            )
        return _kept_success(data, context, content_type, now, verdict, outcome)
    body, body_type = error_answer(data, verdict)
    return _kept_failure(data, context, content_type, now, verdict, "invalid", body, body_type)


def _kept_failure(
    data: bytes,
    context: ImportContext,
    content_type: str,
    now: dt.datetime,
    verdict: Verdict,
    kind: str,
    body: bytes,
    body_type: str,
) -> Reception:
    message = _record(
        data,
        context,
        None,
        content_type,
        now,
        standard=verdict.standard,
        verdict=VerdictChoice.VALID if kind == "not_importable" else VerdictChoice.INVALID,
        errors=list(verdict.errors),
        response=body,
        response_type=body_type,
    )
    record_audit(
        f"interop.inbound.{kind}",
        actor=context.actor if getattr(context.actor, "is_authenticated", False) else None,
        target=message,
        outcome="denied",
        data={
            **_fingerprint(data, context, content_type),
            "standard": verdict.standard,
            "codes": sorted({e.code for e in verdict.errors})[:20],
        },
    )
    return Reception(
        kind,
        verdict.standard,
        422,
        body,
        body_type,
        errors=list(verdict.errors),
        inbound_id=message.pk,
    )


def _kept_success(
    data: bytes,
    context: ImportContext,
    content_type: str,
    now: dt.datetime,
    verdict: Verdict,
    outcome: ImportOutcome,
) -> Reception:
    message = (
        InboundMessage.objects.filter(pk=outcome.inbound_id).first()
        if outcome.inbound_id is not None
        else None
    )
    if message is None:  # a standard without envelope (CAP, EMSI): kept here
        message = _record(
            data,
            context,
            None,
            content_type,
            now,
            standard=verdict.standard,
            imported=not outcome.replay,
            event=Event.objects.filter(pk=outcome.event_id).first() if outcome.event_id else None,
            entry_ids=outcome.entry_ids,
            report_ids=outcome.report_ids,
            summary=outcome.summary,
            response=outcome.response,
            response_type=outcome.response_type,
        )
        outcome.inbound_id = message.pk
    kind = "replay" if outcome.replay else "imported"
    record_audit(
        f"interop.inbound.{kind}",
        actor=context.actor if getattr(context.actor, "is_authenticated", False) else None,
        target=message,
        data={
            **_fingerprint(data, context, content_type),
            "standard": verdict.standard,
            "sender_id": message.sender_id[:200],
            "distribution_id": message.distribution_id[:200],
            "event": outcome.event_id,
            "entries": outcome.entry_ids[:50],
            "reports": outcome.report_ids[:50],
        },
    )
    if not outcome.replay and (outcome.entry_ids or outcome.report_ids):
        _publish(message, outcome)
    if outcome.response:
        body, body_type = outcome.response, outcome.response_type
    else:
        body = _json(
            {
                "standard": outcome.standard,
                "verdict": "valid",
                "replay": outcome.replay,
                "summary": outcome.summary,
                "event_id": outcome.event_id,
                "entry_ids": outcome.entry_ids,
                "report_ids": outcome.report_ids,
            }
        )
        body_type = JSON_TYPE
    return Reception(
        kind,
        verdict.standard,
        200,
        body,
        body_type,
        outcome=outcome,
        inbound_id=message.pk,
    )


# --- Partner sender ids (admin) -----------------------------------------------------------------


def _check_administers(actor: Any, organisation_id: int | None) -> None:
    if organisation_id is None:
        raise PermissionDenied
    if not organisations_administered_by(actor).filter(pk=organisation_id).exists():
        raise PermissionDenied


@transaction.atomic
def do_save_partner_sender(
    actor: Any,
    sender: PartnerSender,
    *,
    changed: list[str] | None = None,
    request: HttpRequest | None = None,
) -> PartnerSender:
    """Declare (or change) a sender id of an organisation the actor administers; audited."""
    _check_administers(actor, sender.organisation_id)
    created = sender.pk is None
    if not created:
        before = PartnerSender.objects.select_for_update().get(pk=sender.pk)
        _check_administers(actor, before.organisation_id)
    sender.sender_id = sender.sender_id.strip()
    sender.full_clean()
    sender.save()
    record_audit(
        "interop.sender.created" if created else "interop.sender.changed",
        actor=actor,
        request=request,
        target=sender,
        data={
            "organisation_id": sender.organisation_id,
            "sender_id": sender.sender_id,
            "changed": sorted(changed or []),
        },
    )
    return sender


@transaction.atomic
def do_delete_partner_sender(
    actor: Any, sender: PartnerSender, *, request: HttpRequest | None = None
) -> None:
    """Withdraw a sender id: its messages are refused from now on; audited."""
    _check_administers(actor, sender.organisation_id)
    record_audit(
        "interop.sender.deleted",
        actor=actor,
        request=request,
        target=sender,
        data={"organisation_id": sender.organisation_id, "sender_id": sender.sender_id},
    )
    sender.delete()
