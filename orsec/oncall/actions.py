"""The only writers of rosters, shifts, alert schemes and call lists.

Each action runs in one transaction: checks the rules (a clear French :class:`OncallError`),
writes the rows, the main courante entry when an event is concerned, the audit record and the
live message. Callers obtained the objects through :mod:`orsec.oncall.access` and checked the
abilities; the actions check the rules.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from orsec.audit.actions import record_audit
from orsec.directory.models import ContactKind, ContactPoint, Function, Organisation
from orsec.events.models import Event, EventType
from orsec.journal.actions import JournalError, log_information
from orsec.journal.chain import chain_for_event
from orsec.journal.models import Channel
from orsec.live.outbox import event_topic, organisation_topic, queue_live_message
from orsec.oncall.models import (
    AlertScheme,
    AlertSchemeStep,
    CallList,
    CallListItem,
    CallStatus,
    Roster,
    Shift,
)
from orsec.oncall.queries import shift_at
from orsec.territories.models import Territory, path_ancestors, path_covers

#: Longest shift accepted (a typo of a month instead of a day is caught).
MAX_SHIFT_LENGTH = timedelta(days=31)
MAX_COMMENT_LENGTH = 500
MAX_STEPS = 50
#: A phone number as people type it: digits, spaces, dots, dashes, a leading +, 4 to 32 chars.
PHONE_RE = re.compile(r"^\+?[0-9][0-9 .\-()]{2,30}$")
#: Statuses a tick may set (``to_call`` is the initial state only).
TICK_STATUSES = (CallStatus.CALLED, CallStatus.REACHED, CallStatus.ABSENT)
#: Error codes meaning "the state changed under you" (HTTP 409).
CONFLICT_CODES = frozenset({"tick_conflict", "already_started", "event_closed", "shift_overlap"})


class OncallError(ValueError):
    """A write the rules refuse; ``str(error)`` is the French message for the user."""

    def __init__(self, message: str, code: str = "oncall_rule", field: str = "") -> None:
        super().__init__(message)
        self.code = code
        self.field = field

    @property
    def status(self) -> int:
        return 409 if self.code in CONFLICT_CODES else 422


def _local(value: datetime) -> str:
    return formats.date_format(timezone.localtime(value), "DATETIME_FORMAT")


def _marker(event: Event) -> str:
    marker = event.mode_marker()
    return f"[{marker}] " if marker else ""


def person_label(user: Any) -> str:
    return (user.get_full_name() or user.get_username()) if user is not None else ""


# --- Rosters and shifts ----------------------------------------------------------------------


def _check_label(label: str, field: str = "label", max_length: int = 200) -> str:
    clean = " ".join((label or "").split())
    if not clean:
        raise OncallError(_("L'intitulé est obligatoire."), "label_required", field)
    if len(clean) > max_length:
        raise OncallError(
            _("L'intitulé dépasse %(max)s caractères.") % {"max": max_length},
            "label_too_long",
            field,
        )
    return clean


@transaction.atomic
def do_save_roster(
    actor: Any,
    *,
    organisation: Organisation,
    label: str,
    function: Function | None = None,
    roster: Roster | None = None,
    is_active: bool = True,
    request: HttpRequest | None = None,
) -> Roster:
    """Create (``roster=None``) or change an on-call roster of ``organisation``."""
    clean = _check_label(label)
    if function is not None and function.organisation_id != organisation.pk:
        raise OncallError(
            _("La fonction « %(function)s » n'appartient pas à %(org)s.")
            % {"function": function.title, "org": organisation},
            "function_mismatch",
            "function",
        )
    duplicate = Roster.objects.filter(organisation=organisation, label=clean)
    if roster is not None:
        duplicate = duplicate.exclude(pk=roster.pk)
    if duplicate.exists():
        raise OncallError(
            _("%(org)s a déjà une astreinte intitulée « %(label)s ».")
            % {"org": organisation, "label": clean},
            "duplicate_label",
            "label",
        )
    created = roster is None
    if roster is None:
        roster = Roster(organisation=organisation)
    else:
        roster = Roster.objects.select_for_update().get(pk=roster.pk)
        roster.revision += 1
    roster.label, roster.function, roster.is_active = clean, function, is_active
    roster.save()
    record_audit(
        "oncall.roster.created" if created else "oncall.roster.changed",
        actor=actor,
        request=request,
        target=roster,
        data={"organisation": organisation.pk},
    )
    queue_live_message(
        [organisation_topic(organisation.pk)], "oncall.roster", {"roster": roster.pk}
    )
    return roster


def check_phone(phone: str) -> str:
    clean = " ".join((phone or "").split())
    if not clean:
        raise OncallError(
            _("Le téléphone de la personne d'astreinte est obligatoire."), "phone_required", "phone"
        )
    if not PHONE_RE.match(clean):
        raise OncallError(
            _(
                "Le téléphone « %(phone)s » n'est pas un numéro valide : chiffres, espaces, "
                "points ou tirets, éventuellement précédés de +."
            )
            % {"phone": clean[:40]},
            "phone_invalid",
            "phone",
        )
    return clean


def _check_period(start: datetime | None, end: datetime | None) -> None:
    if start is None or end is None:
        raise OncallError(_("Le début et la fin sont obligatoires."), "period_required", "start")
    if timezone.is_naive(start) or timezone.is_naive(end):
        raise OncallError(
            _("Le début et la fin doivent préciser leur fuseau horaire."), "naive_datetime", "start"
        )
    if end <= start:
        raise OncallError(
            _("La fin (%(end)s) doit être postérieure au début (%(start)s).")
            % {"end": _local(end), "start": _local(start)},
            "end_before_start",
            "end",
        )
    if end - start > MAX_SHIFT_LENGTH:
        raise OncallError(
            _("Un créneau d'astreinte ne peut pas dépasser 31 jours : découpez-le."),
            "shift_too_long",
            "end",
        )


def _overlap_error(other: Shift) -> OncallError:
    return OncallError(
        _(
            "Ce créneau chevauche celui de %(name)s, du %(start)s au %(end)s. Deux créneaux "
            "d'une même astreinte ne peuvent pas se chevaucher : modifiez les horaires ou "
            "supprimez d'abord l'autre créneau."
        )
        % {"name": other.person_name, "start": _local(other.start), "end": _local(other.end)},
        "shift_overlap",
        "start",
    )


@transaction.atomic
def do_add_shift(
    actor: Any,
    roster: Roster,
    *,
    start: datetime,
    end: datetime,
    phone: str,
    person_name: str = "",
    user: Any = None,
    request: HttpRequest | None = None,
) -> Shift:
    """Add a shift ``[start, end)`` to ``roster``. Overlapping another shift → ``shift_overlap``.

    The roster row is locked first, so two concurrent additions are serialised and the second
    one sees the first (PostgreSQL also refuses an overlap through an exclusion constraint,
    SQLite through triggers).
    """
    _check_period(start, end)
    clean_phone = check_phone(phone)
    name = " ".join((person_name or "").split()) or (person_label(user) if user else "")
    if not name:
        raise OncallError(
            _("Le nom de la personne d'astreinte est obligatoire."), "name_required", "person_name"
        )
    if len(name) > 150:
        raise OncallError(_("Le nom dépasse 150 caractères."), "name_too_long", "person_name")
    locked = Roster.objects.select_for_update().get(pk=roster.pk)
    other = (
        Shift.objects.filter(roster=locked, start__lt=end, end__gt=start).order_by("start").first()
    )
    if other is not None:
        raise _overlap_error(other)
    try:
        with transaction.atomic():
            shift = Shift.objects.create(
                roster=locked,
                user=user,
                person_name=name,
                phone=clean_phone,
                start=start,
                end=end,
                created_by=actor if getattr(actor, "is_authenticated", False) else None,
            )
    except IntegrityError:  # the database's own guard (a writer that bypassed the lock)
        raise OncallError(
            _("Ce créneau chevauche un autre créneau de l'astreinte."), "shift_overlap", "start"
        ) from None
    locked.revision += 1
    locked.save(update_fields=["revision"])
    record_audit(
        "oncall.shift.added",
        actor=actor,
        request=request,
        target=shift,
        data={"roster": locked.pk, "start": start.isoformat(), "end": end.isoformat()},
    )
    queue_live_message(
        [organisation_topic(locked.organisation_id)], "oncall.roster", {"roster": locked.pk}
    )
    return shift


@transaction.atomic
def do_remove_shift(actor: Any, shift: Shift, *, request: HttpRequest | None = None) -> None:
    """Remove a shift (call lists already started keep their snapshot)."""
    locked = Roster.objects.select_for_update().get(pk=shift.roster_id)
    shift_id = shift.pk
    deleted, _rows = Shift.objects.filter(pk=shift_id).delete()
    if not deleted:
        raise OncallError(_("Ce créneau a déjà été supprimé."), "shift_absent")
    locked.revision += 1
    locked.save(update_fields=["revision"])
    record_audit(
        "oncall.shift.removed",
        actor=actor,
        request=request,
        target=locked,
        data={"shift": shift_id, "start": shift.start.isoformat(), "end": shift.end.isoformat()},
    )
    queue_live_message(
        [organisation_topic(locked.organisation_id)], "oncall.roster", {"roster": locked.pk}
    )


# --- Alert schemes ---------------------------------------------------------------------------


@dataclass(frozen=True)
class StepSpec:
    organisation: Organisation
    roster: Roster | None = None
    function: Function | None = None
    instruction: str = ""


@transaction.atomic
def do_save_alert_scheme(
    actor: Any,
    *,
    territory: Territory,
    name: str,
    event_types: Iterable[str],
    steps: Iterable[StepSpec],
    scheme: AlertScheme | None = None,
    is_active: bool = True,
    request: HttpRequest | None = None,
) -> AlertScheme:
    """Create or replace an alert scheme and its ordered steps (started call lists keep their
    snapshot)."""
    clean = _check_label(name, "name")
    types = list(dict.fromkeys(event_types))
    if not types:
        raise OncallError(
            _("Choisissez au moins un type d'événement."), "event_types_required", "event_types"
        )
    unknown = [t for t in types if t not in EventType.values]
    if unknown:
        raise OncallError(
            _("Type d'événement inconnu : %(types)s.") % {"types": ", ".join(unknown)[:80]},
            "event_type_invalid",
            "event_types",
        )
    specs = list(steps)
    if not specs:
        raise OncallError(_("Le schéma doit compter au moins une étape."), "steps_required")
    if len(specs) > MAX_STEPS:
        raise OncallError(
            _("%(max)s étapes au plus par schéma.") % {"max": MAX_STEPS}, "too_many_steps"
        )
    for index, spec in enumerate(specs, start=1):
        if spec.roster is not None and spec.roster.organisation_id != spec.organisation.pk:
            raise OncallError(
                _("Étape %(n)s : l'astreinte « %(roster)s » n'appartient pas à %(org)s.")
                % {"n": index, "roster": spec.roster.label, "org": spec.organisation},
                "roster_mismatch",
            )
        if spec.function is not None and spec.function.organisation_id != spec.organisation.pk:
            raise OncallError(
                _("Étape %(n)s : la fonction « %(function)s » n'appartient pas à %(org)s.")
                % {"n": index, "function": spec.function.title, "org": spec.organisation},
                "function_mismatch",
            )
    duplicate = AlertScheme.objects.filter(territory=territory, name=clean)
    if scheme is not None:
        duplicate = duplicate.exclude(pk=scheme.pk)
    if duplicate.exists():
        raise OncallError(
            _("Un schéma d'alerte « %(name)s » existe déjà sur ce territoire.") % {"name": clean},
            "duplicate_name",
            "name",
        )
    created = scheme is None
    if scheme is None:
        scheme = AlertScheme(territory=territory)
    else:
        scheme = AlertScheme.objects.select_for_update().get(pk=scheme.pk)
        scheme.revision += 1
        scheme.steps.all().delete()
    scheme.territory, scheme.name, scheme.event_types = territory, clean, types
    scheme.is_active = is_active
    scheme.save()
    AlertSchemeStep.objects.bulk_create(
        [
            AlertSchemeStep(
                scheme=scheme,
                order=index,
                organisation=spec.organisation,
                roster=spec.roster,
                function=spec.function,
                instruction=(spec.instruction or "").strip()[:2000],
            )
            for index, spec in enumerate(specs, start=1)
        ]
    )
    record_audit(
        "oncall.scheme.created" if created else "oncall.scheme.changed",
        actor=actor,
        request=request,
        target=scheme,
        data={"steps": len(specs), "event_types": types},
    )
    return scheme


def scheme_applies(scheme: AlertScheme, event: Event) -> bool:
    """The scheme's territory covers the event's and its event types include the event's."""
    return (
        scheme.is_active
        and event.event_type in (scheme.event_types or [])
        and path_covers(scheme.territory.path, event.territory_path)
    )


