"""The only writers of field reports. Each action, in one transaction: the report rows, the
transition row, the main courante entry (``journal``), the audit record and the live message.

Actions trust their caller for *access* (the caller obtained the report or the event through
``reports.access`` / ``events.access`` and checked the ability) but check the *rules* themselves
(figures per template, dates, allowed transitions, concurrent qualification) and raise
:class:`ReportError` with a French message and a stable code.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import F
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from orsec.accounts.models import Membership
from orsec.audit.actions import record_audit
from orsec.dissemination.actions import do_disseminate_entry
from orsec.dissemination.routing import route_entry
from orsec.events.access import QUALIFYING_ROLES, REPORTING_ROLES
from orsec.events.actions import do_evaluate_escalation
from orsec.events.geo import LocationError, validate_geometry
from orsec.events.models import Event
from orsec.journal.chain import append_entry, chain_for_event, watch_chain_for
from orsec.journal.files import AttachmentError, StoredFile, discard_new, store_uploads
from orsec.journal.models import Channel, EntryKind, JournalChain, JournalEntry
from orsec.live.outbox import event_topic, queue_live_message, watch_topic
from orsec.reports.access import may_qualify
from orsec.reports.models import (
    MAX_PHOTOS,
    MAX_TEXT,
    Credibility,
    FieldReport,
    FiguresError,
    Priority,
    Reliability,
    ReportState,
    ReportTransition,
    Template,
    check_occurred_at,
    figures_required,
    figures_summary,
    transition_allowed,
    validate_figures,
)
from orsec.reports.queries import confirmed_facts
from orsec.territories.models import Territory


class ReportError(ValueError):
    """A report the rules refuse; ``str(error)`` is the French message, ``code`` is stable,
    ``field`` names the input at fault when there is one."""

    def __init__(self, message: str, code: str = "report_rule", field: str = "") -> None:
        super().__init__(message)
        self.code = code
        self.field = field


def _label(user: Any) -> str:
    if user is None or not getattr(user, "is_authenticated", False):
        return "Portail ORSEC"
    return str(user.get_full_name() or user.get_username())


def author_organisation(actor: Any, organisation: Any = None, *, roles: Any = None) -> Any:
    """The organisation the actor acts for: ``organisation`` when it is one of the actor's
    active memberships (else :class:`ReportError`), otherwise the first one holding ``roles``."""
    if actor is None or not getattr(actor, "is_authenticated", False):
        return organisation
    memberships = list(
        Membership.objects.filter(user=actor, is_active=True, organisation__is_active=True)
        .select_related("organisation")
        .order_by("pk")
    )
    if organisation is not None:
        for membership in memberships:
            if membership.organisation_id == organisation.pk:
                return membership.organisation
        raise ReportError(
            _("Vous ne faites pas partie de cette organisation."),
            "invalid_organisation",
            "organisation",
        )
    wanted = roles or REPORTING_ROLES
    for membership in memberships:
        if membership.role in wanted:
            return membership.organisation
    return memberships[0].organisation if memberships else None


def _topics(report: FieldReport) -> list[str]:
    topics = [watch_topic(report.territory_path)]
    if report.event_id is not None:
        topics.insert(0, event_topic(report.event_id))
    return topics


def _chain(report: FieldReport) -> JournalChain:
    if report.event_id is not None:
        return chain_for_event(report.event)
    return watch_chain_for(report.territory)


def _marker(report: FieldReport) -> str:
    if report.mode == "exercise":
        return "[" + _("EXERCICE") + "] "
    if report.mode == "test":
        return "[" + _("TEST") + "] "
    return ""


# --- Photos ---------------------------------------------------------------------------------


def _store_photos(photos: list[Any]) -> list[StoredFile]:
    """Store the photos (images only, type sniffed from the content, size-limited); all or
    nothing: a refused photo leaves no newly written file."""
    try:
        return store_uploads(photos, images_only=True)
    except AttachmentError as error:
        code = "photo_too_large" if error.code == "attachment_too_large" else "invalid_photo"
        raise ReportError(str(error), code, "photos") from error


# --- Submission -----------------------------------------------------------------------------


def do_submit_report(
    actor: Any,
    *,
    event: Event | None = None,
    territory: Territory | None = None,
    template: str,
    figures: Any,
    text: str,
    location: Any = None,
    occurred_at: datetime | None = None,
    channel: str,
    organisation: Any = None,
    photos: Sequence[Any] = (),
    request: HttpRequest | None = None,
    now: datetime | None = None,
) -> FieldReport:
    """File a report in state *brute* on ``event`` (or the watch log of ``territory``).

    Everything is checked before anything is written; the photos (images only, content
    sniffed) are stored, then the rows are written in one transaction. A failure leaves no
    report, no entry and no newly stored file.
    """
    now = now or timezone.now()
    if event is None and territory is None:
        raise ReportError(
            _("Une remontée se rattache à un événement ou à la veille d'un territoire."),
            "event_or_territory_required",
            "event",
        )
    if event is not None and not event.is_open:
        raise ReportError(
            _("L'événement est clos : il ne reçoit plus de remontées."), "event_closed", "event"
        )
    try:
        clean_figures = validate_figures(template, figures)
    except FiguresError as error:
        raise ReportError(str(error), error.code, error.field) from error
    if figures_required(template) and not clean_figures:
        raise ReportError(
            _("Indiquez au moins un chiffre pour le modèle « %(template)s ».")
            % {"template": Template(template).label},
            "figures_required",
            "figures",
        )
    text = (text or "").strip()
    if len(text) > MAX_TEXT:
        raise ReportError(
            _("Le texte dépasse %(max)s caractères.") % {"max": MAX_TEXT}, "text_too_long", "text"
        )
    if template == Template.GENERAL and not text:
        raise ReportError(
            _("Décrivez la situation (texte obligatoire pour une situation générale)."),
            "text_required",
            "text",
        )
    if channel not in Channel.values:
        raise ReportError(_("Canal de réception inconnu."), "invalid_channel", "channel")
    clean_location = None
    if location is not None:
        try:
            clean_location = validate_geometry(location)
        except LocationError as error:
            raise ReportError(str(error), "invalid_location", "location") from error
        if clean_location["type"] != "Point":
            raise ReportError(
                _("La localisation d'une remontée est un point (GPS ou choix sur la carte)."),
                "invalid_location",
                "location",
            )
    occurred_at = occurred_at or now
    problem = check_occurred_at(
        occurred_at, now=now, event_opened_at=event.opened_at if event else None
    )
    if problem:
        raise ReportError(problem, "invalid_occurred_at", "occurred_at")
    organisation = author_organisation(actor, organisation)
    photos = list(photos)
    if len(photos) > MAX_PHOTOS:
        raise ReportError(
            _("%(max)s photos au plus par remontée.") % {"max": MAX_PHOTOS},
            "too_many_photos",
            "photos",
        )
    stored = _store_photos(photos)
    try:
        return _write_report(
            actor,
            event=event,
            territory=territory,
            template=template,
            figures=clean_figures,
            text=text,
            location=clean_location,
            occurred_at=occurred_at,
            channel=channel,
            organisation=organisation,
            files=stored,
            request=request,
            now=now,
        )
    except BaseException:
        discard_new(stored)
        raise


@transaction.atomic
def _write_report(
    actor: Any,
    *,
    event: Event | None,
    territory: Territory | None,
    template: str,
    figures: dict[str, Any],
    text: str,
    location: dict[str, Any] | None,
    occurred_at: datetime,
    channel: str,
    organisation: Any,
    files: list[StoredFile],
    request: HttpRequest | None,
    now: datetime,
) -> FieldReport:
    report_territory: Any
    if event is not None and Event.objects.filter(pk=event.pk, closed_at__isnull=False).exists():
        # closed since the caller read it
        raise ReportError(
            _("L'événement est clos : il ne reçoit plus de remontées."), "event_closed", "event"
        )
    if event is not None:
        report_territory, path, mode = event.territory, event.territory_path, event.mode
    elif territory is not None:
        report_territory, path, mode = territory, territory.path, "real"
    else:  # checked by do_submit_report
        raise ReportError(_("Événement ou territoire manquant."), "event_or_territory_required")
    author = actor if getattr(actor, "is_authenticated", False) else None
    report = FieldReport.objects.create(
        event=event,
        territory=report_territory,
        territory_path=path,
        mode=mode,
        template=template,
        figures=figures,
        text=text,
        location=location,
        occurred_at=occurred_at,
        author=author,
        author_label=_label(actor),
        organisation=organisation,
        channel=channel,
        created_at=now,
        updated_at=now,
    )
    summary = figures_summary(template, figures)
    body = _("Remontée n° %(id)s — %(template)s") % {
        "id": report.pk,
        "template": Template(template).label,
    }
    if summary:
        body += f" : {summary}"
    if text:
        body += f"\n{text}"
    # Rows that take no lock first; then the two chains (the event's main courante, then the
    # global audit chain), whose head rows stay locked until commit: taking them last keeps
    # concurrent reports of one event waiting as little as possible.
    ReportTransition.objects.create(
        report=report,
        action=ReportTransition.Action.SUBMIT,
        new=ReportState.RAW,
        actor=author,
        actor_label=report.author_label,
        at=now,
    )
    queue_live_message(
        [watch_topic(path)],
        "report.submitted",
        {"report": report.pk, "event": event.pk if event else None},
        mode=mode,
    )
    entry = append_entry(
        _chain(report),
        kind=EntryKind.BILAN if template == Template.CASUALTIES else EntryKind.INFORMATION,
        text=_marker(report) + body,
        channel=channel,
        author=author,
        organisation=organisation,
        occurred_at=occurred_at,
        qualification=ReportState.RAW,
        subject=report,
        data={"template": template, "figures": figures, "location": location},
        files=files,
        now=now,
    )
    report.entry = entry
    FieldReport.objects.filter(pk=report.pk).update(entry=entry)
    record_audit(
        "reports.report.submitted",
        actor=actor,
        request=request,
        target=report,
        data={"template": template, "event": event.pk if event else None, "photos": len(files)},
    )
    return report


# --- Qualification --------------------------------------------------------------------------


def _lock(report: FieldReport, expected_revision: int | None) -> FieldReport:
    """The report row locked for this transaction; ``conflict`` when someone acted first."""
    locked = (
        FieldReport.objects.select_for_update(of=("self",))
        .select_related("event", "territory")
        .get(pk=report.pk)
    )
    _check_revision(locked, expected_revision)
    return locked


def _check_revision(locked: FieldReport, expected_revision: int | None) -> None:
    if expected_revision is not None and locked.revision != expected_revision:
        last = locked.transitions.order_by("-at", "-id").first()
        who = last.actor_label if last is not None and last.actor_label else _("un autre opérateur")
        raise ReportError(
            _("Cette remontée vient d'être qualifiée par %(who)s : rechargez la page.")
            % {"who": who},
            "conflict",
        )


def _require_pending(report: FieldReport) -> None:
    if report.duplicate_of_id is not None:
        raise ReportError(
            _(
                "La remontée n° %(id)s est un doublon de la remontée n° %(original)s : "
                "qualifiez l'original."
            )
            % {"id": report.pk, "original": report.duplicate_of_id},
            "duplicate",
        )
    if report.state not in (ReportState.RAW, ReportState.CHECKING):
        raise ReportError(
            _(
                "La remontée n° %(id)s est déjà %(state)s : une correction se fait par une "
                "nouvelle remontée."
            )
            % {"id": report.pk, "state": ReportState(report.state).label.lower()},
            "already_final",
        )


def _grading_text(report: FieldReport) -> str:
    parts = [
        p for p in (report.grading, report.get_priority_display() if report.priority else "") if p
    ]
    return f" ({', '.join(str(p) for p in parts)})" if parts else ""


def _record(
    actor: Any,
    report: FieldReport,
    *,
    action: str,
    old: str,
    new: str,
    text: str,
    reason: str = "",
    organisation: Any,
    request: HttpRequest | None,
    now: datetime,
    audit: str,
    highlight: bool = False,
) -> JournalEntry:
    """Bump the revision and write the transition, the journal entry, the audit and live rows.

    A confirmation's entry carries the report's content (kind, template, figures) with the
    qualification "confirmée": it is the qualified information that dissemination routes.
    """
    FieldReport.objects.filter(pk=report.pk).update(revision=F("revision") + 1, updated_at=now)
    report.revision += 1
    report.updated_at = now
    author = actor if getattr(actor, "is_authenticated", False) else None
    ReportTransition.objects.create(
        report=report,
        action=action,
        old=old,
        new=new,
        reason=reason,
        reliability=report.reliability,
        credibility=report.credibility,
        priority=report.priority,
        actor=author,
        actor_label=_label(actor),
        at=now,
    )
    if organisation is None:
        organisation = author_organisation(actor, roles=QUALIFYING_ROLES)
    data: dict[str, Any] = {
        "action": action,
        "old": old,
        "new": new,
        "reliability": report.reliability,
        "credibility": report.credibility,
        "priority": report.priority,
    }
    kind = EntryKind.STATE_CHANGE
    body = text
    if new == ReportState.CONFIRMED and action == ReportTransition.Action.STATE:
        kind = EntryKind.BILAN if report.template == Template.CASUALTIES else EntryKind.INFORMATION
        data |= {"template": report.template, "figures": report.figures, "report": report.pk}
        summary = figures_summary(report.template, report.figures)
        body += f"\n{Template(report.template).label}" + (f" : {summary}" if summary else "")
        if report.text:
            body += f"\n{report.text}"
    entry = append_entry(
        _chain(report),
        kind=kind,
        text=_marker(report) + body + (f"\n{_('Motif')} : {reason}" if reason else ""),
        channel=Channel.PORTAL,
        author=author,
        organisation=organisation,
        qualification=report.state,
        subject=report,
        data=data,
        is_highlight=highlight,
        now=now,
    )
    record_audit(audit, actor=actor, request=request, target=report, data={"old": old, "new": new})
    queue_live_message(
        _topics(report),
        "report.changed",
        {"report": report.pk, "event": report.event_id},
        mode=report.mode,
    )
    return entry


def _apply_grading(
    report: FieldReport,
    reliability: str | None,
    credibility: int | None,
    priority: str | None,
) -> None:
    if reliability is not None and reliability != "":
        if reliability not in Reliability.values:
            raise ReportError(
                _("Fiabilité de la source : une lettre de A à F."),
                "invalid_reliability",
                "reliability",
            )
        report.reliability = reliability
    if credibility is not None:
        if credibility not in Credibility.values:
            raise ReportError(
                _("Crédibilité de l'information : un chiffre de 1 à 6."),
                "invalid_credibility",
                "credibility",
            )
        report.credibility = credibility
    if priority is not None and priority != "":
        if priority not in Priority.values:
            raise ReportError(
                _("Priorité : flash, urgent ou routine."), "invalid_priority", "priority"
            )
        report.priority = priority


def _change_state(
    actor: Any,
    report: FieldReport,
    new: str,
    text: str,
    *,
    reason: str,
    organisation: Any,
    request: HttpRequest | None,
    now: datetime,
) -> FieldReport:
    _transition(
        actor,
        report,
        new,
        text,
        reason=reason,
        organisation=organisation,
        request=request,
        now=now,
    )
    return report


def _transition(
    actor: Any,
    report: FieldReport,
    new: str,
    text: str,
    *,
    reason: str,
    organisation: Any,
    request: HttpRequest | None,
    now: datetime,
) -> JournalEntry:
    """Change the report's state; returns the main courante entry that records it."""
    old = report.state
    if not transition_allowed(old, new):
        raise ReportError(
            _("Passage de l'état « %(old)s » à « %(new)s » impossible.")
            % {"old": ReportState(old).label, "new": ReportState(new).label},
            "invalid_transition",
        )
    report.state = new
    report.save(update_fields=["state", "reliability", "credibility", "priority", "refute_reason"])
    return _record(
        actor,
        report,
        action=ReportTransition.Action.STATE,
        old=old,
        new=new,
        text=text,
        reason=reason,
        organisation=organisation,
        request=request,
        now=now,
        audit=f"reports.report.{new}",
        highlight=new == ReportState.CONFIRMED and report.priority == Priority.FLASH,
    )


