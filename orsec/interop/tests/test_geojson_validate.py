"""GeoJSON (RFC 7946) validation: every fixture of geojson/schema, then each semantic rule."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from orsec.interop.geojson.validate import validate_geojson
from orsec.interop.validate import validate_message

FIXTURES = Path(__file__).parent / "fixtures" / "geojson"
VALID = sorted((FIXTURES / "valid").rglob("*.json"))
INVALID = sorted((FIXTURES / "invalid").rglob("*.json"))

#: first error (JSON pointer, code) expected for each invalid fixture of geojson/schema
EXPECTED_INVALID: dict[str, tuple[str, str]] = {
    "feature/1d-point.json": ("/geometry/coordinates", "geojson_schema"),
    "feature/boolean-id.json": ("/id", "geojson_schema"),
    "feature/no-geometry.json": ("/", "geojson_schema"),
    "feature/no-properties.json": ("/", "geojson_schema"),
    "feature/no-type.json": ("/", "geojson_type_unknown"),
    "featurecollection/no-features.json": ("/", "geojson_schema"),
    "featurecollection/no-type.json": ("/", "geojson_type_unknown"),
    "geometrycollection/1d.json": ("/geometries/1/coordinates/1", "geojson_schema"),
    "geometrycollection/bad-geometry.json": ("/geometries/1", "geojson_type_unknown"),
    "geometrycollection/no-geometries.json": ("/", "geojson_schema"),
    "geometrycollection/no-type.json": ("/", "geojson_type_unknown"),
    "linestring/1d.json": ("/coordinates/0", "geojson_schema"),
    "linestring/bad-bbox.json": ("/bbox", "geojson_schema"),
    "linestring/no-coordinates.json": ("/", "geojson_schema"),
    "linestring/no-type.json": ("/", "geojson_type_unknown"),
    "multilinestring/1d.json": ("/coordinates/1/1", "geojson_schema"),
    "multilinestring/bad-bbox.json": ("/bbox", "geojson_schema"),
    "multilinestring/no-coordinates.json": ("/", "geojson_schema"),
    "multilinestring/no-type.json": ("/", "geojson_type_unknown"),
    "multipoint/1d.json": ("/coordinates/1", "geojson_schema"),
    "multipoint/bad-bbox.json": ("/bbox", "geojson_schema"),
    "multipoint/no-coordinates.json": ("/", "geojson_schema"),
    "multipoint/no-type.json": ("/", "geojson_type_unknown"),
    "multipolygon/1d.json": ("/coordinates/1/1/4", "geojson_schema"),
    "multipolygon/bad-bbox.json": ("/bbox", "geojson_schema"),
    "multipolygon/no-coordinates.json": ("/", "geojson_schema"),
    "multipolygon/no-type.json": ("/", "geojson_type_unknown"),
    "point/bad-bbox.json": ("/bbox", "geojson_schema"),
    "point/no-coordinates.json": ("/", "geojson_schema"),
    "point/no-type.json": ("/", "geojson_type_unknown"),
    "polygon/1d.json": ("/coordinates/0/0", "geojson_schema"),
    "polygon/no-coordinates.json": ("/", "geojson_schema"),
    "polygon/no-type.json": ("/", "geojson_type_unknown"),
}


def _name(path: Path) -> str:
    return path.relative_to(path.parent.parent).as_posix()


def check(document: Any):
    return validate_geojson(json.dumps(document).encode())


def test_the_fixture_set_is_the_full_geojson_schema_suite():
    assert len(VALID) == 29
    assert len(INVALID) == 33
    assert sorted(EXPECTED_INVALID) == sorted(_name(path) for path in INVALID)


@pytest.mark.parametrize("path", VALID, ids=_name)
def test_every_valid_fixture_is_accepted(path):
    verdict = validate_geojson(path.read_bytes())
    assert verdict.verdict == "valid", verdict.as_dict()
    assert verdict.standard == "geojson"
    assert validate_message(path.read_bytes()).verdict == "valid"


@pytest.mark.parametrize("path", INVALID, ids=_name)
def test_every_invalid_fixture_is_rejected_with_its_path_and_code(path):
    verdict = validate_geojson(path.read_bytes())
    assert verdict.verdict == "invalid"
    first = verdict.errors[0]
    assert (first.path, first.code) == EXPECTED_INVALID[_name(path)]
    assert first.message  # French text, with the schema's detail


SQUARE = [[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0], [0.0, 0.0]]


def codes(verdict) -> list[tuple[str, str]]:
    return [(error.path, error.code) for error in verdict.errors]


def test_an_open_ring_is_rejected_with_its_pointer():
    ring = [[0, 0], [1, 0], [1, 1], [0, 1], [0.5, 0.5]]
    verdict = check(
        {
            "type": "FeatureCollection",
            "features": [
                {"type": "Feature", "properties": {}, "geometry": None},
                {
                    "type": "Feature",
                    "properties": {},
                    "geometry": {"type": "Polygon", "coordinates": [ring]},
                },
            ],
        }
    )
    assert codes(verdict) == [("/features/1/geometry/coordinates/0", "geojson_ring_not_closed")]
    assert "fermé" in verdict.errors[0].message


def test_a_multipolygon_hole_with_three_positions_is_rejected_by_the_schema_step():
    # the published schema wants 4 positions per ring: caught at step 1, with its pointer
    verdict = check({"type": "MultiPolygon", "coordinates": [[SQUARE, [[0, 0], [1, 1], [0, 0]]]]})
    assert codes(verdict) == [("/coordinates/0/1", "geojson_schema")]


def test_the_ring_rules_hold_on_their_own_without_the_schema():
    from orsec.interop.geojson.validate import semantic_errors

    short = {"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [0, 0]]]}
    assert [(e.path, e.code) for e in semantic_errors(short)] == [
        ("/coordinates/0", "geojson_ring_too_short")
    ]


def test_positions_of_four_numbers_are_rejected():
    verdict = check({"type": "Point", "coordinates": [1, 2, 3, 4]})
    assert codes(verdict) == [("/coordinates", "geojson_position_size")]


@pytest.mark.parametrize(
    ("position", "expected"),
    [
        ([180.5, 0], ("/coordinates/0", "geojson_longitude_range")),
        ([-181, 0], ("/coordinates/0", "geojson_longitude_range")),
        ([0, 90.1], ("/coordinates/1", "geojson_latitude_range")),
        ([0, -91], ("/coordinates/1", "geojson_latitude_range")),
    ],
)
def test_coordinates_outside_wgs84_are_rejected(position, expected):
    assert codes(check({"type": "Point", "coordinates": position})) == [expected]


def test_swapped_latitude_longitude_of_tours_is_caught_only_when_out_of_range():
    # [47.39, 0.69] is a valid (wrong) position: the validator cannot know; [0.69, 147.39] can
    assert check({"type": "Point", "coordinates": [47.39, 0.69]}).is_valid
    assert not check({"type": "Point", "coordinates": [0.69, 147.39]}).is_valid


def test_an_overflowing_number_is_out_of_range_not_a_crash():
    verdict = validate_geojson(b'{"type": "Point", "coordinates": [1e400, 0]}')
    assert codes(verdict) == [("/coordinates/0", "geojson_longitude_range")]


def test_a_crs_member_is_rejected_at_any_level():
    crs = {"type": "name", "properties": {"name": "EPSG:2154"}}
    verdict = check(
        {
            "type": "Feature",
            "properties": {},
            "geometry": {"type": "Point", "coordinates": [0.69, 47.39], "crs": crs},
        }
    )
    assert codes(verdict) == [("/geometry/crs", "geojson_crs_forbidden")]
    assert codes(check({"type": "FeatureCollection", "features": [], "crs": crs})) == [
        ("/crs", "geojson_crs_forbidden")
    ]


def test_a_crs_key_inside_properties_is_only_data():
    assert check({"type": "Feature", "properties": {"crs": "x"}, "geometry": None}).is_valid


def test_a_bbox_of_five_numbers_is_rejected():
    verdict = check({"type": "Point", "coordinates": [0, 0], "bbox": [0, 0, 0, 0, 0]})
    assert codes(verdict) == [("/bbox", "geojson_bbox_length")]


@pytest.mark.parametrize(
    "bbox",
    [
        [0, 1, 1, 0],  # south > north
        [2, 2, 3, 3],  # does not contain the square
        [0, 0, 5, 1, 1, 0],  # 3D with minimum elevation above the maximum
    ],
)
def test_an_inconsistent_bbox_is_rejected(bbox):
    verdict = check({"type": "Polygon", "coordinates": [SQUARE], "bbox": bbox})
    assert codes(verdict) == [("/bbox", "geojson_bbox_inconsistent")]


def test_a_bbox_across_the_antimeridian_is_accepted():
    line = {"type": "LineString", "coordinates": [[179, 0], [-179, 1]], "bbox": [178, 0, -178, 1]}
    assert check(line).is_valid


def test_a_clockwise_exterior_ring_is_accepted_rfc_should_not_reject():
    clockwise = list(reversed(SQUARE))
    assert check({"type": "Polygon", "coordinates": [clockwise]}).is_valid


def test_all_semantic_errors_are_reported_not_only_the_first():
    verdict = check(
        {
            "type": "MultiPoint",
            "coordinates": [[200, 0], [0, 100], [1, 2, 3, 4]],
            "crs": None,
        }
    )
    assert set(codes(verdict)) == {
        ("/crs", "geojson_crs_forbidden"),
        ("/coordinates/0/0", "geojson_longitude_range"),
        ("/coordinates/1/1", "geojson_latitude_range"),
        ("/coordinates/2", "geojson_position_size"),
    }


def test_pointer_escapes_slash_and_tilde_in_member_names():
    verdict = check({"type": "Feature", "properties": {}, "geometry": None, "id": {"a/b~": 1}})
    assert verdict.errors[0].path == "/id"
    from orsec.interop.geojson.validate import pointer

    assert pointer(["a/b~", 0]) == "/a~1b~0/0"


def test_duplicate_keys_are_invalid_and_deep_nesting_is_refused():
    duplicate = validate_geojson(b'{"type": "Point", "type": "Polygon", "coordinates": [0, 0]}')
    assert codes(duplicate) == [("/", "json_duplicate_key")]
    deep = validate_geojson(b'{"type": "Point", "coordinates": ' + b"[" * 100 + b"]" * 100 + b"}")
    assert deep.verdict == "refused"
    assert deep.errors[0].code == "json_too_deep"


def test_validate_message_detects_geojson_and_names_unknown_json():
    assert validate_message(b'  {"type": "Point", "coordinates": [0.69, 47.39]}').standard == (
        "geojson"
    )
    unknown = validate_message(b'{"type": "Alert"}')
    assert unknown.verdict == "invalid"
    assert codes(unknown) == [("/", "json_unknown_standard")]
    assert validate_message(b"[1, 2]").errors[0].code == "json_unknown_standard"
    assert validate_message(b'{"type": ').errors[0].code == "json_malformed"


def test_the_schema_registry_never_retrieves_a_remote_reference():
    from referencing.exceptions import NoSuchResource, Unresolvable

    from orsec.interop.geojson.validate import _validator

    resolver = _validator()._resolver
    with pytest.raises((NoSuchResource, Unresolvable)):
        resolver.lookup("http://127.0.0.1:9/evil.json")
    assert resolver.lookup("https://geojson.org/schema/GeoJSON.json").contents["title"] == (
        "GeoJSON"
    )


def test_a_type_that_is_not_a_string_is_an_unknown_type_not_a_crash():
    # found by the fuzzer: {"type": []} made the set membership test raise TypeError
    values: list[Any] = [[], {}, 1, None]
    for value in values:
        verdict = check({"type": value, "coordinates": [0, 0]})
        assert verdict.verdict == "invalid"
        assert verdict.errors[0].code == "geojson_type_unknown"
        assert validate_message(json.dumps({"type": value}).encode()).verdict == "invalid"
