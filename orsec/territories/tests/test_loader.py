"""Loading the real bundled reference files (orsec/territories/data/)."""

from __future__ import annotations

import json
import time

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from orsec.territories.loader import (
    DATA_DIR,
    DATA_FILES,
    LoadResult,
    dataset_digest,
    load_reference_territories,
)
from orsec.territories.models import ReferenceDataset, Territory, TerritoryKind

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("reference_territories")]

WRITE_PREFIXES = ("INSERT", "UPDATE", "DELETE", "REPLACE")


def _count(kind: TerritoryKind) -> int:
    return Territory.objects.filter(kind=kind).count()


def _get(kind: TerritoryKind, code: str) -> Territory:
    return Territory.objects.get(kind=kind, code=code)


def _bbox(territory: Territory) -> tuple[float, float, float, float]:
    """(min_lon, min_lat, max_lon, max_lat), asserting that the box is set."""
    box = (
        territory.bbox_min_lon,
        territory.bbox_min_lat,
        territory.bbox_max_lon,
        territory.bbox_max_lat,
    )
    assert None not in box, territory
    return box  # type: ignore[return-value]


def test_data_files_are_bundled_with_a_licence_notice() -> None:
    for relative in DATA_FILES:
        assert (DATA_DIR / relative).is_file(), relative
    licence = (DATA_DIR / "LICENCE.md").read_text(encoding="utf-8")
    for expected in ("Licence Ouverte", "ODbL", "La Poste", "Eurostat", "IGN"):
        assert expected in licence


def test_counts_per_level(reference_territories: LoadResult) -> None:
    assert _count(TerritoryKind.NATIONAL) == 1
    assert _count(TerritoryKind.ZONE) == 12
    assert _count(TerritoryKind.REGION) == 18
    assert _count(TerritoryKind.DEPARTEMENT) == 101
    assert _count(TerritoryKind.COLLECTIVITE) == 8
    assert _count(TerritoryKind.COMMUNE) == 34_875
    assert _count(TerritoryKind.ARRONDISSEMENT) == 45
    assert _count(TerritoryKind.COMMUNE) + _count(TerritoryKind.ARRONDISSEMENT) == 34_920
    assert Territory.objects.count() == 35_060
    assert reference_territories.total == 35_060
    assert reference_territories.counts["commune"] == 34_875
    dataset = ReferenceDataset.objects.get(name="territories")
    assert dataset.digest == dataset_digest()
    assert dataset.rows == 35_060


def test_paths_follow_the_hierarchy() -> None:
    expected = {
        (TerritoryKind.NATIONAL, "FR"): "FR",
        (TerritoryKind.ZONE, "OUEST"): "FR/OUEST",
        (TerritoryKind.REGION, "24"): "FR/OUEST/R24",
        (TerritoryKind.DEPARTEMENT, "37"): "FR/OUEST/R24/D37",
        (TerritoryKind.COMMUNE, "37261"): "FR/OUEST/R24/D37/C37261",
        (TerritoryKind.ARRONDISSEMENT, "75101"): "FR/PARIS/R11/D75/C75056/C75101",
        (TerritoryKind.ARRONDISSEMENT, "13215"): "FR/SUD/R93/D13/C13055/C13215",
        (TerritoryKind.DEPARTEMENT, "2A"): "FR/SUD/R94/D2A",
        (TerritoryKind.DEPARTEMENT, "976"): "FR/SUD-OCEAN-INDIEN/R06/D976",
        (TerritoryKind.COMMUNE, "97120"): "FR/ANTILLES/R01/D971/C97120",
        (TerritoryKind.COLLECTIVITE, "977"): "FR/ANTILLES/D977",
        (TerritoryKind.COLLECTIVITE, "984"): "FR/SUD-OCEAN-INDIEN/D984",
        (TerritoryKind.COLLECTIVITE, "975"): "FR/D975",
        (TerritoryKind.COLLECTIVITE, "989"): "FR/D989",
    }
    for (kind, code), path in expected.items():
        assert _get(kind, code).path == path, (kind, code)


