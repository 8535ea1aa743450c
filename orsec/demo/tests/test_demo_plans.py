"""The demo's plan: approved, activated on the flood event, some items ticked."""

from __future__ import annotations

from typing import Any

import pytest

from orsec.demo.demo_plans import DEMO_DECREE, build_plans_demo
from orsec.plans.models import ChecklistItem, VersionState

pytestmark = pytest.mark.django_db


def test_demo_plan_is_approved_activated_and_partly_ticked(flood_event: Any, personas: Any) -> None:
    people = {p.key: p.user for p in personas.all()}
    plan = build_plans_demo(flood_event, people)
    assert plan is not None
    version = plan.versions.get()
    assert version.state == VersionState.APPROVED
    assert version.decree_number == DEMO_DECREE
    done = ChecklistItem.objects.filter(event=flood_event, done=True)
    assert done.filter(organisation=personas.organisations["sdis37"]).count() == 2
    assert done.filter(organisation=personas.organisations["mairie_tours"]).count() == 3
    assert build_plans_demo(flood_event, people) is None  # idempotent
    html = personas.client_for("operator37").get(f"/evenements/{flood_event.pk}/").content
    assert b"SDIS 37" in html
    assert b"panneau-plan_progress" in html
