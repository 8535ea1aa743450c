"""The pure MeteoAlarm → vigilance mapping, on the real Météo-France and Met Éireann samples."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from orsec.alerts.meteoalarm import (
    geocode_key,
    map_meteoalarm,
    parse_awareness_level,
    parse_awareness_type,
)
from orsec.interop.cap.validate import read_valid_cap
from orsec.interop.errors import InvalidMessage

FIXTURES = Path(__file__).parent / "fixtures"
PARIS = dt.timezone(dt.timedelta(hours=1))
BEFORE_2022 = dt.datetime(2022, 12, 7, 5, 0, tzinfo=PARIS)
TABLE = {
    geocode_key("NUTS3", "FR821"): "04",
    geocode_key("NUTS3", "FR822"): "05",
    geocode_key("NUTS3", "FR823"): "06",
    geocode_key("NUTS3", "FR714"): "38",
    geocode_key("NUTS3", "FR717"): "73",
    geocode_key("NUTS3", "FR718"): "74",
    geocode_key("NUTS3", "FR244"): "37",
    geocode_key("EMMA_ID", "FR058"): "41",
}


def _alert(name: str):
    verdict, alert = read_valid_cap((FIXTURES / name).read_bytes())
    assert verdict.is_valid, verdict.as_dict()
    return alert


def test_real_meteo_france_sample_gives_six_alpine_departements_yellow_avalanches_ending():
    notices = map_meteoalarm(
        _alert("france_sample_detail.xml"), departements=TABLE, now=BEFORE_2022
    )

    assert [n.departement_code for n in notices] == ["04", "05", "06", "38", "73", "74"]
    assert {(n.colour, n.level, n.phenomenon) for n in notices} == {("yellow", 2, "avalanches")}
    first = notices[0]
    assert first.identifier == "2.49.0.0.250.0.FR.20221207060126.964028"
    assert first.msg_type == "Update"
    assert first.references == ("2.49.0.0.250.0.FR.20221206160108.315028",)
    assert first.onset == dt.datetime(2022, 12, 7, 6, 0, tzinfo=PARIS)
    assert first.expires == dt.datetime(2022, 12, 7, 6, 1, tzinfo=PARIS)
    assert first.area_description == "Alpes de Haute Provence"
    # responseType AllClear: this Update ends the vigilance it references
    assert all(n.ends for n in notices)


def test_french_info_is_chosen_and_the_english_duplicate_is_not_counted_twice():
    notices = map_meteoalarm(
        _alert("france_sample_detail.xml"), departements=TABLE, now=BEFORE_2022
    )
    assert len(notices) == 6
    assert notices[0].headline == "Vigilance jaune avalanches"


def test_orange_alert_resolves_nuts3_and_emma_id_geocodes():
    notices = map_meteoalarm(
        _alert("d37_d41_orange_rain_flood_alert.xml"),
        departements=TABLE,
        now=dt.datetime(2024, 3, 7, 7, 0, tzinfo=PARIS),
    )
    assert [(n.departement_code, n.colour, n.phenomenon, n.ends) for n in notices] == [
        ("37", "orange", "pluie_inondation", False),
        ("41", "orange", "pluie_inondation", False),
    ]


def test_alert_already_expired_at_import_time_ends():
    notices = map_meteoalarm(
        _alert("d37_d41_orange_rain_flood_alert.xml"),
        departements=TABLE,
        now=dt.datetime(2024, 3, 9, tzinfo=PARIS),
    )
    assert all(n.ends for n in notices)


def test_irish_sample_without_geocode_is_rejected_with_a_precise_error():
    with pytest.raises(InvalidMessage) as caught:
        map_meteoalarm(_alert("ireland_sample_detail.xml"), departements=TABLE, now=BEFORE_2022)
    assert caught.value.code == "meteoalarm_area_without_geocode"
    assert "Ireland" in caught.value.message
    assert caught.value.path == "/alert/info[1]/area[1]"


def test_geocode_of_no_known_departement_is_rejected():
    with pytest.raises(InvalidMessage) as caught:
        map_meteoalarm(
            _alert("france_sample_detail.xml"),
            departements={geocode_key("NUTS3", "FR821"): "04"},
            now=BEFORE_2022,
        )
    assert caught.value.code == "meteoalarm_unknown_geocode"
    assert "NUTS3 FR822" in caught.value.message


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1; green", (1, "green")),
        ("2; yellow; Moderate", (2, "yellow")),
        ("3;orange", (3, "orange")),
        ("4; red; Extreme", (4, "red")),
        ("Orange", (3, "orange")),
        ("4", (4, "red")),
    ],
)
def test_awareness_level_variants_are_tolerated(value, expected):
    assert parse_awareness_level(value) == expected


@pytest.mark.parametrize("value", ["5; purple", "3; red", "", "violet", "0"])
def test_unknown_or_inconsistent_awareness_level_is_a_validation_error(value):
    with pytest.raises(InvalidMessage) as caught:
        parse_awareness_level(value)
    assert caught.value.code == "meteoalarm_awareness_level"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1; Wind", "vent"),
        ("2; snow-ice", "neige_verglas"),
        ("3; Thunderstorm", "orages"),
        ("5; high-temperature", "canicule"),
        ("6; low-temperature", "grand_froid"),
        ("7; coastalevent", "vagues_submersion"),
        ("9; avalanches", "avalanches"),
        ("10; Rain", "pluie_inondation"),
        ("12; flooding", "crues"),
        ("13; rain-flood", "pluie_inondation"),
        ("snow-ice", "neige_verglas"),
    ],
)
def test_awareness_type_codes_map_to_french_phenomena(value, expected):
    assert parse_awareness_type(value) == expected


@pytest.mark.parametrize("value", ["11; unknown", "99; meteor", "tsunami", ""])
def test_unknown_awareness_type_is_a_validation_error(value):
    with pytest.raises(InvalidMessage) as caught:
        parse_awareness_type(value)
    assert caught.value.code == "meteoalarm_awareness_type"
