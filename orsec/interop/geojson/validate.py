"""Two-step validation of GeoJSON (RFC 7946): the published JSON Schema, then the RFC's rules.

Step 0 is :func:`orsec.interop.secure.parse_json` (size and depth limits, UTF-8 only, duplicate
keys and NaN/Infinity refused). Step 1 is ``schemas/geojson/GeoJSON.json`` (draft-07, the schema
published at geojson.org), loaded locally, never fetched. Step 2, only when step 1 passes, the
rules of RFC 7946 the schema does not enforce. Stable codes:

============================  ===============================================================
``geojson_schema``            does not conform to the published GeoJSON schema
``geojson_type_unknown``      an object whose ``type`` is absent or not one of the nine types
``geojson_crs_forbidden``     a ``crs`` member (removed by RFC 7946 §4: WGS84 only)
``geojson_position_size``     a position with other than 2 or 3 numbers (§3.1.1)
``geojson_longitude_range``   longitude outside [-180, 180] (§4)
``geojson_latitude_range``    latitude outside [-90, 90] (§4)
``geojson_ring_too_short``    a linear ring with fewer than 4 positions (§3.1.6)
``geojson_ring_not_closed``   a linear ring whose first and last positions differ (§3.1.6)
``geojson_bbox_length``       a bbox whose length is not 4 or 6 (§5)
``geojson_bbox_inconsistent`` a bbox with south > north, minimum elevation > maximum, or a
                              position of its object outside it (§5, §5.2 antimeridian kept)
============================  ===============================================================

Ring orientation (exterior counter-clockwise, holes clockwise, §3.1.6) is a SHOULD that parsers
"SHOULD NOT" reject: it is not reported.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from functools import lru_cache
from typing import Any

from django.utils.translation import gettext as _
from jsonschema import Draft7Validator
from jsonschema.exceptions import best_match
from referencing import Registry, Resource
from referencing.exceptions import NoSuchResource

from ..errors import InteropError, ValidationError, Verdict
from ..secure import parse_json
from ..xmlpaths import SCHEMAS_DIR

STANDARD = "geojson"
GEOMETRY_TYPES = frozenset(
    {
        "Point",
        "MultiPoint",
        "LineString",
        "MultiLineString",
        "Polygon",
        "MultiPolygon",
        "GeometryCollection",
    }
)
GEOJSON_TYPES = GEOMETRY_TYPES | {"Feature", "FeatureCollection"}
_MAX_ERRORS = 50
_SCHEMA_FILE = SCHEMAS_DIR / "geojson" / "GeoJSON.json"


def _refuse_retrieval(uri: str) -> Any:
    """No ``$ref`` is ever fetched: only the local schema is in the registry."""
    raise NoSuchResource(ref=uri)  # type: ignore[call-arg]


@lru_cache(maxsize=1)
def _validator() -> Draft7Validator:
    schema = json.loads(_SCHEMA_FILE.read_text(encoding="utf-8"))
    resource = Resource.from_contents(schema)
    registry: Registry[Any] = Registry(retrieve=_refuse_retrieval).with_resource(  # type: ignore[call-arg]
        schema["$id"], resource
    )
    return Draft7Validator(schema, registry=registry)


def looks_like_geojson(document: Any) -> bool:
    """A JSON object whose ``type`` is one of the nine GeoJSON types (auto-detection)."""
    if not isinstance(document, dict):
        return False
    kind = document.get("type")
    return isinstance(kind, str) and kind in GEOJSON_TYPES


def validate_geojson(data: bytes) -> Verdict:
    """Parse securely and validate a GeoJSON document; never raises for bad input."""
    try:
        document = parse_json(data)
    except InteropError as exc:
        return Verdict(standard=STANDARD, verdict=exc.verdict, errors=[exc.as_error()])
    return validate_geojson_document(document)


def validate_geojson_document(document: Any) -> Verdict:
    """Step 1: the published schema. Step 2 (only when step 1 passes): the RFC 7946 rules."""
    errors = schema_errors(document)
    if not errors:
        errors = semantic_errors(document)
    return Verdict(standard=STANDARD, verdict="invalid" if errors else "valid", errors=errors)


def pointer(parts: Any) -> str:
    """A JSON pointer (RFC 6901) from path parts; ``/`` for the document itself."""
    escaped = [str(part).replace("~", "~0").replace("/", "~1") for part in parts]
    return "/" + "/".join(escaped) if escaped else "/"


def _branch_errors(error: Any) -> list[Any] | None:
    """For a ``oneOf`` failure on an object with a known ``type``: the errors of that branch."""
    instance = error.instance
    if not isinstance(instance, dict) or not isinstance(instance.get("type"), str):
        return None
    for index, branch in enumerate(error.validator_value):
        enum = branch.get("properties", {}).get("type", {}).get("enum", [])
        if isinstance(branch, dict) and instance["type"] in enum:
            return [e for e in error.context if e.relative_schema_path[0] == index]
    return None


def _leaf_errors(error: Any) -> Iterator[Any]:
    """The precise errors under ``error``, following the branch chosen by each ``type``."""
    if error.validator == "oneOf" and error.context:
        branch = _branch_errors(error)
        if branch:
            for sub in branch:
                yield from _leaf_errors(sub)
            return
        if branch is None and isinstance(error.instance, dict):
            yield error  # no or unknown "type": reported as such below
            return
        detail = best_match(error.context)
        if detail is not None:
            yield from _leaf_errors(detail)
            return
    yield error


def _is_type_error(error: Any) -> bool:
    return error.validator == "oneOf" and isinstance(error.instance, dict)


def _code(error: Any) -> str:
    return "geojson_type_unknown" if _is_type_error(error) else "geojson_schema"


def _message(error: Any) -> str:
    if _is_type_error(error):
        return _("Membre « type » absent ou inconnu : un objet GeoJSON est de type %(types)s.") % {
            "types": ", ".join(sorted(GEOJSON_TYPES))
        }
    return _("Non conforme au schéma GeoJSON publié : %(detail)s") % {"detail": error.message[:300]}


def schema_errors(document: Any) -> list[ValidationError]:
    errors: list[ValidationError] = []
    for error in _validator().iter_errors(document):
        for leaf in _leaf_errors(error):
            errors.append(
                ValidationError(
                    path=pointer(leaf.absolute_path), code=_code(leaf), message=_message(leaf)
                )
            )
            if len(errors) >= _MAX_ERRORS:
                return errors
    return errors


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


_DEPTHS = {
    "Point": 0,
    "MultiPoint": 1,
    "LineString": 1,
    "MultiLineString": 2,
    "Polygon": 2,
    "MultiPolygon": 3,
}


class _Checker:
    def __init__(self) -> None:
        self.errors: list[ValidationError] = []

    def add(self, parts: list[Any], code: str, message: str) -> None:
        if len(self.errors) < _MAX_ERRORS:
            self.errors.append(ValidationError(path=pointer(parts), code=code, message=message))

    # --- objects ---------------------------------------------------------------------------

    def check_object(self, obj: Any, parts: list[Any]) -> list[list[float]]:
        """Check one GeoJSON object; return its positions (for the enclosing bbox check)."""
        if not isinstance(obj, dict):
            return []
        if "crs" in obj:
            self.add(
                [*parts, "crs"],
                "geojson_crs_forbidden",
                _("Le membre « crs » n'est pas admis (RFC 7946 : coordonnées WGS84 uniquement)."),
            )
        kind = obj.get("type")
        if not isinstance(kind, str):
            kind = ""
        positions: list[list[float]] = []
        if kind == "FeatureCollection":
            for index, feature in enumerate(obj.get("features") or []):
                positions += self.check_object(feature, [*parts, "features", index])
        elif kind == "Feature":
            if obj.get("geometry") is not None:
                positions += self.check_object(obj["geometry"], [*parts, "geometry"])
        elif kind == "GeometryCollection":
            for index, geometry in enumerate(obj.get("geometries") or []):
                positions += self.check_object(geometry, [*parts, "geometries", index])
        elif kind in _DEPTHS:
            positions += self.check_coordinates(kind, obj.get("coordinates"), parts)
        if "bbox" in obj:
            self.check_bbox(obj["bbox"], positions, [*parts, "bbox"])
        return positions

    # --- coordinates -----------------------------------------------------------------------

    def check_position(self, position: Any, parts: list[Any]) -> list[float] | None:
        if not isinstance(position, list) or not all(_is_number(v) for v in position):
            return None  # the schema already reported it
        if len(position) not in (2, 3):
            self.add(
                parts,
                "geojson_position_size",
                _("Une position a 2 ou 3 nombres (longitude, latitude[, altitude]), pas %(n)s.")
                % {"n": len(position)},
            )
            return None
        lon, lat = position[0], position[1]
        valid = True
        if not (math.isfinite(lon) and -180 <= lon <= 180):
            self.add(
                [*parts, 0],
                "geojson_longitude_range",
                _("Longitude hors du domaine WGS84 (de -180 à 180) : %(value)s.")
                % {"value": str(lon)[:40]},
            )
            valid = False
        if not (math.isfinite(lat) and -90 <= lat <= 90):
            self.add(
                [*parts, 1],
                "geojson_latitude_range",
                _("Latitude hors du domaine WGS84 (de -90 à 90) : %(value)s.")
                % {"value": str(lat)[:40]},
            )
            valid = False
        return [float(v) for v in position] if valid else None

    def check_ring(self, ring: Any, parts: list[Any]) -> None:
        if not isinstance(ring, list):
            return
        if len(ring) < 4:
            self.add(
                parts,
                "geojson_ring_too_short",
                _("Un anneau de polygone a au moins 4 positions (%(n)s ici).") % {"n": len(ring)},
            )
        elif ring[0] != ring[-1]:
            self.add(
                parts,
                "geojson_ring_not_closed",
                _("Anneau de polygone non fermé : la première et la dernière position diffèrent."),
            )

    def check_coordinates(self, kind: str, coordinates: Any, parts: list[Any]) -> list[list[float]]:
        base = [*parts, "coordinates"]
        if kind == "Polygon" and isinstance(coordinates, list):
            for index, ring in enumerate(coordinates):
                self.check_ring(ring, [*base, index])
        elif kind == "MultiPolygon" and isinstance(coordinates, list):
            for p_index, polygon in enumerate(coordinates):
                if isinstance(polygon, list):
                    for r_index, ring in enumerate(polygon):
                        self.check_ring(ring, [*base, p_index, r_index])
        positions = []
        for position_parts, position in _indexed_positions(coordinates, _DEPTHS[kind], base):
            checked = self.check_position(position, position_parts)
            if checked is not None:
                positions.append(checked)
        return positions

    # --- bbox ------------------------------------------------------------------------------

    def check_bbox(self, bbox: Any, positions: list[list[float]], parts: list[Any]) -> None:
        if not isinstance(bbox, list) or not all(_is_number(v) for v in bbox):
            return
        if len(bbox) not in (4, 6):
            self.add(
                parts,
                "geojson_bbox_length",
                _("Une bbox a 4 nombres (2D) ou 6 (3D), pas %(n)s.") % {"n": len(bbox)},
            )
            return
        dims = len(bbox) // 2
        west, south = bbox[0], bbox[1]
        east, north = bbox[dims], bbox[dims + 1]
        inconsistent = _(
            "Bbox incohérente (RFC 7946 §5) : ordre sud-ouest puis nord-est, et tout l'objet "
            "à l'intérieur."
        )
        if south > north or (dims == 3 and bbox[2] > bbox[5]):
            self.add(parts, "geojson_bbox_inconsistent", inconsistent)
            return
        epsilon = 1e-9
        for position in positions:
            lon, lat = position[0], position[1]
            if west <= east:
                lon_in = west - epsilon <= lon <= east + epsilon
            else:  # crosses the antimeridian (§5.2)
                lon_in = lon >= west - epsilon or lon <= east + epsilon
            lat_in = south - epsilon <= lat <= north + epsilon
            alt_in = True
            if dims == 3 and len(position) == 3:
                alt_in = bbox[2] - epsilon <= position[2] <= bbox[5] + epsilon
            if not (lon_in and lat_in and alt_in):
                self.add(parts, "geojson_bbox_inconsistent", inconsistent)
                return


def _indexed_positions(coordinates: Any, depth: int, parts: list[Any]) -> Iterator[Any]:
    if depth == 0:
        yield parts, coordinates
        return
    if isinstance(coordinates, list):
        for index, item in enumerate(coordinates):
            yield from _indexed_positions(item, depth - 1, [*parts, index])


def semantic_errors(document: Any) -> list[ValidationError]:
    """The RFC 7946 rules the schema does not enforce, each with its JSON pointer and code."""
    checker = _Checker()
    checker.check_object(document, [])
    return checker.errors