def test_parents_agree_with_paths() -> None:
    # Every non-national row's parent path is its own path minus the last segment.
    mismatches = [
        (path, parent_path)
        for path, parent_path in Territory.objects.exclude(kind=TerritoryKind.NATIONAL)
        .values_list("path", "parent__path")
        .iterator()
        if parent_path != path.rsplit("/", 1)[0]
    ]
    assert mismatches == []
    assert _get(TerritoryKind.NATIONAL, "FR").parent is None


def test_zones_are_made_of_whole_regions() -> None:
    for region in Territory.objects.filter(kind=TerritoryKind.REGION):
        zones = {
            path.split("/")[1]
            for path in Territory.objects.filter(
                kind=TerritoryKind.DEPARTEMENT, parent=region
            ).values_list("path", flat=True)
        }
        assert len(zones) == 1, region
    ouest = _get(TerritoryKind.ZONE, "OUEST")
    assert sorted(ouest.children.values_list("code", flat=True)) == ["24", "28", "52", "53"]
    assert ouest.name == "Ouest"
    assert ouest.seat == "Rennes"
    assert _get(TerritoryKind.ZONE, "SUD-OCEAN-INDIEN").name == "Sud de l'océan Indien"


def test_departement_fields() -> None:
    indre_et_loire = _get(TerritoryKind.DEPARTEMENT, "37")
    assert indre_et_loire.name == "Indre-et-Loire"
    assert indre_et_loire.nuts3 == "FR244"
    assert indre_et_loire.emma_id == "FR093"
    assert indre_et_loire.seat == "Tours"
    boundary = indre_et_loire.boundary
    assert boundary is not None
    assert boundary["type"] == "Polygon"
    # Bounding box and label point are inside metropolitan France, around Tours.
    min_lon, min_lat, max_lon, max_lat = _bbox(indre_et_loire)
    assert min_lon < 0.6848 < max_lon
    assert min_lat < 47.3941 < max_lat
    assert indre_et_loire.centroid_lat == pytest.approx(47.26, abs=0.15)
    assert indre_et_loire.centroid_lon == pytest.approx(0.69, abs=0.15)
    # Coordinates are rounded to 5 decimals.
    ring = boundary["coordinates"][0]
    assert len(ring) > 20
    assert all(round(value, 5) == value for point in ring for value in point)

    assert _get(TerritoryKind.DEPARTEMENT, "13").nuts3 == "FR824"
    assert _get(TerritoryKind.DEPARTEMENT, "92").emma_id == "FR067"  # Paris et petite couronne
    guadeloupe = _get(TerritoryKind.DEPARTEMENT, "971")
    assert (guadeloupe.nuts3, guadeloupe.emma_id, guadeloupe.seat) == ("FRA10", "", "Basse-Terre")
    assert guadeloupe.boundary is not None
    assert guadeloupe.boundary["type"] == "MultiPolygon"
    departements = Territory.objects.filter(kind=TerritoryKind.DEPARTEMENT)
    assert not departements.filter(boundary__isnull=True).exists()
    assert not departements.filter(nuts3="").exists()
    assert departements.exclude(emma_id="").count() == 96


def test_zone_region_and_national_geometry() -> None:
    for code in ("OUEST", "SUD", "ANTILLES"):
        zone = _get(TerritoryKind.ZONE, code)
        assert zone.boundary is not None
        assert zone.boundary["type"] in ("Polygon", "MultiPolygon")
    # A zone's box encloses the boxes of its départements.
    sud = _bbox(_get(TerritoryKind.ZONE, "SUD"))
    corse_du_sud = _bbox(_get(TerritoryKind.DEPARTEMENT, "2A"))
    assert sud[1] <= corse_du_sud[1]
    assert sud[2] >= corse_du_sud[2]
    # Zones without département (Pacific) have no outline.
    assert _get(TerritoryKind.ZONE, "POLYNESIE-FRANCAISE").boundary is None
    centre = _get(TerritoryKind.REGION, "24")
    assert centre.name == "Centre-Val de Loire"
    assert centre.seat == "Orléans"
    assert centre.boundary is not None
    national = _get(TerritoryKind.NATIONAL, "FR")
    assert national.name == "France"
    # From Guyane (west) to Mayotte / La Réunion (east, south) to the Nord (north).
    min_lon, min_lat, max_lon, max_lat = _bbox(national)
    assert min_lon < -54
    assert max_lon > 55
    assert min_lat < -21
    assert max_lat > 51


