"""The pages render for the people who use them (forms shown from the abilities)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from orsec.plans.actions import (
    do_activate_plan,
    do_copy_template,
    do_new_version,
    do_record_exercise,
    do_submit_for_review,
)
from orsec.plans.tests.conftest import departement

pytestmark = pytest.mark.django_db


def test_room_lead_pages_show_their_forms(
    approved_version37: Any, flood_event: Any, personas: Any
) -> None:
    client = personas.client_for("room_lead37")
    plan = approved_version37.plan
    html = client.get("/plans/").content.decode()
    assert "Nouveau plan depuis un modèle" in html
    assert "Mode d&#x27;action ORSEC — Nombreuses victimes (NOVI)" in html
    assert "Importer un plan" in client.get("/plans/importer/").content.decode()
    html = client.get(f"/plans/{plan.pk}/").content.decode()
    assert "Préparer une nouvelle version" in html
    assert "Enregistrer l'exercice" in html
    v2 = do_new_version(personas.room_lead37.user, plan)
    html = client.get(f"/plans/version/{v2.pk}/").content.decode()
    assert "Soumettre en relecture" in html
    assert "Modifier la section" in html
    assert "Ajouter une action" in html
    do_submit_for_review(personas.room_lead37.user, v2, reviewers=[personas.director37.user])
    html = personas.client_for("director37").get(f"/plans/version/{v2.pk}/").content.decode()
    assert "Approuver" in html
    assert "Commentaire de relecture" in html
    html = client.get(f"/plans/evenement/{flood_event.pk}/").content.decode()
    assert "Activer les sections choisies" in html
    sections = list(approved_version37.sections.filter(key="inondation"))
    do_activate_plan(personas.room_lead37.user, flood_event, approved_version37, sections)
    html = client.get(f"/plans/evenement/{flood_event.pk}/").content.decode()
    assert "Désactiver" in html
    assert "SDIS 37" in html


def test_mayor_sees_the_tours_checklist_and_ticks(
    approved_version37: Any, flood_event: Any, personas: Any
) -> None:
    sections = list(approved_version37.sections.filter(key__in=["inondation", "evacuation"]))
    do_activate_plan(personas.room_lead37.user, flood_event, approved_version37, sections)
    mairie = personas.organisations["mairie_tours"]
    client = personas.client_for("mayor_tours")
    html = client.get(f"/plans/evenement/{flood_event.pk}/fiches/{mairie.pk}/").content.decode()
    assert "Mairie — Alerte (PCS)" in html
    assert "Mairie — Évacuation" in html
    assert "Marquer fait" in html
    # an organisation without items: 404
    sdis45 = personas.organisations["cod45"]
    assert client.get(f"/plans/evenement/{flood_event.pk}/fiches/{sdis45.pk}/").status_code == 404


def test_plan_list_query_count_is_pinned(personas: Any, django_assert_max_num_queries: Any) -> None:
    lead = personas.room_lead37.user
    territory = departement("37")
    for key in ("inondation", "novi", "canicule", "inondation", "novi"):
        plan = do_copy_template(lead, key, territory=territory)
        do_record_exercise(lead, plan, held_on=date(2025, 1, 1), title="Exercice")
    client = personas.client_for("operator37")
    client.get("/plans/")  # warm caches
    # session + user + OTP device + scope = 4; plans 1, versions 1, exercises 1;
    # editable territories 1 — independent of the number of plans
    with django_assert_max_num_queries(4 + 4):
        assert client.get("/plans/").status_code == 200
    with django_assert_max_num_queries(4 + 3):
        assert client.get("/api/v1/plans").status_code == 200
