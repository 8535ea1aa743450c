"""Who sees which territories: the one place where a user's territorial scope is computed.

Rules (``docs/access.md``):

* a user sees the territory of each organisation they belong to, and everything below it;
* a zone officer sees the whole zone of their organisation (its départements and communes);
* a national watch officer sees everything;
* a mayor sees their commune;
* an inactive user, or one without an active membership, sees nothing.

Other domains combine this scope with their own rules in their ``access.py`` and answer the same
404 for "absent" and "forbidden".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q

from orsec.accounts.models import QUALIFYING_ROLES, READ_ONLY_ROLES, Membership, Role
from orsec.territories.models import TerritoryKind, path_ancestors, path_covers, path_zone

NATIONAL_PATH = "FR"


@dataclass(frozen=True)
class Scope:
    """A user's territorial reach, computed once per request."""

    paths: tuple[str, ...] = ()
    ancestor_paths: frozenset[str] = field(default_factory=frozenset)
    roles: frozenset[str] = field(default_factory=frozenset)
    organisation_ids: frozenset[int] = field(default_factory=frozenset)

    @property
    def is_empty(self) -> bool:
        return not self.paths

    @property
    def is_read_only(self) -> bool:
        return not self.roles or self.roles <= READ_ONLY_ROLES

    def covers(self, path: str) -> bool:
        """True when the territory at ``path`` is inside the scope."""
        return any(path_covers(p, path) for p in self.paths)

    def q(self, lookup: str = "path") -> Q:
        """A filter on ``lookup`` (a territory path field) matching the scope; empty → nothing."""
        condition = Q(pk__in=[])
        for path in self.paths:
            condition |= Q(**{lookup: path}) | Q(**{f"{lookup}__startswith": path + "/"})
        return condition


EMPTY_SCOPE = Scope()


def _minimal(paths: set[str]) -> tuple[str, ...]:
    """Drop paths already covered by a shorter one."""
    kept: list[str] = []
    for path in sorted(paths, key=len):
        if not any(path_covers(k, path) for k in kept):
            kept.append(path)
    return tuple(sorted(kept))


def compute_scope(user: Any) -> Scope:
    if user is None or not user.is_authenticated or not user.is_active:
        return EMPTY_SCOPE
    memberships = Membership.objects.filter(
        user=user, is_active=True, organisation__is_active=True
    ).select_related("organisation__territory")
    # Only what the scope needs: not the territories' GeoJSON boundaries.
    memberships = memberships.only(
        "role", "organisation_id", "organisation__territory__path", "organisation__territory__kind"
    )
    paths: set[str] = set()
    roles: set[str] = set()
    organisations: set[int] = set()
    for membership in memberships:
        territory = membership.organisation.territory
        roles.add(membership.role)
        organisations.add(membership.organisation_id)
        if membership.role == Role.NATIONAL_OFFICER:
            paths.add(NATIONAL_PATH)  # national watch: everything
        elif membership.role == Role.ZONE_OFFICER and territory.kind != TerritoryKind.NATIONAL:
            paths.add(path_zone(territory.path))  # the zone of the officer's organisation
        else:
            paths.add(territory.path)  # own territory and everything below it
    minimal = _minimal(paths)
    ancestors = {a for p in minimal for a in path_ancestors(p)}
    return Scope(
        paths=minimal,
        ancestor_paths=frozenset(ancestors),
        roles=frozenset(roles),
        organisation_ids=frozenset(organisations),
    )


def scope_of(user: Any) -> Scope:
    """The user's scope, memoised on the user object for the request."""
    cached = getattr(user, "_orsec_scope", None)
    if cached is None:
        cached = compute_scope(user)
        if user is not None and getattr(user, "is_authenticated", False):
            user._orsec_scope = cached
    return cached


def get_account_abilities(user: Any) -> dict[str, bool]:
    """Abilities that do not depend on an object (navigation, home page)."""
    scope = scope_of(user)
    return {
        "write": not scope.is_empty and not scope.is_read_only,
        "administer": bool(user.is_authenticated and user.is_staff and user.is_active),
        "see_directory": not scope.is_empty,
        "qualify": not scope.is_read_only and bool(scope.roles & QUALIFYING_ROLES),
    }
