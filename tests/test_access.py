"""The territorial scope of each persona (orsec/accounts/access.py), against the real hierarchy."""

from __future__ import annotations

import pytest

from orsec.accounts.access import compute_scope, get_account_abilities, scope_of
from orsec.territories.models import Territory

pytestmark = pytest.mark.django_db


def path(kind: str, code: str) -> str:
    return Territory.objects.get(kind=kind, code=code).path


def test_cod_operator_sees_own_departement_and_its_communes_only(personas) -> None:
    scope = scope_of(personas.operator37.user)
    assert scope.covers(path("departement", "37"))
    assert scope.covers(path("commune", "37261"))
    assert not scope.covers(path("departement", "45"))
    assert not scope.covers(path("zone", "OUEST"))
    assert not scope.covers(path("commune", "45234"))  # Orléans


def test_mayor_sees_only_the_commune(personas) -> None:
    scope = scope_of(personas.mayor_tours.user)
    assert scope.covers(path("commune", "37261"))
    assert not scope.covers(path("commune", "37003"))
    assert not scope.covers(path("departement", "37"))


def test_zone_officer_sees_every_departement_of_the_zone_and_nothing_outside(personas) -> None:
    scope = scope_of(personas.zone_ouest.user)
    zone = Territory.objects.get(kind="zone", code="OUEST")
    departements = Territory.objects.filter(kind="departement", path__startswith=zone.path + "/")
    assert departements.count() == 20
    assert all(scope.covers(d.path) for d in departements)
    assert not scope.covers(path("departement", "13"))
    assert not scope.covers(path("departement", "75"))


def test_national_officer_sees_overseas_too(personas) -> None:
    scope = scope_of(personas.national.user)
    for code in ("37", "13", "971", "976", "2A"):
        assert scope.covers(path("departement", code))


def test_observer_is_read_only(personas) -> None:
    observer = personas.observer37.user
    assert scope_of(observer).is_read_only
    assert get_account_abilities(observer)["write"] is False
    assert get_account_abilities(personas.operator37.user)["write"] is True


def test_inactive_user_or_membership_sees_nothing(personas) -> None:
    user = personas.operator37.user
    user.memberships.update(is_active=False)
    assert compute_scope(user).is_empty
    user.memberships.update(is_active=True)
    user.is_active = False
    assert compute_scope(user).is_empty


def test_queryset_filter_matches_covers(personas) -> None:
    scope = scope_of(personas.operator37.user)
    visible = Territory.objects.filter(scope.q("path"))
    assert visible.filter(kind="departement").count() == 1
    communes = Territory.objects.filter(kind="commune", code__startswith="37").count()
    assert visible.filter(kind="commune").count() == communes > 250
