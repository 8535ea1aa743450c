"""The outline endpoints of the maps: access, 404 for another territory, RFC 7946, caching."""

from __future__ import annotations

import pytest

from orsec.interop.geojson.validate import validate_geojson
from orsec.maps.queries import clear_outline_cache

pytestmark = pytest.mark.django_db

OUTLINES = "/api/v1/territories/departements.geojson"


def event_outlines(event_id: int) -> str:
    return f"/api/v1/events/{event_id}/departements.geojson"


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    clear_outline_cache()


def test_operator37_gets_the_outline_of_indre_et_loire_for_the_flood(personas, flood_event):
    response = personas.client_for("operator37").get(event_outlines(flood_event.pk))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/geo+json")
    assert response["Cache-Control"] == "private, max-age=86400"
    assert response["ETag"].startswith('"')
    verdict = validate_geojson(response.content)
    assert verdict.is_valid, verdict.as_dict()
    (feature,) = response.json()["features"]
    assert feature["properties"] == {"code": "37", "nom": "Indre-et-Loire"}
    assert feature["geometry"]["type"] in ("Polygon", "MultiPolygon")


def test_operator45_gets_404_on_the_outlines_of_the_flood_event_of_37(personas, flood_event):
    response = personas.client_for("operator45").get(event_outlines(flood_event.pk))
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert personas.client_for("operator37").get(event_outlines(999999)).status_code == 404


def test_anonymous_caller_gets_401_on_both_outline_endpoints(client, flood_event):
    assert client.get(event_outlines(flood_event.pk)).status_code == 401
    assert client.get(OUTLINES, {"codes": "37"}).status_code == 401


def test_zone_officer_gets_several_departements_by_code_as_valid_geojson(personas):
    response = personas.client_for("zone_ouest").get(OUTLINES, {"codes": "45, 37,2A,37"})
    assert response.status_code == 200
    assert validate_geojson(response.content).is_valid
    codes = [feature["id"] for feature in response.json()["features"]]
    assert codes == ["2A", "37", "45"]


def test_same_etag_gives_304_whatever_the_order_of_the_codes(personas):
    client = personas.client_for("operator37")
    first = client.get(OUTLINES, {"codes": "37,45"})
    etag = first["ETag"]
    second = client.get(OUTLINES, {"codes": "45,37"}, headers={"If-None-Match": etag})
    assert second.status_code == 304
    assert second["ETag"] == etag
    assert second.content == b""
    other = client.get(OUTLINES, {"codes": "37"})
    assert other["ETag"] != etag


@pytest.mark.parametrize(
    ("codes", "code"),
    [
        ("", "codes_required"),
        (" , ", "codes_required"),
        ("37,<script>", "invalid_departement_code"),
        ("99", "unknown_departement"),
        (",".join(str(n).zfill(2) for n in range(1, 120)), "too_many_codes"),
    ],
)
def test_bad_codes_are_a_422_with_a_stable_code(personas, codes, code):
    response = personas.client_for("operator37").get(OUTLINES, {"codes": codes})
    assert response.status_code == 422, response.content
    assert response.json()["code"] == code
    assert response.json()["message"]


def test_codes_longer_than_the_limit_are_a_422(personas):
    response = personas.client_for("operator37").get(OUTLINES, {"codes": "37," * 300})
    assert response.status_code == 422


def test_partner_token_without_events_read_gets_403_on_the_event_outlines(
    partner_sdis37, flood_event
):
    partner_sdis37.partner_token.verbs = ["reports:write"]
    partner_sdis37.partner_token.save(update_fields=["verbs"])
    response = partner_sdis37.client.get(event_outlines(flood_event.pk))
    assert response.status_code == 403
    assert response.json()["code"] == "scope_denied"


def test_openapi_declares_the_outline_operations_with_the_geojson_media_type(personas):
    document = personas.client_for("operator37").get("/api/v1/openapi.json").json()
    for path in (
        "/api/v1/territories/departements.geojson",
        "/api/v1/events/{event_id}/departements.geojson",
    ):
        operation = document["paths"][path]["get"]
        assert "application/geo+json" in operation["responses"]["200"]["content"]
        assert "404" in operation["responses"] or "422" in operation["responses"]
