"""Who sees and acts on which points de situation: the one place (``docs/sitrep.md``, Accès).

* A SITREP of an event is visible to whoever sees the event (``orsec.events.access``) once it is
  **frozen**; a **draft** (or approved, not yet frozen) only to the staff of the emitting
  territory: the COD operators, room leads and préfet's staff whose territory *is* the emitting
  territory (a zone officer does not read a département's drafts).
* A zonal synthesis (no event) is visible to the zone officers of that zone, and once frozen also
  to the national watch.
* Editing a draft: COD operators and room leads of the emitting territory (zone officers for a
  synthesis); approving: the préfet's staff (the zone officers for a synthesis).
* Absent and forbidden answer the same 404; a forbidden fetch is audited.
"""

from __future__ import annotations

from typing import Any

from django.http import Http404

from orsec.accounts.access import NATIONAL_PATH, Scope, scope_of
from orsec.accounts.models import Role
from orsec.audit.actions import record_access_denied
from orsec.events.access import event_visible, events_visible_to, path_level
from orsec.events.models import Event
from orsec.sitreps.models import Sitrep, SitrepState
from orsec.territories.models import Territory, TerritoryKind

#: Roles of a département's staff: they compile and read drafts.
DEPARTEMENT_STAFF_ROLES = frozenset({Role.COD_OPERATOR, Role.ROOM_LEAD, Role.DIRECTOR_STAFF})
#: Roles that edit a département's draft (the room: operators under the room lead).
DEPARTEMENT_EDIT_ROLES = frozenset({Role.COD_OPERATOR, Role.ROOM_LEAD})
#: Roles that approve a département's SITREP (the director's staff).
DEPARTEMENT_APPROVE_ROLES = frozenset({Role.DIRECTOR_STAFF})
#: The zone's staff: compile, edit, approve the zonal synthesis and the zone's own events' SITREPs.
ZONE_ROLES = frozenset({Role.ZONE_OFFICER})


def emitting_territory(event: Event) -> Territory | None:
    """The territory that emits an event's SITREPs: its département (an event of a commune is
    reported by its département's COD), or the zone for a zone's own event; ``None`` for a
    level that emits no SITREP (a région)."""
    if event.departement_id:
        return event.departement
    level = path_level(event.territory_path)
    if level in ("zone", "national"):
        return event.territory
    return None


def _staff_roles(scope: Scope, path: str) -> frozenset[str]:
    """The user's roles that count at the emitting territory ``path`` (empty when the user's
    territory is not that territory)."""
    if path not in scope.paths or scope.is_read_only:
        return frozenset()
    level = path_level(path)
    if level == "departement":
        return scope.roles & DEPARTEMENT_STAFF_ROLES
    if level == "zone":
        return scope.roles & ZONE_ROLES
    if level == "national":
        return scope.roles & {Role.NATIONAL_OFFICER}
    return frozenset()


def _edit_roles(path: str) -> frozenset[str]:
    level = path_level(path)
    if level == "departement":
        return DEPARTEMENT_EDIT_ROLES
    return ZONE_ROLES if level == "zone" else frozenset({Role.NATIONAL_OFFICER})


def _approve_roles(path: str) -> frozenset[str]:
    level = path_level(path)
    if level == "departement":
        return DEPARTEMENT_APPROVE_ROLES
    return ZONE_ROLES if level == "zone" else frozenset({Role.NATIONAL_OFFICER})


def can_view_sitrep(scope: Scope, sitrep: Sitrep) -> bool:
    if scope.is_empty:
        return False
    # the emitting territory's staff read every state, drafts included
    if _staff_roles(scope, sitrep.emitting_path):
        return True
    if sitrep.state != SitrepState.FROZEN:
        return False  # a draft never leaves the emitting territory
    if sitrep.event is not None:
        # a frozen SITREP of an event: whoever sees the event (the COZ it was sent to is a
        # participant of the event)
        return event_visible(scope, sitrep.event)
    # a frozen zonal synthesis: the zone's officers and the national watch
    zone_officer = sitrep.emitting_path in scope.paths and Role.ZONE_OFFICER in scope.roles
    national = NATIONAL_PATH in scope.paths and Role.NATIONAL_OFFICER in scope.roles
    return zone_officer or national


