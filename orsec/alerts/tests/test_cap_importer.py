"""The CAP importer of IMPORTERS: MeteoAlarm profile → vigilances, other alerts → journal."""

# mypy: disable-error-code="union-attr"
from __future__ import annotations

from pathlib import Path

import pytest

from orsec.alerts.models import ImportedCapAlert
from orsec.interop.importing import ImportContext, NotImportable, import_message
from orsec.journal.models import JournalEntry

FIXTURES = Path(__file__).parent / "fixtures"
ORANGE = (FIXTURES / "d37_d41_orange_rain_flood_alert.xml").read_bytes()
CANADA = (FIXTURES / "canada.cap").read_bytes()


def test_meteoalarm_alert_imported_through_the_single_entry_point_goes_to_vigilances(personas):
    context = ImportContext(actor=personas.operator37.user, channel="partner")
    verdict, outcome = import_message(ORANGE, context)
    assert verdict.standard == "CAP 1.2"
    assert ImportedCapAlert.objects.count() == 1
    assert not outcome.replay
    _verdict, again = import_message(ORANGE, context)
    assert again.replay


def test_plain_cap_alert_onto_an_event_is_an_incoming_entry_then_a_replay(personas, flood_event):
    context = ImportContext(actor=personas.operator37.user, event=flood_event, channel="partner")
    verdict, outcome = import_message(CANADA, context)
    assert verdict.is_valid
    entry = JournalEntry.objects.get(pk=outcome.entry_ids[0])
    assert entry.kind == "incoming"
    assert entry.chain.event_id == flood_event.pk
    _verdict, again = import_message(CANADA, context)
    assert again.replay


def test_plain_cap_alert_outside_the_actor_territory_is_not_importable(personas):
    context = ImportContext(actor=personas.operator37.user, channel="partner")
    with pytest.raises(NotImportable) as caught:
        import_message(CANADA, context)
    assert caught.value.code == "cap_no_departement"
