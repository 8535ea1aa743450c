"""Read side of field reports: the qualification queue and an event's key figures."""

from __future__ import annotations

from typing import Any

from django.db.models import Case, IntegerField, QuerySet, Value, When

from orsec.events.models import Event
from orsec.reports.access import reports_qualifiable_by
from orsec.reports.models import (
    KEY_FIGURE_CATEGORIES,
    OPEN_STATES,
    PRIORITY_RANK,
    FieldReport,
    KeyFigure,
    ReportState,
    Template,
)

#: Templates whose figures are consolidated into key figures.
KEY_FIGURE_TEMPLATES = (Template.CASUALTIES, Template.NETWORKS, Template.EVACUATION)

QUEUE_RELATED = ("event", "organisation", "assigned_to")


def qualification_queue(
    user: Any,
    *,
    state: str | None = None,
    event: Event | int | None = None,
    priority: str | None = None,
    template: str | None = None,
    assigned: str | None = None,
) -> QuerySet[FieldReport]:
    """The "à qualifier" queue of the user's level: raw and checking reports the user may
    qualify (duplicates excluded), flash first, then urgent, not yet graded, routine; oldest
    first within a priority.

    ``assigned``: ``"me"`` (assigned to the user), ``"none"`` (unassigned), or None (all).
    """
    queryset = reports_qualifiable_by(user).filter(
        state__in=[state] if state in OPEN_STATES else list(OPEN_STATES),
        duplicate_of__isnull=True,
    )
    if event is not None:
        queryset = queryset.filter(event_id=event.pk if isinstance(event, Event) else event)
    if priority is not None:
        queryset = queryset.filter(priority="" if priority == "none" else priority)
    if template is not None:
        queryset = queryset.filter(template=template)
    if assigned == "me":
        queryset = queryset.filter(assigned_to_id=getattr(user, "pk", None))
    elif assigned == "none":
        queryset = queryset.filter(assigned_to__isnull=True)
    rank = Case(
        *[When(priority=p, then=Value(r)) for p, r in PRIORITY_RANK.items()],
        default=Value(2),
        output_field=IntegerField(),
    )
    return (
        queryset.select_related(*QUEUE_RELATED)
        .defer("event__location", "event__description")
        .annotate(priority_rank=rank)
        .order_by("priority_rank", "created_at", "id")
    )


def key_figures(event: Event) -> list[KeyFigure]:
    """The event's consolidated key figures: for each category, the latest CONFIRMED value
    (by observation time), never a raw or refuted report, never a duplicate. One query."""
    reports = (
        FieldReport.objects.filter(
            event=event,
            state=ReportState.CONFIRMED,
            duplicate_of__isnull=True,
            template__in=list(KEY_FIGURE_TEMPLATES),
        )
        .select_related("organisation")
        .only(
            "id",
            "figures",
            "occurred_at",
            "organisation__name",
            "organisation__short_name",
            "author_label",
        )
        .order_by("-occurred_at", "-id")
    )
    found: dict[str, KeyFigure] = {}
    for report in reports:
        organisation = report.organisation
        label = (organisation.short_name or organisation.name) if organisation else ""
        for key, value in (report.figures or {}).items():
            if key in found or key not in KEY_FIGURE_CATEGORIES or not isinstance(value, int):
                continue
            found[key] = KeyFigure(
                key=key,
                label=str(KEY_FIGURE_CATEGORIES[key]),
                value=value,
                report_id=report.pk,
                organisation=label or report.author_label,
                occurred_at=report.occurred_at,
            )
        if len(found) == len(KEY_FIGURE_CATEGORIES):
            break
    return [found[key] for key in KEY_FIGURE_CATEGORIES if key in found]


def confirmed_facts(event: Event) -> dict[str, int]:
    """The key figures as ``{category: value}``: the facts read by the escalation rules."""
    return {figure.key: figure.value for figure in key_figures(event)}
