"""The only writers of points de situation. Each action, in one transaction: the rows, the
transition, the main courante entry, the audit record and the live message.

Actions trust their caller for *access* (the event came through ``access_event_by_id``, the
SITREP through ``access_sitrep_by_id``, and the caller checked the ability) but check the
*rules* and raise :class:`SitrepError` with a French message, a stable code and an HTTP status.

Lock order, as every event-level write: the event row, then the SITREP row, then the chain and
the audit head (``append_entry``, ``record_audit``).
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from orsec.audit.actions import record_audit
from orsec.directory.models import Organisation, OrganisationKind
from orsec.dissemination.actions import do_disseminate_entry
from orsec.events.models import Event, Visibility
from orsec.journal.actions import acting_organisation
from orsec.journal.chain import append_entry, chain_for_event, watch_chain_for
from orsec.journal.files import AttachmentError, StoredFile, discard_new, store_upload
from orsec.journal.models import Attachment, Channel, EntryKind
from orsec.live.outbox import event_topic, queue_live_message, watch_topic
from orsec.partners.actions import queue_to_subscribers
from orsec.partners.models import MessageKind
from orsec.sitreps.access import emitting_territory
from orsec.sitreps.compile import compile_event, compile_zone, latest_frozen_by_event
from orsec.sitreps.models import (
    MAX_SECTION_LENGTH,
    SECTION_FIELDS,
    EmittingLevel,
    Sitrep,
    SitrepState,
    SitrepTransition,
)
from orsec.sitreps.pdf import PdfError, render_pdf
from orsec.territories.models import Territory, TerritoryKind, path_zone

#: Default delay to the next point, proposed in a fresh draft (the room lead changes it).
NEXT_POINT_DELAY = timedelta(hours=4)
#: Largest PDF stored (a SITREP is a few pages).
MAX_PDF_BYTES = 20 * 1024 * 1024


class SitrepError(ValueError):
    """A write the rules refuse; ``str(error)`` is the French message for the user."""

    def __init__(self, message: str, code: str, status: int = 400, field: str = "") -> None:
        super().__init__(message)
        self.code = code
        self.status = status
        self.field = field


def _person(user: Any) -> str:
    if user is None or not getattr(user, "is_authenticated", False):
        return "Portail ORSEC"
    return user.get_full_name() or user.get_username()


def _local(value: datetime) -> str:
    return formats.date_format(timezone.localtime(value), "DATETIME_FORMAT")


def _marker(mode: str) -> str:
    return {"exercise": "[EXERCICE] ", "test": "[TEST] "}.get(mode, "")


def _next_point(now: datetime) -> datetime:
    later = timezone.localtime(now + NEXT_POINT_DELAY)
    return later.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)


def _level_of(territory: Territory) -> str:
    if territory.kind == TerritoryKind.ZONE:
        return EmittingLevel.ZONE
    if territory.kind == TerritoryKind.NATIONAL:
        return EmittingLevel.NATIONAL
    return EmittingLevel.DEPARTEMENT


def _emitter(territory: Territory, actor: Any) -> tuple[Organisation | None, str, str]:
    """(organisation, label, authority) emitting for ``territory``: its COD (a département),
    COZ (a zone) or COGIC, else the actor's organisation."""
    kind = {
        TerritoryKind.ZONE: OrganisationKind.COZ,
        TerritoryKind.NATIONAL: OrganisationKind.COGIC,
    }.get(TerritoryKind(territory.kind), OrganisationKind.COD)
    organisation = (
        Organisation.objects.filter(territory=territory, kind=kind, is_active=True)
        .select_related("parent")
        .order_by("pk")
        .first()
    ) or acting_organisation(actor)
    if organisation is None:
        return None, str(territory), str(territory)
    label = organisation.short_name or organisation.name
    parent = organisation.parent
    authority = parent.name if parent is not None else organisation.name
    return organisation, label, authority


def _transition(sitrep: Sitrep, old: str, new: str, actor: Any, now: datetime, reason: str) -> None:
    SitrepTransition.objects.create(
        sitrep=sitrep,
        old=old,
        new=new,
        reason=reason,
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        at=now,
    )


