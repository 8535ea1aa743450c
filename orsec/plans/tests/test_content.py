"""The exchange format: schema errors with their path, broken references, export → import."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from orsec.plans.content import (
    PlanContentError,
    diff_documents,
    parse_document,
    plan_templates,
    serialize_version,
    validate_document,
)
from orsec.plans.models import Plan
from orsec.plans.tests.conftest import departement


def _inondation() -> dict[str, Any]:
    return copy.deepcopy(plan_templates()["inondation"].document)


def test_three_templates_are_shipped_and_valid() -> None:
    templates = plan_templates()
    assert set(templates) == {"inondation", "novi", "canicule"}
    canicule = templates["canicule"].document
    assert sum(1 for s in canicule["sections"] if s["title"].startswith("Niveau")) == 4


def test_unknown_field_is_refused_with_its_path() -> None:
    document = _inondation()
    document["fiches"][1]["items"][0]["couleur"] = "rouge"
    with pytest.raises(PlanContentError) as caught:
        validate_document(document)
    path, message = caught.value.errors[0]
    assert path == "$.fiches[1].items[0]"
    assert "champ inconnu « couleur »" in message


def test_fiche_pointing_to_unknown_section_is_refused() -> None:
    document = _inondation()
    document["fiches"][2]["section"] = "submersion-marine"
    with pytest.raises(PlanContentError) as caught:
        validate_document(document)
    assert caught.value.errors == [
        (
            "$.fiches[2].section",
            "la fiche « sdis-alerte » renvoie à une section inconnue « submersion-marine »",
        )
    ]


def test_bad_enum_missing_field_and_bad_json() -> None:
    document = _inondation()
    document["level"] = "canton"
    del document["sections"][0]["title"]
    with pytest.raises(PlanContentError) as caught:
        validate_document(document)
    paths = [path for path, _message in caught.value.errors]
    assert "$.level" in paths
    assert "$.sections[0]" in paths
    with pytest.raises(PlanContentError) as caught:
        parse_document(b'{"format": ')
    assert "JSON illisible" in str(caught.value)


@pytest.mark.django_db
def test_export_then_import_round_trip(approved_version37: Any, personas: Any) -> None:
    client = personas.client_for("operator37")
    response = client.get(f"/plans/version/{approved_version37.pk}/export.json")
    assert response.status_code == 200
    exported = json.loads(response.content)
    assert exported["source"]["decree_number"] == "2026-PREF-001"
    # imported by the room lead as a new plan: same content
    lead = personas.client_for("room_lead37")
    response = lead.post(
        "/api/v1/plans/import",
        {"territory_id": departement("37").pk, "document": exported},
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    plan = Plan.objects.get(pk=response.json()["plan_id"])
    again = serialize_version(plan.versions.get())
    assert diff_documents(exported, again) == []
    assert again["sections"] == exported["sections"]
    assert again["fiches"] == exported["fiches"]


@pytest.mark.django_db
def test_import_page_shows_errors_with_path(personas: Any) -> None:
    document = _inondation()
    document["fiches"][0]["section"] = "inconnue"
    document["extra"] = 1
    client = personas.client_for("room_lead37")
    upload = json.dumps(document).encode()
    response = client.post(
        "/plans/importer/",
        {
            "territory": departement("37").pk,
            "document": SimpleUploadedFile("plan.json", upload, "application/json"),
        },
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert "champ inconnu « extra »" in html
    assert Plan.objects.count() == 0


@pytest.mark.django_db
def test_api_import_broken_reference_is_422_with_path(personas: Any) -> None:
    document = _inondation()
    document["fiches"][0]["section"] = "inconnue"
    client = personas.client_for("room_lead37")
    response = client.post(
        "/api/v1/plans/import",
        {"territory_id": departement("37").pk, "document": document},
        content_type="application/json",
    )
    assert response.status_code == 422
    assert response.json()["code"] == "invalid_plan_document"
    assert "$.fiches[0].section" in response.json()["message"]
    assert Plan.objects.count() == 0
