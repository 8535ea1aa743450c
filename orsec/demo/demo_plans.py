"""The demo's ORSEC plan: the inondation plan of Indre-et-Loire, copied from the portal's
template, approved by arrêté, activated on the flood event; SDIS 37 and the mairie of Tours have
ticked a few items of their fiches réflexes so that the event page shows progress. All numbers
are fictional. Called by ``load_demo`` once the events are built.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from orsec.events.models import Event
from orsec.plans.actions import (
    do_activate_plan,
    do_approve_version,
    do_copy_template,
    do_record_exercise,
    do_submit_for_review,
    do_tick_item,
)
from orsec.plans.models import ChecklistItem, Plan

DEMO_DECREE = "2025-SIDPC-037-14"


@transaction.atomic
def build_plans_demo(
    event: Event, people: dict[str, Any], *, now: datetime | None = None
) -> Plan | None:
    """Does nothing when the demo plan already exists (loading is idempotent)."""
    if (
        Plan.objects.filter(territory=event.departement_id or event.territory_id)
        .filter(template_key="inondation")
        .exists()
    ):
        return None
    now = now or timezone.now()
    lead, director = people["room_lead37"], people["director37"]
    plan = do_copy_template(
        lead,
        "inondation",
        territory=event.departement or event.territory,
        title="ORSEC Indre-et-Loire — Dispositions spécifiques inondations",
    )
    version = plan.versions.get()
    do_submit_for_review(lead, version, reviewers=[people["liaison_sdis37"], people["mayor_tours"]])
    do_approve_version(director, version, decree_number=DEMO_DECREE, decree_date=date(2025, 11, 3))
    do_record_exercise(
        lead,
        plan,
        held_on=date(2025, 3, 18),
        title="Exercice crue de la Loire — Tours et Amboise",
        notes="Alerte des communes riveraines en 40 minutes ; CARE ouvert en 1 h 30.",
    )
    sections = list(version.sections.filter(key__in=["inondation", "evacuation"]))
    do_activate_plan(lead, event, version, sections, now=now - timedelta(minutes=60))
    for key, how_many in (("liaison_sdis37", 2), ("mayor_tours", 3)):
        user = people[key]
        organisation = user.memberships.filter(is_active=True).first().organisation
        items = ChecklistItem.objects.filter(event=event, organisation=organisation).order_by(
            "order"
        )[:how_many]
        for item in items:
            do_tick_item(user, item, done=True, expected_revision=item.revision)
    return plan
