"""The partner inbox, one writer (``do_receive_message``): every message audited, kept unless
hostile, CAP and EMSI payloads of an EDXL-DE envelope imported through their own importers, a
live message when something was imported, and the ``interop:submit`` verb required."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from orsec.audit.models import AuditRecord
from orsec.interop.edxlde.serialize import build_distribution
from orsec.interop.models import InboundMessage, PartnerSender
from orsec.journal.models import JournalEntry
from orsec.live.models import OutboxMessage
from orsec.reports.models import FieldReport

FIXTURES = Path(__file__).parent / "fixtures"
URL = "/api/v1/interop/inbox"
CAP = (FIXTURES / "cap/valid/no_optional_fields.cap").read_bytes()
EMSI = (FIXTURES / "emsi/valid/EMSI-OPG-message.xml").read_bytes()
SENDER = "fr.fire.nexsis.sdis37"

pytestmark = pytest.mark.django_db


@pytest.fixture
def sdis_sender(personas: Any) -> None:
    PartnerSender.objects.create(organisation=personas.organisations["sdis37"], sender_id=SENDER)


def _envelope(*payloads: bytes, mode: str = "real") -> bytes:
    return build_distribution(
        [(p, "application/xml") for p in payloads], sender_id=SENDER, mode=mode, now=timezone.now()
    )


def _post(partner: Any, data: bytes, event: Any = None) -> Any:
    url = f"{URL}?event={event.pk}" if event is not None else URL
    return partner.client.post(url, data=data, content_type="application/xml")


def test_partner_edxlde_with_a_cap_alert_imports_it_through_the_cap_importer(
    partner_sdis37: Any, sdis_sender: None, flood_event: Any
) -> None:
    response = _post(partner_sdis37, _envelope(CAP), flood_event)
    assert response.status_code == 200, response.content
    assert b"<distributionKind>Ack</distributionKind>" in response.content
    inbound = InboundMessage.objects.get(imported=True)
    assert inbound.event_id == flood_event.pk
    entries = JournalEntry.objects.filter(pk__in=inbound.entry_ids)
    assert entries.count() == 2  # the envelope's entry and the CAP importer's one
    assert any("CAP" in entry.text for entry in entries)
    audit = AuditRecord.objects.get(action="interop.inbound.imported")
    assert audit.target_id == str(inbound.pk)
    live = OutboxMessage.objects.get(kind="interop.message")
    assert live.topic == f"event:{flood_event.pk}"
    assert live.payload["inbound_message"] == inbound.pk
    assert live.mode == "real"


def test_partner_edxlde_with_an_emsi_message_files_its_bilan_humain(
    partner_sdis37: Any, sdis_sender: None, flood_event: Any
) -> None:
    response = _post(partner_sdis37, _envelope(EMSI), flood_event)
    assert response.status_code == 200, response.content
    inbound = InboundMessage.objects.get(imported=True)
    report = FieldReport.objects.get(pk__in=inbound.report_ids)
    assert report.template == "casualties"
    assert report.event_id == flood_event.pk


def test_partner_edxlde_with_an_invalid_second_payload_names_its_content_object(
    partner_sdis37: Any, sdis_sender: None, flood_event: Any
) -> None:
    broken = EMSI.replace(b"<MODE>ACTUAL</MODE>", b"<MODE>EXCERCS</MODE>")
    response = _post(partner_sdis37, _envelope(CAP, broken), flood_event)
    assert response.status_code == 422
    assert b"<distributionKind>Error</distributionKind>" in response.content
    kept = InboundMessage.objects.get()
    assert kept.verdict == "invalid"
    assert not kept.imported
    assert any("contentObject[2]" in error["path"] for error in kept.errors)
    assert not JournalEntry.objects.filter(chain__event=flood_event, text__contains="CAP").exists()
    assert AuditRecord.objects.filter(action="interop.inbound.invalid").count() == 1
    assert not OutboxMessage.objects.filter(kind="interop.message").exists()


def test_partner_exercise_cap_in_a_real_event_is_refused_and_nothing_imported(
    partner_sdis37: Any, sdis_sender: None, flood_event: Any
) -> None:
    exercise = CAP.replace(b"<status>Actual</status>", b"<status>Exercise</status>")
    response = _post(partner_sdis37, _envelope(exercise, mode="exercise"), flood_event)
    assert response.status_code == 422
    assert b"mode_mismatch" in response.content
    assert not InboundMessage.objects.filter(imported=True).exists()


def test_partner_replay_is_audited_as_a_replay_without_live_message(
    partner_sdis37: Any, sdis_sender: None, flood_event: Any
) -> None:
    data = _envelope(CAP)
    assert _post(partner_sdis37, data, flood_event).status_code == 200
    live = OutboxMessage.objects.filter(kind="interop.message").count()
    second = _post(partner_sdis37, data, flood_event)
    assert second.status_code == 200
    assert AuditRecord.objects.filter(action="interop.inbound.replay").count() == 1
    assert OutboxMessage.objects.filter(kind="interop.message").count() == live


def test_partner_hostile_message_is_audited_and_nothing_else_written(
    partner_sdis37: Any,
) -> None:
    data = b'<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/passwd">]><a>&x;</a>'
    response = _post(partner_sdis37, data)
    assert response.status_code == 400
    record = AuditRecord.objects.get(action="interop.inbound.refused")
    assert record.outcome == "denied"
    assert record.data["code"] == "xml_doctype_forbidden"
    assert "passwd" not in str(record.data)
    assert not InboundMessage.objects.exists()
    assert not JournalEntry.objects.filter(channel="partner").exists()


def test_partner_of_sdis37_cannot_post_into_a_loiret_event(
    partner_sdis37: Any, sdis_sender: None, event45: Any
) -> None:
    assert _post(partner_sdis37, _envelope(CAP), event45).status_code == 404
    assert not InboundMessage.objects.exists()


def test_our_distributions_validate_against_the_official_schema_and_our_validator() -> None:
    from orsec.interop.edxlde.parse import parse_edxlde
    from orsec.interop.validate import validate_message
    from orsec.interop.xmlpaths import load_schema

    # the strict OASIS schema (its wildcard knows no payload schema: a non-XML payload only)
    other = build_distribution(
        [(b'{"a": 1}', "application/json")],
        sender_id="fr.orsec.portail",
        mode="exercise",
        recipient=SENDER,
    )
    schema = load_schema("edxl-de/v2.0/edxl-de-v2.0-wd11.xsd")
    assert schema.validate(parse_edxlde(other).root), schema.error_log
    assert b"<distributionStatus>Exercise</distributionStatus>" in other
    # with XML payloads: the envelope schema, then each payload against its own (two steps)
    embedded = build_distribution(
        [(CAP, "application/xml"), (EMSI, "application/xml")],
        sender_id="fr.orsec.portail",
        mode="real",
    )
    verdict = validate_message(embedded)
    assert verdict.is_valid, verdict.errors
