"""Read-only queries of the dissemination pages and API (ordering, filters)."""

from __future__ import annotations

from typing import Any

from django.db.models import Case, IntegerField, QuerySet, Value, When

from orsec.dissemination.access import deliveries_visible_to
from orsec.dissemination.actions import DISSEMINABLE_STATES
from orsec.dissemination.models import Delivery, DeliveryState
from orsec.events.models import Event
from orsec.journal.models import EntryKind, JournalEntry

#: Entry kinds never offered for dissemination (the trace of the portal's own work).
NOT_DISSEMINATED_KINDS = (EntryKind.OUTGOING, EntryKind.STATE_CHANGE)


def inbox_for(user: Any, *, state: str = "") -> QuerySet[Delivery]:
    """The user's inbox: unacknowledged first, then the most recent."""
    queryset = deliveries_visible_to(user)
    if state == "pending":
        queryset = queryset.exclude(state=DeliveryState.ACKNOWLEDGED)
    elif state in DeliveryState.values:
        queryset = queryset.filter(state=state)
    return queryset.annotate(
        done=Case(
            When(state=DeliveryState.ACKNOWLEDGED, then=Value(1)),
            default=Value(0),
            output_field=IntegerField(),
        )
    ).order_by("done", "-sent_at", "-id")


def disseminable_entries(event: Event, *, view_restricted: bool, limit: int = 30) -> list[Any]:
    """The latest entries of the event that may be disseminated (confirmed or not qualifiable)."""
    queryset = JournalEntry.objects.filter(
        event=event, qualification__in=sorted(DISSEMINABLE_STATES)
    ).exclude(kind__in=NOT_DISSEMINATED_KINDS)
    if not view_restricted:
        queryset = queryset.exclude(confidentiality="restricted")
    return list(queryset.order_by("-seq")[:limit])
