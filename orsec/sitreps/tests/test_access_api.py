"""Who sees what: other territory 404 on every page and endpoint, drafts never leave the
emitting territory, and the API (list, detail with the canonical content, PDF, approve)."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest
from django.urls import reverse

from orsec.events.actions import add_participant
from orsec.sitreps.models import Sitrep, SitrepState
from orsec.sitreps.tests.helpers import approve_via_http, compile_via_http

pytestmark = pytest.mark.django_db

JSON = {"Accept": "application/json"}


def _pages(sitrep: Sitrep) -> list[tuple[str, str]]:
    assert sitrep.event_id is not None
    return [
        ("get", reverse("sitreps:event", args=[sitrep.event_id])),
        ("post", reverse("sitreps:compile", args=[sitrep.event_id])),
        ("get", reverse("sitreps:detail", args=[sitrep.pk])),
        ("post", reverse("sitreps:edit", args=[sitrep.pk])),
        ("post", reverse("sitreps:approve", args=[sitrep.pk])),
        ("get", reverse("sitreps:pdf", args=[sitrep.pk])),
        ("get", f"/api/v1/events/{sitrep.event_id}/sitreps"),
        ("get", f"/api/v1/sitreps/{sitrep.pk}"),
        ("get", f"/api/v1/sitreps/{sitrep.pk}/pdf"),
        ("post", f"/api/v1/sitreps/{sitrep.pk}/approve"),
    ]


def test_operator45_gets_404_on_every_page_and_endpoint_of_a_37_sitrep(
    personas: Any, flood_event: Any
) -> None:
    sitrep = compile_via_http(personas, flood_event)
    assert approve_via_http(personas, sitrep).status_code == 302
    client = personas.client_for("operator45")
    for method, url in _pages(sitrep):
        if method == "get":
            response = client.get(url, headers=JSON)
        else:
            response = client.post(url, data="{}", content_type="application/json")
        assert response.status_code == 404, (url, response.status_code)
    sitrep.refresh_from_db()
    assert sitrep.state == SitrepState.FROZEN


def test_a_draft_is_not_visible_to_the_zone_nor_to_the_mayor(
    personas: Any, flood_event: Any
) -> None:
    sitrep = compile_via_http(personas, flood_event)
    # the COZ takes part in the event (so it sees the event), but not in the draft
    add_participant(flood_event, personas.organisations["coz_ouest"])
    zone = personas.client_for("zone_ouest")
    assert zone.get(reverse("sitreps:detail", args=[sitrep.pk])).status_code == 404
    assert zone.get(f"/api/v1/sitreps/{sitrep.pk}", headers=JSON).status_code == 404
    listing = zone.get(f"/api/v1/events/{flood_event.pk}/sitreps", headers=JSON)
    assert listing.status_code == 200
    assert listing.json()["items"] == []
    overview = zone.get(reverse("sitreps:zones"), follow=True)
    assert overview.status_code == 200
    assert flood_event.title not in overview.content.decode()
    # the operator of the COD sees it, the director too
    for who in ("operator37", "director37", "room_lead37"):
        page = personas.client_for(who).get(reverse("sitreps:detail", args=[sitrep.pk]))
        assert page.status_code == 200, who
    # the observer of the préfecture (read only) does not read drafts
    observer = personas.client_for("observer37")
    assert observer.get(reverse("sitreps:detail", args=[sitrep.pk])).status_code == 404


def test_api_lists_reads_approves_and_serves_the_pdf_with_a_verifiable_hash(
    personas: Any, flood_event: Any
) -> None:
    sitrep = compile_via_http(personas, flood_event)
    director = personas.client_for("director37")
    items = director.get(f"/api/v1/events/{flood_event.pk}/sitreps", headers=JSON).json()["items"]
    assert [(i["number"], i["state"]) for i in items] == [(1, "draft")]
    # the PDF of a draft does not exist yet
    assert director.get(f"/api/v1/sitreps/{sitrep.pk}/pdf").status_code == 409
    # the room lead may not approve through the API
    lead = personas.client_for("room_lead37")
    response = lead.post(
        f"/api/v1/sitreps/{sitrep.pk}/approve", data="{}", content_type="application/json"
    )
    assert response.status_code == 403
    assert response.json()["code"] == "approve_denied"
    response = director.post(
        f"/api/v1/sitreps/{sitrep.pk}/approve",
        data=json.dumps({"expected_revision": 0}),
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["state"] == "frozen"
    assert body["approved_by"] == "Sophie Leroy"
    canonical = json.dumps(
        body["canonical"], sort_keys=True, ensure_ascii=False, separators=(",", ":")
    )
    assert hashlib.sha256(canonical.encode()).hexdigest() == body["frozen_hash"]
    pdf = director.get(f"/api/v1/sitreps/{sitrep.pk}/pdf")
    assert pdf.status_code == 200
    assert pdf["Content-Type"] == "application/pdf"
    content = b"".join(pdf.streaming_content)
    assert hashlib.sha256(content).hexdigest() == body["pdf_sha256"]
    # approving again: a clear 409
    again = director.post(
        f"/api/v1/sitreps/{sitrep.pk}/approve", data="{}", content_type="application/json"
    )
    assert again.status_code == 409
    assert again.json()["code"] == "already_approved"
    assert "déjà été approuvé" in again.json()["message"]


def test_operator_cannot_approve_and_observer_cannot_compile(
    personas: Any, flood_event: Any
) -> None:
    sitrep = compile_via_http(personas, flood_event, who="operator37")
    assert approve_via_http(personas, sitrep, "operator37").status_code == 403
    observer = personas.client_for("observer37")
    response = observer.post(reverse("sitreps:compile", args=[flood_event.pk]))
    assert response.status_code == 403


def test_menu_page_lists_visible_sitreps_and_hides_others(
    personas: Any, flood_event: Any, event45: Any
) -> None:
    sitrep = compile_via_http(personas, flood_event)
    page = personas.client_for("room_lead37").get(reverse("sitreps:zones"))
    assert page.status_code == 200
    assert flood_event.title in page.content.decode()
    other = personas.client_for("operator45").get(reverse("sitreps:zones"))
    assert other.status_code == 200
    assert flood_event.title not in other.content.decode()
    event_page = personas.client_for("room_lead37").get(f"/evenements/{flood_event.pk}/")
    assert reverse("sitreps:event", args=[flood_event.pk]) in event_page.content.decode()
    assert sitrep.number == 1
