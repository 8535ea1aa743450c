"""The map panel of the event page: its data block (event + reports with their state), the
legend and the text alternative, per persona (the live render: ``tests/test_map_live.py``)."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from orsec.interop.geojson.validate import validate_geojson_document
from orsec.reports.tests.helpers import qualify, submit

pytestmark = pytest.mark.django_db

TOURS_QUAI = {"type": "Point", "coordinates": [0.6848, 47.3941]}
AMBOISE = {"type": "Point", "coordinates": [0.9826, 47.4123]}


def data_block(html: str, event_id: int) -> dict[str, Any]:
    match = re.search(
        rf'<script id="carte-donnees-evenement-{event_id}" type="application/json">(.*?)</script>',
        html,
        re.S,
    )
    assert match, "no map data block"
    return json.loads(match.group(1))


def page(personas: Any, who: str, event_id: int) -> str:
    response = personas.client_for(who).get(f"/evenements/{event_id}/")
    assert response.status_code == 200
    return response.content.decode()


def test_operator37_sees_the_event_and_the_reports_coloured_by_state(personas, flood_event):
    mayor = personas.client_for("mayor_tours")
    raw = submit(mayor, flood_event.pk, location=TOURS_QUAI).json()
    confirmed = submit(mayor, flood_event.pk, location=AMBOISE).json()
    submit(mayor, flood_event.pk)  # not located: counted, not drawn
    operator = personas.client_for("operator37")
    answer = qualify(
        operator,
        confirmed["id"],
        "confirm",
        confirmed["revision"],
        reliability="B",
        credibility=2,
        priority="urgent",
    )
    assert answer.status_code == 200, answer.content

    html = page(personas, "operator37", flood_event.pk)
    assert 'id="panneau-map"' in html
    assert 'data-map data-map-data="carte-donnees-evenement-' in html
    assert f'data-boundaries-url="/api/v1/events/{flood_event.pk}/departements.geojson?v=' in html
    assert 'data-tile-url=""' in html  # offline default: no tiles
    assert 'role="region" aria-label="Carte de l&#x27;événement' in html
    collection = data_block(html, flood_event.pk)
    assert validate_geojson_document(collection).verdict == "valid"
    by_id = {feature["id"]: feature for feature in collection["features"]}
    event = by_id[f"evenement-{flood_event.pk}"]
    assert event["geometry"] == flood_event.location
    assert event["properties"]["kind"] == "event"
    first = by_id[f"remontee-{raw['id']}"]["properties"]
    second = by_id[f"remontee-{confirmed['id']}"]["properties"]
    assert (first["state"], first["state_label"], first["symbol"]) == ("raw", "Brute", "B")
    assert (second["state"], second["state_label"], second["symbol"]) == (
        "confirmed",
        "Confirmée",
        "C",
    )
    assert second["url"] == f"/remontees/{confirmed['id']}/"
    assert len(collection["features"]) == 3  # the event + two located reports
    # legend with counts (colour is not the only cue: a letter per state) and text alternative
    for text in ("Brute (2)", "En vérification (0)", "Confirmée (1)", "Infirmée (0)"):
        assert text in html, text
    assert "2 remontées localisées sur la carte (3 au total)." in html
    assert "Liste des remontées de la carte" in html


def test_mayor_sees_the_map_of_the_event_without_the_queue_link(personas, flood_event):
    submit(personas.client_for("mayor_tours"), flood_event.pk, location=TOURS_QUAI)
    html = page(personas, "mayor_tours", flood_event.pk)
    collection = data_block(html, flood_event.pk)
    assert [f["properties"]["kind"] for f in collection["features"]] == ["event", "report"]
    assert "File à qualifier" not in html
    assert "File à qualifier" in page(personas, "operator37", flood_event.pk)


def test_operator45_gets_404_on_the_event_page_and_its_map(personas, flood_event):
    assert (
        personas.client_for("operator45").get(f"/evenements/{flood_event.pk}/").status_code == 404
    )


def test_exercise_reports_carry_the_exercise_marker_on_the_map(personas, exercise_event):
    submit(personas.client_for("mayor_tours"), exercise_event.pk, location=TOURS_QUAI)
    collection = data_block(page(personas, "operator37", exercise_event.pk), exercise_event.pk)
    assert {f["properties"]["mode_marker"] for f in collection["features"]} == {"EXERCICE"}


def test_refuted_and_merged_reports(personas, flood_event):
    mayor = personas.client_for("mayor_tours")
    operator = personas.client_for("operator37")
    refuted = submit(mayor, flood_event.pk, location=TOURS_QUAI).json()
    answer = qualify(
        operator, refuted["id"], "refute", refuted["revision"], reason="Doublon d'un appel 18."
    )
    assert answer.status_code == 200, answer.content
    collection = data_block(page(personas, "operator37", flood_event.pk), flood_event.pk)
    (report,) = [f for f in collection["features"] if f["properties"]["kind"] == "report"]
    assert report["properties"]["state"] == "refuted"
    assert report["properties"]["symbol"] == "I"
