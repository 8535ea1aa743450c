"""The fast polygon check (regular expressions over the whole text, no loop per point) gives
exactly the codes of the plain point-by-point reference, on generated polygons."""

from __future__ import annotations

from pathlib import Path

from hypothesis import example, given, settings
from hypothesis import strategies as st

from orsec.interop.cap.validate import polygon_problems, polygon_problems_reference

_NUMBER_TEXT = st.from_regex(r"\A[+-]?(?:[0-9]{1,4}(?:\.[0-9]{0,3})?|\.[0-9]{1,3})\Z")
_NOISE = st.text(alphabet="0123456789.,+- \t\n", max_size=40)


@st.composite
def polygon_texts(draw: st.DrawFn) -> str:
    pairs: list[tuple[str, str]] = draw(
        st.lists(st.tuples(_NUMBER_TEXT, _NUMBER_TEXT), min_size=0, max_size=8)
    )
    closed: bool = draw(st.booleans())
    if pairs and closed:
        pairs.append(pairs[0])  # often closed
    separators = st.sampled_from([" ", "  ", "\t", "\n ", " "])
    text = "".join(f"{lat},{lon}{draw(separators)}" for lat, lon in pairs).strip()
    if draw(st.integers(0, 4)) == 0:  # sometimes damage it
        position = draw(st.integers(0, len(text)))
        text = (text[:position] + draw(_NOISE) + text[position:]).strip()
    return text


@settings(max_examples=600, deadline=None)
@given(polygon_texts())
@example("47.39,0.68 47.40,0.70 47.38,0.71 47.39,0.68")
@example("47.39,0.68,47.40 0.70 47.38,0.71 47.39,0.68")
@example("47.39,0.68 47.40, 0.70 47.38,0.71 47.39,0.68")
@example("047.39,0.68 47.40,0.70 47.38,0.71 47.390,0.680")
@example("90.0,180.0 -90,-180 .5,+.5 90.,180.")
@example("90.01,0 1,1 2,2 90.01,0")
@example("0,180.001 1,1 2,2 0,180.001")
@example("0090,0180 1,1 2,2 0090,0180")
@example("1,2  3,4\t5,6\n1,2")
@example("+.,1 1,1 2,2 +.,1")
def test_fast_polygon_check_matches_the_reference(text):
    assert polygon_problems(text) == polygon_problems_reference(text)


def test_unicode_digits_are_not_coordinates():
    arabic = "\u0664\u0667,\u0661"  # Arabic-Indic digits "47,1"
    assert polygon_problems(f"{arabic} 1,1 2,2 {arabic}") == ["cap_polygon_format"]


def test_every_polygon_of_the_real_samples_takes_the_fast_path(monkeypatch):
    from lxml import etree

    from orsec.interop.cap import validate

    def no_slow_path(text):
        raise AssertionError(f"slow path for {text[:40]}")

    monkeypatch.setattr(validate, "polygon_problems_reference", no_slow_path)
    fixtures = Path(__file__).parent / "fixtures"
    seen = 0
    for path in [*fixtures.glob("cap/valid/*.cap"), *fixtures.glob("meteoalarm/*.xml")]:
        for polygon in etree.fromstring(path.read_bytes()).iter("{*}polygon"):
            assert validate.polygon_problems(polygon.text.strip()) == []
            seen += 1
    assert seen >= 10
