"""Reading the bundled territorial files: CSV rows, GeoJSON outlines, derived fields.

Pure functions over ``orsec/territories/data/`` (no database): :func:`_read_dataset` checks the
files' consistency and returns everything :mod:`orsec.territories.loader` writes.
"""

from __future__ import annotations

import csv
import hashlib
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import shapely
from shapely.geometry import Point, mapping, shape
from shapely.geometry.base import BaseGeometry

from orsec.territories.queries import REFERENCE_DATASET

DATA_DIR = Path(__file__).resolve().parent / "data"

#: Files that make up the dataset, in digest order (paths relative to :data:`DATA_DIR`).
DATA_FILES: tuple[str, ...] = (
    "zones_defense.csv",
    "departements_zones_defense.csv",
    "source/insee-cog-2026/regions.csv",
    "departements.csv",
    "departements_nuts3_emma.csv",
    "communes.csv",
    "geo/departements-101-simplifie.geojson",
)

#: Bump when the way rows are derived from the files changes, so that existing databases reload.
LOADER_VERSION = "1"

DATASET_NAME = REFERENCE_DATASET
NATIONAL_CODE = "FR"
NATIONAL_NAME = "France"

#: Coordinates are stored with 5 decimals (about 1 m), on a 1e-5 degree grid.
COORD_DECIMALS = 5
GRID_SIZE = 10.0**-COORD_DECIMALS
#: Extra simplification of the dissolved zone/région outlines (degrees, about 100 m).
UNION_SIMPLIFY_TOLERANCE = 0.001


class TerritoryDataError(ValueError):
    """The bundled files are inconsistent (unknown code, missing geometry, ...)."""


def dataset_digest(data_dir: Path = DATA_DIR) -> str:
    """SHA-256 over :data:`LOADER_VERSION` and the name, size and bytes of every data file."""
    digest = hashlib.sha256(f"orsec-territories-loader:{LOADER_VERSION}\n".encode())
    for relative in DATA_FILES:
        content = (data_dir / relative).read_bytes()
        digest.update(f"{relative}\0{len(content)}\0".encode())
        digest.update(content)
    return digest.hexdigest()


def _read_csv(relative: str, data_dir: Path) -> list[dict[str, str]]:
    with (data_dir / relative).open(encoding="utf-8", newline="") as handle:
        return [
            {key: (value or "").strip() for key, value in row.items()}
            for row in csv.DictReader(handle)
        ]


def _index(rows: Iterable[dict[str, str]], key: str, what: str) -> dict[str, dict[str, str]]:
    result: dict[str, dict[str, str]] = {}
    for row in rows:
        code = row[key]
        if code in result:
            raise TerritoryDataError(f"{what}: code {code!r} en double")
        result[code] = row
    return result


# --- Geometry helpers -----------------------------------------------------------------------


