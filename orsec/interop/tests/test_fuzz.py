"""Property-based fuzzing: the parsers only ever raise InteropError subclasses."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orsec.interop.cap.validate import read_valid_cap, validate_cap
from orsec.interop.errors import InteropError
from orsec.interop.secure import parse_json, parse_xml

FIXTURES = Path(__file__).parent / "fixtures"
SAMPLES = [path.read_bytes() for path in sorted((FIXTURES / "cap" / "valid").glob("*.cap"))]
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def mutated_sample(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(SAMPLES)))
    for _ in range(draw(st.integers(min_value=1, max_value=8))):
        operation = draw(st.sampled_from(["flip", "cut", "insert", "delete"]))
        position = draw(st.integers(min_value=0, max_value=max(len(data) - 1, 0)))
        if operation == "flip" and data:
            data[position] = draw(st.integers(min_value=0, max_value=255))
        elif operation == "cut":
            del data[position:]
        elif operation == "insert":
            snippet = draw(
                st.sampled_from(
                    [b"<", b">", b"&", b"<!DOCTYPE a>", b"<![CDATA[", b"]]>", b"\x00", b"&amp;"]
                )
                | st.binary(max_size=16)
            )
            data[position:position] = snippet
        elif data:
            del data[position : position + draw(st.integers(min_value=1, max_value=50))]
    return bytes(data)


xml_like = st.one_of(
    st.binary(max_size=300),
    st.text(max_size=200).map(lambda text: text.encode("utf-8")),
    st.recursive(
        st.just(b"<a/>") | st.just(b"<b>t</b>") | st.binary(max_size=5),
        lambda children: st.lists(children, max_size=4).map(
            lambda parts: b"<x>" + b"".join(parts) + b"</x>"
        ),
        max_leaves=20,
    ),
)


@FUZZ
@given(xml_like)
def test_parse_xml_raises_only_interop_errors_on_random_input(data):
    with contextlib.suppress(InteropError):
        parse_xml(data)


@FUZZ
@given(st.text(max_size=200))
def test_parse_xml_raises_only_interop_errors_on_random_text(text):
    with contextlib.suppress(InteropError):
        parse_xml(text)


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.integers()
    | st.text(max_size=10),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=5), children, max_size=4)
    ),
    max_leaves=30,
)


@FUZZ
@given(st.binary(max_size=300))
def test_parse_json_raises_only_interop_errors(data):
    with contextlib.suppress(InteropError):
        parse_json(data)


@FUZZ
@given(mutated_sample())
def test_cap_validation_of_mutated_samples_always_returns_a_verdict(data):
    verdict = validate_cap(data)
    assert verdict.verdict in ("valid", "invalid", "refused")
    if verdict.verdict != "valid":
        assert verdict.errors
        assert all(error.code and error.message and error.path for error in verdict.errors)


@FUZZ
@given(st.binary(max_size=400))
def test_cap_validation_of_random_bytes_never_raises(data):
    verdict = validate_cap(data)
    assert verdict.verdict in ("invalid", "refused")


@FUZZ
@given(json_values)
def test_parse_json_round_trips_any_json_value(value):
    assert parse_json(json.dumps(value).encode()) == value


@FUZZ
@given(mutated_sample())
def test_reading_mutated_samples_gives_an_alert_only_when_valid(data):
    verdict, alert = read_valid_cap(data)
    assert (alert is not None) == verdict.is_valid
