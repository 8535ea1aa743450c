"""Who may see which organisations of the directory (one place; ``docs/access.md``).

A user sees the organisations attached to a territory inside their scope, plus those attached to
the territories *above* theirs (the chain they report to: département, zone, national), so that a
mayor can reach the préfecture and a COD its COZ. Organisations of sibling territories (another
département, another commune) are invisible and answer 404 like absent ones.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from django.http import Http404

from orsec.accounts.access import scope_of
from orsec.audit.actions import record_access_denied
from orsec.directory.models import Organisation


def organisations_visible_to(user: Any) -> QuerySet[Organisation]:
    scope = scope_of(user)
    if scope.is_empty:
        return Organisation.objects.none()
    condition = scope.q("territory__path")  # own territories and below
    if scope.ancestor_paths:
        condition |= Q(territory__path__in=sorted(scope.ancestor_paths))  # the chain above
    return (
        Organisation.objects.filter(condition, is_active=True)
        .select_related("territory")
        .defer("territory__boundary")  # kilobytes of GeoJSON that no directory page shows
    )


def organisations_administered_by(user: Any) -> QuerySet[Organisation]:
    """What a verified staff member may change: their scope only, never the chain above it."""
    if not (user.is_authenticated and user.is_staff and user.is_verified()):
        return Organisation.objects.none()
    if user.is_superuser:
        return Organisation.objects.select_related("territory").defer("territory__boundary")
    return (
        Organisation.objects.filter(scope_of(user).q("territory__path"))
        .select_related("territory")
        .defer("territory__boundary")
    )


def access_organisation_by_id(
    user: Any, organisation_id: int, *, related: tuple[Any, ...] = ()
) -> Organisation:
    """The organisation if the user may see it; Http404 when absent *or* forbidden.

    ``related`` are ``prefetch_related`` lookups to load with it (one fetch, not two).
    """
    queryset = organisations_visible_to(user).filter(pk=organisation_id)
    if related:
        queryset = queryset.prefetch_related(*related)
    organisation = queryset.first()
    if organisation is None:
        if Organisation.objects.filter(pk=organisation_id).exists():  # forbidden, not absent
            record_access_denied(user, Organisation, organisation_id)
        raise Http404
    return organisation


def get_organisation_abilities(user: Any, organisation: Organisation) -> dict[str, bool]:
    scope = scope_of(user)
    in_scope = scope.covers(organisation.territory.path)  # not merely an ancestor's
    return {
        "view": True,  # only called on an organisation obtained through access_*
        "view_contacts": not scope.is_empty,
        "change": bool(user.is_staff and user.is_verified() and in_scope)
        or bool(user.is_superuser and user.is_verified()),
    }
