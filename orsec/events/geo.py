"""An event's location: validate a GeoJSON geometry and derive bbox, département and communes."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _
from shapely.geometry import Point, shape
from shapely.prepared import prep

from orsec.territories.models import Territory, TerritoryKind
from orsec.territories.queries import commune_containing, departement_containing

MAX_POSITIONS = 5000
MAX_COMMUNES = 500


class LocationError(ValueError):
    """A geometry that cannot be used; the message is French and names the problem."""


@dataclass
class LocationFacts:
    geometry: dict[str, Any]
    bbox: tuple[float, float, float, float]
    departement: Territory | None
    communes: list[Territory] = field(default_factory=list)


def _position(value: Any, where: str) -> tuple[float, float]:
    if not isinstance(value, list | tuple) or len(value) not in (2, 3):
        raise LocationError(
            _("%(where)s : une position est [longitude, latitude].") % {"where": where}
        )
    lon, lat = value[0], value[1]
    if (
        isinstance(lon, bool)
        or isinstance(lat, bool)
        or not all(isinstance(v, int | float) for v in (lon, lat))
    ):
        raise LocationError(_("%(where)s : coordonnées non numériques.") % {"where": where})
    if not (math.isfinite(lon) and math.isfinite(lat) and -180 <= lon <= 180 and -90 <= lat <= 90):
        raise LocationError(
            _(
                "%(where)s : coordonnées hors du domaine WGS84 "
                "(longitude de -180 à 180, latitude de -90 à 90)."
            )
            % {"where": where}
        )
    return float(lon), float(lat)


def validate_geometry(geometry: Any) -> dict[str, Any]:
    """A Point or Polygon per RFC 7946 (closed rings of ≥ 4 positions, WGS84, no ``crs``)."""
    if not isinstance(geometry, dict):
        raise LocationError(_("La localisation doit être une géométrie GeoJSON."))
    if "crs" in geometry:
        raise LocationError(_("Le membre « crs » n'est pas admis (RFC 7946 : WGS84 seulement)."))
    kind = geometry.get("type")
    coordinates = geometry.get("coordinates")
    if kind == "Point":
        lon, lat = _position(coordinates, "Point")
        return {"type": "Point", "coordinates": [lon, lat]}
    if kind == "Polygon":
        if not isinstance(coordinates, list) or not coordinates:
            raise LocationError(_("Polygon : au moins un anneau est nécessaire."))
        rings = []
        total = 0
        for index, ring in enumerate(coordinates):
            where = _("Polygon, anneau %(n)s") % {"n": index + 1}
            if not isinstance(ring, list) or len(ring) < 4:
                raise LocationError(_("%(where)s : au moins 4 positions.") % {"where": where})
            total += len(ring)
            if total > MAX_POSITIONS:
                raise LocationError(
                    _("Polygon : plus de %(max)s positions.") % {"max": MAX_POSITIONS}
                )
            positions = [list(_position(p, where)) for p in ring]
            if positions[0] != positions[-1]:
                raise LocationError(
                    _("%(where)s : l'anneau doit être fermé (dernière position = première).")
                    % {"where": where}
                )
            rings.append(positions)
        polygon = shape({"type": "Polygon", "coordinates": rings})
        if not polygon.is_valid:
            raise LocationError(_("Polygon : le contour se recoupe (géométrie invalide)."))
        return {"type": "Polygon", "coordinates": rings}
    raise LocationError(_("Seules les géométries Point et Polygon sont acceptées."))


def analyse_location(geometry: Any) -> LocationFacts:
    """Validate, then compute the bounding box, the département and the communes concerned."""
    clean = validate_geometry(geometry)
    geom = shape(clean)
    min_lon, min_lat, max_lon, max_lat = geom.bounds
    if clean["type"] == "Point":
        lon, lat = clean["coordinates"]
        commune = commune_containing(lon, lat)
        return LocationFacts(
            clean,
            (min_lon, min_lat, max_lon, max_lat),
            departement_containing(lon, lat),
            [commune] if commune else [],
        )
    centre = geom.representative_point()
    departement = departement_containing(centre.x, centre.y)
    prepared = prep(geom)
    candidates = Territory.objects.filter(
        kind=TerritoryKind.COMMUNE,
        centroid_lon__gte=min_lon,
        centroid_lon__lte=max_lon,
        centroid_lat__gte=min_lat,
        centroid_lat__lte=max_lat,
    ).defer("boundary")
    communes = [
        c
        for c in candidates
        if c.centroid_lon is not None
        and c.centroid_lat is not None
        and prepared.covers(Point(c.centroid_lon, c.centroid_lat))
    ]
    if len(communes) > MAX_COMMUNES:
        communes = []  # a zone-wide polygon: the communes list would mean nothing
    if not communes:
        commune = commune_containing(centre.x, centre.y)
        communes = [commune] if commune else []
    return LocationFacts(clean, (min_lon, min_lat, max_lon, max_lat), departement, communes)
