"""Life cycle of a plan version: draft → review → approved → superseded; immutability; diff."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from orsec.audit.models import AuditRecord
from orsec.plans.actions import (
    PlanError,
    do_add_item,
    do_attach_document,
    do_comment_version,
    do_new_version,
    do_remove_item,
    do_replace_version_content,
    do_update_section,
)
from orsec.plans.content import serialize_version, validate_document
from orsec.plans.models import Plan, PlanVersionTransition, VersionState
from orsec.plans.tests.conftest import approve, departement

pytestmark = pytest.mark.django_db


def test_room_lead_copies_template_into_a_draft_plan(personas: Any) -> None:
    client = personas.client_for("room_lead37")
    response = client.post(
        "/plans/depuis-un-modele/",
        {"template": "canicule", "territory": departement("37").pk, "title": ""},
    )
    assert response.status_code == 302
    plan = Plan.objects.get(template_key="canicule")
    assert response["Location"] == f"/plans/{plan.pk}/"
    page = client.get(f"/plans/version/{plan.versions.get().pk}/")
    assert "Niveau 4 — Mobilisation maximale" in page.content.decode()
    version = plan.versions.get()
    assert version.state == VersionState.DRAFT
    titles = [s.title for s in version.sections.all()]
    assert [t for t in titles if t.startswith("Niveau")] == [
        "Niveau 1 — Veille saisonnière",
        "Niveau 2 — Avertissement chaleur",
        "Niveau 3 — Alerte canicule",
        "Niveau 4 — Mobilisation maximale",
    ]
    assert AuditRecord.objects.filter(action="plans.plan.created").exists()


def test_operator_may_not_copy_a_template(personas: Any) -> None:
    client = personas.client_for("operator37")
    response = client.post(
        "/plans/depuis-un-modele/", {"template": "novi", "territory": departement("37").pk}
    )
    assert response.status_code == 404  # not a territory they may create plans on


def test_review_comment_and_approval_by_http(draft_plan37: Any, personas: Any) -> None:
    version = draft_plan37.versions.get()
    lead = personas.client_for("room_lead37")
    response = lead.post(
        f"/plans/version/{version.pk}/etat/",
        {"action": "review", "reviewers": [personas.liaison_sdis37.user.pk]},
    )
    assert response.status_code == 302
    version.refresh_from_db()
    assert version.state == VersionState.REVIEW
    reviewer = personas.client_for("liaison_sdis37")
    reviewer.post(
        f"/plans/version/{version.pk}/etat/",
        {"action": "comment", "text": "Ajouter le pré-positionnement des moyens nautiques."},
    )
    assert version.comments.count() == 1
    # the room lead edits; only the préfet's staff approves
    assert (
        lead.post(
            f"/plans/version/{version.pk}/etat/",
            {"action": "approve", "decree_number": "X", "decree_date": "2026-01-05"},
        ).status_code
        == 403
    )
    director = personas.client_for("director37")
    director.post(
        f"/plans/version/{version.pk}/etat/",
        {"action": "approve", "decree_number": "2026-SIDPC-12", "decree_date": "2026-01-05"},
    )
    version.refresh_from_db()
    assert version.state == VersionState.APPROVED
    assert version.decree_number == "2026-SIDPC-12"
    assert version.approved_by == personas.director37.user
    draft_plan37.refresh_from_db()
    assert draft_plan37.review_due == date(2031, 1, 5)
    states = list(PlanVersionTransition.objects.filter(version=version).values_list("old", "new"))
    assert states == [("", "draft"), ("draft", "review"), ("review", "approved")]
    page = director.get(f"/plans/version/{version.pk}/")
    assert "2026-SIDPC-12" in page.content.decode()


def test_approving_a_new_version_supersedes_the_previous(
    approved_version37: Any, personas: Any
) -> None:
    v2 = do_new_version(personas.room_lead37.user, approved_version37.plan)
    assert v2.number == 2
    assert v2.state == VersionState.DRAFT
    approve(v2, personas, number="2026-PREF-002")
    approved_version37.refresh_from_db()
    assert approved_version37.state == VersionState.SUPERSEDED
    assert approved_version37.transitions.last().new == "superseded"


def test_approved_version_is_immutable(approved_version37: Any, personas: Any) -> None:
    actor = personas.room_lead37.user
    section = approved_version37.sections.first()
    sheet = approved_version37.sheets.first()
    item = sheet.items.first()
    attempts = [
        lambda: do_update_section(actor, section, title="X", body="", trigger=""),
        lambda: do_add_item(actor, sheet, text="Nouvelle action"),
        lambda: do_remove_item(actor, item),
        lambda: do_replace_version_content(
            actor, approved_version37, serialize_version(approved_version37)
        ),
        lambda: do_attach_document(
            actor, approved_version37, SimpleUploadedFile("a.pdf", b"%PDF-1.4 test")
        ),
    ]
    for attempt in attempts:
        with pytest.raises(PlanError) as caught:
            attempt()
        assert caught.value.code == "version_frozen"
        assert "ne peut plus être modifiée" in str(caught.value)
    section.refresh_from_db()
    assert section.title != "X"


def test_edit_of_approved_version_by_http_shows_clear_error(
    approved_version37: Any, personas: Any
) -> None:
    client = personas.client_for("room_lead37")
    section = approved_version37.sections.first()
    response = client.post(
        f"/plans/version/{approved_version37.pk}/section/{section.pk}/",
        {"title": "Changé", "body": "", "trigger": ""},
        follow=True,
    )
    assert "ne peut plus être modifiée" in response.content.decode()
    section.refresh_from_db()
    assert section.title != "Changé"


def test_draft_edits_and_diff_page(approved_version37: Any, personas: Any) -> None:
    actor = personas.room_lead37.user
    v2 = do_new_version(actor, approved_version37.plan)
    sheet = v2.sheets.get(key="sdis-alerte")
    do_add_item(actor, sheet, text="Armer le PC de colonne inondation.")
    do_remove_item(actor, v2.sheets.get(key="cod-sortie").items.get(key="retex"))
    section = v2.sections.get(key="inondation")
    do_update_section(
        actor, section, title=section.title, body=section.body, trigger="Vigilance rouge crues."
    )
    client = personas.client_for("operator37")
    response = client.get(f"/plans/version/{v2.pk}/comparer/{approved_version37.pk}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Armer le PC de colonne inondation." in html
    assert "ajoutée" in html
    assert "retirée" in html
    assert "modifiée" in html
    assert "trigger" in html


def test_stale_draft_edit_is_refused(draft_plan37: Any, personas: Any) -> None:
    version = draft_plan37.versions.get()
    sheet = version.sheets.first()
    do_add_item(personas.room_lead37.user, sheet, text="Une", expected_revision=0)
    with pytest.raises(PlanError) as caught:
        do_add_item(personas.room_lead37.user, sheet, text="Deux", expected_revision=0)
    assert caught.value.code == "conflict"


def test_comment_on_a_draft_is_refused(draft_plan37: Any, personas: Any) -> None:
    with pytest.raises(PlanError):
        do_comment_version(personas.room_lead37.user, draft_plan37.versions.get(), text="Trop tôt")


def test_added_item_gets_an_exportable_key(draft_plan37: Any, personas: Any) -> None:
    version = draft_plan37.versions.get()
    sheet = version.sheets.get(key="mairie-alerte")
    item = do_add_item(personas.room_lead37.user, sheet, text="À l'école : évacuer la cour")
    assert item.key == "a-l-ecole-evacuer-la-cour"
    twin = do_add_item(personas.room_lead37.user, sheet, text="À l'école : évacuer la cour")
    assert twin.key == "a-l-ecole-evacuer-la-cour-2"
    validate_document(serialize_version(version))