def access_sitrep_by_id(user: Any, sitrep_id: int) -> Sitrep:
    """The SITREP if the user may see it; Http404 when absent *or* forbidden (audited)."""
    scope = scope_of(user)
    if scope.is_empty:
        raise Http404
    sitrep = (
        Sitrep.objects.select_related("event", "event__territory", "territory", "pdf")
        .defer("event__territory__boundary", "territory__boundary")
        .filter(pk=sitrep_id)
        .first()
    )
    if sitrep is None:
        raise Http404
    if not can_view_sitrep(scope, sitrep):
        record_access_denied(user, Sitrep, sitrep_id)
        raise Http404
    return sitrep


def sitreps_of_event_for(user: Any, event: Event) -> list[Sitrep]:
    """The SITREPs of an event (obtained through ``access_event_by_id``) the user may see."""
    scope = scope_of(user)
    rows = Sitrep.objects.filter(event=event).select_related("pdf").order_by("number")
    return [s for s in rows if can_view_sitrep(scope, s)]


def recent_sitreps_for(user: Any, limit: int = 50) -> list[Sitrep]:
    """The latest SITREPs of the events the user sees (drafts only for the emitting staff)."""
    scope = scope_of(user)
    if scope.is_empty:
        return []
    rows = (
        Sitrep.objects.filter(event__in=events_visible_to(user).values("pk"))
        .select_related("event", "event__territory", "pdf")
        .defer("event__territory__boundary")
        .order_by("-compiled_at", "-id")[: limit * 2]
    )
    return [s for s in rows if can_view_sitrep(scope, s)][:limit]


def get_sitrep_abilities(user: Any, sitrep: Sitrep) -> dict[str, bool]:
    """What the user may do on a SITREP obtained through :func:`access_sitrep_by_id`."""
    scope = scope_of(user)
    roles = _staff_roles(scope, sitrep.emitting_path)
    open_event = sitrep.event is None or sitrep.event.is_open
    draft = sitrep.state == SitrepState.DRAFT
    return {
        "view": True,
        "edit": draft and open_event and bool(roles & _edit_roles(sitrep.emitting_path)),
        "approve": draft and open_event and bool(roles & _approve_roles(sitrep.emitting_path)),
        "download": sitrep.state == SitrepState.FROZEN and sitrep.pdf_id is not None,
    }


def get_event_sitrep_abilities(user: Any, event: Event) -> dict[str, bool]:
    """May the user compile the next SITREP of an event (seen through ``access_event_by_id``)?"""
    scope = scope_of(user)
    territory = emitting_territory(event)
    staff = bool(territory is not None and _staff_roles(scope, territory.path))
    return {"compile": event.is_open and staff}


# --- The zone ---------------------------------------------------------------------------------


def zones_of(user: Any) -> list[Territory]:
    """The zones whose overview the user may open (zone officers: their zone; national: all)."""
    scope = scope_of(user)
    zones = Territory.objects.filter(kind=TerritoryKind.ZONE).defer("boundary").order_by("path")
    if NATIONAL_PATH in scope.paths and Role.NATIONAL_OFFICER in scope.roles:
        return list(zones)
    if Role.ZONE_OFFICER not in scope.roles:
        return []
    return list(zones.filter(path__in=scope.paths))


def access_zone_by_id(user: Any, territory_id: int) -> Territory:
    """A zone whose SITREP overview the user may open; 404 otherwise."""
    for zone in zones_of(user):
        if zone.pk == territory_id:
            return zone
    raise Http404


def get_zone_abilities(user: Any, zone: Territory) -> dict[str, bool]:
    scope = scope_of(user)
    return {"view": True, "compile": bool(_staff_roles(scope, zone.path))}


def zone_departement_sitreps_for(user: Any, zone: Territory) -> list[Sitrep]:
    """The frozen SITREPs of the départements of ``zone`` the user may see, newest first."""
    scope = scope_of(user)
    rows = (
        Sitrep.objects.filter(
            emitting_path__startswith=zone.path + "/",
            state=SitrepState.FROZEN,
            event__isnull=False,
        )
        .select_related("event", "event__territory", "pdf")
        .defer("event__territory__boundary")
        .order_by("-frozen_at", "-id")
    )
    return [s for s in rows if can_view_sitrep(scope, s)]


def zone_syntheses_for(user: Any, zone: Territory) -> list[Sitrep]:
    scope = scope_of(user)
    rows = Sitrep.objects.filter(event__isnull=True, emitting_path=zone.path).order_by("-number")
    return [s for s in rows.select_related("pdf") if can_view_sitrep(scope, s)]
