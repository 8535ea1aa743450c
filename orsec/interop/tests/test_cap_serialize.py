"""CAP 1.2 export of a population-alert draft: official XSD + our rules, mapping from the event."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from lxml import etree

from orsec.events.models import EventCommune
from orsec.interop.cap.parse import parse_cap, read_alert
from orsec.interop.cap.serialize import (
    CapAreaDraft,
    CapDraft,
    CapInfoDraft,
    population_alert_draft,
    serialize_cap,
)
from orsec.interop.cap.validate import validate_cap
from orsec.interop.xmlpaths import load_schema
from orsec.territories.models import Territory

PARIS = dt.timezone(dt.timedelta(hours=1))
NOW = dt.datetime(2026, 11, 29, 8, 15, 30, 123456, tzinfo=PARIS)


def _official_xsd_accepts(data: bytes) -> bool:
    schema = load_schema("cap/cap12.xsd")
    return bool(schema.validate(etree.fromstring(data)))


def _draft(event, **kwargs):
    texts: dict[str, Any] = {
        "headline": "Crue de la Loire : mettez-vous à l'abri",
        "description": "La Loire déborde à Tours. Montée des eaux rapide.",
        "instruction": "Montez dans les étages. Ne prenez pas votre véhicule.",
    }
    texts.update(kwargs)
    return population_alert_draft(event, now=NOW, **texts)


@pytest.mark.django_db
def test_real_event_draft_validates_against_the_official_xsd_and_our_rules(flood_event):
    data = serialize_cap(_draft(flood_event, response_type="Shelter"))

    assert _official_xsd_accepts(data)
    verdict = validate_cap(data)
    assert verdict.is_valid, verdict.errors
    alert = read_alert(parse_cap(data))
    assert alert.status == "Actual"
    assert (alert.msg_type, alert.scope) == ("Alert", "Public")
    assert alert.sender == "portail-orsec"
    assert alert.identifier == f"ORSEC-37-{flood_event.pk}-20261129081530"
    assert b"<sent>2026-11-29T08:15:30+01:00</sent>" in data
    (info,) = alert.infos
    assert info.language == "fr-FR"
    assert info.categories == ["Met"]
    assert info.event == "Inondation"
    assert info.response_types == ["Shelter"]
    # phase alerte, gravity 3
    assert (info.urgency, info.severity, info.certainty) == ("Immediate", "Severe", "Observed")
    assert info.expires == dt.datetime(2026, 11, 29, 14, 15, 30, tzinfo=PARIS)
    assert info.headline.startswith("Crue de la Loire")
    assert info.instruction.startswith("Montez")
    (area,) = info.areas
    assert area.circles == [(47.3941, 0.689, 1.0)]  # the event's Point (lat, lon, km)
    assert ("INSEE_DEP", "37") in area.geocodes
    assert ("NUTS3", "FR244") in area.geocodes
    assert area.polygons == []


@pytest.mark.django_db
def test_exercise_event_draft_has_status_exercise_and_a_note(exercise_event):
    data = serialize_cap(_draft(exercise_event))

    assert validate_cap(data).is_valid
    alert = read_alert(parse_cap(data))
    assert alert.status == "Exercise"
    assert "EXERCICE" in alert.note


@pytest.mark.django_db
def test_polygon_location_becomes_closed_lat_lon_polygons_and_communes_geocodes(flood_event):
    flood_event.location = {
        "type": "MultiPolygon",
        "coordinates": [
            [[[0.68, 47.39], [0.70, 47.40], [0.71, 47.38], [0.68, 47.39]]],
            # unclosed ring (tolerated on input): closed on output
            [[[0.60, 47.30], [0.62, 47.31], [0.63, 47.29]]],
        ],
    }
    flood_event.save()
    tours = Territory.objects.get(kind="commune", code="37261")
    EventCommune.objects.get_or_create(event=flood_event, commune=tours, commune_path=tours.path)

    data = serialize_cap(_draft(flood_event))

    assert _official_xsd_accepts(data)
    assert validate_cap(data).is_valid
    (area,) = read_alert(parse_cap(data)).infos[0].areas
    assert area.polygons == [
        [(47.39, 0.68), (47.40, 0.70), (47.38, 0.71), (47.39, 0.68)],
        [(47.30, 0.60), (47.31, 0.62), (47.29, 0.63), (47.30, 0.60)],
    ]
    assert area.circles == []
    assert area.description == "Tours"
    assert ("INSEE_COM", "37261") in area.geocodes


def test_hostile_text_is_escaped_and_the_output_stays_valid():
    draft = CapDraft(
        identifier="ORSEC-37-1-20261129081530",
        sender="portail-orsec",
        sent=NOW,
        status="Test",
        info=CapInfoDraft(
            category="Other",
            event="Autre",
            urgency="Unknown",
            severity="Unknown",
            certainty="Unknown",
            headline='<script>alert("x")</script> & ]]>',
            description="&amp; <!DOCTYPE x>",
            areas=[CapAreaDraft(description="Zone « test »")],
        ),
    )
    data = serialize_cap(draft)

    assert validate_cap(data).is_valid
    info = read_alert(parse_cap(data)).infos[0]
    assert info.headline == '<script>alert("x")</script> & ]]>'
    assert info.description == "&amp; <!DOCTYPE x>"
