"""Read-side queries of the event and main courante pages and API (access already applied).

Modes are never mixed: :func:`filter_events` always filters on one mode, and
:func:`mode_counts` counts each mode separately.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet
from django.utils import timezone

from orsec.events.access import events_visible_to
from orsec.events.models import EscalationProposal, Event, Mode
from orsec.journal.access import filter_entries
from orsec.journal.models import Highlight, JournalEntry


def filter_events(
    queryset: QuerySet[Event],
    *,
    mode: str | None = Mode.REAL,
    phase: str = "",
    state: str = "open",
    territory_path: str = "",
) -> QuerySet[Event]:
    if mode is not None:  # None: every mode, for per-mode counts only
        queryset = queryset.filter(mode=mode)
    if phase:
        queryset = queryset.filter(phase=phase)
    if state == "open":
        queryset = queryset.filter(closed_at__isnull=True)
    elif state == "closed":
        queryset = queryset.filter(closed_at__isnull=False)
    if territory_path:
        queryset = queryset.filter(
            Q(territory_path=territory_path) | Q(territory_path__startswith=territory_path + "/")
        )
    return queryset


def mode_counts(queryset: QuerySet[Event]) -> dict[str, int]:
    """``{"real": n, "exercise": n, "test": n}`` over ``queryset`` (one query)."""
    counts = queryset.aggregate(**{mode: Count("pk", filter=Q(mode=mode)) for mode in Mode.values})
    return {mode: counts[mode] or 0 for mode in Mode.values}


def visible_events(user: Any) -> QuerySet[Event]:
    return events_visible_to(user)


def entries_for_reader(event: Event, abilities: dict[str, bool]) -> QuerySet[JournalEntry]:
    """The event's entries the reader may see, with what a list shows (no N+1)."""
    visible = filter_entries(JournalEntry.objects.all(), abilities)
    return (
        filter_entries(JournalEntry.objects.filter(event=event), abilities)
        .select_related("corrects")
        .prefetch_related(
            "attachments",
            Prefetch("corrections", queryset=visible.only("pk", "seq", "corrects_id")),
        )
        .annotate(pinned=Exists(Highlight.objects.filter(entry=OuterRef("pk"))))
    )


def chain_entries_for_reader(chain_id: int, abilities: dict[str, bool]) -> QuerySet[JournalEntry]:
    visible = filter_entries(JournalEntry.objects.all(), abilities)
    return (
        filter_entries(JournalEntry.objects.filter(chain_id=chain_id), abilities)
        .select_related("corrects")
        .prefetch_related(
            "attachments",
            Prefetch("corrections", queryset=visible.only("pk", "seq", "corrects_id")),
        )
        .annotate(pinned=Exists(Highlight.objects.filter(entry=OuterRef("pk"))))
    )


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def filter_entries_by(
    queryset: QuerySet[JournalEntry],
    *,
    kind: str = "",
    channel: str = "",
    qualification: str = "",
    highlights: bool = False,
    text: str = "",
    start: date | None = None,
    end: date | None = None,
) -> QuerySet[JournalEntry]:
    if kind:
        queryset = queryset.filter(kind=kind)
    if channel:
        queryset = queryset.filter(channel=channel)
    if qualification:
        queryset = queryset.filter(qualification=qualification)
    if highlights:
        queryset = queryset.filter(
            Q(is_highlight=True) | Exists(Highlight.objects.filter(entry=OuterRef("pk")))
        )
    if text:
        queryset = queryset.filter(text__icontains=text)
    if start:
        queryset = queryset.filter(occurred_at__gte=_day_start(start))
    if end:
        queryset = queryset.filter(occurred_at__lt=_day_start(end) + timedelta(days=1))
    return queryset


def highlights_for_reader(
    event: Event, abilities: dict[str, bool], limit: int = 20
) -> list[JournalEntry]:
    """Faits marquants: entries written as such or pinned later, newest first."""
    return list(
        filter_entries_by(entries_for_reader(event, abilities), highlights=True).order_by("-seq")[
            :limit
        ]
    )


def pending_escalations(event: Event) -> list[EscalationProposal]:
    return list(
        EscalationProposal.objects.filter(event=event, state=EscalationProposal.State.PROPOSED)
        .select_related("rule")
        .order_by("proposed_at", "pk")
    )
