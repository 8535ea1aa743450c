"""Activation on an event: checklists per actor, dissemination, ticks, conflicts, the panel."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from django.utils import timezone

from orsec.dissemination.models import Delivery, DeliveryState
from orsec.events.models import EventType
from orsec.journal.models import EntryKind, JournalEntry
from orsec.live.models import OutboxMessage
from orsec.oncall.actions import StepSpec, do_add_shift, do_save_alert_scheme, do_save_roster
from orsec.oncall.models import CallList, CallListItem
from orsec.plans.actions import (
    PlanError,
    do_activate_plan,
    do_approve_version,
    do_create_plan,
    do_deactivate_plan,
    do_new_version,
    do_submit_for_review,
    do_tick_item,
)
from orsec.plans.content import plan_templates
from orsec.plans.models import ActivationState, ActivationTransition, ChecklistItem
from orsec.plans.tests.conftest import approve
from orsec.territories.models import Territory, TerritoryKind

pytestmark = pytest.mark.django_db


def _activate(personas: Any, event: Any, version: Any, *keys: str) -> Any:
    sections = list(version.sections.filter(key__in=keys or ["inondation"]))
    return do_activate_plan(personas.room_lead37.user, event, version, sections)


def test_room_lead_activates_sections_by_http(
    approved_version37: Any, flood_event: Any, personas: Any
) -> None:
    client = personas.client_for("room_lead37")
    page = client.get(f"/plans/evenement/{flood_event.pk}/")
    assert page.status_code == 200
    assert "Crue de cours d&#x27;eau surveillé" in page.content.decode()
    section = approved_version37.sections.get(key="inondation")
    response = client.post(
        f"/plans/evenement/{flood_event.pk}/activer/",
        {"version": approved_version37.pk, "sections": [section.pk]},
    )
    assert response.status_code == 302
    orgs = set(
        ChecklistItem.objects.filter(event=flood_event).values_list(
            "organisation__short_name", flat=True
        )
    )
    assert {"COD 37", "SDIS 37", "Mairie de Tours", "GGD 37"} <= orgs
    entry = JournalEntry.objects.get(event_id=flood_event.pk, subject_type="plans.activation")
    assert entry.kind == EntryKind.DECISION
    assert "Activation du plan" in entry.text
    assert "2026-PREF-001" in entry.text


def test_operator_may_not_activate(
    approved_version37: Any, flood_event: Any, personas: Any
) -> None:
    client = personas.client_for("operator37")
    section = approved_version37.sections.get(key="inondation")
    response = client.post(
        f"/plans/evenement/{flood_event.pk}/activer/",
        {"version": approved_version37.pk, "sections": [section.pk]},
    )
    assert response.status_code == 403
    assert not ChecklistItem.objects.exists()


def test_draft_version_cannot_be_activated(
    draft_plan37: Any, flood_event: Any, personas: Any
) -> None:
    with pytest.raises(PlanError) as caught:
        _activate(personas, flood_event, draft_plan37.versions.get())
    assert caught.value.code == "version_not_approved"
    assert "brouillon" in str(caught.value)


def test_superseded_version_cannot_be_activated(
    approved_version37: Any, flood_event: Any, personas: Any
) -> None:
    approve(do_new_version(personas.room_lead37.user, approved_version37.plan), personas, "N2")
    approved_version37.refresh_from_db()
    with pytest.raises(PlanError) as caught:
        _activate(personas, flood_event, approved_version37)
    assert "remplacée" in str(caught.value)
    assert not ChecklistItem.objects.exists()


def test_activation_disseminates_to_actors_who_acknowledge(
    approved_version37: Any, flood_event: Any, personas: Any
) -> None:
    activation = _activate(personas, flood_event, approved_version37)
    deliveries = Delivery.objects.filter(entry=activation.journal_entry)
    recipients = {d.organisation.short_name for d in deliveries}
    assert {"SDIS 37", "Mairie de Tours", "COD 37", "GGD 37"} <= recipients
    delivery = deliveries.get(organisation=personas.organisations["sdis37"])
    client = personas.client_for("liaison_sdis37")
    response = client.post(
        f"/diffusion/remise/{delivery.pk}/prise-en-compte/", {"comment": "Moyens nautiques prêts"}
    )
    assert response.status_code in (200, 302)
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.ACKNOWLEDGED
    assert ActivationTransition.objects.filter(activation=activation, new="active").exists()
    assert OutboxMessage.objects.filter(kind="plan.checklist").exists()


def test_same_section_twice_is_refused(
    approved_version37: Any, flood_event: Any, personas: Any
) -> None:
    _activate(personas, flood_event, approved_version37)
    with pytest.raises(PlanError) as caught:
        _activate(personas, flood_event, approved_version37)
    assert caught.value.code == "already_active"


def test_sdis_liaison_ticks_and_comments_into_the_journal(
    approved_version37: Any, flood_event: Any, personas: Any
) -> None:
    _activate(personas, flood_event, approved_version37)
    sdis = personas.organisations["sdis37"]
    item = ChecklistItem.objects.filter(event=flood_event, organisation=sdis)[0]
    client = personas.client_for("liaison_sdis37")
    page = client.get(f"/plans/evenement/{flood_event.pk}/fiches/{sdis.pk}/")
    assert page.status_code == 200
    assert item.text in page.content.decode()
    response = client.post(
        f"/plans/action/{item.pk}/cocher/", {"done": "1", "expected_revision": item.revision}
    )
    assert response.status_code == 302
    item.refresh_from_db()
    assert item.done
    assert item.done_by == personas.liaison_sdis37.user
    client.post(f"/plans/action/{item.pk}/commentaire/", {"text": "Deux embarcations au port."})
    entries = JournalEntry.objects.filter(
        event_id=flood_event.pk, subject_type="plans.checklistitem", subject_id=str(item.pk)
    ).order_by("seq")
    assert [e.kind for e in entries] == [EntryKind.ACTION, EntryKind.INFORMATION]
    assert all(e.organisation_id == sdis.pk for e in entries)
    assert "Deux embarcations" in entries[1].text
    # the mayor of Tours may not tick the SDIS's items
    mayor = personas.client_for("mayor_tours")
    other = ChecklistItem.objects.filter(event=flood_event, organisation=sdis, done=False)[0]
    response = mayor.post(
        f"/plans/action/{other.pk}/cocher/", {"done": "1", "expected_revision": other.revision}
    )
    assert response.status_code == 403


def test_concurrent_tick_conflict(approved_version37: Any, flood_event: Any, personas: Any) -> None:
    _activate(personas, flood_event, approved_version37)
    item = ChecklistItem.objects.filter(
        event=flood_event, organisation=personas.organisations["sdis37"]
    )[0]
    seen = item.revision
    do_tick_item(personas.liaison_sdis37.user, item, done=True, expected_revision=seen)
    with pytest.raises(PlanError) as caught:
        do_tick_item(personas.operator37.user, item, done=True, expected_revision=seen)
    assert caught.value.code == "conflict"
    # through the API: 409 with the code
    client = personas.client_for("operator37")
    response = client.post(
        f"/api/v1/plans/checklist-items/{item.pk}/tick",
        {"done": False, "expected_revision": seen},
        content_type="application/json",
    )
    assert response.status_code == 409
    assert response.json()["code"] == "conflict"
    response = client.post(
        f"/api/v1/plans/checklist-items/{item.pk}/tick",
        {"done": False, "expected_revision": seen + 1},
        content_type="application/json",
    )
    assert response.status_code == 200
    assert response.json()["done"] is False


def test_progress_panel_on_the_event_page(
    approved_version37: Any, flood_event: Any, personas: Any
) -> None:
    _activate(personas, flood_event, approved_version37)
    item = ChecklistItem.objects.filter(
        event=flood_event, organisation=personas.organisations["sdis37"]
    )[0]
    do_tick_item(personas.liaison_sdis37.user, item, done=True, expected_revision=0)
    client = personas.client_for("operator37")
    html = client.get(f"/evenements/{flood_event.pk}/").content.decode()
    assert 'id="panneau-plan_progress"' in html
    total = ChecklistItem.objects.filter(
        event=flood_event, organisation=personas.organisations["sdis37"]
    ).count()
    assert f"1/{total}" in html
    api = client.get(f"/api/v1/events/{flood_event.pk}/plans").json()
    sdis = next(r for r in api["progress"] if r["label"] == "SDIS 37")
    assert (sdis["done"], sdis["total"]) == (1, total)


def test_deactivation_is_recorded_and_stops_ticks(
    approved_version37: Any, flood_event: Any, personas: Any
) -> None:
    activation = _activate(personas, flood_event, approved_version37)
    client = personas.client_for("room_lead37")
    client.post(f"/plans/activation/{activation.pk}/desactiver/", {"reason": "Décrue amorcée"})
    activation.refresh_from_db()
    assert activation.state == ActivationState.ENDED
    assert JournalEntry.objects.filter(
        event_id=flood_event.pk, text__startswith="Désactivation du plan"
    ).exists()
    item = activation.items.all()[0]
    with pytest.raises(PlanError) as caught:
        do_tick_item(personas.operator37.user, item, done=True, expected_revision=0)
    assert caught.value.code == "activation_ended"
    with pytest.raises(PlanError):
        do_deactivate_plan(personas.room_lead37.user, activation, reason="encore")


def test_plan_of_another_commune_does_not_apply(flood_event: Any, personas: Any) -> None:
    amboise = Territory.objects.get(kind=TerritoryKind.COMMUNE, code="37003")
    document = dict(plan_templates()["inondation"].document, level="commune")
    plan = do_create_plan(personas.room_lead37.user, document, territory=amboise)
    version = plan.versions.get()
    do_submit_for_review(personas.room_lead37.user, version, reviewers=[personas.operator37.user])
    do_approve_version(
        personas.room_lead37.user, version, decree_number="A-1", decree_date=date(2025, 1, 1)
    )
    with pytest.raises(PlanError) as caught:
        _activate(personas, flood_event, version)
    assert caught.value.code == "plan_not_applicable"


def test_activation_starts_the_flood_alert_scheme_once(
    approved_version37: Any, flood_event: Any, personas: Any
) -> None:
    lead, sdis = personas.room_lead37.user, personas.organisations["sdis37"]
    codis = do_save_roster(lead, organisation=sdis, label="Officier CODIS")
    now = timezone.now()
    do_add_shift(
        lead,
        codis,
        person_name="Cdt Eric Vasseur",
        phone="06 99 00 37 21",
        start=now - timedelta(hours=1),
        end=now + timedelta(hours=8),
    )
    do_save_alert_scheme(
        lead,
        territory=sdis.territory,
        name="Inondation — Indre-et-Loire",
        event_types=[EventType.FLOOD],
        steps=[StepSpec(sdis, roster=codis, instruction="Point sur les moyens engagés.")],
    )
    _activate(personas, flood_event, approved_version37, "inondation")
    call_list = CallList.objects.get(event=flood_event)
    item = CallListItem.objects.get(call_list=call_list)
    assert item.person_name == "Cdt Eric Vasseur"  # resolved against the roster at activation
    # a second section activated later does not start the scheme again
    other = approved_version37.sections.exclude(key="inondation").first()
    if other is not None:
        do_activate_plan(lead, flood_event, approved_version37, [other])
    assert CallList.objects.filter(event=flood_event).count() == 1