@transaction.atomic
def do_start_check(
    actor: Any,
    report: FieldReport,
    *,
    expected_revision: int | None = None,
    organisation: Any = None,
    request: HttpRequest | None = None,
    now: datetime | None = None,
) -> FieldReport:
    now = now or timezone.now()
    report = _lock(report, expected_revision)
    _require_pending(report)
    return _change_state(
        actor,
        report,
        ReportState.CHECKING,
        _("Remontée n° %(id)s en vérification.") % {"id": report.pk},
        reason="",
        organisation=organisation,
        request=request,
        now=now,
    )


@transaction.atomic
def do_confirm_report(
    actor: Any,
    report: FieldReport,
    *,
    reliability: str | None = None,
    credibility: int | None = None,
    priority: str | None = None,
    expected_revision: int | None = None,
    organisation: Any = None,
    disseminate: bool = True,
    request: HttpRequest | None = None,
    now: datetime | None = None,
) -> FieldReport:
    """Confirm (grading given here or earlier is required), let the escalation rules read the
    event's confirmed key figures, and route the confirmed information to the services named
    by the routing rules (``disseminate=False`` leaves it to a manual dissemination).
    Returns the confirmed report."""
    now = now or timezone.now()
    if report.event_id is not None and disseminate:
        # Lock order of every event-level write: the event row, then its main courante chain,
        # then the audit head. The routing below locks the event: take it first, or a phase
        # change running at the same time could deadlock with this confirmation.
        Event.objects.select_for_update().filter(pk=report.event_id).values_list("pk").first()
    report = _lock(report, expected_revision)
    _require_pending(report)
    _apply_grading(report, reliability, credibility, priority)
    if not (report.reliability and report.credibility and report.priority):
        raise ReportError(
            _(
                "Pour confirmer, cotez la fiabilité de la source (A à F), la crédibilité de "
                "l'information (1 à 6) et la priorité."
            ),
            "grading_required",
        )
    entry = _transition(
        actor,
        report,
        ReportState.CONFIRMED,
        _("Remontée n° %(id)s confirmée%(grading)s.")
        % {"id": report.pk, "grading": _grading_text(report)},
        reason="",
        organisation=organisation,
        request=request,
        now=now,
    )
    if report.event is not None:
        do_evaluate_escalation(report.event, confirmed_facts(report.event), now=now)
        if disseminate and route_entry(report.event, entry).organisations:
            # qualified information goes to the services concerned by the routing rules
            do_disseminate_entry(actor, entry, event=report.event, request=request, now=now)
    return report


