"""Population-alert draft (CAP 1.2): the API, the page, the download and "Transmettre"."""

from __future__ import annotations

import json
from typing import Any

import pytest
from lxml import etree

from orsec.interop.cap.parse import parse_cap, read_alert
from orsec.interop.cap.validate import validate_cap
from orsec.interop.xmlpaths import load_schema
from orsec.partners.actions import do_save_endpoint
from orsec.partners.models import EndpointKind, OutboundMessage, PartnerEndpoint

pytestmark = pytest.mark.django_db

TEXTS = {
    "headline": "Crue : montez dans les étages",
    "description": "La Loire déborde à Tours.",
    "instruction": "Ne prenez pas votre véhicule.",
    "response_type": "Shelter",
    "validity_hours": "4",
    "radius_km": "2.5",
}


@pytest.fixture(autouse=True)
def outbound_settings(settings: Any) -> Any:
    settings.ORSEC_OUTBOUND_ALLOWED_HOSTS = ["127.0.0.1"]
    settings.ORSEC_OUTBOUND_ALLOW_HTTP_LOOPBACK = True
    return settings


def _endpoint(personas, *, kind=EndpointKind.RAW, modes=("real",), subscriptions=("cap.alert",)):
    actor = personas.admin.user
    actor.is_verified = lambda: True
    endpoint, _secret = do_save_endpoint(
        actor,
        PartnerEndpoint(
            organisation=personas.organisations["pref37"],
            name="Plateforme FR-Alert",
            url="http://127.0.0.1:9/cap",
            kind=kind,
            subscriptions=list(subscriptions),
            modes=list(modes),
        ),
    )
    return endpoint


def _valid_everywhere(data: bytes) -> None:
    assert load_schema("cap/cap12.xsd").validate(etree.fromstring(data))
    assert validate_cap(data).is_valid


# --- API ----------------------------------------------------------------------------------------


def test_director37_gets_the_cap_draft_from_the_api(personas, flood_event):
    response = personas.client_for("director37").get(
        f"/api/v1/events/{flood_event.pk}/cap-draft", TEXTS
    )

    assert response.status_code == 200
    assert response["Content-Type"] == "application/cap+xml; charset=utf-8"
    assert "attachment" in response["Content-Disposition"]
    _valid_everywhere(response.content)
    alert = read_alert(parse_cap(response.content))
    assert alert.status == "Actual"
    assert alert.infos[0].headline == TEXTS["headline"]
    assert alert.infos[0].areas[0].circles[0][2] == 2.5


def test_api_draft_defaults_to_the_event_texts(personas, flood_event):
    response = personas.client_for("director37").get(f"/api/v1/events/{flood_event.pk}/cap-draft")

    assert response.status_code == 200
    assert read_alert(parse_cap(response.content)).infos[0].headline == flood_event.title


def test_api_draft_of_an_exercise_event_has_status_exercise(personas, exercise_event):
    response = personas.client_for("director37").get(
        f"/api/v1/events/{exercise_event.pk}/cap-draft"
    )

    assert read_alert(parse_cap(response.content)).status == "Exercise"


def test_operator45_gets_404_on_the_d37_cap_draft(personas, flood_event):
    response = personas.client_for("operator45").get(f"/api/v1/events/{flood_event.pk}/cap-draft")

    assert response.status_code == 404


def test_observer37_without_disseminate_gets_403_forbidden(personas, flood_event):
    response = personas.client_for("observer37").get(f"/api/v1/events/{flood_event.pk}/cap-draft")

    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"


@pytest.mark.parametrize(
    ("field", "value"),
    [("headline", "x" * 161), ("validity_hours", "0"), ("radius_km", "abc"), ("headline", "")],
)
def test_api_bad_texts_get_422_with_a_french_message(personas, flood_event, field, value):
    response = personas.client_for("director37").get(
        f"/api/v1/events/{flood_event.pk}/cap-draft", {**TEXTS, field: value}
    )

    assert response.status_code == 422
    assert response.json()["code"] == "invalid_cap_draft"


# --- Page ---------------------------------------------------------------------------------------


def _url(event) -> str:
    return f"/partenaires/evenements/{event.pk}/alerte-cap/"


def test_event_page_links_to_the_draft_for_those_who_disseminate(personas, flood_event):
    html = personas.client_for("director37").get(f"/evenements/{flood_event.pk}/").content.decode()
    assert _url(flood_event) in html
    html = personas.client_for("observer37").get(f"/evenements/{flood_event.pk}/").content.decode()
    assert _url(flood_event) not in html