def schemes_for_event(event: Event) -> list[AlertScheme]:
    paths = [*path_ancestors(event.territory_path), event.territory_path]
    candidates = AlertScheme.objects.filter(territory__path__in=paths, is_active=True)
    return [s for s in candidates.select_related("territory") if scheme_applies(s, event)]


def _function_phone(organisation: Organisation, function: Function | None) -> str:
    contacts = ContactPoint.objects.filter(organisation=organisation, kind=ContactKind.PHONE)
    if function is not None:
        contacts = contacts.filter(function=function)
    else:
        contacts = contacts.filter(available_24_7=True)
    contact = contacts.order_by("pk").first()
    return contact.value if contact else ""


def resolve_step(step: AlertSchemeStep, at: datetime) -> dict[str, Any]:
    """What to call for ``step`` at ``at``: the roster's shift (the step's roster, else the
    organisation's active roster for the step's function); without a roster, the function's
    phone, else the organisation's 24/7 phone. A snapshot: plain values, never a reference to
    the shift."""
    roster = step.roster
    if roster is None and step.function_id is not None:
        roster = Roster.objects.filter(
            organisation_id=step.organisation_id, function_id=step.function_id, is_active=True
        ).first()
    organisation = step.organisation
    snapshot: dict[str, Any] = {
        "order": step.order,
        "organisation": organisation,
        "organisation_label": str(organisation)[:200],
        "instruction": step.instruction,
        "person_name": "",
        "phone": "",
        "is_gap": True,
    }
    if roster is not None:
        snapshot["duty_label"] = roster.label[:200]
        shift = shift_at(roster, at)
        if shift is not None:
            snapshot.update(person_name=shift.person_name, phone=shift.phone, is_gap=False)
        return snapshot
    snapshot["duty_label"] = (step.function.title if step.function else _("Permanence"))[:200]
    phone = _function_phone(organisation, step.function) or _function_phone(organisation, None)
    if phone:
        snapshot.update(phone=phone, is_gap=False)
    return snapshot