@transaction.atomic
def do_refute_report(
    actor: Any,
    report: FieldReport,
    reason: str,
    *,
    expected_revision: int | None = None,
    organisation: Any = None,
    request: HttpRequest | None = None,
    now: datetime | None = None,
) -> FieldReport:
    now = now or timezone.now()
    reason = (reason or "").strip()
    if not reason:
        raise ReportError(_("Indiquez le motif de l'infirmation."), "reason_required", "reason")
    if len(reason) > 1000:
        raise ReportError(_("Le motif dépasse 1000 caractères."), "reason_too_long", "reason")
    report = _lock(report, expected_revision)
    _require_pending(report)
    report.refute_reason = reason
    return _change_state(
        actor,
        report,
        ReportState.REFUTED,
        _("Remontée n° %(id)s infirmée.") % {"id": report.pk},
        reason=reason,
        organisation=organisation,
        request=request,
        now=now,
    )


@transaction.atomic
def do_grade_report(
    actor: Any,
    report: FieldReport,
    *,
    reliability: str | None = None,
    credibility: int | None = None,
    priority: str | None = None,
    expected_revision: int | None = None,
    organisation: Any = None,
    request: HttpRequest | None = None,
    now: datetime | None = None,
) -> FieldReport:
    now = now or timezone.now()
    report = _lock(report, expected_revision)
    _require_pending(report)
    old = f"{report.grading} {report.priority}".strip()
    _apply_grading(report, reliability, credibility, priority)
    new = f"{report.grading} {report.priority}".strip()
    if old == new:
        return report
    report.save(update_fields=["reliability", "credibility", "priority"])
    _record(
        actor,
        report,
        action=ReportTransition.Action.GRADE,
        old=old,
        new=new,
        text=_("Remontée n° %(id)s cotée%(grading)s.")
        % {"id": report.pk, "grading": _grading_text(report)},
        organisation=organisation,
        request=request,
        now=now,
        audit="reports.report.graded",
    )
    return report


