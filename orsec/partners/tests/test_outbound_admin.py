"""Partner endpoints and the dead-letter list in the admin: administrators only, secret shown
once, allow-list enforced on save, audited "retry now"."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from orsec.accounts.testing import log_in_verified
from orsec.audit.models import AuditRecord
from orsec.partners.actions import do_queue_outbound
from orsec.partners.models import OutboundMessage, OutboundState, PartnerEndpoint
from orsec.partners.tasks import deliver_message
from orsec.partners.tests.outbound_server import Reply, partner_receiver
from orsec.partners.tests.test_outbound import make_endpoint

pytestmark = pytest.mark.django_db

ENDPOINTS = "/admin/partners/partnerendpoint/"
MESSAGES = "/admin/partners/outboundmessage/"


@pytest.fixture(autouse=True)
def outbound_settings(settings: Any) -> Any:
    settings.ORSEC_OUTBOUND_ALLOWED_HOSTS = ["127.0.0.1", "*.sdis37.example.fr"]
    settings.ORSEC_OUTBOUND_ALLOW_HTTP_LOOPBACK = True
    settings.ORSEC_OUTBOUND_TIMEOUT_SECONDS = 1
    return settings


def _form(personas: Any, **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "organisation": personas.organisations["sdis37"].pk,
        "name": "Passerelle NexSIS 37",
        "url": "https://hooks.sdis37.example.fr/orsec",
        "kind": "webhook",
        "subscriptions": ["journal.entry", "sitrep"],
        "modes": ["real"],
        "is_active": "on",
    }
    data.update(overrides)
    return data


def test_administrator_creates_an_endpoint_and_sees_its_secret_once(personas: Any) -> None:
    client = personas.client_for("admin")
    response = client.post(ENDPOINTS + "add/", _form(personas))
    assert response.status_code == 200, response.content.decode()[:2000]
    assert "no-store" in response["Cache-Control"]
    endpoint = PartnerEndpoint.objects.get()
    assert endpoint.secret.startswith("whsec_")
    page = response.content.decode()
    assert endpoint.secret in page
    assert "il ne sera plus jamais affiché" in page
    assert endpoint.subscriptions == ["journal.entry", "sitrep"]
    assert endpoint.modes == ["real"]
    record = AuditRecord.objects.get(action="partners.endpoint.created")
    assert record.target_id == str(endpoint.pk)
    assert endpoint.secret not in str(record.data)
    change = client.get(f"{ENDPOINTS}{endpoint.pk}/change/")
    assert change.status_code == 200
    assert endpoint.secret not in change.content.decode()
    assert endpoint.secret not in client.get(ENDPOINTS).content.decode()


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("https://evil.example.com/hook", "n&#x27;est pas dans la liste des partenaires autorisés"),
        ("http://hooks.sdis37.example.fr/orsec", "Seules les adresses https://"),
        ("https://user:pw@hooks.sdis37.example.fr/", "ne doit pas contenir d&#x27;identifiants"),
    ],
)
def test_an_endpoint_outside_the_allow_list_cannot_be_saved(
    personas: Any, url: str, message: str
) -> None:
    response = personas.client_for("admin").post(ENDPOINTS + "add/", _form(personas, url=url))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not PartnerEndpoint.objects.exists()


def test_an_endpoint_without_subscription_is_refused_with_a_clear_error(personas: Any) -> None:
    response = personas.client_for("admin").post(
        ENDPOINTS + "add/", _form(personas, subscriptions=[])
    )
    assert response.status_code == 200
    assert not PartnerEndpoint.objects.exists()


def test_dead_letters_are_listed_and_retried_by_an_audited_action(
    personas: Any, flood_event: Any
) -> None:
    with partner_receiver() as receiver:
        endpoint, _secret = make_endpoint(personas, receiver.url)
        receiver.script = [Reply(status=410), Reply(status=200)]
        dead = do_queue_outbound(endpoint, "cap.alert", {"x": 1}, event=flood_event)
        alive = do_queue_outbound(endpoint, "cap.alert", {"y": 2}, event=flood_event)
        assert deliver_message(dead.pk)["state"] == OutboundState.DEAD
        client = personas.client_for("admin")
        listing = client.get(MESSAGES, {"state__exact": "dead"})
        assert listing.status_code == 200
        assert f"{MESSAGES}{dead.pk}/change/" in listing.content.decode()
        assert f"{MESSAGES}{alive.pk}/change/" not in listing.content.decode()
        detail = client.get(f"{MESSAGES}{dead.pk}/change/")
        assert detail.status_code == 200
        assert "HTTP 410" in detail.content.decode()
        response = client.post(
            MESSAGES,
            {"action": "retry_now", "_selected_action": [dead.pk, alive.pk]},
        )
        assert response.status_code == 302
        dead.refresh_from_db()
        alive.refresh_from_db()
        assert dead.state == OutboundState.QUEUED
        assert dead.attempts == 0
        assert alive.state == OutboundState.QUEUED  # untouched: it was not dead
        record = AuditRecord.objects.get(action="partners.outbound.retried")
        assert record.target_id == str(dead.pk)
        assert record.actor_id == personas.admin.user.pk
        assert deliver_message(dead.pk)["state"] == OutboundState.DELIVERED
        ids = {r.headers["x-orsec-delivery-id"] for r in receiver.received}
        assert ids == {str(dead.delivery_id)}  # the same delivery id after the manual retry


def test_non_administrators_cannot_reach_endpoints_or_messages(
    personas: Any, flood_event: Any
) -> None:
    endpoint, _secret = make_endpoint(personas, "https://hooks.sdis37.example.fr/orsec")
    message = do_queue_outbound(endpoint, "journal.entry", {"x": 1}, event=flood_event)
    for key in ("operator37", "operator45", "room_lead37"):
        client = personas.client_for(key)
        for url in (ENDPOINTS, f"{ENDPOINTS}{endpoint.pk}/change/", MESSAGES):
            assert client.get(url).status_code in (302, 403, 404), (key, url)
        response = client.post(MESSAGES, {"action": "retry_now", "_selected_action": [message.pk]})
        assert response.status_code in (302, 403, 404)
    assert not AuditRecord.objects.filter(action="partners.outbound.retried").exists()


def test_an_administrator_of_loiret_does_not_see_indre_et_loire_endpoints(
    personas: Any, flood_event: Any
) -> None:
    endpoint, _secret = make_endpoint(personas, "https://hooks.sdis37.example.fr/orsec")
    message = do_queue_outbound(endpoint, "journal.entry", {"x": 1}, event=flood_event)
    admin45 = personas.operator45.user
    admin45.is_staff = True
    admin45.save()
    client = log_in_verified(Client(), admin45)
    listing = client.get(ENDPOINTS)
    assert listing.status_code == 200
    assert "Passerelle SDIS" not in listing.content.decode()
    assert client.get(f"{ENDPOINTS}{endpoint.pk}/change/").status_code in (302, 404)
    assert client.get(f"{MESSAGES}{message.pk}/change/").status_code in (302, 404)
    response = client.post(
        ENDPOINTS + "add/", {**_form(personas), "organisation": endpoint.organisation_id}
    )
    assert response.status_code == 200  # the organisation is not a choice for them
    assert PartnerEndpoint.objects.count() == 1
    assert OutboundMessage.objects.count() == 1
