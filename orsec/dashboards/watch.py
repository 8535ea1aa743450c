"""The watch room ("salle de veille"): every event a user may see, with its state and activity.

Rows are rendered **per audience** (the user's scope): what they show — visibility, entry
totals, last update — depends on the scope only. The unread count is per user: the page carries
the user's "seen" positions (:func:`seen_counts`), and its script subtracts them from the
totals the rows carry, so that a pushed row is the same for every user of the audience.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count, Exists, Max, OuterRef, Q, QuerySet
from django.utils import timezone

from orsec.accounts.access import Scope
from orsec.dashboards.models import EventSeen
from orsec.events.access import event_visible, events_visible_to, get_event_abilities
from orsec.events.models import Event, Mode
from orsec.journal.models import Confidentiality, JournalEntry

#: closed events stay in the watch room this long (marked "Clos")
CLOSED_KEPT = timedelta(hours=24)
#: at most this many events per mode (the most recently active first)
ROWS_PER_MODE = 200
MODES = (Mode.REAL, Mode.EXERCISE, Mode.TEST)


@dataclass
class WatchRow:
    event: Event
    entries: int
    last_update: datetime
    unread: int | None = None


def listed(queryset: QuerySet[Event], now: datetime | None = None) -> QuerySet[Event]:
    """Open events, and those closed in the last :data:`CLOSED_KEPT`."""
    since = (now or timezone.now()) - CLOSED_KEPT
    return queryset.filter(Q(closed_at__isnull=True) | Q(closed_at__gte=since))


def is_listed(event: Event, now: datetime | None = None) -> bool:
    return event.closed_at is None or event.closed_at >= (now or timezone.now()) - CLOSED_KEPT


def _entry_stats(event_ids: Iterable[int]) -> dict[int, dict[str, Any]]:
    """Per event: entry counts and last entry times, all and without restricted ones."""
    public = ~Q(confidentiality=Confidentiality.RESTRICTED)
    rows = (
        JournalEntry.objects.filter(event_id__in=list(event_ids))
        .values("event_id")
        .annotate(
            n_all=Count("pk"),
            n_public=Count("pk", filter=public),
            last_all=Max("recorded_at"),
            last_public=Max("recorded_at", filter=public),
        )
        .order_by()
    )
    return {row["event_id"]: dict(row) for row in rows}


def build_rows(user: Any, events: list[Event]) -> list[WatchRow]:
    """The rows of ``events`` (already checked visible to ``user``'s scope)."""
    stats = _entry_stats(e.pk for e in events)
    rows = []
    for event in events:
        restricted = get_event_abilities(user, event)["view_restricted"]
        stat = stats.get(event.pk, {})
        entries = stat.get("n_all" if restricted else "n_public") or 0
        last_entry = stat.get("last_all" if restricted else "last_public")
        last = max(event.updated_at, last_entry) if last_entry else event.updated_at
        rows.append(WatchRow(event=event, entries=entries, last_update=last))
    return rows


def watch_rows(user: Any) -> dict[str, list[WatchRow]]:
    """Every listed event visible to ``user``, by mode, the most recently active first."""
    events = list(listed(events_visible_to(user)).order_by("-updated_at")[: ROWS_PER_MODE * 3])
    rows = build_rows(user, events)
    by_mode: dict[str, list[WatchRow]] = {mode: [] for mode in MODES}
    for row in sorted(rows, key=lambda r: r.last_update, reverse=True):
        group = by_mode.setdefault(row.event.mode, [])
        if len(group) < ROWS_PER_MODE:
            group.append(row)
    return by_mode


def rows_for_ids(user: Any, scope: Scope, event_ids: Iterable[int]) -> list[WatchRow]:
    """Rows of the given events that the scope lists now (the others are not shown)."""
    events = list(
        Event.objects.filter(pk__in=set(event_ids))
        .select_related("territory")
        .defer("territory__boundary")
    )
    now = timezone.now()
    return build_rows(user, [e for e in events if is_listed(e, now) and event_visible(scope, e)])


def watch_summary(user: Any) -> dict[str, int]:
    """How many listed events per mode, and how many of them are open."""
    counts = listed(events_visible_to(user)).aggregate(
        **{mode: Count("pk", filter=Q(mode=mode)) for mode in MODES},
        open=Count("pk", filter=Q(closed_at__isnull=True, mode=Mode.REAL)),
    )
    return {key: value or 0 for key, value in counts.items()}


def seen_counts(user: Any, rows: Iterable[WatchRow]) -> dict[int, int]:
    """Per event: how many of the entries visible to ``user`` they had seen (entries up to
    their last "seen" position). The unread count is the row's total minus this."""
    rows = list(rows)
    if not rows:
        return {}
    public = ~Q(confidentiality=Confidentiality.RESTRICTED)
    seen = EventSeen.objects.filter(
        user=user, event_id=OuterRef("event_id"), seen_seq__gte=OuterRef("seq")
    )
    counts = (
        JournalEntry.objects.filter(Exists(seen), event_id__in=[r.event.pk for r in rows])
        .values("event_id")
        .annotate(n_all=Count("pk"), n_public=Count("pk", filter=public))
        .order_by()
    )
    by_event: dict[int, dict[str, Any]] = {c["event_id"]: dict(c) for c in counts}
    result: dict[int, int] = {}
    for row in rows:
        restricted = get_event_abilities(user, row.event)["view_restricted"]
        count = by_event.get(row.event.pk, {})
        result[row.event.pk] = int(count.get("n_all" if restricted else "n_public") or 0)
    return result
