"""Look-ups on the territorial hierarchy: descendants, zone, point-in-territory, by code.

Point look-ups use the stored bounding boxes as a database prefilter, then test the few candidate
boundaries with shapely. Parsed and prepared geometries are cached per process, keyed by territory
id and a version marker (digest and load time of the reference dataset, plus the row's bounding
box): a reload invalidates them, and the loader clears the cache of its own process.

Coordinates are WGS84 longitude/latitude in degrees, in that order (GeoJSON order).
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterable

import shapely
from django.db import connections
from django.db.models import Q, QuerySet
from shapely.geometry import Point, shape
from shapely.geometry.base import BaseGeometry

from orsec.territories.models import ReferenceDataset, Territory, TerritoryKind

#: ``ReferenceDataset.name`` of the bundled territories (see ``loader.py``).
REFERENCE_DATASET = "territories"

#: Default tolerance of the point look-ups: the stored outlines are strongly simplified (see
#: ``docs/territories.md``), so a coastal point (a harbour, a town hall on the shore) can fall a
#: few hundred metres outside its département's outline.
DEFAULT_TOLERANCE_M = 1000.0

EARTH_RADIUS_M = 6_371_008.8
METRES_PER_DEGREE = math.pi * EARTH_RADIUS_M / 180.0

#: Kinds that sit where a commune sits (a municipal arrondissement is inside its commune).
COMMUNE_KINDS = (TerritoryKind.COMMUNE.value, TerritoryKind.ARRONDISSEMENT.value)

#: Half-widths (degrees of latitude) of the successive search windows of ``commune_containing``.
_NEAREST_WINDOWS = (0.05, 0.2, 1.0)

_cache_lock = threading.Lock()
#: territory id → (version marker, prepared geometry).
_geometry_cache: dict[int, tuple[str, BaseGeometry]] = {}


def clear_geometry_cache() -> None:
    """Forget every cached geometry of this process (the loader calls it after writing)."""
    with _cache_lock:
        _geometry_cache.clear()


# --- Hierarchy ------------------------------------------------------------------------------


def territories_under(
    territory: Territory,
    kinds: Iterable[TerritoryKind | str] | None = None,
    *,
    include_self: bool = False,
) -> QuerySet[Territory]:
    """Every territory strictly below ``territory`` (optionally only the given ``kinds``).

    ``territory`` itself is **excluded** unless ``include_self=True`` (and, when ``kinds`` is
    given, its kind is among them). One query on the materialised ``path``: the rows whose path
    starts with ``territory.path + "/"``. Ordered by path (the model's default ordering).
    """
    prefix = f"{territory.path}/"
    condition = Q(path__startswith=prefix)
    queryset = Territory.objects.all()
    if connections[queryset.db].vendor == "sqlite":
        # SQLite cannot use an index for a case-sensitive LIKE; a range on the binary-collated
        # path can ("/" is followed by "0" in ASCII). Kept together with the LIKE, which stays
        # the definition. Not done on PostgreSQL: with a linguistic collation the range is not
        # equivalent to the prefix; there Django's varchar_pattern_ops index serves the LIKE.
        condition &= Q(path__gt=prefix, path__lt=f"{territory.path}0")
    if include_self:
        condition |= Q(pk=territory.pk)
    queryset = queryset.filter(condition)
    if kinds is not None:
        queryset = queryset.filter(kind__in=[TerritoryKind(kind).value for kind in kinds])
    return queryset


def zone_of(territory: Territory) -> Territory | None:
    """The zone de défense et de sécurité that ``territory`` belongs to.

    Meant for a département, but works for anything below a zone (région, commune, ...). A zone is
    its own zone. ``None`` for the national level and for the overseas collectivités that belong
    to no zone (Saint-Pierre-et-Miquelon, Clipperton).
    """
    if territory.kind == TerritoryKind.ZONE:
        return territory
    parts = territory.path.split("/")
    if len(parts) < 2:
        return None
    zone_path = "/".join(parts[:2])
    return Territory.objects.filter(kind=TerritoryKind.ZONE, path=zone_path).first()


def get_territory(kind: TerritoryKind | str, code: str) -> Territory | None:
    """The territory of that kind and code, or ``None``.

    The code is stripped and upper-cased (``2a`` → ``2A``, ``sud-est`` → ``SUD-EST``); a one-digit
    département code is zero-padded (``1`` → ``01``). Raises ``ValueError`` for an unknown kind.
    """
    kind = TerritoryKind(kind)
    code = code.strip().upper()
    if kind == TerritoryKind.DEPARTEMENT and len(code) == 1 and code.isdigit():
        code = code.zfill(2)
    return Territory.objects.filter(kind=kind.value, code=code).first()


# --- Point look-ups -------------------------------------------------------------------------


def _check_coordinates(lon: float, lat: float) -> None:
    if not (math.isfinite(lon) and math.isfinite(lat)):
        raise ValueError("coordonnées non finies")
    if not (-180.0 <= lon <= 180.0 and -90.0 <= lat <= 90.0):
        raise ValueError("coordonnées hors du domaine WGS84 (longitude, latitude)")


def _haversine_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi = phi2 - phi1
    dlambda = math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlambda / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def _lon_scale(lat: float) -> float:
    """Degrees of longitude per degree of latitude for the same ground distance (clamped)."""
    return 1.0 / max(math.cos(math.radians(lat)), 0.01)


def _dataset_marker() -> str:
    row = (
        ReferenceDataset.objects.filter(name=REFERENCE_DATASET)
        .values_list("digest", "loaded_at")
        .first()
    )
    return "" if row is None else f"{row[0]}@{row[1].isoformat()}"


def _prepared_geometry(territory: Territory, dataset_marker: str) -> BaseGeometry | None:
    """The territory's boundary as a prepared shapely geometry, cached per process."""
    marker = (
        f"{dataset_marker}|{territory.bbox_min_lon},{territory.bbox_min_lat},"
        f"{territory.bbox_max_lon},{territory.bbox_max_lat}"
    )
    with _cache_lock:
        cached = _geometry_cache.get(territory.pk)
    if cached is not None and cached[0] == marker:
        return cached[1]
    boundary = Territory.objects.filter(pk=territory.pk).values_list("boundary", flat=True).first()
    if not boundary:
        return None
    geometry = shape(boundary)
    shapely.prepare(geometry)
    with _cache_lock:
        _geometry_cache[territory.pk] = (marker, geometry)
    return geometry


def _containing(
    kind: TerritoryKind, lon: float, lat: float, tolerance_m: float
) -> Territory | None:
    _check_coordinates(lon, lat)
    tolerance_m = max(0.0, tolerance_m)
    dlat = tolerance_m / METRES_PER_DEGREE
    dlon = dlat * _lon_scale(lat)
    candidates = list(
        Territory.objects.filter(
            kind=kind.value,
            bbox_min_lon__lte=lon + dlon,
            bbox_max_lon__gte=lon - dlon,
            bbox_min_lat__lte=lat + dlat,
            bbox_max_lat__gte=lat - dlat,
        )
        .defer("boundary")
        .order_by("code")
    )
    if not candidates:
        return None
    marker = _dataset_marker()
    point = Point(lon, lat)
    nearest: tuple[float, Territory] | None = None
    for candidate in candidates:
        geometry = _prepared_geometry(candidate, marker)
        if geometry is None:
            continue
        # The lock also guards GEOS's lazily built indexes of the prepared geometry.
        with _cache_lock:
            if geometry.covers(point):
                return candidate
            if tolerance_m <= 0:
                continue
            line = shapely.shortest_line(geometry, point)
        (near_lon, near_lat), _ = line.coords
        distance = _haversine_m(lon, lat, near_lon, near_lat)
        if distance <= tolerance_m and (nearest is None or distance < nearest[0]):
            nearest = (distance, candidate)
    return None if nearest is None else nearest[1]


def departement_containing(
    lon: float, lat: float, *, tolerance_m: float = DEFAULT_TOLERANCE_M
) -> Territory | None:
    """The département whose outline covers the point (longitude, latitude), or ``None``.

    The bounding boxes stored in the database select the candidates; their outlines are then tested
    with shapely (``covers``: a point exactly on a shared border goes to the lowest code). Only
    the 101 départements have outlines: a point in an overseas collectivité, abroad or at sea
    gives ``None``.

    The outlines are simplified (IGN Admin Express 2018, 5 % of the vertices kept in metropolitan
    France): near a coast or a border the answer may be off by a few hundred metres. So when no
    outline covers the point, the nearest département whose outline is at most ``tolerance_m``
    metres away is returned (default 1 km; ``tolerance_m=0`` for the strict test).
    """
    return _containing(TerritoryKind.DEPARTEMENT, lon, lat, tolerance_m)


def commune_containing(
    lon: float,
    lat: float,
    *,
    tolerance_m: float = DEFAULT_TOLERANCE_M,
    arrondissement: bool = False,
) -> Territory | None:
    """An **approximation** of the commune that contains the point (longitude, latitude).

    The bundled data has no commune outlines, only one centre point per commune (La Poste 2020).
    So this returns the commune, inside the département found by :func:`departement_containing`,
    whose **centre point is nearest** to the given point. That is right for most points near a
    town centre, but can be wrong near a boundary between communes, especially when a large
    commune borders a small one: the nearest centre is then often the neighbour's. Use it to
    suggest a commune, never to decide which mayor is competent.

    The municipal arrondissements of Paris, Lyon and Marseille take part with their own points (the
    point of Paris, Lyon or Marseille is only the mean of theirs); when one of them is nearest,
    its commune is returned, or the arrondissement itself with ``arrondissement=True``.
    The 15 communes without a point are never returned. ``None`` when no département contains
    the point.
    """
    departement = departement_containing(lon, lat, tolerance_m=tolerance_m)
    if departement is None:
        return None
    scale = _lon_scale(lat)
    base = Territory.objects.filter(
        kind__in=COMMUNE_KINDS,
        path__startswith=f"{departement.path}/",
        centroid_lat__isnull=False,
        centroid_lon__isnull=False,
    )
    best: tuple[float, int, str, int | None] | None = None
    for window in (*_NEAREST_WINDOWS, None):
        queryset = base
        if window is not None:
            queryset = queryset.filter(
                bbox_min_lon__gte=lon - window * scale,
                bbox_min_lon__lte=lon + window * scale,
                centroid_lat__gte=lat - window,
                centroid_lat__lte=lat + window,
            )
        rows = queryset.order_by().values_list(
            "id", "kind", "parent_id", "centroid_lat", "centroid_lon"
        )
        best = None
        for pk, kind, parent_id, c_lat, c_lon in rows:
            if c_lat is None or c_lon is None:  # excluded by the query; for the type checker
                continue
            # Equirectangular distance in degrees of latitude (fine at commune scale).
            distance = math.hypot(c_lat - lat, (c_lon - lon) / scale)
            if best is None or distance < best[0]:
                best = (distance, pk, kind, parent_id)
        # Anything outside the window is farther than ``window``: the nearest found is exact.
        if best is not None and (window is None or best[0] <= window):
            break
    if best is None:
        return None
    _, found_pk, found_kind, found_parent = best
    if found_kind == TerritoryKind.ARRONDISSEMENT and not arrondissement and found_parent:
        found_pk = found_parent
    return Territory.objects.defer("boundary").get(pk=found_pk)
