"""The only writers of events. Each action, in one transaction: the rows, the transition, the
main courante entry (``journal``), the audit record and the live outbox message.

Actions trust their caller for *access* (the caller obtained the event through
``access_event_by_id`` and checked the ability) but check the *rules* of the event themselves
(phase order, final bilan before closing…) and raise :class:`EventRuleError` with a French message.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from orsec.accounts.access import NATIONAL_PATH
from orsec.audit.actions import record_audit
from orsec.events.geo import analyse_location
from orsec.events.models import (
    VISIBILITY_ORDER,
    EscalationProposal,
    EscalationRule,
    Event,
    EventCommune,
    EventParticipant,
    EventTransition,
    Mode,
    Phase,
    Visibility,
    phase_change_allowed,
    shares_further,
)
from orsec.journal.chain import append_entry, chain_for_event
from orsec.journal.models import Channel, EntryKind, JournalEntry
from orsec.live.outbox import event_topic, queue_live_message, watch_topic
from orsec.territories.models import Territory, path_zone


class EventRuleError(ValueError):
    """A change the event's rules forbid; ``str(error)`` is the French message for the user."""

    def __init__(self, message: str, code: str = "event_rule") -> None:
        super().__init__(message)
        self.code = code


def _lock_open(event: Event) -> Event:
    """The event's row, locked for this transaction; refused when the event is closed."""
    locked = Event.objects.select_for_update().get(pk=event.pk)
    if not locked.is_open:
        raise EventRuleError(_("L'événement est clos."), "event_closed")
    return locked


def _topics(event: Event) -> list[str]:
    return [event_topic(event.pk), watch_topic(event.territory_path)]


def _save(event: Event, *fields: str) -> None:
    """Save the changed fields of a row locked by this transaction, with its next revision."""
    event.revision += 1
    event.save(update_fields=[*fields, "revision", "updated_at"])


def _log_transition(
    event: Event,
    actor: Any,
    field: str,
    old: str,
    new: str,
    text: str,
    *,
    audit: str,
    audit_data: dict[str, Any] | None = None,
    reason: str = "",
    organisation: Any = None,
    request: HttpRequest | None = None,
    now: datetime,
    highlight: bool = False,
) -> JournalEntry:
    """Record a change of the event: transition row, main courante entry, outbox, audit."""
    EventTransition.objects.create(
        event=event, field=field, old=old, new=new, reason=reason, actor=actor, at=now
    )
    entry = append_entry(
        chain_for_event(event),
        kind=EntryKind.STATE_CHANGE,
        text=text + (f"\n{_('Motif')} : {reason}" if reason else ""),
        channel=Channel.PORTAL,
        author=actor,
        organisation=organisation,
        data={"field": field, "old": old, "new": new},
        is_highlight=highlight,
        subject=event,
        now=now,
    )
    queue_live_message(
        _topics(event), "event.changed", {"event": event.pk, "field": field}, mode=event.mode
    )
    record_audit(audit, actor=actor, request=request, target=event, data={"old": old, "new": new})
    return entry


_LOCATION_FIELDS = (
    "location",
    "bbox_min_lon",
    "bbox_min_lat",
    "bbox_max_lon",
    "bbox_max_lat",
    "departement",
)


def _apply_location(event: Event, geometry: dict[str, Any] | None) -> None:
    EventCommune.objects.filter(event=event).delete()
    if geometry is None:
        event.location = None
        event.bbox_min_lon = event.bbox_min_lat = event.bbox_max_lon = event.bbox_max_lat = None
        return
    facts = analyse_location(geometry)  # LocationError (French) on a bad geometry
    event.location = facts.geometry
    event.bbox_min_lon, event.bbox_min_lat, event.bbox_max_lon, event.bbox_max_lat = facts.bbox
    if facts.departement is not None:
        event.departement = facts.departement
    EventCommune.objects.bulk_create(
        [EventCommune(event=event, commune=c, commune_path=c.path) for c in facts.communes]
    )


