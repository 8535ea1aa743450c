"""Read-side queries of plans: checklist progress per actor, plans needing attention."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db.models import Count, Q, QuerySet

from orsec.events.models import Event
from orsec.journal.models import JournalEntry
from orsec.plans.models import (
    Activation,
    ActivationState,
    ChecklistItem,
    Plan,
    PlanVersion,
    VersionState,
)


@dataclass(frozen=True)
class ActorProgress:
    organisation_id: int | None
    label: str
    done: int
    total: int

    @property
    def percent(self) -> int:
        return round(100 * self.done / self.total) if self.total else 0


def active_activations(event: Event) -> QuerySet[Activation]:
    return (
        Activation.objects.filter(event=event, state=ActivationState.ACTIVE)
        .select_related("version__plan")
        .prefetch_related("sections")
    )


def progress_by_actor(event: Event, *, active_only: bool = True) -> list[ActorProgress]:
    """Done/total per actor organisation over the event's (active) activations: one query."""
    items = ChecklistItem.objects.filter(event=event)
    if active_only:
        items = items.filter(activation__state=ActivationState.ACTIVE)
    rows = (
        items.values("organisation_id", "organisation__short_name", "organisation__name")
        .annotate(total=Count("pk"), done=Count("pk", filter=Q(done=True)))
        .order_by("organisation__name")
    )
    return [
        ActorProgress(
            organisation_id=row["organisation_id"],
            label=row["organisation__short_name"] or row["organisation__name"] or "—",
            done=row["done"],
            total=row["total"],
        )
        for row in rows
    ]


def checklist_for(event: Event, organisation_id: int | None) -> QuerySet[ChecklistItem]:
    items = ChecklistItem.objects.filter(event=event).select_related(
        "activation__version__plan", "done_by"
    )
    if organisation_id is None:
        return items.filter(organisation__isnull=True)
    return items.filter(organisation_id=organisation_id)


def approved_version(plan: Plan) -> PlanVersion | None:
    return plan.versions.filter(state=VersionState.APPROVED).first()


@dataclass(frozen=True)
class PlanRow:
    plan: Plan
    approved: PlanVersion | None
    pending: PlanVersion | None
    exercise_due: date | None
    exercise_overdue: bool
    review_due: bool


def plan_rows(plans: QuerySet[Plan], today: date) -> list[PlanRow]:
    """The plans with what a list shows (approved/pending version, exercise and review due),
    in a fixed number of queries."""
    plans = plans.prefetch_related("versions", "exercises")
    rows = []
    for plan in plans:
        versions = list(plan.versions.all())
        approved = next((v for v in versions if v.state == VersionState.APPROVED), None)
        pending = next(
            (v for v in versions if v.state in (VersionState.DRAFT, VersionState.REVIEW)), None
        )
        rows.append(
            PlanRow(
                plan=plan,
                approved=approved,
                pending=pending,
                exercise_due=plan.exercise_due(),
                exercise_overdue=plan.exercise_overdue(today),
                review_due=plan.review_is_due(today),
            )
        )
    return rows


def activable_versions(plans: QuerySet[Plan], event: Event) -> list[PlanVersion]:
    """Approved versions of the plans visible to the user whose territory is the event's or
    above it (the plans that apply to the event)."""
    parts = event.territory_path.split("/")
    ladder = ["/".join(parts[:n]) for n in range(1, len(parts) + 1)]
    communes = list(event.commune_links.values_list("commune_path", flat=True))
    return list(
        PlanVersion.objects.filter(
            plan__in=plans.filter(territory_path__in=ladder + communes),
            state=VersionState.APPROVED,
        )
        .select_related("plan")
        .prefetch_related("sections")
        .order_by("plan__territory_path", "plan__title")
    )


def item_history(item: ChecklistItem) -> QuerySet[JournalEntry]:
    return JournalEntry.objects.filter(
        event_id=item.event_id, subject_type="plans.checklistitem", subject_id=str(item.pk)
    ).order_by("seq")
