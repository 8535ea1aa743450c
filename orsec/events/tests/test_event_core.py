"""Events through their actions and access functions: life cycle, journal, visibility."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.http import Http404
from django.utils import timezone

from orsec.accounts.access import scope_of
from orsec.events.access import (
    access_event_by_id,
    event_visible,
    events_visible_to,
    get_event_abilities,
)
from orsec.events.actions import (
    EventRuleError,
    add_participant,
    do_change_phase,
    do_close_event,
    do_decide_escalation,
    do_evaluate_escalation,
    do_share_event,
)
from orsec.events.geo import LocationError, validate_geometry
from orsec.events.models import Criterion, EscalationRule, EventTransition, Phase, Visibility
from orsec.journal.chain import verify_chain
from orsec.journal.models import JournalEntry
from orsec.live.models import OutboxMessage

pytestmark = pytest.mark.django_db


def test_opening_records_transition_journal_outbox_and_communes(personas, flood_event):
    assert flood_event.territory_path.endswith("/D37")
    assert flood_event.departement.code == "37"
    assert [c.commune.code for c in flood_event.commune_links.select_related("commune")] == [
        "37261"
    ]
    entry = JournalEntry.objects.get(event=flood_event)
    assert entry.seq == 1
    assert entry.kind == "state_change"
    assert entry.is_highlight
    assert "Ouverture" in entry.text
    assert EventTransition.objects.filter(event=flood_event, field="opened").exists()
    assert OutboxMessage.objects.filter(topic=f"event:{flood_event.pk}").exists()


def test_exercise_entries_carry_the_marker(personas, exercise_event):
    entry = JournalEntry.objects.get(event=exercise_event)
    assert entry.mode == "exercise"
    assert entry.text.startswith("[EXERCICE]")


def test_phase_moves_forward_or_back_one_step_only(personas, flood_event):
    lead = personas.room_lead37.user
    do_change_phase(lead, flood_event, Phase.CRISIS, reason="Débordement")
    with pytest.raises(EventRuleError) as error:
        do_change_phase(lead, flood_event, Phase.WATCH)
    assert "impossible" in str(error.value)
    do_change_phase(lead, flood_event, Phase.ALERT, reason="Décrue")
    fields = list(EventTransition.objects.filter(event=flood_event).values_list("field", "new"))
    assert fields == [("opened", "alert"), ("phase", "crisis"), ("phase", "alert")]


def test_closing_requires_a_final_bilan(personas, flood_event):
    lead = personas.room_lead37.user
    with pytest.raises(EventRuleError) as error:
        do_close_event(lead, flood_event, "  ")
    assert error.value.code == "final_summary_required"
    flood_event.refresh_from_db()
    assert flood_event.is_open
    do_close_event(lead, flood_event, "Décrue achevée, aucun blessé, 120 personnes relogées.")
    flood_event.refresh_from_db()
    assert not flood_event.is_open
    assert not get_event_abilities(lead, flood_event)["write_journal"]


def test_chain_verifies_and_detects_an_sql_edit(personas, flood_event):
    lead = personas.room_lead37.user
    do_change_phase(lead, flood_event, Phase.CRISIS)
    chain = flood_event.chain
    assert verify_chain(chain) == (2, None)
    JournalEntry.objects.filter(event=flood_event, seq=1).update(text="réécrit")
    checked, problem = verify_chain(chain)
    assert checked == 0
    assert problem is not None
    assert problem.seq == 1
    assert "modifié" in problem.reason


def test_chain_detects_a_deleted_last_entry(personas, flood_event):
    do_change_phase(personas.room_lead37.user, flood_event, Phase.CRISIS)
    JournalEntry.objects.filter(event=flood_event, seq=2).delete()
    _, problem = verify_chain(flood_event.chain)
    assert problem is not None
    assert "fin de chaîne" in problem.reason


@pytest.mark.parametrize(
    ("persona", "visible"),
    [
        ("operator37", True),
        ("observer37", True),
        ("liaison_sdis37", True),
        ("mayor_tours", True),  # Tours is concerned by the event
        ("operator45", False),  # another département
        ("zone_ouest", False),  # not shared with the zone yet
        ("national", False),
        ("liaison_ars", False),  # regional, but not a participant yet
    ],
)
def test_visibility_before_sharing(personas, flood_event, persona, visible):
    user = getattr(personas, persona).user
    assert events_visible_to(user).filter(pk=flood_event.pk).exists() is visible
    if not visible:
        with pytest.raises(Http404):
            access_event_by_id(user, flood_event.pk)


def test_sharing_opens_the_zone_then_national(personas, flood_event):
    lead = personas.room_lead37.user
    do_share_event(lead, flood_event, Visibility.ZONE, reason="Crue majeure")
    assert access_event_by_id(personas.zone_ouest.user, flood_event.pk)
    assert not events_visible_to(personas.national.user).filter(pk=flood_event.pk).exists()
    with pytest.raises(EventRuleError):
        do_share_event(lead, flood_event, Visibility.LOCAL)
    do_share_event(lead, flood_event, Visibility.NATIONAL)
    assert access_event_by_id(personas.national.user, flood_event.pk)
    assert not events_visible_to(personas.operator45.user).filter(pk=flood_event.pk).exists()


def test_participant_organisation_sees_the_event(personas, flood_event):
    add_participant(flood_event, personas.organisations["ars_cvl"])
    assert access_event_by_id(personas.liaison_ars.user, flood_event.pk)


def test_abilities_by_role(personas, flood_event):
    def abilities(key):
        return get_event_abilities(getattr(personas, key).user, flood_event)

    assert abilities("operator37")["qualify"]
    assert not abilities("operator37")["close"]
    assert abilities("room_lead37")["close"]
    assert abilities("room_lead37")["change_phase"]
    assert not abilities("observer37")["qualify"]
    assert not abilities("observer37")["submit_report"]
    assert abilities("mayor_tours")["submit_report"]
    assert not abilities("mayor_tours")["qualify"]


def test_escalation_rule_proposes_and_a_human_decides(personas, flood_event):
    rule = EscalationRule.objects.create(
        name="Au moins 5 victimes", criterion=Criterion.VICTIMS_AT_LEAST, threshold=5
    )
    assert do_evaluate_escalation(flood_event, {"dead": 1, "absolute": 2}) == []
    (proposal,) = do_evaluate_escalation(flood_event, {"dead": 1, "absolute": 2, "relative": 3})
    assert proposal.rule == rule
    assert proposal.target == Visibility.NATIONAL
    assert do_evaluate_escalation(flood_event, {"dead": 9}) == []  # proposed once
    flood_event.refresh_from_db()
    assert flood_event.visibility == Visibility.LOCAL  # only proposed
    with pytest.raises(EventRuleError):
        do_decide_escalation(personas.room_lead37.user, proposal, accept=False, reason="")
    do_decide_escalation(personas.room_lead37.user, proposal, accept=True)
    flood_event.refresh_from_db()
    assert flood_event.visibility == Visibility.NATIONAL
    with pytest.raises(EventRuleError) as error:
        do_decide_escalation(personas.room_lead37.user, proposal, accept=True)
    assert error.value.code == "already_decided"


def test_road_blocked_rule_uses_the_clock(personas, flood_event):
    EscalationRule.objects.create(
        name="Trafic interrompu > 2 h", criterion=Criterion.ROAD_BLOCKED_HOURS, threshold=2
    )
    now = timezone.now()
    flood_event.major_road_blocked_since = now - timedelta(hours=1)
    assert do_evaluate_escalation(flood_event, now=now) == []
    assert len(do_evaluate_escalation(flood_event, now=now + timedelta(hours=1, seconds=1))) == 1


@pytest.mark.parametrize(
    ("geometry", "message"),
    [
        ({"type": "Point", "coordinates": [200, 47]}, "hors du domaine"),
        ({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1]]]}, "4 positions"),
        ({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1]]]}, "fermé"),
        ({"type": "LineString", "coordinates": [[0, 0], [1, 1]]}, "Point et Polygon"),
        ({"type": "Point", "coordinates": [1, 2], "crs": {}}, "crs"),
        ({"type": "Point", "coordinates": ["a", 2]}, "non numériques"),
    ],
)
def test_bad_geometries_are_refused_with_a_reason(geometry, message):
    with pytest.raises(LocationError) as error:
        validate_geometry(geometry)
    assert message in str(error.value)


def test_one_event_check_agrees_with_the_list_query(personas, flood_event, exercise_event, event45):
    """access_event_by_id (Python rule) and events_visible_to (SQL rule) never disagree."""
    lead = personas.room_lead37.user
    add_participant(exercise_event, personas.organisations["ars_cvl"])
    states = []
    for step in (None, Visibility.ZONE, Visibility.NATIONAL):
        if step is not None:
            do_share_event(lead, flood_event, step)
        for persona in personas.all():
            user = persona.user
            for event in (flood_event, exercise_event, event45):
                event.refresh_from_db()
                in_list = events_visible_to(user).filter(pk=event.pk).exists()
                assert event_visible(scope_of(user), event) is in_list, (persona.key, event, step)
                states.append(in_list)
    assert True in states
    assert False in states
