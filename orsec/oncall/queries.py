"""Read side: who is on call at an instant, the board of "qui est d'astreinte ?"."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import QuerySet

from orsec.directory.models import Organisation
from orsec.oncall.models import Roster, Shift


def shift_at(roster: Roster, at: datetime) -> Shift | None:
    """The shift of ``roster`` covering ``at`` (``start <= at < end``), or ``None`` (a gap)."""
    return (
        Shift.objects.filter(roster=roster, start__lte=at, end__gt=at)
        .select_related("user")
        .first()
    )


def next_shift(roster: Roster, at: datetime) -> Shift | None:
    """The first shift starting after ``at``."""
    return Shift.objects.filter(roster=roster, start__gt=at).order_by("start").first()


@dataclass(frozen=True)
class OnCall:
    roster: Roster
    current: Shift | None
    next: Shift | None

    @property
    def is_gap(self) -> bool:
        return self.current is None


def who_is_on_call(target: Organisation | Roster, at: datetime) -> list[OnCall]:
    """For a roster, or every active roster of an organisation: the shift at ``at`` and the next.

    A roster with nobody on call at ``at`` has ``current=None`` (``is_gap``).
    """
    if isinstance(target, Roster):
        rosters: list[Roster] = [target]
    else:
        rosters = list(
            Roster.objects.filter(organisation=target, is_active=True).select_related(
                "organisation", "function"
            )
        )
    return on_call_board(rosters, at)


def on_call_board(rosters: QuerySet[Roster] | list[Roster], at: datetime) -> list[OnCall]:
    """The current and next shift of each roster, with two queries whatever the roster count."""
    rosters = list(rosters)
    ids = [r.pk for r in rosters]
    current: dict[int, Shift] = {}
    for shift in Shift.objects.filter(roster_id__in=ids, start__lte=at, end__gt=at):
        current.setdefault(shift.roster_id, shift)
    upcoming: dict[int, Shift] = {}
    # the next shift of each roster: shifts starting within the coming weeks, earliest first
    for shift in Shift.objects.filter(roster_id__in=ids, start__gt=at).order_by("start"):
        upcoming.setdefault(shift.roster_id, shift)
    return [OnCall(r, current.get(r.pk), upcoming.get(r.pk)) for r in rosters]
