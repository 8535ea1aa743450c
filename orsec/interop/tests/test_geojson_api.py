"""GeoJSON exports of the API: visibility, modes, media type, and our own validator agrees."""

from __future__ import annotations

from typing import Any

import pytest

from orsec.interop.geojson.validate import validate_geojson
from orsec.reports.tests.helpers import submit

pytestmark = pytest.mark.django_db

EVENTS = "/api/v1/events.geojson"


def reports_url(event_id: int) -> str:
    return f"/api/v1/events/{event_id}/reports.geojson"


def test_operator37_gets_the_real_events_of_37_as_valid_geojson(personas, flood_event, event45):
    response = personas.client_for("operator37").get(EVENTS, {"mode": "real"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/geo+json")
    verdict = validate_geojson(response.content)
    assert verdict.is_valid, verdict.as_dict()
    collection = response.json()
    assert collection["type"] == "FeatureCollection"
    ids = [feature["id"] for feature in collection["features"]]
    assert ids == [flood_event.pk]  # not the Loiret event
    feature = collection["features"][0]
    assert feature["geometry"] == flood_event.location
    properties = feature["properties"]
    assert properties["title"] == flood_event.title
    assert properties["mode"] == "real"
    assert properties["mode_marker"] == ""
    assert properties["phase"] == flood_event.phase
    assert properties["gravity"] == flood_event.gravity
    assert properties["opened_at"][-6] in "+-"  # ISO 8601 with its offset


def test_exercise_event_never_appears_in_the_real_collection(personas, flood_event, exercise_event):
    client = personas.client_for("operator37")
    real = client.get(EVENTS, {"mode": "real"}).json()
    assert exercise_event.pk not in [feature["id"] for feature in real["features"]]
    exercise = client.get(EVENTS, {"mode": "exercise"}).json()
    assert [feature["id"] for feature in exercise["features"]] == [exercise_event.pk]
    assert exercise["features"][0]["properties"]["mode"] == "exercise"
    assert exercise["features"][0]["properties"]["mode_marker"] == "EXERCICE"


def test_default_mode_is_real(personas, exercise_event):
    response = personas.client_for("operator37").get(EVENTS)
    assert response.json()["features"] == []


def test_an_unknown_mode_or_limit_is_a_422_not_a_mixed_map(personas, flood_event):
    client = personas.client_for("operator37")
    assert client.get(EVENTS, {"mode": "all"}).status_code == 422
    assert client.get(EVENTS, {"limit": 0}).status_code == 422
    assert client.get(EVENTS, {"limit": 100000}).status_code == 422


def test_anonymous_caller_gets_401(client, flood_event):
    assert client.get(EVENTS).status_code == 401
    assert client.get(reports_url(flood_event.pk)).status_code == 401


def test_reports_of_the_flood_event_are_exported_with_their_state(personas, flood_event):
    point = {"type": "Point", "coordinates": [0.6848, 47.3941]}
    created = submit(personas.client_for("mayor_tours"), flood_event.pk, location=point)
    assert created.status_code == 201, created.content
    response = personas.client_for("operator37").get(reports_url(flood_event.pk))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/geo+json")
    assert validate_geojson(response.content).is_valid
    (feature,) = response.json()["features"]
    assert feature["id"] == created.json()["id"]
    assert feature["geometry"]["type"] == "Point"
    assert feature["geometry"]["coordinates"] == pytest.approx([0.6848, 47.3941])
    properties: dict[str, Any] = feature["properties"]
    assert properties["event_id"] == flood_event.pk
    assert properties["template"] == "casualties"
    assert properties["state"] == "raw"
    assert properties["state_label"] == "Brute"
    assert properties["mode"] == "real"


def test_operator45_gets_404_on_the_reports_of_the_flood_event_of_37(personas, flood_event):
    submit(personas.client_for("mayor_tours"), flood_event.pk)
    response = personas.client_for("operator45").get(reports_url(flood_event.pk))
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_operator37_gets_404_on_the_reports_of_the_loiret_event(personas, event45):
    assert personas.client_for("operator37").get(reports_url(event45.pk)).status_code == 404


def test_an_absent_event_is_the_same_404(personas):
    assert personas.client_for("operator37").get(reports_url(999999)).status_code == 404


def test_exercise_reports_carry_the_exercise_marker(personas, exercise_event):
    submit(personas.client_for("mayor_tours"), exercise_event.pk)
    response = personas.client_for("operator37").get(reports_url(exercise_event.pk))
    (feature,) = response.json()["features"]
    assert feature["properties"]["mode"] == "exercise"
    assert feature["properties"]["mode_marker"] == "EXERCICE"
    assert validate_geojson(response.content).is_valid


def test_partner_token_without_the_read_verbs_gets_403_scope_denied(partner_sdis37, flood_event):
    # the SDIS token narrowed to "reports:write" (the partners layer sits above interop)
    partner_sdis37.partner_token.verbs = ["reports:write"]
    partner_sdis37.partner_token.save(update_fields=["verbs"])
    response = partner_sdis37.client.get(EVENTS)
    assert response.status_code == 403
    assert response.json()["code"] == "scope_denied"
    assert partner_sdis37.client.get(reports_url(flood_event.pk)).json()["code"] == "scope_denied"


def test_sdis37_dispatch_token_gets_the_collections_of_its_territory(
    partner_sdis37, flood_event, event45
):
    events = partner_sdis37.client.get(EVENTS)
    assert events.status_code == 200
    assert [feature["id"] for feature in events.json()["features"]] == [flood_event.pk]
    assert partner_sdis37.client.get(reports_url(flood_event.pk)).status_code == 200
    assert partner_sdis37.client.get(reports_url(event45.pk)).status_code == 404


def test_openapi_declares_the_geojson_media_type(personas):
    document = personas.client_for("operator37").get("/api/v1/openapi.json").json()
    operation = document["paths"]["/api/v1/events.geojson"]["get"]
    content = operation["responses"]["200"]["content"]
    assert content["application/geo+json"]["schema"] == {
        "$ref": "#/components/schemas/EventFeatureCollection"
    }
    reports = document["paths"]["/api/v1/events/{event_id}/reports.geojson"]["get"]
    assert "404" in reports["responses"]
