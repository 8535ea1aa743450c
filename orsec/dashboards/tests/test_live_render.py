"""The ``evenement`` live channel's rendering: what a batch of outbox rows re-renders."""

from __future__ import annotations

import json

import pytest

from orsec.dashboards.live import EventChannel, event_audience, panels_for
from orsec.events.access import get_event_abilities
from orsec.journal.actions import log_information
from orsec.journal.chain import chain_for_event
from orsec.live.channels import Grant, OutboxRow
from orsec.live.models import OutboxMessage

pytestmark = pytest.mark.django_db


def _grant(user, event) -> Grant:
    abilities = get_event_abilities(user, event)
    return Grant(
        channel="evenement",
        user_id=user.pk,
        session_key="",
        topics=(f"event:{event.pk}",),
        audience=event_audience(user, event, abilities),
        user=user,
        context={"event_id": event.pk},
    )


def _rows(event, kinds=None) -> list[OutboxRow]:
    rows = OutboxMessage.objects.filter(topic=f"event:{event.pk}").order_by("id")
    if kinds:
        rows = rows.filter(kind__in=kinds)
    return [OutboxRow(r.id, r.topic, r.kind, r.mode, r.payload) for r in rows]


def _targets(messages) -> dict[str, str]:
    (message,) = messages
    return {s["target"]: s["html"] for s in json.loads(message.data)["swaps"]}


def test_operator37_journal_entry_batch_rerenders_only_the_journal_panels(personas, flood_event):
    operator = personas.operator37.user
    log_information(
        operator, chain_for_event(flood_event), "Digue de Saint-Pierre surveillée.", channel="radio"
    )
    rows = _rows(flood_event, ["journal.entry"])
    assert panels_for(rows) == frozenset({"journal_tail", "highlights"})
    swaps = _targets(EventChannel().render(_grant(operator, flood_event), rows))
    assert set(swaps) == {"emplacement-journal_tail", "emplacement-highlights"}
    assert "Digue de Saint-Pierre surveillée." in swaps["emplacement-journal_tail"]
    assert 'id="panneau-journal_tail"' in swaps["emplacement-journal_tail"]


def test_operator37_batch_with_any_other_kind_rerenders_badges_and_every_panel(
    personas, flood_event
):
    operator = personas.operator37.user
    log_information(operator, chain_for_event(flood_event), "Point de situation.", channel="radio")
    rows = _rows(flood_event)  # the event's opening rows and the entry
    assert any(row.kind != "journal.entry" for row in rows)
    assert panels_for(rows) is None
    swaps = _targets(EventChannel().render(_grant(operator, flood_event), rows))
    for target in (
        "evenement-badges",
        "emplacement-key_figures",
        "emplacement-journal_tail",
        "emplacement-highlights",
        "emplacement-pending_acks",
    ):
        assert target in swaps, target
    assert "Point de situation." in swaps["emplacement-journal_tail"]


def test_operator45_on_a_37_event_gets_nothing_rendered(personas, flood_event):
    log_information(
        personas.operator37.user, chain_for_event(flood_event), "Texte interne 37.", channel="radio"
    )
    rows = _rows(flood_event, ["journal.entry"])
    grant = _grant(personas.room_lead37.user, flood_event)
    grant.user = personas.operator45.user  # a grant that no longer matches what the user may see
    assert EventChannel().render(grant, rows) == []