def _chain(sitrep: Sitrep) -> Any:
    if sitrep.event_id is not None:
        return chain_for_event(sitrep.event)
    return watch_chain_for(sitrep.territory)


def _live(sitrep: Sitrep) -> None:
    topic = event_topic(sitrep.event_id) if sitrep.event_id else watch_topic(sitrep.emitting_path)
    queue_live_message(
        [topic],
        "sitrep.state",
        {
            "sitrep": sitrep.pk,
            "event": sitrep.event_id,
            "number": sitrep.number,
            "state": sitrep.state,
        },
        mode=sitrep.mode,
    )


def _open_draft_error(open_draft: Sitrep) -> SitrepError:
    return SitrepError(
        _(
            "Le point de situation n° %(n)s est encore en projet : faites-le approuver avant "
            "d'en compiler un nouveau."
        )
        % {"n": open_draft.number},
        "open_sitrep_exists",
        409,
    )


def _create(
    actor: Any,
    *,
    event: Event | None,
    territory: Territory,
    series: Any,
    title: str,
    mode: str,
    compile_with: Any,
    opened_at: datetime,
    now: datetime,
) -> Sitrep:
    """Number, compile and insert the next draft of a series (its lock is held)."""
    open_draft = series.exclude(state=SitrepState.FROZEN).first()
    if open_draft is not None:
        raise _open_draft_error(open_draft)
    previous = series.order_by("-number").first()
    start = previous.period_end if previous else opened_at
    compiled = compile_with(start=start, end=now, previous=previous, inclusive=previous is None)
    organisation, label, authority = _emitter(territory, actor)
    try:
        with transaction.atomic():
            sitrep = Sitrep.objects.create(
                event=event,
                emitting_level=_level_of(territory),
                territory=territory,
                emitting_path=territory.path,
                emitting_organisation=organisation,
                emitting_label=label,
                authority_label=authority,
                title=title,
                mode=mode,
                number=(previous.number + 1) if previous else 1,
                period_start=start,
                period_end=now,
                next_point_at=_next_point(now),
                figures=compiled.figures,
                sources=compiled.sources,
                compiled_at=now,
                compiled_by=actor if getattr(actor, "is_authenticated", False) else None,
                **compiled.sections,
            )
    except IntegrityError:  # another compilation of the same series won the race
        raise SitrepError(
            _("Un autre point de situation vient d'être compilé : rechargez la page."),
            "open_sitrep_exists",
            409,
        ) from None
    _transition(sitrep, "", SitrepState.DRAFT, actor, now, "compiled")
    append_entry(
        _chain(sitrep),
        kind=EntryKind.STATE_CHANGE,
        channel=Channel.PORTAL,
        author=actor,
        organisation=organisation,
        subject=sitrep,
        text=_marker(mode)
        + _("Point de situation n° %(n)s en préparation (projet compilé, période du %(start)s).")
        % {"n": sitrep.number, "start": _local(start)},
        data={"sitrep": sitrep.pk, "number": sitrep.number, "state": SitrepState.DRAFT},
        now=now,
    )
    record_audit(
        "sitrep.compiled",
        actor=actor,
        target=sitrep,
        data={"event": sitrep.event_id, "number": sitrep.number, "territory": territory.path},
    )
    _live(sitrep)
    return sitrep


@transaction.atomic
def do_compile_sitrep(
    actor: Any, event: Event, *, request: HttpRequest | None = None, now: datetime | None = None
) -> Sitrep:
    """Compile the next SITREP draft of ``event`` from what changed since the previous one."""
    now = now or timezone.now()
    event = (
        Event.objects.select_for_update(of=("self",)).select_related("territory").get(pk=event.pk)
    )  # the series' lock: numbers are assigned one at a time
    if not event.is_open:
        raise SitrepError(
            _("L'événement est clos : plus aucun point de situation ne peut être compilé."),
            "event_closed",
            409,
        )
    territory = emitting_territory(event)
    if territory is None:
        raise SitrepError(
            _("Cet événement n'a pas de niveau émetteur de points de situation (COD ou COZ)."),
            "no_emitting_level",
        )
    sitrep = _create(
        actor,
        event=event,
        territory=territory,
        series=Sitrep.objects.filter(event=event, emitting_path=territory.path),
        title=event.title,
        mode=event.mode,
        compile_with=lambda **kw: compile_event(event, **kw),
        opened_at=event.opened_at,
        now=now,
    )
    return sitrep


