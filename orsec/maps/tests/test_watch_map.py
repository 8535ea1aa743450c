"""The watch room's map (``maps/watch_map.html`` + ``orsec.maps.panel.watch_map``): the events the
user sees, the outlines of the départements of the user's scope, and RFC 7946 data."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from django.template.loader import render_to_string

from orsec.events.access import events_visible_to
from orsec.interop.geojson.validate import validate_geojson_document
from orsec.maps.panel import watch_map

pytestmark = pytest.mark.django_db


def render(user: Any) -> str:
    return render_to_string(
        "maps/watch_map.html", {"data": watch_map(user, events_visible_to(user))}
    )


def collection(html: str) -> dict[str, Any]:
    match = re.search(
        r'<script id="carte-donnees-veille" type="application/json">(.*?)</script>', html
    )
    assert match
    return json.loads(match.group(1))


def test_operator37_sees_the_flood_and_the_outline_of_indre_et_loire(
    personas, flood_event, event45
):
    html = render(personas.operator37.user)
    data = collection(html)
    assert validate_geojson_document(data).verdict == "valid"
    ids = {feature["properties"]["id"] for feature in data["features"]}
    assert ids == {flood_event.pk}
    assert "1 événement localisé sur la carte (1 visibles)." in html
    url = re.search(r'data-boundaries-url="([^"]+)"', html).group(1)  # type: ignore[union-attr]
    assert url.startswith("/api/v1/territories/departements.geojson?codes=37&amp;v=")
    response = personas.client_for("operator37").get(url.replace("&amp;", "&"))
    assert response.status_code == 200


def test_zone_officer_gets_the_outlines_of_every_departement_of_the_zone(personas):
    html = render(personas.zone_ouest.user)
    url = re.search(r'data-boundaries-url="([^"]+)"', html).group(1)  # type: ignore[union-attr]
    codes = url.split("codes=")[1].split("&")[0].split("%2C")
    assert {"35", "37", "45", "44", "29"} <= set(codes)
    assert "75" not in codes
    response = personas.client_for("zone_ouest").get(url.replace("&amp;", "&"))
    assert response.status_code == 200
    assert len(response.json()["features"]) == len(codes)


def test_operator45_sees_only_the_loiret_on_the_watch_map(personas, flood_event, event45):
    html = render(personas.operator45.user)
    ids = {feature["properties"]["id"] for feature in collection(html)["features"]}
    assert ids == {event45.pk}
    assert "codes=45&amp;v=" in html
