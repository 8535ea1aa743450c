"""Property-based fuzzing of the GeoJSON validator: a Verdict, or an InteropError — nothing else."""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orsec.interop.errors import InteropError, Verdict
from orsec.interop.geojson.validate import (
    GEOJSON_TYPES,
    semantic_errors,
    validate_geojson,
    validate_geojson_document,
)
from orsec.interop.validate import validate_message

FIXTURES = Path(__file__).parent / "fixtures" / "geojson"
SAMPLES = [path.read_bytes() for path in sorted(FIXTURES.rglob("*.json"))]
FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=10),
)
json_values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=5)
        | st.dictionaries(
            st.sampled_from(
                [
                    "type",
                    "coordinates",
                    "geometry",
                    "geometries",
                    "features",
                    "bbox",
                    "properties",
                    "crs",
                    "id",
                ]
            )
            | st.text(max_size=5),
            children,
            max_size=5,
        )
    ),
    max_leaves=30,
)
geojson_like = st.fixed_dictionaries(
    {"type": st.sampled_from(sorted(GEOJSON_TYPES))},
    optional={
        "coordinates": json_values,
        "geometry": json_values,
        "geometries": st.lists(json_values, max_size=3),
        "features": st.lists(json_values, max_size=3),
        "bbox": st.lists(scalars, max_size=7),
        "properties": json_values,
        "crs": json_values,
    },
)


def _check(verdict: object) -> None:
    assert isinstance(verdict, Verdict)
    assert verdict.verdict in ("valid", "invalid", "refused")
    assert verdict.is_valid == (not verdict.errors)


@FUZZ
@given(st.one_of(json_values, geojson_like))
def test_validator_returns_a_verdict_on_arbitrary_json_values(value):
    _check(validate_geojson(json.dumps(value).encode()))
    _check(validate_geojson_document(value))
    _check(validate_message(json.dumps(value).encode()))


@FUZZ
@given(geojson_like)
def test_semantic_rules_alone_never_crash_on_schema_invalid_input(value):
    for error in semantic_errors(value):
        assert error.path.startswith("/")
        assert error.code.startswith("geojson_")


@st.composite
def mutated_sample(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(SAMPLES)))
    for _ in range(draw(st.integers(min_value=1, max_value=6))):
        position = draw(st.integers(min_value=0, max_value=max(len(data) - 1, 0)))
        operation = draw(st.sampled_from(["flip", "cut", "insert", "delete"]))
        if operation == "flip" and data:
            data[position] = draw(st.sampled_from(b'0123456789-.,[]{}":e ') | st.integers(0, 255))
        elif operation == "cut":
            del data[position:]
        elif operation == "insert":
            snippet = draw(
                st.sampled_from([b"[", b"]", b"{", b"}", b",", b"1e999", b'"crs":1,', b"-0"])
                | st.binary(max_size=8)
            )
            data[position:position] = snippet
        elif data:
            del data[position : position + draw(st.integers(min_value=1, max_value=20))]
    return bytes(data)


@FUZZ
@given(st.one_of(mutated_sample(), st.binary(max_size=200)))
def test_validator_returns_a_verdict_on_mutated_fixtures_and_random_bytes(data):
    try:
        verdict = validate_geojson(data)
    except InteropError:  # pragma: no cover - validate_geojson turns them into verdicts
        raise AssertionError("validate_geojson must not raise") from None
    _check(verdict)
    _check(validate_message(data))