def _check_event_open(event: Event) -> None:
    if not event.is_open:
        raise OncallError(
            _("L'événement est clos : ses listes d'appel ne changent plus."), "event_closed"
        )


def _start(
    actor: Any, event: Event, scheme: AlertScheme, request: HttpRequest | None, now: datetime
) -> CallList:
    steps = list(scheme.steps.select_related("organisation", "roster", "function"))
    call_list = CallList.objects.create(
        event=event,
        scheme=scheme,
        scheme_name=scheme.name,
        created_at=now,
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    items = [CallListItem(call_list=call_list, **resolve_step(step, now)) for step in steps]
    CallListItem.objects.bulk_create(items)
    gaps = sum(1 for i in items if i.is_gap)
    text = _marker(event) + _("Liste d'appel « %(scheme)s » lancée : %(n)s appel(s) à passer.") % {
        "scheme": scheme.name,
        "n": len(items),
    }
    if gaps:
        text += " " + _("Attention : %(gaps)s étape(s) sans personne d'astreinte joignable.") % {
            "gaps": gaps
        }
    try:
        log_information(
            actor,
            chain_for_event(event),
            text,
            channel=Channel.PORTAL,
            data={"call_list": call_list.pk, "scheme": scheme.pk},
            request=request,
            now=now,
        )
    except JournalError as error:
        raise OncallError(str(error), error.code) from error
    record_audit(
        "oncall.call_list.started",
        actor=actor,
        request=request,
        target=call_list,
        data={"event": event.pk, "scheme": scheme.pk, "items": len(items), "gaps": gaps},
    )
    queue_live_message(
        [event_topic(event.pk)],
        "oncall.call_list",
        {"event": event.pk, "call_list": call_list.pk},
        mode=event.mode,
    )
    return call_list


@transaction.atomic
def do_start_call_list(
    actor: Any,
    event: Event,
    scheme: AlertScheme,
    *,
    request: HttpRequest | None = None,
    now: datetime | None = None,
) -> CallList:
    """Resolve ``scheme`` against the rosters now into a call list of ``event``.

    Refused when the event is closed, the scheme does not apply to it, or it was already
    started on this event (``already_started``, 409).
    """
    now = now or timezone.now()
    event = Event.objects.select_for_update().get(pk=event.pk)  # serialises starts per event
    _check_event_open(event)
    if not scheme_applies(scheme, event):
        raise OncallError(
            _(
                "Le schéma « %(scheme)s » ne s'applique pas à cet événement (type ou territoire "
                "différent, ou schéma désactivé)."
            )
            % {"scheme": scheme.name},
            "scheme_not_applicable",
        )
    existing = CallList.objects.filter(event=event, scheme=scheme).first()
    if existing is not None:
        raise OncallError(
            _("Le schéma « %(scheme)s » a déjà été lancé sur cet événement le %(at)s.")
            % {"scheme": scheme.name, "at": _local(existing.created_at)},
            "already_started",
        )
    return _start(actor, event, scheme, request, now)


@transaction.atomic
def start_call_lists_for_event(
    actor: Any,
    event: Event,
    *,
    request: HttpRequest | None = None,
    now: datetime | None = None,
) -> list[CallList]:
    """Start every applicable scheme not yet started on ``event``; returns the call lists it
    created (none when all were started already: idempotent). Called at plan activation."""
    now = now or timezone.now()
    event = Event.objects.select_for_update().get(pk=event.pk)
    _check_event_open(event)
    started = set(CallList.objects.filter(event=event).values_list("scheme_id", flat=True))
    return [
        _start(actor, event, scheme, request, now)
        for scheme in schemes_for_event(event)
        if scheme.pk not in started
    ]


@transaction.atomic
def do_tick_call_item(
    actor: Any,
    item: CallListItem,
    status: str,
    comment: str = "",
    *,
    expected_revision: int | None = None,
    request: HttpRequest | None = None,
    now: datetime | None = None,
) -> CallListItem:
    """Tick a line of a call list (appelé / joint / absent), with a main courante entry.

    ``expected_revision`` is the revision the caller saw: another tick in between →
    ``tick_conflict`` (409), nothing written.
    """
    now = now or timezone.now()
    if status not in TICK_STATUSES:
        raise OncallError(
            _("Statut « %(status)s » non admis : appelé, joint ou absent.")
            % {"status": str(status)[:20]},
            "status_invalid",
            "status",
        )
    clean = (comment or "").strip()
    if len(clean) > MAX_COMMENT_LENGTH:
        raise OncallError(
            _("Le commentaire dépasse %(max)s caractères.") % {"max": MAX_COMMENT_LENGTH},
            "comment_too_long",
            "comment",
        )
    locked = (
        CallListItem.objects.select_for_update(of=("self",))
        .select_related("call_list", "call_list__event", "ticked_by")
        .get(pk=item.pk)
    )
    event = locked.call_list.event
    _check_event_open(event)
    if expected_revision is not None and expected_revision != locked.revision:
        raise OncallError(
            _(
                "Cette ligne a été pointée entre-temps (%(status)s par %(who)s à %(at)s) : "
                "rechargez la liste avant de la pointer à nouveau."
            )
            % {
                "status": locked.get_status_display(),
                "who": person_label(locked.ticked_by) or _("un autre utilisateur"),
                "at": _local(locked.ticked_at) if locked.ticked_at else "—",
            },
            "tick_conflict",
        )
    old = locked.status
    locked.status, locked.comment = status, clean
    locked.ticked_by, locked.ticked_at = actor, now
    locked.revision += 1
    locked.save(update_fields=["status", "comment", "ticked_by", "ticked_at", "revision"])
    who = locked.duty_label
    if locked.person_name:
        who += f", {locked.person_name}"
    text = _marker(event) + _(
        "Liste d'appel « %(scheme)s », étape %(order)s — %(org)s (%(who)s) : %(status)s."
    ) % {
        "scheme": locked.call_list.scheme_name,
        "order": locked.order,
        "org": locked.organisation_label,
        "who": who,
        "status": locked.get_status_display().lower(),
    }
    if clean:
        text += "\n" + _("Commentaire : %(comment)s") % {"comment": clean}
    try:
        log_information(
            actor,
            chain_for_event(event),
            text,
            channel=Channel.PHONE,
            data={"call_item": locked.pk, "old": old, "new": status},
            request=request,
            now=now,
        )
    except JournalError as error:
        raise OncallError(str(error), error.code) from error
    record_audit(
        "oncall.call_item.ticked",
        actor=actor,
        request=request,
        target=locked,
        data={"event": event.pk, "old": old, "new": status, "revision": locked.revision},
    )
    queue_live_message(
        [event_topic(event.pk)],
        "oncall.call",
        {"event": event.pk, "call_list": locked.call_list_id, "item": locked.pk},
        mode=event.mode,
    )
    return locked


# --- Exports ---------------------------------------------------------------------------------

#: First characters a spreadsheet reads as a formula (CSV injection).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def escape_cell(value: Any) -> str:
    """A cell a spreadsheet shows as text: a leading formula character gets a quote."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


@transaction.atomic
def do_export_roster(actor: Any, roster: Roster, *, request: HttpRequest | None = None) -> str:
    """The roster's shifts as CSV (``;``-separated, for French spreadsheets); audited."""
    shifts = list(Shift.objects.filter(roster=roster).order_by("start"))
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";")
    writer.writerow(
        [_("Organisation"), _("Astreinte"), _("Début"), _("Fin"), _("Nom"), _("Téléphone")]
    )
    for shift in shifts:
        writer.writerow(
            [
                escape_cell(str(roster.organisation)),
                escape_cell(roster.label),
                timezone.localtime(shift.start).strftime("%Y-%m-%d %H:%M"),
                timezone.localtime(shift.end).strftime("%Y-%m-%d %H:%M"),
                escape_cell(shift.person_name),
                escape_cell(shift.phone),
            ]
        )
    record_audit(
        "oncall.roster.exported",
        actor=actor,
        request=request,
        target=roster,
        data={"format": "csv", "rows": len(shifts)},
    )
    return buffer.getvalue()