def _round_coordinates(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        if value and isinstance(value[0], (int, float)):
            return [round(float(v), COORD_DECIMALS) for v in value]
        return [_round_coordinates(v) for v in value]
    return value


def _to_geojson(geometry: BaseGeometry) -> dict[str, Any]:
    """RFC 7946 geometry (exterior rings counter-clockwise), coordinates rounded to 5 decimals."""
    oriented = shapely.orient_polygons(geometry, exterior_cw=False)
    raw = mapping(oriented)
    return {"type": raw["type"], "coordinates": _round_coordinates(raw["coordinates"])}


def _label_point(geometry: BaseGeometry) -> Point:
    """The centroid when it lies inside the shape, else a point guaranteed to be inside it."""
    centroid = geometry.centroid
    if geometry.covers(centroid):
        return centroid
    return geometry.representative_point()


def _geometry_fields(geometry: BaseGeometry | None) -> dict[str, Any]:
    if geometry is None or geometry.is_empty:
        return {}
    min_lon, min_lat, max_lon, max_lat = geometry.bounds
    point = _label_point(geometry)
    return {
        "boundary": _to_geojson(geometry),
        "bbox_min_lon": round(min_lon, COORD_DECIMALS),
        "bbox_min_lat": round(min_lat, COORD_DECIMALS),
        "bbox_max_lon": round(max_lon, COORD_DECIMALS),
        "bbox_max_lat": round(max_lat, COORD_DECIMALS),
        "centroid_lon": round(point.x, COORD_DECIMALS),
        "centroid_lat": round(point.y, COORD_DECIMALS),
    }


def _dissolve(geometries: Sequence[BaseGeometry]) -> BaseGeometry | None:
    """Union of département outlines, simplified (~100 m) and snapped to the 1e-5 grid."""
    if not geometries:
        return None
    union = shapely.union_all(list(geometries), grid_size=GRID_SIZE)
    simplified = union.simplify(UNION_SIMPLIFY_TOLERANCE, preserve_topology=True)
    return shapely.set_precision(simplified, GRID_SIZE)


def _read_departement_geometries(data_dir: Path) -> dict[str, BaseGeometry]:
    with (data_dir / "geo/departements-101-simplifie.geojson").open(encoding="utf-8") as handle:
        collection = json.load(handle)
    geometries: dict[str, BaseGeometry] = {}
    for feature in collection["features"]:
        code = str(feature["properties"]["code"])
        geometry = shape(feature["geometry"])
        if not geometry.is_valid:
            geometry = shapely.make_valid(geometry)
        geometries[code] = shapely.set_precision(geometry, GRID_SIZE)
    return geometries


# --- Building the rows ----------------------------------------------------------------------


@dataclass
class _Dataset:
    """Everything read from the files, cross-checked, ready to be turned into rows."""

    zones: dict[str, dict[str, str]]
    regions: dict[str, dict[str, str]]
    departements: dict[str, dict[str, str]]
    collectivites: dict[str, dict[str, str]]
    nuts_emma: dict[str, dict[str, str]]
    communes: list[dict[str, str]]
    commune_names: dict[str, str]
    zone_of_departement: dict[str, str]
    zone_of_region: dict[str, str]
    geometries: dict[str, BaseGeometry]


def _read_dataset(data_dir: Path) -> _Dataset:
    zones = _index(_read_csv("zones_defense.csv", data_dir), "code_zone", "zones_defense.csv")
    regions = _index(_read_csv("source/insee-cog-2026/regions.csv", data_dir), "REG", "regions.csv")
    departements = _index(
        _read_csv("departements.csv", data_dir), "code_departement", "departements.csv"
    )
    nuts_emma = _index(
        _read_csv("departements_nuts3_emma.csv", data_dir),
        "code_departement",
        "departements_nuts3_emma.csv",
    )
    assignments = _index(
        _read_csv("departements_zones_defense.csv", data_dir),
        "code_territoire",
        "departements_zones_defense.csv",
    )
    communes = _read_csv("communes.csv", data_dir)
    commune_names = {row["code_insee"]: row["nom"] for row in communes}
    geometries = _read_departement_geometries(data_dir)

    zone_of_departement: dict[str, str] = {}
    zone_of_region: dict[str, str] = {}
    collectivites: dict[str, dict[str, str]] = {}
    for code, row in assignments.items():
        zone = row["code_zone"]
        if zone and zone not in zones:
            raise TerritoryDataError(f"{code} : zone inconnue {zone!r}")
        if row["type_territoire"] == "collectivite_outre_mer":
            collectivites[code] = row
            continue
        if row["type_territoire"] != "departement":
            raise TerritoryDataError(f"{code} : type inconnu {row['type_territoire']!r}")
        if code not in departements:
            raise TerritoryDataError(f"{code} : département absent de departements.csv")
        if not zone:
            raise TerritoryDataError(f"département {code} sans zone de défense")
        region = departements[code]["code_region"]
        if row["code_region"] != region:
            raise TerritoryDataError(f"{code} : région {row['code_region']} ≠ {region}")
        if zone_of_region.setdefault(region, zone) != zone:
            raise TerritoryDataError(f"région {region} répartie sur plusieurs zones")
        zone_of_departement[code] = zone

    for code, row in departements.items():
        if code not in zone_of_departement:
            raise TerritoryDataError(f"département {code} sans zone de défense")
        if row["code_region"] not in regions:
            raise TerritoryDataError(f"département {code} : région {row['code_region']} inconnue")
        if code not in geometries:
            raise TerritoryDataError(f"département {code} sans contour")
        if code not in nuts_emma:
            raise TerritoryDataError(f"département {code} sans code NUTS3")
        if row["chef_lieu_insee"] not in commune_names:
            raise TerritoryDataError(f"département {code} : chef-lieu inconnu")
    for code in regions:
        if code not in zone_of_region:
            raise TerritoryDataError(f"région {code} sans département")

    return _Dataset(
        zones=zones,
        regions=regions,
        departements=departements,
        collectivites=collectivites,
        nuts_emma=nuts_emma,
        communes=communes,
        commune_names=commune_names,
        zone_of_departement=zone_of_departement,
        zone_of_region=zone_of_region,
        geometries=geometries,
    )


def _optional_float(value: str) -> float | None:
    if not value:
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _commune_fields(row: Mapping[str, str]) -> dict[str, Any]:
    lat = _optional_float(row["latitude"])
    lon = _optional_float(row["longitude"])
    fields: dict[str, Any] = {
        "population": int(row["population_municipale"]) if row["population_municipale"] else None
    }
    if lat is not None and lon is not None:
        fields.update(
            centroid_lat=lat,
            centroid_lon=lon,
            bbox_min_lon=lon,
            bbox_min_lat=lat,
            bbox_max_lon=lon,
            bbox_max_lat=lat,
        )
    return fields
