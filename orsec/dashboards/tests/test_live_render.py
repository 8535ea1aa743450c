"""The ``evenement`` live channel's rendering: what a batch of outbox rows re-renders."""

from __future__ import annotations

import json

import pytest

from orsec.dashboards.live import EventChannel, event_audience, panels_for
from orsec.events.access import get_event_abilities
from orsec.journal.actions import do_add_entry, do_correct_entry, log_information
from orsec.journal.chain import chain_for_event
from orsec.journal.models import Confidentiality
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


def test_operator37_journal_entry_batch_prepends_only_the_new_entry(personas, flood_event):
    operator = personas.operator37.user
    chain = chain_for_event(flood_event)
    log_information(operator, chain, "Premier message.", channel="radio")
    first = OutboxMessage.objects.latest("id").id
    log_information(operator, chain, "Digue de Saint-Pierre surveillée.", channel="radio")
    rows = [r for r in _rows(flood_event, ["journal.entry"]) if r.id > first]
    (message,) = EventChannel().render(_grant(operator, flood_event), rows)
    swaps = json.loads(message.data)["swaps"]
    assert [(s["target"], s["mode"]) for s in swaps] == [
        ("journal-tail-vide", "remove"),
        ("journal-tail-list", "prepend"),
        ("evenement-maj", "replace"),  # the clock of the last update
    ]
    assert swaps[1]["keep"] == 20
    assert "Digue de Saint-Pierre surveillée." in swaps[1]["html"]
    assert "Premier message." not in message.data  # not the whole tail again
    assert message.id == rows[-1].id


def test_observer37_stream_never_renders_a_restricted_entry(personas, flood_event):
    lead = personas.room_lead37.user
    do_add_entry(
        lead,
        chain_for_event(flood_event),
        kind="information",
        text="Décision sensible du préfet.",
        channel="phone",
        confidentiality=Confidentiality.RESTRICTED,
    )
    rows = _rows(flood_event, ["journal.entry"])[-1:]
    observer = personas.observer37.user
    assert EventChannel().render(_grant(observer, flood_event), rows) == []
    (lead_message,) = EventChannel().render(_grant(lead, flood_event), rows)
    assert "Décision sensible du préfet." in lead_message.data


def test_a_correction_rerenders_the_corrected_entry_in_place(personas, flood_event):
    operator = personas.operator37.user
    chain = chain_for_event(flood_event)
    original = log_information(operator, chain, "Hauteur 4,20 m à Tours.", channel="radio")
    do_correct_entry(operator, original, text="Hauteur 4,30 m à Tours.", reason="erreur de saisie")
    rows = _rows(flood_event, ["journal.entry"])[-1:]
    swaps = _targets(EventChannel().render(_grant(operator, flood_event), rows))
    assert "Hauteur 4,30 m à Tours." in swaps["journal-tail-list"]
    assert "Corrigée par l" in swaps[f"entree-{original.seq}"]


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


def test_a_vigilance_change_rerenders_only_the_vigilance_panel(personas, flood_event):
    rows = [
        OutboxRow(
            id=10**9,
            topic=f"event:{flood_event.pk}",
            kind="vigilance.changed",
            mode="real",
            payload={"vigilance": 1},
        )
    ]
    assert panels_for(rows) == frozenset({"vigilances"})
    operator = personas.operator37.user
    (message,) = EventChannel().render(_grant(operator, flood_event), rows)
    targets = [s["target"] for s in json.loads(message.data)["swaps"]]
    assert "emplacement-vigilances" in targets
    assert "emplacement-journal_tail" not in targets
