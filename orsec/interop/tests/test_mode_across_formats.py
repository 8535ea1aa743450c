"""Mode (réel / exercice / test) preserved across every format, in and out: CAP ``status``,
EDXL-DE ``distributionStatus``, EMSI ``CONTEXT/MODE``, Hub Santé RC-DE ``status``.

In: a message of each mode is imported into an event of the same mode (through the one writer,
``do_receive_message``) and refused by an event of another mode. The Hub Santé JSON envelope
knows only Actual and Exercise (RC-DE: Actual, Exercise, System): test traffic is refused there.
Out: what the portal produces for an event carries the event's mode.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from orsec.events.models import Mode
from orsec.events.testing import open_test_event
from orsec.interop.actions import do_receive_message
from orsec.interop.edxlde.parse import parse_edxlde, read_envelope
from orsec.interop.edxlde.serialize import build_distribution
from orsec.interop.emsi.parse import MODE_OF_EMSI
from orsec.interop.emsi.serialize import emsi_xml, situation_of_event
from orsec.interop.emsi.validate import read_valid_emsi
from orsec.interop.hubsante.read import STATUS_TO_MODE
from orsec.interop.hubsante.serialize import build_reference
from orsec.interop.importing import ImportContext
from orsec.interop.models import PartnerSender
from orsec.journal.actions import acting_organisation

FIXTURES = Path(__file__).parent / "fixtures"
CAP = (FIXTURES / "cap/valid/no_optional_fields.cap").read_bytes()
EMSI = (FIXTURES / "emsi/valid/EMSI-OPG-message.xml").read_bytes()
HUB = (FIXTURES / "hubsante/samples/valid/RC-EDA/RC-EDA.json").read_bytes()

#: mode → (CAP status, EDXL-DE distributionStatus, EMSI MODE, RC-DE status)
MODES = {
    "real": ("Actual", "Actual", "ACTUAL", "Actual"),
    "exercise": ("Exercise", "Exercise", "EXERCS", "Exercise"),
    "test": ("Test", "Test", "TEST", "System"),  # RC-DE has no "Test": System
}
OTHER = {"real": "exercise", "exercise": "test", "test": "real"}

pytestmark = pytest.mark.django_db


def _event(personas: Any, mode: str) -> Any:
    return open_test_event(personas.room_lead37.user, title=f"Crue ({mode})", mode=Mode(mode))


def _messages(mode: str) -> dict[str, bytes]:
    cap_status, edxl_status, emsi_mode, rcde_status = MODES[mode]
    cap = CAP.replace(b"<status>Actual</status>", f"<status>{cap_status}</status>".encode())
    emsi = EMSI.replace(b"<MODE>ACTUAL</MODE>", f"<MODE>{emsi_mode}</MODE>".encode())
    hub = json.loads(HUB)
    hub["distributionStatus"] = rcde_status
    hub["content"][0]["jsonContent"]["embeddedJsonContent"]["message"]["status"] = rcde_status
    hub["distributionID"] = f"fr.health.samuA_{mode}"
    message = hub["content"][0]["jsonContent"]["embeddedJsonContent"]["message"]
    message["messageId"] = hub["distributionID"]
    envelope = build_distribution(
        [(cap, "application/xml")], sender_id="fr.health.samuA", mode=mode, now=timezone.now()
    )
    assert f"<distributionStatus>{edxl_status}</distributionStatus>".encode() in envelope
    return {
        "CAP": cap,
        "EMSI": emsi,
        "Hub Santé": json.dumps(hub).encode(),
        "EDXL-DE": envelope,
    }


@pytest.mark.parametrize("mode", list(MODES))
def test_every_format_imports_into_an_event_of_its_mode_only(personas: Any, mode: str) -> None:
    actor = personas.room_lead37.user
    organisation = acting_organisation(actor)
    PartnerSender.objects.create(organisation=organisation, sender_id="fr.health.samuA")
    same, other = _event(personas, mode), _event(personas, OTHER[mode])
    for standard, data in _messages(mode).items():
        if standard == "Hub Santé" and mode == "test":
            # the Hub's JSON envelope knows only Actual and Exercise: test traffic cannot be
            # expressed there, and is never taken for real
            kept = do_receive_message(
                data, ImportContext(actor=actor, organisation=organisation, event=same)
            )
            assert kept.status == 422
            assert b"Actual, Exercise" in kept.body
            continue
        refused = do_receive_message(
            data, ImportContext(actor=actor, organisation=organisation, event=other)
        )
        assert refused.status == 422, (standard, refused.body[:300])
        assert b"mode" in refused.body
        accepted = do_receive_message(
            data, ImportContext(actor=actor, organisation=organisation, event=same)
        )
        assert accepted.status == 200, (standard, accepted.body[:500])
        assert accepted.outcome is not None
        assert accepted.outcome.event_id == same.pk


@pytest.mark.parametrize("mode", list(MODES))
def test_every_format_we_produce_carries_the_event_mode(personas: Any, mode: str) -> None:
    _cap_status, edxl_status, emsi_mode, rcde_status = MODES[mode]
    event = _event(personas, mode)
    # EMSI: CONTEXT/MODE, read back to the same mode
    emsi = emsi_xml(situation_of_event(event, origin_id="fr.orsec.portail", origin_name="COD 37"))
    assert f"<MODE>{emsi_mode}</MODE>".encode() in emsi
    verdict, message = read_valid_emsi(emsi)
    assert verdict.is_valid, verdict.errors
    assert message is not None
    assert message.mode == mode == MODE_OF_EMSI[emsi_mode]
    # EDXL-DE: distributionStatus around it, read back
    envelope = read_envelope(
        parse_edxlde(
            build_distribution([(emsi, "application/xml")], sender_id="x", mode=event.mode)
        )
    )
    assert envelope.status == edxl_status
    assert STATUS_TO_MODE[envelope.status] == mode
    # RC-REF acknowledgement: the RC-DE status of what it acknowledges
    reference = json.loads(
        build_reference(
            original_id="a", original_sender="b", status=rcde_status, sender_id="fr.orsec.portail"
        )
    )
    if mode == "test":  # no test status in the Hub's envelope: answered as an exercise, never real
        assert reference["distributionStatus"] == "Exercise"
    else:
        assert reference["distributionStatus"] == rcde_status
        assert STATUS_TO_MODE[reference["distributionStatus"]] == mode
