"""Who sees which rosters, shifts, alert schemes and call lists (``docs/oncall.md``).

Personal data is minimal and shown only to those who need it:

* **the whole roster** (every shift, names and phones, CSV export) — the members of the
  roster's organisation (any writing role), and the COD / room lead / préfet's staff, zone and
  national officers whose territorial scope *covers* the organisation's territory (the zone's
  officers for the organisations of their zone);
* **the duty only** ("qui est d'astreinte ?": the duty's label, function and the phone of the
  current shift, *no name, no other shift*) — everyone else who sees the organisation in the
  directory: a mayor for the préfecture and the SDIS of their département, an observer, a
  liaison officer for the other services;
* other territories: nothing (the same 404 as an absent roster).

Alert schemes: seen by the COD roles, zone and national officers covering the scheme's
territory; changed by the room lead and the préfet's staff. Call lists follow the event:
visible to whoever sees the event (:func:`orsec.events.access.access_event_by_id`), ticked with
the event's ``write_journal`` ability, started with its ``qualify`` ability.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from django.http import Http404

from orsec.accounts.access import Scope, scope_of
from orsec.accounts.models import Role
from orsec.audit.actions import record_access_denied
from orsec.directory.access import organisations_visible_to
from orsec.directory.models import Organisation
from orsec.events.access import access_event_by_id, get_event_abilities
from orsec.events.models import Event
from orsec.oncall.models import AlertScheme, CallList, CallListItem, Roster, Shift
from orsec.territories.models import Territory

#: Roles that see whole rosters of the organisations their scope covers.
ROSTER_ROLES = frozenset(
    {
        Role.COD_OPERATOR,
        Role.ROOM_LEAD,
        Role.DIRECTOR_STAFF,
        Role.ZONE_OFFICER,
        Role.NATIONAL_OFFICER,
    }
)
#: Roles that change rosters of the organisations their scope covers (and their own's).
ROSTER_EDIT_ROLES = frozenset({Role.COD_OPERATOR, Role.ROOM_LEAD, Role.DIRECTOR_STAFF})
#: Roles that change alert schemes of their territory.
SCHEME_EDIT_ROLES = frozenset({Role.ROOM_LEAD, Role.DIRECTOR_STAFF})


def _own_member_organisations(user: Any) -> list[int]:
    """Organisations the user belongs to with a writing role (observers excluded)."""
    if not user.is_authenticated:
        return []
    return sorted(
        user.memberships.filter(is_active=True, organisation__is_active=True)
        .exclude(role=Role.OBSERVER)
        .values_list("organisation_id", flat=True)
    )


def _full_view_q(user: Any, scope: Scope, prefix: str = "organisation__") -> Q:
    condition = Q(pk__in=[])
    if scope.roles & ROSTER_ROLES:
        condition |= scope.q(f"{prefix}territory__path")  # the organisations the scope covers
    own = _own_member_organisations(user)
    if own:
        condition |= Q(**{f"{prefix}id__in": own})  # the user's own organisation
    return condition


def rosters_visible_to(user: Any) -> QuerySet[Roster]:
    """Rosters the user sees *in full* (names, phones, every shift)."""
    scope = scope_of(user)
    if scope.is_empty:
        return Roster.objects.none()
    condition = _full_view_q(user, scope)
    return Roster.objects.filter(condition, organisation__is_active=True).select_related(
        "organisation", "function"
    )


def duty_rosters_visible_to(user: Any) -> QuerySet[Roster]:
    """Rosters whose *duty* (label, function, current phone) the user sees: the active rosters
    of every organisation the directory shows them (their scope and the chain above it)."""
    scope = scope_of(user)
    if scope.is_empty:
        return Roster.objects.none()
    return Roster.objects.filter(
        organisation__in=organisations_visible_to(user), is_active=True
    ).select_related("organisation", "organisation__territory", "function")


def sees_full_roster(user: Any, roster: Roster) -> bool:
    return rosters_visible_to(user).filter(pk=roster.pk).exists()


def access_roster_by_id(user: Any, roster_id: int, *, for_update: bool = False) -> Roster:
    """A roster the user sees in full; Http404 when absent *or* forbidden (audited)."""
    queryset = rosters_visible_to(user)
    if for_update:
        queryset = queryset.select_for_update(of=("self",))
    roster = queryset.filter(pk=roster_id).first()
    if roster is None:
        if Roster.objects.filter(pk=roster_id).exists():
            record_access_denied(user, Roster, roster_id)
        raise Http404
    return roster


def access_shift_by_id(user: Any, shift_id: int) -> Shift:
    shift = (
        Shift.objects.filter(pk=shift_id, roster__in=rosters_visible_to(user))
        .select_related("roster", "roster__organisation")
        .first()
    )
    if shift is None:
        if Shift.objects.filter(pk=shift_id).exists():
            record_access_denied(user, Shift, shift_id)
        raise Http404
    return shift


def get_roster_abilities(user: Any, roster: Roster) -> dict[str, bool]:
    """Abilities on a roster obtained through :func:`access_roster_by_id`."""
    scope = scope_of(user)
    own = roster.organisation_id in _own_member_organisations(user)
    covers = scope.covers(roster.organisation.territory.path)
    edit = not scope.is_read_only and (own or (covers and bool(scope.roles & ROSTER_EDIT_ROLES)))
    return {"view": True, "change": edit, "export": True}


def rosters_editable_organisations(user: Any) -> QuerySet[Organisation]:
    """Organisations the user may create rosters for."""
    scope = scope_of(user)
    if scope.is_empty or scope.is_read_only:
        return Organisation.objects.none()
    condition = Q(id__in=_own_member_organisations(user))
    if scope.roles & ROSTER_EDIT_ROLES:
        condition |= scope.q("territory__path")
    return Organisation.objects.filter(condition, is_active=True).order_by("name")


# --- Alert schemes ---------------------------------------------------------------------------


def schemes_visible_to(user: Any) -> QuerySet[AlertScheme]:
    scope = scope_of(user)
    if scope.is_empty or not scope.roles & ROSTER_ROLES:
        return AlertScheme.objects.none()
    return AlertScheme.objects.filter(scope.q("territory__path")).select_related("territory")


def access_scheme_by_id(user: Any, scheme_id: int) -> AlertScheme:
    scheme = schemes_visible_to(user).filter(pk=scheme_id).first()
    if scheme is None:
        if AlertScheme.objects.filter(pk=scheme_id).exists():
            record_access_denied(user, AlertScheme, scheme_id)
        raise Http404
    return scheme


def scheme_territories_for(user: Any) -> QuerySet[Territory]:
    """Territories the user may create alert schemes on: their own (room lead, préfet's staff)."""
    scope = scope_of(user)
    if scope.is_empty or scope.is_read_only or not scope.roles & SCHEME_EDIT_ROLES:
        return Territory.objects.none()
    return Territory.objects.filter(path__in=scope.paths).defer("boundary").order_by("path")


def get_scheme_abilities(user: Any, scheme: AlertScheme) -> dict[str, bool]:
    scope = scope_of(user)
    return {
        "view": True,
        "change": not scope.is_read_only
        and bool(scope.roles & SCHEME_EDIT_ROLES)
        and scope.covers(scheme.territory.path),
    }


# --- Call lists ------------------------------------------------------------------------------


def call_lists_of_event(event: Event) -> QuerySet[CallList]:
    """The call lists of an event obtained through ``access_event_by_id``."""
    return CallList.objects.filter(event=event).prefetch_related("items", "items__ticked_by")


def access_call_item_by_id(user: Any, item_id: int) -> tuple[CallListItem, Event]:
    """The item and its event if the user sees the event; Http404 otherwise."""
    item = CallListItem.objects.select_related("call_list").filter(pk=item_id).first()
    if item is None:
        raise Http404
    event = access_event_by_id(user, item.call_list.event_id)  # audited when forbidden
    return item, event


def get_call_list_abilities(user: Any, event: Event) -> dict[str, bool]:
    abilities = get_event_abilities(user, event)
    return {
        "view": True,
        "tick": abilities["write_journal"],
        "start": abilities["qualify"],
    }
