"""The partner inbox through HTTP, with the SDIS 37 dispatch token."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from orsec.interop.models import InboundMessage, PartnerSender
from orsec.journal.models import JournalEntry
from orsec.reports.models import FieldReport

FIXTURES = Path(__file__).parent / "fixtures"
URL = "/api/v1/interop/inbox"
SAMPLE = (FIXTURES / "hubsante/samples/valid/RC-EDA/RC-EDA.json").read_bytes()
EDXL = (FIXTURES / "hubsante/examples-hub-sante-repo/samuB_to_samuA.xml").read_bytes()

pytestmark = pytest.mark.django_db


@pytest.fixture
def sdis_sender(personas: Any) -> None:
    org = personas.organisations["sdis37"]
    PartnerSender.objects.create(organisation=org, sender_id="fr.health.samuA")
    PartnerSender.objects.create(organisation=org, sender_id="fr.health.samuB")


def _post(partner: Any, data: bytes, content_type: str, **extra: Any) -> Any:
    return partner.client.post(URL, data=data, content_type=content_type, **extra)


def test_partner_create_case_opens_event_with_report_entry_and_rc_ref(
    partner_sdis37: Any, sdis_sender: None
) -> None:
    response = _post(partner_sdis37, SAMPLE, "application/json")
    assert response.status_code == 200, response.content
    answer = response.json()
    message = answer["content"][0]["jsonContent"]["embeddedJsonContent"]["message"]
    assert (
        message["reference"]["distributionID"]
        == "fr.health.samuA_2608323d-507d-4cbf-bf74-52007f8124ea"
    )
    inbound = InboundMessage.objects.get(imported=True)
    assert inbound.event is not None
    assert inbound.event.mode == "real"
    assert inbound.case_id == "fr.health.samu690.DRFR15690240430050"
    assert FieldReport.objects.filter(pk__in=inbound.report_ids, event=inbound.event).count() == 1
    entry = JournalEntry.objects.get(pk=inbound.entry_ids[0])
    assert "message entrant" in entry.text
    assert entry.attachments.count() == 1


def test_partner_replay_is_acknowledged_and_imports_nothing(
    partner_sdis37: Any, sdis_sender: None
) -> None:
    first = _post(partner_sdis37, SAMPLE, "application/json")
    reports = FieldReport.objects.count()
    entries = JournalEntry.objects.count()
    second = _post(partner_sdis37, SAMPLE, "application/json")
    assert second.status_code == 200
    assert second.content == first.content
    assert FieldReport.objects.count() == reports
    assert JournalEntry.objects.count() == entries
    assert InboundMessage.objects.filter(replay_of__isnull=False).count() == 1


def test_partner_with_an_undeclared_sender_gets_an_error(partner_sdis37: Any) -> None:
    response = _post(partner_sdis37, SAMPLE, "application/json")
    assert response.status_code == 422
    error = response.json()["content"][0]["jsonContent"]["embeddedJsonContent"]["message"]["error"]
    assert "sender_not_partner" in error["errorCause"]
    assert not FieldReport.objects.exists()


def test_partner_expired_edxlde_is_refused_with_an_error_envelope(
    partner_sdis37: Any, sdis_sender: None
) -> None:
    data = EDXL.replace(b"<dateTimeExpires>2072", b"<dateTimeExpires>2023")
    response = _post(partner_sdis37, data, "application/xml")
    assert response.status_code == 422
    assert b"<distributionKind>Error</distributionKind>" in response.content
    assert not InboundMessage.objects.filter(imported=True).exists()


def test_partner_edxlde_is_acknowledged_with_an_ack_envelope(
    partner_sdis37: Any, sdis_sender: None
) -> None:
    response = _post(partner_sdis37, EDXL, "application/xml")
    assert response.status_code == 200, response.content
    assert b"<distributionKind>Ack</distributionKind>" in response.content


def test_partner_hostile_message_is_refused_and_nothing_written(partner_sdis37: Any) -> None:
    data = b'<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/passwd">]><a>&x;</a>'
    response = _post(partner_sdis37, data, "application/xml")
    assert response.status_code == 400
    assert response.json()["code"] == "xml_doctype_forbidden"
    assert not InboundMessage.objects.exists()


def test_partner_unknown_format_and_oversize(partner_sdis37: Any) -> None:
    assert _post(partner_sdis37, b"\x89PNG", "image/png").status_code == 415
    assert _post(partner_sdis37, b'{"hello": 1}', "application/json").status_code == 415
    big = b"<a>" + b"x" * (3 * 1024 * 1024) + b"</a>"
    assert _post(partner_sdis37, big, "application/xml").status_code == 413


def test_partner_of_sdis37_cannot_import_into_a_loiret_event(
    partner_sdis37: Any, sdis_sender: None, event45: Any
) -> None:
    response = partner_sdis37.client.post(
        f"{URL}?event={event45.pk}", data=SAMPLE, content_type="application/json"
    )
    assert response.status_code == 404
    assert not InboundMessage.objects.exists()


def test_partner_exercise_message_into_real_event_is_refused(
    partner_sdis37: Any, sdis_sender: None, flood_event: Any
) -> None:
    data = SAMPLE.replace(b'"Actual"', b'"Exercise"')
    response = partner_sdis37.client.post(
        f"{URL}?event={flood_event.pk}", data=data, content_type="application/json"
    )
    assert response.status_code == 422
    assert b"mode_mismatch" in response.content
