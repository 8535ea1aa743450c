"""Alert schemes edited through the pages: saved through the action, bad input, access."""

from __future__ import annotations

from typing import Any

import pytest

from orsec.audit.models import AuditRecord
from orsec.oncall.models import AlertScheme

pytestmark = pytest.mark.django_db


def scheme_post(personas: Any, oncall: Any, **overrides: Any) -> dict[str, Any]:
    sdis, pref = personas.organisations["sdis37"], personas.organisations["pref37"]
    data: dict[str, Any] = {
        "name": "TMD — Indre-et-Loire",
        "territory": pref.territory_id,
        "event_types": ["hazmat"],
        "is_active": "on",
        "form-TOTAL_FORMS": "3",
        "form-INITIAL_FORMS": "0",
        "form-0-organisation": sdis.pk,
        "form-0-roster": oncall.codis.pk,
        "form-0-instruction": "Moyens engagés",
        "form-1-organisation": pref.pk,
        "form-1-roster": oncall.prefecture.pk,
        "form-2-organisation": "",
    }
    data.update(overrides)
    return data


def test_director37_creates_a_scheme_through_the_page(personas: Any, oncall: Any) -> None:
    client = personas.client_for("director37")
    form = client.get("/astreintes/schemas/nouveau/")
    assert form.status_code == 200
    assert "Officier CODIS" in form.content.decode()
    response = client.post("/astreintes/schemas/nouveau/", scheme_post(personas, oncall))
    assert response.status_code == 302
    scheme = AlertScheme.objects.get(name="TMD — Indre-et-Loire")
    assert scheme.event_types == ["hazmat"]
    assert [s.roster_id for s in scheme.steps.order_by("order")] == [
        oncall.codis.pk,
        oncall.prefecture.pk,
    ]
    assert AuditRecord.objects.filter(
        action="oncall.scheme.created", target_id=str(scheme.pk)
    ).exists()


def test_scheme_without_event_type_or_with_mismatched_roster_is_refused(
    personas: Any, oncall: Any
) -> None:
    client = personas.client_for("director37")
    response = client.post(
        "/astreintes/schemas/nouveau/", scheme_post(personas, oncall, event_types=[])
    )
    assert response.status_code == 400
    assert "au moins un type" in response.content.decode()
    mismatch = scheme_post(
        personas, oncall, **{"form-0-organisation": personas.organisations["pref37"].pk}
    )
    response = client.post("/astreintes/schemas/nouveau/", mismatch)
    assert response.status_code == 400
    assert "appartient pas à Préfecture 37" in response.content.decode()
    assert not AlertScheme.objects.filter(name="TMD — Indre-et-Loire").exists()


def test_room_lead_edits_scheme_steps(personas: Any, oncall: Any) -> None:
    client = personas.client_for("room_lead37")
    assert client.get(f"/astreintes/schemas/{oncall.scheme.pk}/modifier/").status_code == 200
    data = scheme_post(personas, oncall, name=oncall.scheme.name, event_types=["flood"])
    response = client.post(f"/astreintes/schemas/{oncall.scheme.pk}/modifier/", data)
    assert response.status_code == 302
    oncall.scheme.refresh_from_db()
    assert oncall.scheme.steps.count() == 2
    assert oncall.scheme.revision == 1


def test_operator_and_mayor_cannot_edit_schemes_other_territory_gets_404(
    personas: Any, oncall: Any
) -> None:
    url = f"/astreintes/schemas/{oncall.scheme.pk}/modifier/"
    assert personas.client_for("operator37").get(url).status_code == 403
    assert personas.client_for("mayor_tours").get(url).status_code == 404
    assert personas.client_for("mayor_tours").get("/astreintes/schemas/nouveau/").status_code == 403
    other = personas.client_for("operator45")
    assert other.get(url).status_code == 404
    assert other.post(url, scheme_post(personas, oncall)).status_code == 404
    oncall.scheme.refresh_from_db()
    assert oncall.scheme.revision == 0