@transaction.atomic
def do_assign_report(
    actor: Any,
    report: FieldReport,
    assignee: Any,
    *,
    expected_revision: int | None = None,
    organisation: Any = None,
    request: HttpRequest | None = None,
    now: datetime | None = None,
) -> FieldReport:
    """Assign the report to an operator who may qualify it (``None`` removes the assignment)."""
    now = now or timezone.now()
    report = _lock(report, expected_revision)
    _require_pending(report)
    if assignee is not None and not (assignee.is_active and may_qualify(assignee, report)):
        raise ReportError(
            _("%(who)s ne peut pas qualifier cette remontée.") % {"who": _label(assignee)},
            "invalid_assignee",
            "assignee",
        )
    if report.assigned_to_id == (assignee.pk if assignee is not None else None):
        return report
    old = _label(report.assigned_to) if report.assigned_to_id else ""
    report.assigned_to = assignee
    report.save(update_fields=["assigned_to"])
    new = _label(assignee) if assignee is not None else ""
    text = (
        _("Remontée n° %(id)s attribuée à %(who)s.") % {"id": report.pk, "who": new}
        if assignee is not None
        else _("Remontée n° %(id)s : attribution retirée.") % {"id": report.pk}
    )
    _record(
        actor,
        report,
        action=ReportTransition.Action.ASSIGN,
        old=old,
        new=new,
        text=text,
        organisation=organisation,
        request=request,
        now=now,
        audit="reports.report.assigned",
    )
    if assignee is not None:
        queue_live_message(
            [f"user:{assignee.pk}"], "report.assigned", {"report": report.pk}, mode=report.mode
        )
    return report


