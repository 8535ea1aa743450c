"""Interop admin: sender ids written through audited actions, inbound messages read only;
administrators of the partner's organisation only."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from orsec.accounts.testing import log_in_verified
from orsec.audit.models import AuditRecord
from orsec.interop.models import InboundMessage, PartnerSender

pytestmark = pytest.mark.django_db

SENDERS = "/admin/interop/partnersender/"
MESSAGES = "/admin/interop/inboundmessage/"


def _message(organisation: Any, **overrides: Any) -> InboundMessage:
    data: dict[str, Any] = {
        "organisation": organisation,
        "standard": "EDXL-DE 2.0",
        "sender_id": "fr.fire.nexsis.sdis37",
        "distribution_id": "d-1",
        "sha256": "0" * 64,
        "size": 24,
        "raw": b"<edxlDistribution>brut</edxlDistribution>",
        "received_at": timezone.now(),
        "verdict": "invalid",
        "errors": [{"path": "/senderID", "code": "sender_not_partner", "message": "x"}],
    }
    data.update(overrides)
    return InboundMessage.objects.create(**data)


def test_administrator_declares_changes_and_withdraws_a_sender_id_audited(personas: Any) -> None:
    client = personas.client_for("admin")
    sdis = personas.organisations["sdis37"]
    response = client.post(
        SENDERS + "add/",
        {"organisation": sdis.pk, "sender_id": " fr.fire.nexsis.sdis37 ", "description": "NexSIS"},
    )
    assert response.status_code == 302, response.content
    sender = PartnerSender.objects.get()
    assert sender.sender_id == "fr.fire.nexsis.sdis37"
    created = AuditRecord.objects.get(action="interop.sender.created")
    assert created.actor_id == personas.admin.user.pk
    assert created.data["sender_id"] == "fr.fire.nexsis.sdis37"
    response = client.post(
        f"{SENDERS}{sender.pk}/change/",
        {"organisation": sdis.pk, "sender_id": "fr.fire.nexsis.sdis37b", "description": "NexSIS"},
    )
    assert response.status_code == 302
    changed = AuditRecord.objects.get(action="interop.sender.changed")
    assert changed.data["changed"] == ["sender_id"]
    response = client.post(f"{SENDERS}{sender.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not PartnerSender.objects.exists()
    assert AuditRecord.objects.filter(action="interop.sender.deleted").count() == 1


def test_administrator_reads_an_inbound_message_raw_form_and_filters(personas: Any) -> None:
    message = _message(personas.organisations["sdis37"])
    client = personas.client_for("admin")
    listing = client.get(MESSAGES, {"verdict__exact": "invalid", "standard": "EDXL-DE 2.0"})
    assert listing.status_code == 200
    assert f"{MESSAGES}{message.pk}/change/" in listing.content.decode()
    assert (
        client.get(MESSAGES, {"verdict__exact": "valid"})
        .content.decode()
        .count(f"{MESSAGES}{message.pk}/change/")
        == 0
    )
    detail = client.get(f"{MESSAGES}{message.pk}/change/")
    assert detail.status_code == 200
    assert "&lt;edxlDistribution&gt;brut" in detail.content.decode()
    assert "sender_not_partner" in detail.content.decode()
    # read only: no change, no add, no delete
    client.post(f"{MESSAGES}{message.pk}/change/", {"standard": "CAP 1.2"})
    message.refresh_from_db()
    assert message.standard == "EDXL-DE 2.0"
    assert client.get(MESSAGES + "add/").status_code == 403
    assert client.post(f"{MESSAGES}{message.pk}/delete/", {"post": "yes"}).status_code == 403
    assert InboundMessage.objects.filter(pk=message.pk).exists()


def test_non_administrators_cannot_reach_senders_or_messages(personas: Any) -> None:
    sender = PartnerSender.objects.create(
        organisation=personas.organisations["sdis37"], sender_id="fr.fire.nexsis.sdis37"
    )
    message = _message(personas.organisations["sdis37"])
    for key in ("operator37", "liaison_sdis37", "operator45"):
        client = personas.client_for(key)
        for url in (SENDERS, f"{SENDERS}{sender.pk}/change/", MESSAGES, f"{MESSAGES}{message.pk}/"):
            assert client.get(url).status_code in (302, 403, 404), (key, url)
        client.post(SENDERS + "add/", {"organisation": personas.organisations["sdis37"].pk})
    assert PartnerSender.objects.count() == 1
    assert not AuditRecord.objects.filter(action__startswith="interop.sender").exists()


def test_an_administrator_of_loiret_sees_no_indre_et_loire_sender_nor_message(
    personas: Any,
) -> None:
    sender = PartnerSender.objects.create(
        organisation=personas.organisations["sdis37"], sender_id="fr.fire.nexsis.sdis37"
    )
    message = _message(personas.organisations["sdis37"])
    admin45 = personas.operator45.user
    admin45.is_staff = True
    admin45.save()
    client = log_in_verified(Client(), admin45)
    assert "fr.fire.nexsis.sdis37" not in client.get(SENDERS).content.decode()
    assert client.get(f"{SENDERS}{sender.pk}/change/").status_code in (302, 404)
    assert client.get(f"{MESSAGES}{message.pk}/change/").status_code in (302, 404)
    response = client.post(
        SENDERS + "add/",
        {"organisation": personas.organisations["sdis37"].pk, "sender_id": "intrus"},
    )
    assert response.status_code == 200  # the organisation is not a choice for them
    assert not PartnerSender.objects.filter(sender_id="intrus").exists()