@transaction.atomic
def do_compile_zone_synthesis(
    actor: Any,
    zone: Territory,
    *,
    request: HttpRequest | None = None,
    now: datetime | None = None,
) -> Sitrep:
    """Compile the next zonal synthesis of ``zone`` from the latest frozen SITREP of each event
    of its départements."""
    now = now or timezone.now()
    zone = Territory.objects.select_for_update().defer("boundary").get(pk=zone.pk)  # series lock
    if zone.kind != TerritoryKind.ZONE:
        raise SitrepError(_("Une synthèse zonale se compile pour une zone."), "not_a_zone")
    sources = latest_frozen_by_event(zone.path)
    if not sources:
        raise SitrepError(
            _(
                "Aucun point de situation figé des départements de la zone : rien à "
                "synthétiser pour l'instant."
            ),
            "nothing_to_compile",
            422,
        )
    first = min(s.period_start for s in sources)
    modes = {s.mode for s in sources}
    return _create(
        actor,
        event=None,
        territory=zone,
        series=Sitrep.objects.filter(event__isnull=True, emitting_path=zone.path),
        title=_("Synthèse zonale — %(zone)s") % {"zone": zone.name},
        mode="real" if modes == {"real"} else "exercise",
        compile_with=lambda **kw: compile_zone(sources),
        opened_at=first,
        now=now,
    )


def _lock(sitrep: Sitrep) -> Sitrep:
    if sitrep.event_id is not None:
        Event.objects.select_for_update(of=("self",)).filter(pk=sitrep.event_id).first()
    return (
        Sitrep.objects.select_for_update(of=("self",))
        .select_related("event", "territory")
        .get(pk=sitrep.pk)
    )


def _check_revision(sitrep: Sitrep, expected_revision: int | None) -> None:
    if expected_revision is not None and expected_revision != sitrep.revision:
        raise SitrepError(
            _(
                "Le point de situation n° %(n)s a été modifié entre-temps (par %(who)s) : "
                "rechargez la page pour repartir de la dernière version."
            )
            % {"n": sitrep.number, "who": _person(sitrep.edited_by or sitrep.compiled_by)},
            "stale_revision",
            409,
        )


def _check_draft(sitrep: Sitrep) -> None:
    if sitrep.state == SitrepState.DRAFT:
        return
    if sitrep.approved_at is not None:
        raise SitrepError(
            _("Le point de situation n° %(n)s a déjà été approuvé par %(who)s le %(at)s%(frozen)s.")
            % {
                "n": sitrep.number,
                "who": sitrep.approved_by_label,
                "at": _local(sitrep.approved_at),
                "frozen": _(" : il est figé et ne peut plus être modifié")
                if sitrep.state == SitrepState.FROZEN
                else "",
            },
            "already_approved",
            409,
        )
    raise SitrepError(_("Ce point de situation n'est plus un projet."), "not_draft", 409)


def _check_event_open(sitrep: Sitrep) -> None:
    if sitrep.event is not None and not sitrep.event.is_open:
        raise SitrepError(
            _("L'événement est clos : son point de situation ne peut plus évoluer."),
            "event_closed",
            409,
        )