def test_commune_fields() -> None:
    tours = _get(TerritoryKind.COMMUNE, "37261")
    assert tours.name == "Tours"
    assert tours.population == 139_259
    assert (tours.centroid_lat, tours.centroid_lon) == (47.39864, 0.69653)
    assert (tours.bbox_min_lon, tours.bbox_min_lat) == (0.69653, 47.39864)
    assert (tours.bbox_max_lon, tours.bbox_max_lat) == (0.69653, 47.39864)
    assert tours.boundary is None
    assert tours.parent == _get(TerritoryKind.DEPARTEMENT, "37")
    paris = _get(TerritoryKind.COMMUNE, "75056")
    assert paris.population == 2_103_778
    assert paris.children.count() == 20
    # 15 communes have no point in the data: they stay without one.
    no_point = Territory.objects.filter(
        kind__in=[TerritoryKind.COMMUNE, TerritoryKind.ARRONDISSEMENT], centroid_lat__isnull=True
    )
    assert no_point.count() == 15
    bihorel = no_point.get(code="76095")
    assert bihorel.bbox_min_lon is None
    assert bihorel.population == 8316


def test_second_load_is_fast_and_writes_nothing() -> None:
    started = time.perf_counter()
    with CaptureQueriesContext(connection) as queries:
        result = load_reference_territories()
    elapsed = time.perf_counter() - started
    assert result.skipped
    assert result.written == 0
    assert result.total == 35_060
    assert elapsed < 1.0
    writes = [
        q["sql"]
        for q in queries.captured_queries
        if q["sql"].lstrip().upper().startswith(WRITE_PREFIXES)
    ]
    assert writes == []
    assert len(queries.captured_queries) <= 4


def test_forced_load_repairs_edited_rows_and_creates_no_duplicate() -> None:
    Territory.objects.filter(kind=TerritoryKind.DEPARTEMENT, code="37").update(name="Altéré")
    Territory.objects.filter(kind=TerritoryKind.COMMUNE, code="37261").update(population=1)
    result = load_reference_territories(force=True)
    assert not result.skipped
    assert result.created == 0
    assert result.written == 2
    assert result.stale == 0
    assert Territory.objects.count() == 35_060
    assert _get(TerritoryKind.DEPARTEMENT, "37").name == "Indre-et-Loire"
    assert _get(TerritoryKind.COMMUNE, "37261").population == 139_259


def test_changed_digest_reloads() -> None:
    ReferenceDataset.objects.filter(name="territories").update(digest="0" * 64)
    result = load_reference_territories()
    assert not result.skipped
    assert result.written == 0
    assert ReferenceDataset.objects.get(name="territories").digest == dataset_digest()


def test_missing_rows_are_recreated_even_with_the_same_digest() -> None:
    Territory.objects.filter(kind=TerritoryKind.ARRONDISSEMENT, code="75101").delete()
    result = load_reference_territories()
    assert not result.skipped
    assert result.created == 1
    assert _get(TerritoryKind.ARRONDISSEMENT, "75101").parent == _get(
        TerritoryKind.COMMUNE, "75056"
    )


def test_boundaries_are_valid_geojson() -> None:
    from shapely.geometry import shape

    for boundary in Territory.objects.exclude(boundary__isnull=True).values_list(
        "boundary", flat=True
    ):
        geometry = shape(boundary)
        assert geometry.is_valid
        assert not geometry.is_empty
        json.dumps(boundary)  # plain JSON types only


def test_management_command_in_french() -> None:
    from io import StringIO

    out = StringIO()
    call_command("load_territories", stdout=out)
    assert "déjà à jour, aucune écriture" in out.getvalue()
    assert "35\u202f060 territoires" in out.getvalue()


def test_forced_command_prints_counts_in_french() -> None:
    from io import StringIO

    out = StringIO()
    call_command("load_territories", "--force", stdout=out)
    text = out.getvalue()
    assert "35\u202f060 territoires vérifiés en " in text
    assert "aucune ligne réécrite" in text
    assert "12 zones de défense et de sécurité" in text
    assert "101 départements" in text
    assert "34\u202f875 communes, 45 arrondissements municipaux" in text
