"""Fixtures of the dissemination tests: a routing rule of Indre-et-Loire and confirmed entries."""

from __future__ import annotations

from typing import Any

import pytest

from orsec.dissemination.models import RoutingRule
from orsec.events.models import Event
from orsec.events.testing import departement
from orsec.journal.chain import append_entry, chain_for_event
from orsec.journal.models import JournalEntry

CASUALTIES_TEXT = "Bilan humain confirmé à Tours : 2 UA, 5 UR, 40 évacués."


@pytest.fixture
def casualty_rule(personas: Any) -> RoutingRule:
    """Bilan humain of Indre-et-Loire → SDIS and ARS (no SAMU: keeps the expectations short)."""
    return RoutingRule.objects.create(
        name="Bilan humain — 37",
        entry_kinds=["bilan"],
        report_templates=["casualties"],
        territory=departement("37"),
        organisation_kinds=["sdis", "ars"],
    )


def make_entry(
    event: Event,
    personas: Any,
    *,
    qualification: str = "confirmed",
    text: str = CASUALTIES_TEXT,
    kind: str = "bilan",
    template: str = "casualties",
) -> JournalEntry:
    return append_entry(
        chain_for_event(event),
        kind=kind,
        channel="portal",
        text=text,
        author=personas.operator37.user,
        organisation=personas.organisations["cod37"],
        qualification=qualification,
        data={"template": template},
    )


@pytest.fixture
def casualties_entry(flood_event: Event, personas: Any) -> JournalEntry:
    return make_entry(flood_event, personas)