@transaction.atomic
def do_merge_reports(
    actor: Any,
    report: FieldReport,
    into: FieldReport,
    *,
    reason: str = "",
    expected_revision: int | None = None,
    organisation: Any = None,
    request: HttpRequest | None = None,
    now: datetime | None = None,
) -> FieldReport:
    """Mark ``report`` as a duplicate of ``into`` (the same fact): nothing is deleted, the
    duplicate leaves the queue and never counts in the key figures."""
    now = now or timezone.now()
    if report.pk == into.pk:
        raise ReportError(
            _("Une remontée ne peut pas être le doublon d'elle-même."),
            "invalid_merge",
            "duplicate_of",
        )
    # lock both rows in id order (no deadlock between two merges)
    first, second = sorted([report, into], key=lambda r: r.pk)
    locked = {first.pk: _lock(first, None), second.pk: _lock(second, None)}
    report, into = locked[report.pk], locked[into.pk]
    _check_revision(report, expected_revision)
    if report.event_id != into.event_id or (
        report.event_id is None and report.territory_path != into.territory_path
    ):
        raise ReportError(
            _("Seules deux remontées du même événement peuvent être fusionnées."),
            "merge_other_event",
            "duplicate_of",
        )
    if report.duplicate_of_id is not None:
        raise ReportError(
            _("La remontée n° %(id)s est déjà un doublon de la remontée n° %(original)s.")
            % {"id": report.pk, "original": report.duplicate_of_id},
            "duplicate",
        )
    if into.duplicate_of_id is not None:
        raise ReportError(
            _(
                "La remontée n° %(into)s est elle-même un doublon : fusionnez dans "
                "l'original, la remontée n° %(original)s."
            )
            % {"into": into.pk, "original": into.duplicate_of_id},
            "merge_into_duplicate",
            "duplicate_of",
        )
    if report.state == ReportState.CONFIRMED:
        raise ReportError(
            _("Une remontée confirmée ne se fusionne pas : ses chiffres font foi."),
            "already_final",
        )
    if FieldReport.objects.filter(duplicate_of=report).exists():
        raise ReportError(
            _(
                "La remontée n° %(id)s a déjà des doublons : fusionnez plutôt la remontée "
                "n° %(into)s dans celle-ci."
            )
            % {"id": report.pk, "into": into.pk},
            "merge_has_duplicates",
            "duplicate_of",
        )
    report.duplicate_of = into
    report.save(update_fields=["duplicate_of"])
    _record(
        actor,
        report,
        action=ReportTransition.Action.MERGE,
        old="",
        new=str(into.pk),
        text=_("Remontée n° %(id)s marquée comme doublon de la remontée n° %(into)s.")
        % {"id": report.pk, "into": into.pk},
        reason=(reason or "").strip()[:1000],
        organisation=organisation,
        request=request,
        now=now,
        audit="reports.report.merged",
    )
    return report


