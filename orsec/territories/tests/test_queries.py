"""Queries on the real reference territories: hierarchy and point look-ups."""

from __future__ import annotations

import pytest

from orsec.territories.models import Territory, TerritoryKind
from orsec.territories.queries import (
    clear_geometry_cache,
    commune_containing,
    departement_containing,
    get_territory,
    territories_under,
    zone_of,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("reference_territories")]

# (longitude, latitude)
TOURS_TOWN_HALL = (0.6848, 47.3941)
POINTE_A_PITRE = (-61.5331, 16.2411)
CORTE = (9.1500, 42.3064)
AJACCIO_TOWN_HALL = (8.7386, 41.9192)
BAY_OF_BISCAY = (-3.0, 45.5)
GENEVA = (6.1432, 46.2044)
MARSEILLE_15E = (5.3600, 43.3600)


def _territory(kind: TerritoryKind | str, code: str) -> Territory:
    found = get_territory(kind, code)
    assert found is not None, (kind, code)
    return found


def test_get_territory() -> None:
    assert _territory(TerritoryKind.DEPARTEMENT, "37").name == "Indre-et-Loire"
    assert _territory("departement", "2a").code == "2A"
    assert _territory("departement", "1").name == "Ain"
    assert _territory("zone", "sud-est").name == "Sud-Est"
    assert get_territory(TerritoryKind.DEPARTEMENT, "20") is None  # no such code since 1976
    assert get_territory(TerritoryKind.COMMUNE, "37") is None
    with pytest.raises(ValueError):  # noqa: PT011
        get_territory("canton", "01")


def test_zone_of() -> None:
    assert _zone_code(_territory(TerritoryKind.DEPARTEMENT, "37")) == "OUEST"
    assert _zone_code(_territory(TerritoryKind.DEPARTEMENT, "13")) == "SUD"
    assert _zone_code(_territory(TerritoryKind.DEPARTEMENT, "69")) == "SUD-EST"
    assert _zone_code(_territory(TerritoryKind.DEPARTEMENT, "2B")) == "SUD"
    assert _zone_code(_territory(TerritoryKind.DEPARTEMENT, "976")) == "SUD-OCEAN-INDIEN"
    assert _zone_code(_territory(TerritoryKind.COMMUNE, "37261")) == "OUEST"
    assert _zone_code(_territory(TerritoryKind.COLLECTIVITE, "978")) == "ANTILLES"
    assert zone_of(_territory(TerritoryKind.COLLECTIVITE, "975")) is None
    assert zone_of(_territory(TerritoryKind.NATIONAL, "FR")) is None
    ouest = _territory(TerritoryKind.ZONE, "OUEST")
    assert zone_of(ouest) == ouest


def _zone_code(territory: Territory) -> str | None:
    zone = zone_of(territory)
    return None if zone is None else zone.code


def test_territories_under_zone() -> None:
    ouest = _territory(TerritoryKind.ZONE, "OUEST")
    departements = set(
        territories_under(ouest, [TerritoryKind.DEPARTEMENT]).values_list("code", flat=True)
    )
    assert len(departements) == 20
    assert {"37", "45", "35", "76", "85"} <= departements
    assert "13" not in departements
    everything = territories_under(ouest)
    assert everything.filter(kind=TerritoryKind.COMMUNE, code="37261").exists()
    assert not everything.filter(kind=TerritoryKind.COMMUNE, code="13055").exists()
    assert not everything.filter(pk=ouest.pk).exists()  # the territory itself is excluded...
    assert territories_under(ouest, include_self=True).filter(pk=ouest.pk).exists()  # ...or not
    regions = territories_under(ouest, ["region"]).values_list("code", flat=True)
    assert list(regions) == ["24", "28", "52", "53"]  # ordered by path


def test_territories_under_does_not_match_sibling_prefixes() -> None:
    # "FR/SUD" is a prefix of "FR/SUD-EST/...", "FR/SUD-OUEST/..." and "FR/SUD-OCEAN-INDIEN/...".
    sud = _territory(TerritoryKind.ZONE, "SUD")
    departements = set(
        territories_under(sud, [TerritoryKind.DEPARTEMENT]).values_list("code", flat=True)
    )
    assert len(departements) == 21
    assert {"13", "2A", "2B", "31", "34"} <= departements
    assert not departements & {"69", "33", "974"}


def test_territories_under_commune_gives_its_arrondissements() -> None:
    marseille = _territory(TerritoryKind.COMMUNE, "13055")
    assert territories_under(marseille).count() == 16
    assert territories_under(_territory(TerritoryKind.COMMUNE, "37261")).count() == 0
    communes_37 = territories_under(_territory(TerritoryKind.DEPARTEMENT, "37"), ["commune"])
    assert communes_37.count() == 272


def test_departement_containing_tours() -> None:
    found = departement_containing(*TOURS_TOWN_HALL)
    assert found is not None
    assert (found.kind, found.code, found.name) == ("departement", "37", "Indre-et-Loire")


def test_commune_containing_tours() -> None:
    found = commune_containing(*TOURS_TOWN_HALL)
    assert found is not None
    assert (found.kind, found.code, found.name) == ("commune", "37261", "Tours")


def test_point_in_the_sea_or_abroad() -> None:
    assert departement_containing(*BAY_OF_BISCAY) is None
    assert commune_containing(*BAY_OF_BISCAY) is None
    assert departement_containing(*GENEVA) is None


def test_corsica() -> None:
    corte = departement_containing(*CORTE)
    assert corte is not None
    assert corte.code == "2B"
    # Ajaccio's town hall is on the shore, ~60 m outside the simplified outline of Corse-du-Sud:
    # found with the default tolerance, not with the strict test.
    ajaccio = departement_containing(*AJACCIO_TOWN_HALL)
    assert ajaccio is not None
    assert ajaccio.code == "2A"
    assert departement_containing(*AJACCIO_TOWN_HALL, tolerance_m=0) is None
    commune = commune_containing(*AJACCIO_TOWN_HALL)
    assert commune is not None
    assert commune.code == "2A004"


def test_pointe_a_pitre() -> None:
    departement = departement_containing(*POINTE_A_PITRE)
    assert departement is not None
    assert departement.code == "971"
    commune = commune_containing(*POINTE_A_PITRE)
    assert commune is not None
    assert (commune.code, commune.name) == ("97120", "Pointe-à-Pitre")


def test_commune_containing_in_a_city_with_arrondissements() -> None:
    commune = commune_containing(*MARSEILLE_15E)
    assert commune is not None
    assert commune.code == "13055"
    arrondissement = commune_containing(*MARSEILLE_15E, arrondissement=True)
    assert arrondissement is not None
    assert (arrondissement.kind, arrondissement.code) == ("arrondissement", "13215")


def test_point_lookups_survive_a_cold_cache() -> None:
    clear_geometry_cache()
    first = departement_containing(*TOURS_TOWN_HALL)
    second = departement_containing(*TOURS_TOWN_HALL)  # from the cache
    assert first == second
    assert first is not None
    assert first.code == "37"


def test_invalid_coordinates() -> None:
    with pytest.raises(ValueError):  # noqa: PT011
        departement_containing(float("nan"), 45.0)
    with pytest.raises(ValueError):  # noqa: PT011
        departement_containing(47.39, 0.68 + 200)  # swapped or out of range