@transaction.atomic
def do_edit_sitrep(
    actor: Any,
    sitrep: Sitrep,
    *,
    expected_revision: int,
    sections: dict[str, str],
    next_point_at: datetime | None,
    request: HttpRequest | None = None,
    now: datetime | None = None,
) -> Sitrep:
    """Save the room lead's text of a draft (optimistic concurrency on ``revision``)."""
    now = now or timezone.now()
    sitrep = _lock(sitrep)
    _check_draft(sitrep)
    _check_event_open(sitrep)
    _check_revision(sitrep, expected_revision)
    unknown = set(sections) - set(SECTION_FIELDS)
    if unknown:
        raise SitrepError(
            _("Rubrique inconnue : %(name)s.") % {"name": sorted(unknown)[0][:40]},
            "unknown_section",
            422,
        )
    for name, text in sections.items():
        clean = (text or "").replace("\r\n", "\n").strip()
        if "\x00" in clean:
            raise SitrepError(
                _("Le texte contient un caractère nul, interdit."), "text_invalid", 422, name
            )
        if len(clean) > MAX_SECTION_LENGTH:
            raise SitrepError(
                _("Une rubrique compte %(max)s caractères au plus (%(n)s saisis).")
                % {"max": MAX_SECTION_LENGTH, "n": len(clean)},
                "text_too_long",
                422,
                name,
            )
        setattr(sitrep, name, clean)
    if next_point_at is not None and next_point_at <= now:
        raise SitrepError(
            _("L'heure du prochain point (%(at)s) est déjà passée.")
            % {"at": _local(next_point_at)},
            "next_point_in_past",
            422,
            "next_point_at",
        )
    sitrep.next_point_at = next_point_at
    sitrep.edited_at, sitrep.edited_by = now, actor
    sitrep.revision += 1
    sitrep.save()
    record_audit(
        "sitrep.edited",
        actor=actor,
        request=request,
        target=sitrep,
        data={"number": sitrep.number, "revision": sitrep.revision},
    )
    _live(sitrep)
    return sitrep


@transaction.atomic
def do_approve_sitrep(
    actor: Any,
    sitrep: Sitrep,
    *,
    expected_revision: int | None = None,
    request: HttpRequest | None = None,
    now: datetime | None = None,
) -> Sitrep:
    """Approve a draft (the director's staff), then freeze it (:func:`do_freeze_sitrep`).

    Two approvals at once: the SITREP row is locked and its state checked under the lock, so
    exactly one wins; the other gets ``already_approved`` (409).
    """
    now = now or timezone.now()
    sitrep = _lock(sitrep)
    _check_draft(sitrep)
    _check_event_open(sitrep)
    _check_revision(sitrep, expected_revision)
    sitrep.state = SitrepState.APPROVED
    sitrep.approved_at, sitrep.approved_by = now, actor
    sitrep.approved_by_label = _person(actor)
    sitrep.revision += 1
    sitrep.save()
    _transition(sitrep, SitrepState.DRAFT, SitrepState.APPROVED, actor, now, "approved")
    record_audit(
        "sitrep.approved", actor=actor, request=request, target=sitrep, data={"n": sitrep.number}
    )
    return do_freeze_sitrep(actor, sitrep, request=request, now=now)


def _store_pdf(sitrep: Sitrep) -> StoredFile:
    try:
        pdf = render_pdf(sitrep)
    except PdfError as error:
        raise SitrepError(
            _("Le document PDF n'a pas pu être produit (%(why)s) : rien n'a été figé.")
            % {"why": str(error)[:200]},
            "pdf_failed",
            500,
        ) from error
    name = f"SITREP-{sitrep.number:03d}-{sitrep.emitting_label}.pdf"
    try:
        return store_upload(ContentFile(pdf, name=name), max_bytes=MAX_PDF_BYTES)
    except AttachmentError as error:
        raise SitrepError(str(error), "pdf_failed", 500) from error


def _recipients(sitrep: Sitrep) -> list[Organisation]:
    """Where a frozen SITREP goes up: the COZ of the event's zone, and the COGIC when the event
    is shared nationally."""
    event = sitrep.event
    if event is None or sitrep.emitting_level != EmittingLevel.DEPARTEMENT:
        return []
    wanted = [(OrganisationKind.COZ, path_zone(event.territory_path))]
    if event.visibility == Visibility.NATIONAL:
        wanted.append((OrganisationKind.COGIC, "FR"))
    found = []
    for kind, path in wanted:
        organisation = (
            Organisation.objects.filter(kind=kind, territory__path=path, is_active=True)
            .order_by("pk")
            .first()
        )
        if organisation is not None:
            found.append(organisation)
    return found


