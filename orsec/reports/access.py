"""Who may see and qualify which field reports: the one place (``docs/reports.md``).

A report is visible to a user when:

* its event is visible to the user (:func:`orsec.events.access.events_visible_to`), or
* it sits in a territory's watch log (no event yet) and that territory is in the user's scope.

Qualifying (start checking, confirm, refute, grade, assign, merge) needs the event's ability
``qualify`` — COD roles of the owning level and above, never an observer, never a mayor or a
liaison officer (they submit, ``submit_report``). For a watch-log report, the same roles on a
territory the user owns. Absent and forbidden answer the same 404; a forbidden fetch is audited.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from django.http import Http404

from orsec.accounts.access import Scope, scope_of
from orsec.accounts.models import Membership, User
from orsec.audit.actions import record_access_denied
from orsec.events.access import (
    QUALIFYING_ROLES,
    REPORTING_ROLES,
    events_visible_to,
    get_event_abilities,
    path_level,
)
from orsec.reports.models import FieldReport, ReportState
from orsec.territories.models import Territory

#: What report pages and lists display next to a report.
REPORT_RELATED = ("event", "organisation", "assigned_to", "duplicate_of")


def _owned_q(scope: Scope, lookup: str = "territory_path") -> Q:
    """Paths the user *owns* (own territory and below; a commune only itself)."""
    condition = Q(pk__in=[])
    for path in scope.paths:
        condition |= Q(**{lookup: path})
        if path_level(path) != "commune":
            condition |= Q(**{f"{lookup}__startswith": path + "/"})
    return condition


def _owns_path(scope: Scope, path: str) -> bool:
    return any(
        path == p or (path_level(p) != "commune" and path.startswith(p + "/")) for p in scope.paths
    )


def reports_visible_to(user: Any) -> QuerySet[FieldReport]:
    scope = scope_of(user)
    if scope.is_empty:
        return FieldReport.objects.none()
    # the report's event is visible to the user
    condition = Q(event_id__in=events_visible_to(user).values("pk"))
    # a watch-log report (no event yet) of a territory in the user's scope
    condition |= Q(event__isnull=True) & scope.q("territory_path")
    return FieldReport.objects.filter(condition)


def reports_qualifiable_by(user: Any) -> QuerySet[FieldReport]:
    """Reports the user may qualify (whatever their state): the base of the queue."""
    scope = scope_of(user)
    if scope.is_empty or scope.is_read_only or not scope.roles & QUALIFYING_ROLES:
        return FieldReport.objects.none()
    owned = _owned_q(scope)
    # an open event the user sees, at the user's level or below
    on_event = (
        Q(event_id__in=events_visible_to(user).filter(closed_at__isnull=True).values("pk")) & owned
    )
    # a watch log of a territory the user owns
    on_watch = Q(event__isnull=True) & owned
    return FieldReport.objects.filter(on_event | on_watch)


def access_report_by_id(
    user: Any, report_id: int, *, related: tuple[str, ...] = REPORT_RELATED
) -> FieldReport:
    """The report if the user may see it; Http404 when absent *or* forbidden (audited)."""
    report = reports_visible_to(user).filter(pk=report_id).select_related(*related).first()
    if report is None:
        if FieldReport.objects.filter(pk=report_id).exists():  # forbidden, not absent
            record_access_denied(user, FieldReport, report_id)
        raise Http404
    return report


def may_qualify(user: Any, report: FieldReport) -> bool:
    """The user may qualify reports of this event or watch log (state aside)."""
    event = report.event if report.event_id is not None else None
    if event is not None:
        return get_event_abilities(user, event)["qualify"]
    scope = scope_of(user)
    return (
        not scope.is_read_only
        and bool(scope.roles & QUALIFYING_ROLES)
        and _owns_path(scope, report.territory_path)
    )


def get_report_abilities(user: Any, report: FieldReport) -> dict[str, bool]:
    """What the user may do on a report obtained through :func:`access_report_by_id`."""
    can = may_qualify(user, report)
    pending = report.state in (ReportState.RAW, ReportState.CHECKING)
    active = can and pending and report.duplicate_of_id is None
    return {
        "view": True,
        "qualify": active,
        "start_check": active and report.state == ReportState.RAW,
        "confirm": active,
        "refute": active,
        "grade": active,
        "assign": active,
        "merge": can and report.state != ReportState.CONFIRMED and report.duplicate_of_id is None,
    }


def get_watch_abilities(user: Any, territory: Territory) -> dict[str, bool]:
    """May the user file a report in the watch log of ``territory`` (no event yet)?"""
    scope = scope_of(user)
    return {
        "submit_report": not scope.is_read_only
        and bool(scope.roles & REPORTING_ROLES)
        and scope.covers(territory.path),
    }


def assignable_users(report: FieldReport) -> QuerySet[User]:
    """People a report may be assigned to: qualifying roles of the report's owning territory."""
    return User.objects.filter(
        is_active=True,
        pk__in=Membership.objects.filter(
            is_active=True,
            organisation__is_active=True,
            role__in=sorted(QUALIFYING_ROLES),
            organisation__territory__path=report.territory_path,
        ).values("user_id"),
    ).order_by("last_name", "first_name", "pk")