# --- Bulk -----------------------------------------------------------------------------------

BULK_ACTIONS = ("start_check", "confirm", "refute", "grade", "assign_me")


@dataclass(frozen=True)
class BulkOutcome:
    report_id: int
    ok: bool
    message: str
    code: str = ""


def do_bulk_qualify(
    actor: Any,
    reports: Sequence[FieldReport],
    action: str,
    *,
    reliability: str | None = None,
    credibility: int | None = None,
    priority: str | None = None,
    reason: str = "",
    organisation: Any = None,
    request: HttpRequest | None = None,
    now: datetime | None = None,
) -> list[BulkOutcome]:
    """Apply one action to several reports (already access-checked by the caller), each in
    its own transaction: one failure does not roll back the others. One outcome per report."""
    if action not in BULK_ACTIONS:
        raise ReportError(_("Action groupée inconnue."), "invalid_action", "action")
    outcomes: list[BulkOutcome] = []
    for report in reports:
        common = {"organisation": organisation, "request": request, "now": now}
        try:
            if action == "start_check":
                do_start_check(actor, report, **common)
            elif action == "confirm":
                do_confirm_report(
                    actor,
                    report,
                    reliability=reliability,
                    credibility=credibility,
                    priority=priority,
                    **common,
                )
            elif action == "refute":
                do_refute_report(actor, report, reason, **common)
            elif action == "grade":
                do_grade_report(
                    actor,
                    report,
                    reliability=reliability,
                    credibility=credibility,
                    priority=priority,
                    **common,
                )
            else:
                do_assign_report(actor, report, actor, **common)
        except ReportError as error:
            outcomes.append(BulkOutcome(report.pk, False, str(error), error.code))
            continue
        outcomes.append(
            BulkOutcome(report.pk, True, _("Remontée n° %(id)s : fait.") % {"id": report.pk})
        )
    return outcomes