def _queue_to_partners(
    actor: Any,
    sitrep: Sitrep,
    recipients: list[Organisation],
    pdf_sha256: str,
    request: HttpRequest | None,
    now: datetime,
) -> None:
    """Partner endpoints of the recipients subscribed to ``sitrep`` (ADR 0008: features above
    partners queue directly): webhooks get the canonical JSON with its hash; raw and EDXL-DE
    endpoints the canonical JSON bytes themselves, whose SHA-256 *is* the frozen hash."""
    canonical = sitrep.canonical()
    raw = json.dumps(canonical, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    queue_to_subscribers(
        MessageKind.SITREP,
        recipients,
        data={
            "sitrep": canonical,
            "hash": sitrep.frozen_hash,
            "hash_algorithm": "sha256 of the canonical JSON (sorted keys, compact)",
            "number": sitrep.number,
            "pdf_sha256": pdf_sha256,
        },
        raw=(raw.encode("utf-8"), "application/json; charset=utf-8"),
        standard="SITREP",
        event=sitrep.event,
        source_key=f"sitrep:{sitrep.pk}",
        actor=actor,
        request=request,
        now=now,
    )


@transaction.atomic
def do_freeze_sitrep(
    actor: Any,
    sitrep: Sitrep,
    *,
    request: HttpRequest | None = None,
    now: datetime | None = None,
) -> Sitrep:
    """Freeze an approved SITREP: content immutable, hash computed, PDF rendered and stored as
    the attachment of a main courante entry carrying the number and the hash, then sent up
    (COZ, and COGIC when shared nationally) through the dissemination, with acknowledgement,
    and queued for their partner endpoints subscribed to ``sitrep``."""
    now = now or timezone.now()
    sitrep = _lock(sitrep)
    if sitrep.state != SitrepState.APPROVED:
        if sitrep.state == SitrepState.FROZEN:
            _check_draft(sitrep)  # the "already approved and frozen" message
        raise SitrepError(
            _("Un point de situation doit être approuvé avant d'être figé."), "not_approved", 409
        )
    sitrep.state = SitrepState.FROZEN
    sitrep.frozen_at = now
    sitrep.frozen_hash = sitrep.compute_hash()
    stored = _store_pdf(sitrep)
    try:
        with transaction.atomic():
            entry = append_entry(
                _chain(sitrep),
                kind=EntryKind.SITUATION,
                channel=Channel.PORTAL,
                author=actor,
                organisation=sitrep.emitting_organisation,
                subject=sitrep,
                text=_marker(sitrep.mode)
                + _(
                    "Point de situation n° %(n)s (%(emitter)s) approuvé par %(who)s et figé. "
                    "Empreinte SHA-256 : %(hash)s"
                )
                % {
                    "n": sitrep.number,
                    "emitter": sitrep.emitting_label,
                    "who": sitrep.approved_by_label,
                    "hash": sitrep.frozen_hash,
                },
                data={
                    "sitrep": sitrep.pk,
                    "number": sitrep.number,
                    "sitrep_hash": sitrep.frozen_hash,
                    "pdf_sha256": stored.sha256,
                },
                files=[stored],
                now=now,
            )
            sitrep.freeze_entry = entry
            sitrep.pdf = Attachment.objects.filter(entry=entry).first()
            sitrep.revision += 1
            sitrep.save()
            _transition(sitrep, SitrepState.APPROVED, SitrepState.FROZEN, actor, now, "frozen")
            recipients = _recipients(sitrep)
            if recipients and sitrep.event is not None:
                do_disseminate_entry(
                    actor,
                    entry,
                    event=sitrep.event,
                    organisations=recipients,
                    use_rules=False,
                    note=_("Point de situation n° %(n)s : accusez-en la prise en compte.")
                    % {"n": sitrep.number},
                    request=request,
                    now=now,
                )
                _queue_to_partners(actor, sitrep, recipients, stored.sha256, request, now)
            record_audit(
                "sitrep.frozen",
                actor=actor,
                request=request,
                target=sitrep,
                data={
                    "number": sitrep.number,
                    "hash": sitrep.frozen_hash,
                    "pdf": stored.sha256,
                    "recipients": [o.pk for o in recipients],
                },
            )
            _live(sitrep)
    except BaseException:
        discard_new([stored])
        raise
    return sitrep