@transaction.atomic
def do_open_event(
    actor: Any,
    *,
    title: str,
    event_type: str,
    territory: Territory,
    mode: str = Mode.REAL,
    gravity: int = 1,
    phase: str = Phase.WATCH,
    description: str = "",
    location: dict[str, Any] | None = None,
    director: str = "",
    director_organisation: Any = None,
    parent: Event | None = None,
    organisation: Any = None,
    request: HttpRequest | None = None,
    now: datetime | None = None,
) -> Event:
    now = now or timezone.now()
    if not 1 <= gravity <= 5:
        raise EventRuleError(_("La gravité va de 1 à 5."), "invalid_gravity")
    if parent is not None and parent.mode != mode:
        raise EventRuleError(
            _("Un événement enfant a le même mode (réel, exercice, test) que son parent."),
            "mode_mismatch",
        )
    event = Event(
        title=title,
        event_type=event_type,
        mode=mode,
        gravity=gravity,
        phase=phase,
        description=description,
        territory=territory,
        territory_path=territory.path,
        director=director,
        director_organisation=director_organisation,
        parent=parent,
        opened_at=now,
        opened_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    if territory.kind in ("departement", "collectivite"):
        event.departement = territory
    event.save()
    _apply_location(event, location)
    if location is not None:
        event.save(update_fields=list(_LOCATION_FIELDS))
    marker = event.mode_marker()
    _log_transition(
        event,
        actor,
        EventTransition.Field.OPENED,
        "",
        phase,
        (f"[{marker}] " if marker else "")
        + _(
            "Ouverture de l'événement « %(title)s » "
            "(%(type)s, gravité %(gravity)s, phase %(phase)s)."
        )
        % {
            "title": title,
            "type": event.get_event_type_display(),
            "gravity": gravity,
            "phase": event.get_phase_display(),
        },
        audit="events.event.opened",
        audit_data={"mode": mode},
        organisation=organisation,
        request=request,
        now=now,
        highlight=True,
    )
    return event


@transaction.atomic
def do_change_phase(
    actor: Any,
    event: Event,
    new_phase: str,
    *,
    reason: str = "",
    organisation: Any = None,
    request: HttpRequest | None = None,
    now: datetime | None = None,
) -> Event:
    now = now or timezone.now()
    event = _lock_open(event)
    if new_phase not in Phase.values:
        raise EventRuleError(_("Phase inconnue."), "invalid_phase")
    if not phase_change_allowed(event.phase, new_phase):
        raise EventRuleError(
            _(
                "Passage de la phase « %(old)s » à « %(new)s » impossible : "
                "on avance, ou on revient d'une seule phase."
            )
            % {"old": Phase(event.phase).label, "new": Phase(new_phase).label},
            "invalid_phase_change",
        )
    old = event.phase
    event.phase = new_phase
    _save(event, "phase")
    _log_transition(
        event,
        actor,
        EventTransition.Field.PHASE,
        old,
        new_phase,
        _("Changement de phase : %(old)s → %(new)s.")
        % {"old": Phase(old).label, "new": Phase(new_phase).label},
        audit="events.event.phase",
        reason=reason,
        organisation=organisation,
        request=request,
        now=now,
        highlight=True,
    )
    return event


@transaction.atomic
def do_change_gravity(
    actor: Any,
    event: Event,
    gravity: int,
    *,
    reason: str = "",
    organisation: Any = None,
    request: HttpRequest | None = None,
    now: datetime | None = None,
) -> Event:
    now = now or timezone.now()
    event = _lock_open(event)
    if not 1 <= gravity <= 5:
        raise EventRuleError(_("La gravité va de 1 à 5."), "invalid_gravity")
    if gravity == event.gravity:
        return event
    old = event.gravity
    event.gravity = gravity
    _save(event, "gravity")
    _log_transition(
        event,
        actor,
        EventTransition.Field.GRAVITY,
        str(old),
        str(gravity),
        _("Gravité : %(old)s → %(new)s.") % {"old": old, "new": gravity},
        audit="events.event.gravity",
        reason=reason,
        organisation=organisation,
        request=request,
        now=now,
    )
    return event


@transaction.atomic
def do_set_location(
    actor: Any,
    event: Event,
    geometry: dict[str, Any] | None,
    *,
    organisation: Any = None,
    request: HttpRequest | None = None,
    now: datetime | None = None,
) -> Event:
    now = now or timezone.now()
    event = _lock_open(event)
    _apply_location(event, geometry)
    _save(event, *_LOCATION_FIELDS)
    names = ", ".join(c.commune.name for c in event.commune_links.select_related("commune")[:20])
    append_entry(
        chain_for_event(event),
        kind=EntryKind.STATE_CHANGE,
        channel=Channel.PORTAL,
        author=actor,
        organisation=organisation,
        subject=event,
        now=now,
        text=_("Localisation mise à jour (communes concernées : %(names)s).")
        % {"names": names or "—"},
        data={"field": "location", "geometry": geometry},
    )
    record_audit("events.event.location", actor=actor, request=request, target=event)
    return event


@transaction.atomic
def do_share_event(
    actor: Any,
    event: Event,
    visibility: str,
    *,
    reason: str = "",
    organisation: Any = None,
    request: HttpRequest | None = None,
    now: datetime | None = None,
) -> Event:
    """Share the event up to the zone or national level (never narrows an existing share)."""
    now = now or timezone.now()
    event = _lock_open(event)
    if visibility not in VISIBILITY_ORDER:
        raise EventRuleError(_("Niveau de partage inconnu."), "invalid_visibility")
    if not shares_further(visibility, event.visibility):
        raise EventRuleError(
            _("L'événement est déjà partagé à ce niveau ou au-delà."), "already_shared"
        )
    old = event.visibility
    event.visibility = visibility
    _save(event, "visibility")
    _log_transition(
        event,
        actor,
        EventTransition.Field.VISIBILITY,
        old,
        visibility,
        _("Partage de l'événement : %(new)s.") % {"new": Visibility(visibility).label},
        audit="events.event.shared",
        reason=reason,
        organisation=organisation,
        request=request,
        now=now,
        highlight=True,
    )
    # the levels above now see it: wake their watch rooms
    queue_live_message(
        [watch_topic(path_zone(event.territory_path)), watch_topic(NATIONAL_PATH)],
        "event.shared",
        {"event": event.pk},
        mode=event.mode,
    )
    return event


@transaction.atomic
def do_close_event(
    actor: Any,
    event: Event,
    final_summary: str,
    *,
    organisation: Any = None,
    request: HttpRequest | None = None,
    now: datetime | None = None,
) -> Event:
    now = now or timezone.now()
    event = Event.objects.select_for_update().get(pk=event.pk)
    if not event.is_open:
        raise EventRuleError(_("L'événement est déjà clos."), "event_closed")
    summary = (final_summary or "").strip()
    if len(summary) < 10:
        raise EventRuleError(
            _("La clôture exige un bilan final (au moins 10 caractères)."), "final_summary_required"
        )
    event.closed_at, event.closed_by, event.final_summary = now, actor, summary
    _save(event, "closed_at", "closed_by", "final_summary")
    append_entry(
        chain_for_event(event),
        kind=EntryKind.BILAN,
        channel=Channel.PORTAL,
        author=actor,
        organisation=organisation,
        subject=event,
        now=now,
        is_highlight=True,
        text=_("Bilan final : %(summary)s") % {"summary": summary},
        data={"field": "final_summary"},
    )
    _log_transition(
        event,
        actor,
        EventTransition.Field.CLOSED,
        "open",
        "closed",
        _("Clôture de l'événement."),
        audit="events.event.closed",
        organisation=organisation,
        request=request,
        now=now,
        highlight=True,
    )
    return event


@transaction.atomic
def do_reopen_event(
    actor: Any,
    event: Event,
    reason: str,
    *,
    organisation: Any = None,
    request: HttpRequest | None = None,
    now: datetime | None = None,
) -> Event:
    now = now or timezone.now()
    event = Event.objects.select_for_update().get(pk=event.pk)
    if event.is_open:
        raise EventRuleError(_("L'événement est ouvert."), "event_open")
    if not reason.strip():
        raise EventRuleError(_("La réouverture exige un motif."), "reason_required")
    event.closed_at = None
    event.closed_by = None
    _save(event, "closed_at", "closed_by")
    _log_transition(
        event,
        actor,
        EventTransition.Field.REOPENED,
        "closed",
        "open",
        _("Réouverture de l'événement."),
        audit="events.event.reopened",
        reason=reason,
        organisation=organisation,
        request=request,
        now=now,
        highlight=True,
    )
    return event


def add_participant(event: Event, organisation: Any, *, now: datetime | None = None) -> bool:
    """Make an organisation a participant (it then sees the event). True when newly added.

    Called inside other actions (dissemination); they journal and audit the cause.
    """
    _, created = EventParticipant.objects.get_or_create(
        event=event, organisation=organisation, defaults={"added_at": now or timezone.now()}
    )
    return created


@transaction.atomic
def do_evaluate_escalation(
    event: Event, facts: dict[str, Any] | None = None, *, now: datetime | None = None
) -> list[EscalationProposal]:
    """Apply the active escalation rules; create a proposal for each newly matching one.

    A proposal only *proposes*: a human accepts (the event is shared) or refuses it.
    ``facts`` are the confirmed key figures (``dead``, ``absolute``, ``relative``…).
    """
    now = now or timezone.now()
    facts = facts or {}
    created: list[EscalationProposal] = []
    for rule in EscalationRule.objects.filter(is_active=True):
        if not shares_further(rule.target, event.visibility):
            continue  # already shared that far
        if not rule.matches(event, facts, now):
            continue
        proposal, new = EscalationProposal.objects.get_or_create(
            event=event, rule=rule, target=rule.target, defaults={"proposed_at": now}
        )
        if not new:
            continue
        created.append(proposal)
        append_entry(
            chain_for_event(event),
            kind=EntryKind.INFORMATION,
            channel=Channel.SYSTEM,
            subject=proposal,
            now=now,
            is_highlight=True,
            text=_(
                "Critère de remontée atteint (« %(rule)s ») : partage proposé au niveau "
                "« %(target)s ». Décision à prendre."
            )
            % {"rule": rule.name, "target": Visibility(rule.target).label},
            data={"rule": rule.pk, "target": rule.target},
        )
        queue_live_message(
            _topics(event),
            "event.escalation",
            {"event": event.pk, "proposal": proposal.pk},
            mode=event.mode,
        )
        record_audit(
            "events.escalation.proposed",
            actor_label="règles de remontée",
            target=proposal,
            data={"rule": rule.name},
        )
    return created


@transaction.atomic
def do_decide_escalation(
    actor: Any,
    proposal: EscalationProposal,
    *,
    accept: bool,
    reason: str = "",
    organisation: Any = None,
    request: HttpRequest | None = None,
    now: datetime | None = None,
) -> EscalationProposal:
    now = now or timezone.now()
    proposal = (
        EscalationProposal.objects.select_for_update().select_related("event").get(pk=proposal.pk)
    )
    if proposal.state != EscalationProposal.State.PROPOSED:
        raise EventRuleError(
            _("Cette proposition a déjà été traitée (%(state)s).")
            % {"state": proposal.get_state_display()},
            "already_decided",
        )
    if not accept and not reason.strip():
        raise EventRuleError(_("Un refus doit être motivé."), "reason_required")
    proposal.state = (
        EscalationProposal.State.ACCEPTED if accept else EscalationProposal.State.REFUSED
    )
    proposal.decided_at, proposal.decided_by, proposal.reason = now, actor, reason
    proposal.save(update_fields=["state", "decided_at", "decided_by", "reason"])
    event = proposal.event
    if accept:
        if shares_further(proposal.target, event.visibility):
            do_share_event(
                actor,
                event,
                proposal.target,
                reason=reason or str(_("Critère de remontée")),
                organisation=organisation,
                request=request,
                now=now,
            )
    else:
        append_entry(
            chain_for_event(event),
            kind=EntryKind.DECISION,
            channel=Channel.PORTAL,
            author=actor,
            organisation=organisation,
            subject=proposal,
            now=now,
            text=_("Partage au niveau « %(target)s » refusé. Motif : %(reason)s")
            % {"target": Visibility(proposal.target).label, "reason": reason},
        )
    record_audit(
        "events.escalation.decided",
        actor=actor,
        request=request,
        target=proposal,
        data={"accept": accept},
    )
    return proposal


# --- Escalation rules (configuration, managed in the admin) ---------------------------------


@transaction.atomic
def do_save_escalation_rule(
    actor: Any, rule: EscalationRule, *, changed: list[str], request: HttpRequest | None = None
) -> EscalationRule:
    created = rule.pk is None
    rule.save()
    record_audit(
        "events.escalation_rule.created" if created else "events.escalation_rule.changed",
        actor=actor,
        request=request,
        target=rule,
        data={"changed": sorted(changed)[:20]},
    )
    return rule


@transaction.atomic
def do_deactivate_escalation_rule(
    actor: Any, rule: EscalationRule, *, request: HttpRequest | None = None
) -> EscalationRule:
    """Rules are never deleted (past proposals point to them): they are deactivated."""
    rule.is_active = False
    rule.save(update_fields=["is_active"])
    record_audit("events.escalation_rule.deactivated", actor=actor, request=request, target=rule)
    return rule
