"""The demo's SITREPs: n° 1 and n° 2 of the flood, frozen, acknowledged by COZ Ouest."""

from __future__ import annotations

import time
from typing import Any

import pytest

from orsec.demo.demo_reports import build_reports_demo
from orsec.demo.demo_sitreps import build_sitreps_demo
from orsec.dissemination.models import Delivery, DeliveryState
from orsec.journal.chain import verify_chain

pytestmark = pytest.mark.django_db


def test_demo_sitreps_one_and_two_are_frozen_and_acknowledged_by_coz_ouest(
    personas: Any, flood_event: Any
) -> None:
    people = {p.key: p.user for p in personas.all()}
    build_reports_demo(flood_event, people)
    started = time.monotonic()
    first, second = build_sitreps_demo(flood_event, people, personas.organisations)
    assert time.monotonic() - started < 15
    assert [first.number, second.number] == [1, 2]
    for sitrep in (first, second):
        assert sitrep.state == "frozen"
        assert sitrep.compute_hash() == sitrep.frozen_hash
        delivery = Delivery.objects.get(entry_id=sitrep.freeze_entry_id)
        assert delivery.organisation == personas.organisations["coz_ouest"]
        assert delivery.state == DeliveryState.ACKNOWLEDGED
    assert "centre d'hébergement" in second.actions_decisions
    assert "colonne de renfort" in second.pending_requests
    assert "Décédés" in first.casualties or "Hébergés" in first.casualties
    assert build_sitreps_demo(flood_event, people, personas.organisations) == [first, second]
    assert verify_chain(flood_event.chain)[1] is None
