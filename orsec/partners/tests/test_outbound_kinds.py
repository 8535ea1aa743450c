"""Outbound messages other than disseminated entries: « Envoyer en EMSI » (page and API) and
EDXL-DE endpoints (the message inside an envelope whose distributionStatus is the event's mode).
The SITREP trigger is tested with the SITREP life cycle (``orsec/sitreps/tests``)."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from django.urls import reverse

from orsec.audit.models import AuditRecord
from orsec.interop.edxlde.parse import parse_edxlde, read_envelope
from orsec.interop.emsi.validate import read_valid_emsi
from orsec.interop.validate import validate_message
from orsec.journal.models import JournalEntry
from orsec.partners.actions import do_queue_outbound
from orsec.partners.models import EndpointKind, OutboundMessage
from orsec.partners.tasks import deliver_message
from orsec.partners.tests.outbound_server import partner_receiver
from orsec.partners.tests.test_outbound import make_endpoint

pytestmark = pytest.mark.django_db

CAP = b"""<?xml version="1.0" encoding="UTF-8"?>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">
  <identifier>fr.orsec.37.exercice-1</identifier>
  <sender>cod37@orsec.example.fr</sender>
  <sent>2026-11-29T08:00:00+01:00</sent>
  <status>Exercise</status>
  <msgType>Alert</msgType>
  <scope>Public</scope>
  <info>
    <category>Met</category>
    <event>Crue</event>
    <urgency>Immediate</urgency>
    <severity>Severe</severity>
    <certainty>Likely</certainty>
    <area><areaDesc>Amboise</areaDesc></area>
  </info>
</alert>"""


@pytest.fixture(autouse=True)
def outbound_settings(settings: Any) -> Any:
    settings.ORSEC_OUTBOUND_ALLOWED_HOSTS = ["127.0.0.1"]
    settings.ORSEC_OUTBOUND_ALLOW_HTTP_LOOPBACK = True
    settings.ORSEC_OUTBOUND_TIMEOUT_SECONDS = 1
    return settings


def test_edxlde_endpoint_gets_the_cap_in_an_exercise_envelope_over_loopback(
    personas: Any, exercise_event: Any
) -> None:
    with partner_receiver() as receiver:
        endpoint, _secret = make_endpoint(
            personas,
            receiver.url,
            kind=EndpointKind.EDXL_DE,
            subscriptions=("cap.alert",),
            modes=("exercise",),
        )
        message = do_queue_outbound(
            endpoint,
            "cap.alert",
            CAP,
            "application/cap+xml",
            event=exercise_event,
            standard="CAP 1.2",
        )
        assert message.standard == "EDXL-DE/CAP 1.2"
        assert deliver_message(message.pk)["state"] == "delivered"
        body = receiver.received[0].body
    envelope = read_envelope(parse_edxlde(body))
    assert envelope.status == "Exercise"
    assert envelope.distribution_id.endswith(str(message.delivery_id))
    assert validate_message(body).is_valid
    # the raw form kept is what was sent, the main courante entry carries its digest
    assert bytes(message.body) == body
    entry = message.journal_entry
    assert entry is not None
    assert entry.data["sha256"] == message.body_sha256


def test_edxlde_endpoint_gets_a_webhook_json_as_other_content(
    personas: Any, flood_event: Any
) -> None:
    endpoint, _secret = make_endpoint(
        personas, "http://127.0.0.1:9/", kind=EndpointKind.EDXL_DE, subscriptions=("sitrep",)
    )
    message = do_queue_outbound(endpoint, "sitrep", {"hash": "abc"}, event=flood_event)
    envelope = parse_edxlde(bytes(message.body)).root
    data = envelope.find(".//{*}otherContent/{*}contentData").text
    assert json.loads(base64.b64decode(data))["data"] == {"hash": "abc"}
    assert read_envelope(parse_edxlde(bytes(message.body))).status == "Actual"


def _emsi_endpoints(personas: Any, url: str) -> tuple[Any, Any]:
    raw, _s = make_endpoint(personas, url, kind=EndpointKind.RAW, subscriptions=("emsi",))
    hook, _s = make_endpoint(personas, url, subscriptions=("emsi",))
    return raw, hook


def test_room_lead_sends_the_event_in_emsi_through_the_api(personas: Any, flood_event: Any) -> None:
    raw, hook = _emsi_endpoints(personas, "http://127.0.0.1:9/")
    client = personas.client_for("room_lead37")
    response = client.post(f"/api/v1/events/{flood_event.pk}/emsi/send")
    assert response.status_code == 202, response.content
    assert len(response.json()["messages"]) == 2
    sent_raw = OutboundMessage.objects.get(endpoint=raw)
    verdict, emsi = read_valid_emsi(bytes(sent_raw.body))
    assert verdict.is_valid, verdict.errors
    assert emsi is not None
    assert emsi.mode == "real"
    sent_hook = OutboundMessage.objects.get(endpoint=hook)
    assert json.loads(bytes(sent_hook.body))["data"]["emsi"]["CONTEXT"]["MODE"] == "ACTUAL"
    assert AuditRecord.objects.filter(action="partners.emsi.sent").count() == 1
    assert JournalEntry.objects.filter(chain__event=flood_event, kind="outgoing").count() == 2


def test_emsi_send_of_another_territory_event_is_404_and_without_recipient_409(
    personas: Any, flood_event: Any, event45: Any
) -> None:
    client = personas.client_for("room_lead37")
    assert client.post(f"/api/v1/events/{event45.pk}/emsi/send").status_code == 404
    response = client.post(f"/api/v1/events/{flood_event.pk}/emsi/send")
    assert response.status_code == 409
    assert response.json()["code"] == "no_recipient"
    assert (
        personas.client_for("operator45")
        .post(f"/api/v1/events/{flood_event.pk}/emsi/send")
        .status_code
        == 404
    )
    assert not OutboundMessage.objects.exists()


def test_room_lead_sends_in_emsi_from_the_event_page(personas: Any, flood_event: Any) -> None:
    raw, _hook = _emsi_endpoints(personas, "http://127.0.0.1:9/")
    client = personas.client_for("room_lead37")
    page = client.get(reverse("dashboards:event", args=[flood_event.pk]))
    url = reverse("partners:event_emsi", args=[flood_event.pk])
    assert url in page.content.decode()
    confirm = client.get(url)
    assert confirm.status_code == 200
    assert "Passerelle SDIS" in confirm.content.decode()
    response = client.post(url)
    assert response.status_code == 302
    assert OutboundMessage.objects.filter(endpoint=raw, kind="emsi").count() == 1


def test_people_without_the_dissemination_ability_cannot_send_in_emsi(
    personas: Any, flood_event: Any
) -> None:
    _emsi_endpoints(personas, "http://127.0.0.1:9/")
    url = reverse("partners:event_emsi", args=[flood_event.pk])
    assert personas.client_for("operator45").post(url).status_code == 404
    assert personas.client_for("observer37").post(url).status_code in (403, 404)
    assert not OutboundMessage.objects.exists()
