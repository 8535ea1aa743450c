"""Typed reading of valid CAP alerts (what the import will build on)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from orsec.interop.cap.validate import read_valid_cap

FIXTURES = Path(__file__).parent / "fixtures"


def read(relative: str):
    verdict, alert = read_valid_cap((FIXTURES / relative).read_bytes())
    assert verdict.is_valid, verdict.errors
    assert alert is not None
    return alert


def test_meteo_france_vigilance_is_read_with_its_references_parameters_and_geocodes():
    alert = read("meteoalarm/france_sample_detail.xml")
    assert (alert.version, alert.sender, alert.msg_type) == ("1.2", "vigilance@meteo.fr", "Update")
    assert alert.sent == dt.datetime(
        2022, 12, 7, 6, 1, 26, tzinfo=dt.timezone(dt.timedelta(hours=1))
    )
    [reference] = alert.references
    assert reference.identifier == "2.49.0.0.250.0.FR.20221206160108.315028"
    assert reference.sent.utcoffset() == dt.timedelta(hours=1)
    assert [info.language for info in alert.infos] == ["fr-FR", "en-GB"]
    french = alert.infos[0]
    assert french.response_types == ["AllClear"]
    assert ("awareness_level", "2; yellow; Moderate") in french.parameters
    assert ("awareness_type", "9; avalanches") in french.parameters
    assert [area.geocodes for area in french.areas][:2] == [
        [("NUTS3", "FR821")],
        [("NUTS3", "FR822")],
    ]


def test_polygons_and_circles_are_read_as_numbers():
    canada = read("cap/valid/canada.cap")
    polygon = canada.infos[0].areas[0].polygons[0]
    assert polygon[0] == polygon[-1] == (42.3481, -82.9314)
    australia = read("cap/valid/australia.cap")
    circles = [circle for area in australia.infos[0].areas for circle in area.circles]
    assert (-35.3888, 147.0598, 25.0) in circles


def test_latin1_cap11_alert_is_read_with_its_text_decoded():
    alert = read("cap/valid/earthquake_signed.cap")
    assert alert.version == "1.1"
    assert alert.infos[0].event == "Earthquake"
    assert alert.sent.utcoffset() == dt.timedelta(0)


def test_alert_without_info_has_no_infos():
    alert = read("cap/valid/no_optional_fields.cap")
    assert (alert.infos, alert.references) == ([], [])


@pytest.mark.parametrize("relative", ["cap/invalid/canada_errors.cap", "attacks/xxe_file.xml"])
def test_invalid_or_refused_input_gives_no_alert(relative):
    verdict, alert = read_valid_cap((FIXTURES / relative).read_bytes())
    assert alert is None
    assert verdict.verdict in ("invalid", "refused")
