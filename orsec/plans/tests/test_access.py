"""Another territory gets 404 on every page and API endpoint; documents; exercises."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from orsec.plans.actions import (
    do_activate_plan,
    do_approve_version,
    do_create_plan,
    do_record_exercise,
    do_submit_for_review,
)
from orsec.plans.content import plan_templates
from orsec.plans.models import ChecklistItem, PlanDocument
from orsec.territories.models import Territory, TerritoryKind

pytestmark = pytest.mark.django_db


@pytest.fixture
def activated(approved_version37: Any, flood_event: Any, personas: Any) -> Any:
    sections = list(approved_version37.sections.filter(key="inondation"))
    return do_activate_plan(personas.room_lead37.user, flood_event, approved_version37, sections)


def test_operator45_gets_404_on_every_page_and_endpoint(
    activated: Any, approved_version37: Any, flood_event: Any, personas: Any
) -> None:
    version = approved_version37
    plan = version.plan
    section = version.sections.all()[0]
    sheet = version.sheets.all()[0]
    item = sheet.items.all()[0]
    check = ChecklistItem.objects.filter(event=flood_event)[0]
    document = PlanDocument.objects.create(
        version=version,
        filename="carte.pdf",
        content_type="application/pdf",
        size=9,
        sha256="0" * 64,
        content=b"%PDF-1.4\n",
        uploaded_at=version.created_at,
    )
    client = personas.client_for("operator45")
    gets = [
        f"/plans/{plan.pk}/",
        f"/plans/version/{version.pk}/",
        f"/plans/version/{version.pk}/export.json",
        f"/plans/version/{version.pk}/comparer/{version.pk}/",
        f"/plans/document/{document.pk}/",
        f"/plans/evenement/{flood_event.pk}/",
        f"/plans/evenement/{flood_event.pk}/fiches/{check.organisation_id}/",
        f"/api/v1/plans/{plan.pk}",
        f"/api/v1/plans/versions/{version.pk}/export",
        f"/api/v1/events/{flood_event.pk}/plans",
    ]
    posts = [
        (f"/plans/{plan.pk}/nouvelle-version/", {}),
        (f"/plans/{plan.pk}/importer-version/", {}),
        (f"/plans/{plan.pk}/exercices/", {"held_on": "2026-01-01", "title": "x"}),
        (f"/plans/version/{version.pk}/etat/", {"action": "comment", "text": "x"}),
        (f"/plans/version/{version.pk}/json/", {"content": "{}"}),
        (f"/plans/version/{version.pk}/documents/", {}),
        (f"/plans/version/{version.pk}/section/{section.pk}/", {"title": "x"}),
        (f"/plans/version/{version.pk}/fiche/{sheet.pk}/action/", {"text": "x"}),
        (f"/plans/version/{version.pk}/action/{item.pk}/supprimer/", {}),
        (f"/plans/evenement/{flood_event.pk}/activer/", {"version": version.pk}),
        (f"/plans/activation/{activated.pk}/desactiver/", {"reason": "x"}),
        (f"/plans/action/{check.pk}/cocher/", {"done": "1", "expected_revision": 0}),
        (f"/plans/action/{check.pk}/commentaire/", {"text": "x"}),
    ]
    for url in gets:
        assert client.get(url).status_code == 404, url
    for url, data in posts:
        assert client.post(url, data).status_code == 404, url
    response = client.post(
        f"/api/v1/plans/checklist-items/{check.pk}/tick",
        {"done": True, "expected_revision": 0},
        content_type="application/json",
    )
    assert response.status_code == 404
    response = client.post(
        "/api/v1/plans/import",
        {"plan_id": plan.pk, "document": {}},
        content_type="application/json",
    )
    assert response.status_code in (404, 422)  # schema first: nothing about the plan leaks
    assert all(p["id"] != plan.pk for p in client.get("/api/v1/plans").json())
    assert plan.title not in client.get("/plans/").content.decode()
    check.refresh_from_db()
    assert not check.done


def test_mayor_reads_the_departement_plan(approved_version37: Any, personas: Any) -> None:
    client = personas.client_for("mayor_tours")
    assert client.get(f"/plans/version/{approved_version37.pk}/").status_code == 200
    # but does not edit it
    section = approved_version37.sections.all()[0]
    response = client.post(
        f"/plans/version/{approved_version37.pk}/section/{section.pk}/", {"title": "x"}
    )
    assert response.status_code == 403


def test_bad_document_upload_is_refused(draft_plan37: Any, personas: Any) -> None:
    version = draft_plan37.versions.get()
    client = personas.client_for("room_lead37")
    executable = SimpleUploadedFile("carte.pdf", b"MZ\x90\x00\x03\x00\x00\x00" * 10)
    response = client.post(
        f"/plans/version/{version.pk}/documents/", {"document": executable}, follow=True
    )
    assert "un type accepté" in response.content.decode()
    assert not PlanDocument.objects.exists()
    pdf = SimpleUploadedFile("carte zones inondables.pdf", b"%PDF-1.7\n1 0 obj\n")
    client.post(f"/plans/version/{version.pk}/documents/", {"document": pdf})
    document = PlanDocument.objects.get()
    assert document.content_type == "application/pdf"
    download = client.get(f"/plans/document/{document.pk}/")
    assert download.status_code == 200
    assert download.content.startswith(b"%PDF")


def test_overdue_exercise_and_due_review_are_listed(personas: Any) -> None:
    tours = Territory.objects.get(kind=TerritoryKind.COMMUNE, code="37261")
    mayor = personas.mayor_tours.user
    # a communal plan (PCS) of Tours, approved in 2019, last exercised in 2020
    document = dict(plan_templates()["inondation"].document, level="commune")
    plan = do_create_plan(mayor, document, territory=tours, title="PCS de Tours")
    version = plan.versions.get()
    do_submit_for_review(mayor, version, reviewers=[personas.operator37.user])
    do_approve_version(mayor, version, decree_number="M-2019-4", decree_date=date(2019, 5, 1))
    do_record_exercise(mayor, plan, held_on=date(2020, 10, 1), title="Exercice crue")
    client = personas.client_for("operator37")
    html = client.get("/plans/").content.decode()
    assert "Exercice en retard" in html
    assert "PCS de Tours" in html
    assert "Révision à faire" in html  # due 1 May 2024
    listed = client.get("/api/v1/plans").json()
    row = next(p for p in listed if p["title"] == "PCS de Tours")
    assert row["exercise_overdue"] is True
    assert row["exercise_due"] == "2025-10-01"
    assert row["review_is_due"] is True
    # a recent exercise clears it
    do_record_exercise(mayor, plan, held_on=date(2026, 1, 10), title="Exercice 2026")
    row = next(p for p in client.get("/api/v1/plans").json() if p["title"] == "PCS de Tours")
    assert row["exercise_overdue"] is False


def test_oversized_document_is_refused(draft_plan37: Any, personas: Any, monkeypatch: Any) -> None:
    monkeypatch.setattr("orsec.plans.actions.MAX_DOCUMENT_BYTES", 1024)
    version = draft_plan37.versions.get()
    client = personas.client_for("room_lead37")
    big = SimpleUploadedFile("annexe.pdf", b"%PDF-1.7\n" + b"0" * 2048)
    response = client.post(
        f"/plans/version/{version.pk}/documents/", {"document": big}, follow=True
    )
    assert "dépasse la taille maximale" in response.content.decode()
    assert not PlanDocument.objects.exists()


def test_zone_and_national_see_the_departement_plan_through_the_api(
    approved_version37: Any, personas: Any
) -> None:
    for key in ("zone_ouest", "national"):
        client = personas.client_for(key)
        response = client.get(f"/api/v1/plans/{approved_version37.plan_id}")
        assert response.status_code == 200, key
        body = response.json()
        assert body["versions"][0]["decree_number"] == "2026-PREF-001"
        assert body["abilities"]["edit"] is False


def test_observer_may_not_tick(activated: Any, flood_event: Any, personas: Any) -> None:
    item = ChecklistItem.objects.filter(event=flood_event)[0]
    client = personas.client_for("observer37")
    assert client.get(f"/plans/evenement/{flood_event.pk}/").status_code == 200
    response = client.post(
        f"/plans/action/{item.pk}/cocher/", {"done": "1", "expected_revision": 0}
    )
    assert response.status_code == 403