def test_director37_previews_and_downloads_the_draft(personas, flood_event):
    client = personas.client_for("director37")

    page = client.get(_url(flood_event))
    assert page.status_code == 200
    assert flood_event.title in page.content.decode()

    preview = client.get(_url(flood_event), TEXTS).content.decode()
    assert "Aperçu CAP 1.2" in preview
    assert "&lt;status&gt;Actual&lt;/status&gt;" in preview
    assert "Aucun système partenaire abonné" in preview

    download = client.get(_url(flood_event), {**TEXTS, "download": "1"})
    assert download["Content-Type"].startswith("application/cap+xml")
    _valid_everywhere(download.content)


def test_page_shows_form_errors_in_french(personas, flood_event):
    html = (
        personas.client_for("director37")
        .get(_url(flood_event), {**TEXTS, "validity_hours": "100"})
        .content.decode()
    )

    assert "72 heures au plus" in html
    assert "Aperçu CAP 1.2" not in html


def test_operator45_gets_404_and_observer37_403_on_the_page(personas, flood_event):
    assert personas.client_for("operator45").get(_url(flood_event)).status_code == 404
    assert personas.client_for("observer37").get(_url(flood_event)).status_code == 403


def test_director37_transmits_the_cap_to_a_subscribed_raw_endpoint(personas, flood_event):
    endpoint = _endpoint(personas)
    client = personas.client_for("director37")
    assert "Plateforme FR-Alert" in client.get(_url(flood_event), TEXTS).content.decode()

    response = client.post(_url(flood_event), {**TEXTS, "endpoint": endpoint.pk})

    assert response.status_code == 302
    message = OutboundMessage.objects.get()
    assert (message.kind, message.standard, message.event_id) == (
        "cap.alert",
        "CAP 1.2",
        flood_event.pk,
    )
    assert message.content_type == "application/cap+xml"
    _valid_everywhere(bytes(message.body))
    assert message.journal_entry is not None
    assert message.journal_entry.kind == "outgoing"


def test_transmit_to_a_webhook_endpoint_wraps_the_cap_in_json(personas, flood_event):
    endpoint = _endpoint(personas, kind=EndpointKind.WEBHOOK)

    personas.client_for("director37").post(_url(flood_event), {**TEXTS, "endpoint": endpoint.pk})

    message = OutboundMessage.objects.get()
    data = json.loads(bytes(message.body))["data"]
    assert validate_cap(data["cap"].encode()).is_valid
    assert data["identifier"].startswith("ORSEC-37-")


def test_exercise_event_does_not_offer_a_real_only_endpoint(personas, exercise_event):
    endpoint = _endpoint(personas, modes=("real",))
    client = personas.client_for("director37")

    assert "Plateforme FR-Alert" not in client.get(_url(exercise_event), TEXTS).content.decode()
    response = client.post(_url(exercise_event), {**TEXTS, "endpoint": endpoint.pk})
    assert response.status_code == 400
    assert OutboundMessage.objects.count() == 0


def test_endpoint_not_subscribed_to_cap_cannot_be_chosen(personas, flood_event):
    endpoint = _endpoint(personas, subscriptions=("journal.entry",))

    response = personas.client_for("director37").post(
        _url(flood_event), {**TEXTS, "endpoint": endpoint.pk}
    )

    assert response.status_code == 400
    assert "Choisissez un destinataire" in response.content.decode()
    assert OutboundMessage.objects.count() == 0


def test_transmit_with_bad_texts_writes_nothing(personas, flood_event):
    endpoint = _endpoint(personas)

    response = personas.client_for("director37").post(
        _url(flood_event), {**TEXTS, "headline": "", "endpoint": endpoint.pk}
    )

    assert response.status_code == 400
    assert OutboundMessage.objects.count() == 0


def test_operator45_cannot_transmit_on_a_d37_event(personas, flood_event):
    endpoint = _endpoint(personas)

    response = personas.client_for("operator45").post(
        _url(flood_event), {**TEXTS, "endpoint": endpoint.pk}
    )

    assert response.status_code == 404
    assert OutboundMessage.objects.count() == 0


def test_control_characters_in_texts_are_refused_not_a_crash(personas, flood_event):
    client = personas.client_for("director37")

    response = client.get(
        f"/api/v1/events/{flood_event.pk}/cap-draft", {**TEXTS, "headline": "Alerte\x01"}
    )
    assert response.status_code == 422
    assert "caractère de contrôle" in response.json()["message"]
    page = client.get(_url(flood_event), {**TEXTS, "description": "a\x0bb"})
    assert "caractère de contrôle" in page.content.decode()
