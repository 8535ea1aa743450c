"""Who may see and act on which events: the one place (``docs/access.md``, section Événements).

An event is visible to a user when one of these holds (each a line of :func:`_visible_q`):

* the event's territory is the user's territory, or lies below a département (or commune) of
  theirs: a préfecture sees the events of its communes (a région is not a command level: its
  services see what they take part in);
* the user's territory is a zone above the event and the event is shared with the zone (or
  nationally); a zone's own events are visible to it;
* the user is national and the event is shared nationally (or is a national event);
* one of the user's communes is concerned by the event (the mayor of a flooded commune);
* one of the user's organisations takes part in the event (a recipient of its information).

Mode (réel / exercice / test) never hides an event from its actors, but every list, count and
export separates the modes or marks them (see :mod:`orsec.events.queries`). Absent and forbidden
answer the same 404; a forbidden fetch is audited.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import Http404

from orsec.accounts.access import NATIONAL_PATH, Scope, scope_of
from orsec.accounts.models import QUALIFYING_ROLES as QUALIFYING_ROLES  # re-exported
from orsec.accounts.models import Role
from orsec.audit.actions import record_access_denied
from orsec.events.models import Event, EventCommune, EventParticipant, Visibility


def path_level(path: str) -> str:
    """``national``, ``zone``, ``region``, ``departement`` or ``commune`` for a territory path."""
    parts = path.split("/")
    if len(parts) == 1:
        return "national"
    if len(parts) == 2:
        return "zone"
    prefix = parts[-1][:1]
    return {"R": "region", "D": "departement"}.get(prefix, "commune")


def _visible_q(scope: Scope) -> Q:
    condition: Any = Q(pk__in=[])
    for path in scope.paths:
        level = path_level(path)
        below = Q(territory_path__startswith=path + "/")
        if level == "national":
            # national watch: events shared nationally, and national events
            condition |= Q(territory_path=path) | Q(visibility=Visibility.NATIONAL)
        elif level == "zone":
            # the zone's own events; its départements' events once shared with the zone
            condition |= Q(territory_path=path)
            condition |= below & Q(visibility__in=[Visibility.ZONE, Visibility.NATIONAL])
        elif level == "region":
            # a région is not a command level (ARS, network operators): its own events only;
            # it sees départements' events once it takes part in them (participants below)
            condition |= Q(territory_path=path)
        else:
            # département, commune: own territory and everything below it
            condition |= Q(territory_path=path) | below
    if scope.paths:
        # a commune of the user's concerned by the event (a mayor)
        condition |= Exists(
            EventCommune.objects.filter(event=OuterRef("pk"), commune_path__in=scope.paths)
        )
    if scope.organisation_ids:
        # an organisation of the user's takes part in the event
        condition |= Exists(
            EventParticipant.objects.filter(
                event=OuterRef("pk"), organisation_id__in=sorted(scope.organisation_ids)
            )
        )
    return condition


def events_visible_to(user: Any) -> QuerySet[Event]:
    scope = scope_of(user)
    if scope.is_empty:
        return Event.objects.none()
    return (
        Event.objects.filter(_visible_q(scope))
        .select_related("territory")
        .defer("territory__boundary")
    )


def _territory_allows(scope: Scope, event: Event) -> bool:
    """The territorial lines of :func:`_visible_q`, evaluated on one event (no query)."""
    path = event.territory_path
    for own in scope.paths:
        level = path_level(own)
        below = path.startswith(own + "/")
        if level == "national":
            if path == own or event.visibility == Visibility.NATIONAL:
                return True
        elif level == "zone":
            if path == own or (
                below and event.visibility in (Visibility.ZONE, Visibility.NATIONAL)
            ):
                return True
        elif level == "region":
            if path == own:
                return True
        elif path == own or below:
            return True
    return False


def event_visible(scope: Scope, event: Event) -> bool:
    """The rule of :func:`_visible_q` for one event already loaded: the territorial lines in
    Python, then the concerned-commune and participant lines with one indexed query each, only
    when needed (a test checks both forms agree)."""
    if scope.is_empty:
        return False
    if _territory_allows(scope, event):
        return True
    if EventCommune.objects.filter(event=event, commune_path__in=scope.paths).exists():
        return True
    return bool(scope.organisation_ids) and (
        EventParticipant.objects.filter(
            event=event, organisation_id__in=sorted(scope.organisation_ids)
        ).exists()
    )


def access_event_by_id(user: Any, event_id: int, *, for_update: bool = False) -> Event:
    """The event if the user may see it; Http404 when absent *or* forbidden (audited)."""
    scope = scope_of(user)
    if scope.is_empty:
        raise Http404
    queryset = Event.objects.select_related("territory").defer("territory__boundary")
    if for_update:
        queryset = queryset.select_for_update(of=("self",))
    event = queryset.filter(pk=event_id).first()
    if event is None:
        raise Http404
    if not event_visible(scope, event):
        record_access_denied(user, Event, event_id)  # forbidden, not absent
        raise Http404
    return event


#: Roles that run an event at its own level (COD, préfet's staff).
_RUNNING_ROLES = frozenset({Role.COD_OPERATOR, Role.ROOM_LEAD, Role.DIRECTOR_STAFF})
#: Roles that direct: phase, closing, sharing decisions.
_DIRECTING_ROLES = frozenset({Role.ROOM_LEAD, Role.DIRECTOR_STAFF})
#: Roles that may open an event on their territory.
_OPENING_ROLES = _RUNNING_ROLES | {Role.MAYOR, Role.ZONE_OFFICER, Role.NATIONAL_OFFICER}
#: Roles that read entries labelled "diffusion restreinte".
RESTRICTED_ROLES = _DIRECTING_ROLES | {Role.ZONE_OFFICER, Role.NATIONAL_OFFICER}
#: Roles that may write a field report or a journal entry on a visible event.
REPORTING_ROLES = frozenset(
    {
        Role.COD_OPERATOR,
        Role.ROOM_LEAD,
        Role.DIRECTOR_STAFF,
        Role.LIAISON_OFFICER,
        Role.MAYOR,
        Role.ZONE_OFFICER,
        Role.NATIONAL_OFFICER,
    }
)


def _owns(scope: Scope, event: Event) -> bool:
    """The user's territory *is* the event's territory or above it (not a commune below)."""
    return any(
        event.territory_path == p or event.territory_path.startswith(p + "/")
        for p in scope.paths
        if path_level(p) != "commune" or p == event.territory_path
    )


def get_event_abilities(user: Any, event: Event) -> dict[str, bool]:
    """What the user may do on an event obtained through :func:`access_event_by_id`."""
    scope = scope_of(user)
    roles = scope.roles
    owns = _owns(scope, event)
    writable = event.is_open and not scope.is_read_only
    national = NATIONAL_PATH in scope.paths
    return {
        "view": True,
        "write_journal": writable and bool(roles & REPORTING_ROLES),
        "submit_report": writable and bool(roles & REPORTING_ROLES),
        "qualify": writable and owns and bool(roles & QUALIFYING_ROLES),
        "change_phase": writable and owns and bool(roles & _DIRECTING_ROLES),
        "change_gravity": writable and owns and bool(roles & _RUNNING_ROLES),
        "decide_sharing": writable
        and owns
        and bool(roles & (_DIRECTING_ROLES | {Role.ZONE_OFFICER, Role.NATIONAL_OFFICER})),
        "close": writable and owns and bool(roles & _DIRECTING_ROLES),
        "reopen": not event.is_open and owns and bool(roles & _DIRECTING_ROLES),
        "disseminate": writable and owns and bool(roles & QUALIFYING_ROLES),
        "view_restricted": bool(roles & RESTRICTED_ROLES) and (owns or national),
    }


def get_open_abilities(user: Any) -> dict[str, bool]:
    """May the user open an event (on a territory of theirs)?"""
    scope = scope_of(user)
    return {"open_event": not scope.is_read_only and bool(scope.roles & _OPENING_ROLES)}
