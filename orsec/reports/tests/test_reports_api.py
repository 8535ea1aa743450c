"""Field reports API through HTTP, with the demo personas."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from orsec.audit.models import AuditRecord
from orsec.events.models import EscalationProposal, EscalationRule, Visibility
from orsec.journal.chain import verify_chain
from orsec.journal.models import EntryKind, JournalEntry
from orsec.live.models import OutboxMessage
from orsec.reports.models import FieldReport, ReportTransition
from orsec.reports.tests.helpers import JSON, qualify, submit

pytestmark = pytest.mark.django_db


def test_mayor_of_tours_submits_a_casualties_report_through_the_api(
    personas: Any, flood_event: Any
) -> None:
    client = personas.client_for("mayor_tours")
    response = submit(
        client,
        flood_event.pk,
        occurred_at=(timezone.now() - timedelta(minutes=20)).isoformat(),
        location={"type": "Point", "coordinates": [0.69, 47.39]},
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["state"] == "raw"
    assert body["template"] == "casualties"
    assert body["figures"]["dead"] == 1
    mairie = personas.organisations["mairie_tours"]
    assert body["organisation"] == (mairie.short_name or mairie.name)
    assert body["author"] == "Hélène Moreau"
    assert body["abilities"]["qualify"] is False  # a mayor submits, does not qualify
    report = FieldReport.objects.get(pk=body["id"])
    assert report.organisation == personas.organisations["mairie_tours"]
    entry = report.entry
    assert entry is not None
    assert entry.kind == EntryKind.BILAN
    assert entry.qualification == "raw"
    assert entry.subject_type == "reports.fieldreport"
    assert entry.subject_id == str(report.pk)
    assert entry.data["figures"]["absolute"] == 2
    assert OutboxMessage.objects.filter(
        topic=f"watch:{flood_event.territory_path}", kind="report.submitted"
    ).exists()
    assert OutboxMessage.objects.filter(
        topic=f"event:{flood_event.pk}", kind="journal.entry"
    ).exists()
    assert AuditRecord.objects.filter(action="reports.report.submitted").exists()


def test_operator37_confirms_with_b2_urgent_and_key_figures_show_it(
    personas: Any, flood_event: Any
) -> None:
    report_id = submit(personas.client_for("mayor_tours"), flood_event.pk).json()["id"]
    operator = personas.client_for("operator37")
    response = qualify(
        operator, report_id, "confirm", 0, reliability="B", credibility=2, priority="urgent"
    )
    assert response.status_code == 200, response.content
    assert response.json()["state"] == "confirmed"
    assert response.json()["revision"] == 1
    figures = operator.get(f"/api/v1/events/{flood_event.pk}/key-figures", headers=JSON)
    assert figures.status_code == 200
    by_key = {item["key"]: item for item in figures.json()["items"]}
    assert by_key["dead"]["value"] == 1
    assert by_key["absolute"]["report_id"] == report_id
    assert by_key["absolute"]["label"] == "Urgences absolues (UA)"
    entry = JournalEntry.objects.filter(
        qualification="confirmed", subject_type="reports.fieldreport", subject_id=str(report_id)
    ).get()
    # the confirmation entry carries the qualified information itself: what is disseminated
    assert entry.kind == EntryKind.BILAN
    assert entry.text.startswith(f"Remontée n° {report_id} confirmée (B2, Urgent).\nBilan humain")
    assert entry.data["template"] == "casualties"
    assert entry.data["figures"]["dead"] == 1
    transition = ReportTransition.objects.get(report_id=report_id, action="state")
    assert (transition.old, transition.new, transition.actor) == (
        "raw",
        "confirmed",
        personas.operator37.user,
    )


def test_confirming_without_grading_is_refused(personas: Any, flood_event: Any) -> None:
    report_id = submit(personas.client_for("mayor_tours"), flood_event.pk).json()["id"]
    response = qualify(personas.client_for("operator37"), report_id, "confirm", 0)
    assert response.status_code == 422
    assert response.json()["code"] == "grading_required"
    assert FieldReport.objects.get(pk=report_id).state == "raw"


def test_confirmation_feeds_the_escalation_rules(personas: Any, flood_event: Any) -> None:
    EscalationRule.objects.create(
        name="Au moins 3 victimes", criterion="victims_at_least", threshold=3, target="zone"
    )
    report_id = submit(personas.client_for("mayor_tours"), flood_event.pk).json()["id"]
    assert not EscalationProposal.objects.filter(event=flood_event).exists()  # raw: no
    qualify(
        personas.client_for("operator37"),
        report_id,
        "confirm",
        0,
        reliability="B",
        credibility=2,
        priority="urgent",
    )
    proposal = EscalationProposal.objects.get(event=flood_event)
    assert proposal.target == Visibility.ZONE


def test_two_operators_confirm_the_same_revision_one_wins_the_other_gets_409(
    personas: Any, flood_event: Any
) -> None:
    report_id = submit(personas.client_for("mayor_tours"), flood_event.pk).json()["id"]
    first = personas.client_for("operator37")
    second = personas.client_for("room_lead37")
    grading = {"reliability": "B", "credibility": 2, "priority": "urgent"}
    one = qualify(first, report_id, "confirm", 0, **grading)
    two = qualify(second, report_id, "confirm", 0, **{**grading, "reliability": "C"})
    assert one.status_code == 200
    assert two.status_code == 409
    assert two.json() == {
        "code": "conflict",
        "message": "Cette remontée vient d'être qualifiée par Claire Martin : rechargez la page.",
    }
    report = FieldReport.objects.get(pk=report_id)
    assert report.reliability == "B"
    assert report.revision == 1
    assert ReportTransition.objects.filter(report=report, action="state").count() == 1


def test_observer37_cannot_qualify_and_nothing_is_written(personas: Any, flood_event: Any) -> None:
    report_id = submit(personas.client_for("mayor_tours"), flood_event.pk).json()["id"]
    entries = JournalEntry.objects.count()
    observer = personas.client_for("observer37")
    assert observer.get(f"/api/v1/reports/{report_id}", headers=JSON).status_code == 200
    response = qualify(observer, report_id, "start_check", 0)
    assert response.status_code == 403
    assert response.json()["code"] == "qualify_denied"
    assert FieldReport.objects.get(pk=report_id).state == "raw"
    assert JournalEntry.objects.count() == entries


def test_liaison_sdis37_submits_but_cannot_qualify(personas: Any, flood_event: Any) -> None:
    liaison = personas.client_for("liaison_sdis37")
    response = submit(liaison, flood_event.pk, template="general", figures={}, text="RAS")
    assert response.status_code == 201
    refused = qualify(liaison, response.json()["id"], "start_check", 0)
    assert refused.status_code == 403


@pytest.mark.parametrize("persona", ["operator45", "liaison_ars"])
def test_other_territory_gets_404_on_report_list_qualification_and_submission(
    personas: Any, flood_event: Any, persona: str
) -> None:
    report_id = submit(personas.client_for("mayor_tours"), flood_event.pk).json()["id"]
    client = personas.client_for(persona)
    urls = [
        f"/api/v1/reports/{report_id}",
        f"/api/v1/events/{flood_event.pk}/reports",
        f"/api/v1/events/{flood_event.pk}/key-figures",
    ]
    for url in urls:
        response = client.get(url, headers=JSON)
        assert response.status_code == 404, url
        assert response.json()["code"] == "not_found"
    assert qualify(client, report_id, "start_check", 0).status_code == 404
    assert submit(client, flood_event.pk).status_code == 404
    assert FieldReport.objects.count() == 1


def test_operator37_gets_404_on_the_loiret_event(personas: Any, event45: Any) -> None:
    report_id = submit(personas.client_for("operator45"), event45.pk).json()["id"]
    client = personas.client_for("operator37")
    assert client.get(f"/api/v1/reports/{report_id}", headers=JSON).status_code == 404
    assert qualify(client, report_id, "start_check", 0).status_code == 404


def test_unknown_template_field_is_refused_naming_the_field(
    personas: Any, flood_event: Any
) -> None:
    response = submit(
        personas.client_for("mayor_tours"), flood_event.pk, figures={"dead": 1, "zombies": 3}
    )
    assert response.status_code == 422
    assert response.json()["code"] == "unknown_field"
    assert "« zombies »" in response.json()["message"]
    assert "Bilan humain" in response.json()["message"]
    assert not FieldReport.objects.exists()
    assert not JournalEntry.objects.filter(kind=EntryKind.BILAN).exists()


@pytest.mark.parametrize(
    ("figures", "code", "words"),
    [
        ({"dead": -1}, "negative_figure", "« dead » : le nombre ne peut pas être négatif"),
        ({"absolute": 5_000_000}, "figure_too_large", "dépasse le maximum admis (1 000 000)"),
    ],
)
def test_negative_or_absurd_counts_are_refused(
    personas: Any, flood_event: Any, figures: dict[str, int], code: str, words: str
) -> None:
    response = submit(personas.client_for("mayor_tours"), flood_event.pk, figures=figures)
    assert response.status_code == 422
    assert response.json()["code"] == code
    assert words in response.json()["message"]
    assert not FieldReport.objects.exists()


def test_a_count_given_as_text_or_boolean_is_refused(personas: Any, flood_event: Any) -> None:
    client = personas.client_for("mayor_tours")
    for value in ("3", True, 2.5):
        response = submit(client, flood_event.pk, figures={"dead": value})
        assert response.status_code == 422, value
    assert not FieldReport.objects.exists()


def test_occurred_at_in_the_future_is_refused_with_a_precise_message(
    personas: Any, flood_event: Any
) -> None:
    future = timezone.now() + timedelta(hours=2)
    response = submit(
        personas.client_for("mayor_tours"), flood_event.pk, occurred_at=future.isoformat()
    )
    assert response.status_code == 422
    assert response.json()["code"] == "invalid_occurred_at"
    assert (
        "est dans le futur : 5 minutes d'avance au plus sont tolérées"
        in (response.json()["message"])
    )
    assert not FieldReport.objects.exists()


def test_occurred_at_a_few_minutes_ahead_is_tolerated(personas: Any, flood_event: Any) -> None:
    ahead = timezone.now() + timedelta(minutes=3)
    response = submit(
        personas.client_for("mayor_tours"), flood_event.pk, occurred_at=ahead.isoformat()
    )
    assert response.status_code == 201


def test_occurred_at_long_before_the_event_is_refused(personas: Any, flood_event: Any) -> None:
    before = flood_event.opened_at - timedelta(hours=30)
    response = submit(
        personas.client_for("mayor_tours"), flood_event.pk, occurred_at=before.isoformat()
    )
    assert response.status_code == 422
    assert "précède de plus de 24 h l'ouverture de l'événement" in response.json()["message"]


def test_a_location_outside_wgs84_or_not_a_point_is_refused(
    personas: Any, flood_event: Any
) -> None:
    client = personas.client_for("mayor_tours")
    response = submit(
        client, flood_event.pk, location={"type": "Point", "coordinates": [200.0, 47.0]}
    )
    assert response.status_code == 422
    assert response.json()["code"] == "invalid_location"
    polygon = {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 0]]]}
    assert submit(client, flood_event.pk, location=polygon).status_code == 422
    assert not FieldReport.objects.exists()


def test_refute_needs_a_reason(personas: Any, flood_event: Any) -> None:
    report_id = submit(personas.client_for("mayor_tours"), flood_event.pk).json()["id"]
    operator = personas.client_for("operator37")
    response = qualify(operator, report_id, "refute", 0, reason="   ")
    assert response.status_code == 422
    assert response.json()["code"] == "reason_required"
    assert FieldReport.objects.get(pk=report_id).state == "raw"
    done = qualify(operator, report_id, "refute", 0, reason="Information démentie par le SDIS")
    assert done.status_code == 200
    assert done.json()["state"] == "refuted"
    assert done.json()["refute_reason"] == "Information démentie par le SDIS"
    # final: a correction is a new report
    again = qualify(operator, report_id, "start_check", 1)
    assert again.status_code == 409
    assert again.json()["code"] == "already_final"


def test_merge_marks_the_duplicate_and_deletes_nothing(personas: Any, flood_event: Any) -> None:
    mayor = personas.client_for("mayor_tours")
    original = submit(mayor, flood_event.pk).json()["id"]
    duplicate = submit(mayor, flood_event.pk).json()["id"]
    operator = personas.client_for("operator37")
    response = qualify(operator, duplicate, "merge", 0, duplicate_of_id=original)
    assert response.status_code == 200
    assert response.json()["duplicate_of_id"] == original
    assert FieldReport.objects.count() == 2
    queue_ids = [r.pk for r in FieldReport.objects.filter(duplicate_of__isnull=True)]
    assert queue_ids == [original]
    # a duplicate is never qualified, nor merged again
    assert qualify(operator, duplicate, "start_check", 1).json()["code"] == "duplicate"
    # confirm both? the duplicate never counts: only the original's figures
    qualify(operator, original, "confirm", 0, reliability="A", credibility=1, priority="flash")
    figures = operator.get(f"/api/v1/events/{flood_event.pk}/key-figures", headers=JSON).json()
    assert {item["report_id"] for item in figures["items"]} == {original}


def test_merge_needs_the_same_event(personas: Any, flood_event: Any, exercise_event: Any) -> None:
    operator = personas.client_for("operator37")
    one = submit(operator, flood_event.pk).json()["id"]
    other = submit(operator, exercise_event.pk).json()["id"]
    response = qualify(operator, one, "merge", 0, duplicate_of_id=other)
    assert response.status_code == 422
    assert response.json()["code"] == "merge_other_event"
    assert FieldReport.objects.get(pk=one).duplicate_of_id is None


def test_exercise_reports_never_count_in_real_key_figures(
    personas: Any, flood_event: Any, exercise_event: Any
) -> None:
    operator = personas.client_for("operator37")
    exercise_report = submit(operator, exercise_event.pk, figures={"dead": 40}).json()
    assert exercise_report["mode"] == "exercise"
    qualify(
        operator,
        exercise_report["id"],
        "confirm",
        0,
        reliability="A",
        credibility=1,
        priority="flash",
    )
    real = operator.get(f"/api/v1/events/{flood_event.pk}/key-figures", headers=JSON).json()
    assert real == {"event_id": flood_event.pk, "mode": "real", "items": []}
    exercise = operator.get(f"/api/v1/events/{exercise_event.pk}/key-figures", headers=JSON)
    assert exercise.json()["mode"] == "exercise"
    assert exercise.json()["items"][0]["value"] == 40
    entry = FieldReport.objects.get(pk=exercise_report["id"]).entry
    assert entry is not None
    assert entry.text.startswith("[EXERCICE] ")


def test_key_figures_take_the_latest_confirmed_value_never_raw_or_refuted(
    personas: Any, flood_event: Any
) -> None:
    operator = personas.client_for("operator37")
    grading = {"reliability": "B", "credibility": 2, "priority": "routine"}
    now = timezone.now()
    old = submit(
        operator,
        flood_event.pk,
        figures={"dead": 1, "missing": 4},
        occurred_at=(now - timedelta(hours=2)).isoformat(),
    ).json()["id"]
    new = submit(
        operator,
        flood_event.pk,
        figures={"dead": 3},
        occurred_at=(now - timedelta(hours=1)).isoformat(),
    ).json()["id"]
    raw = submit(operator, flood_event.pk, figures={"dead": 99}).json()["id"]
    refuted = submit(operator, flood_event.pk, figures={"missing": 50}).json()["id"]
    qualify(operator, new, "confirm", 0, **grading)  # confirmed before the older one
    qualify(operator, old, "confirm", 0, **grading)
    qualify(operator, refuted, "refute", 0, reason="Doublon d'un appel")
    items = operator.get(f"/api/v1/events/{flood_event.pk}/key-figures", headers=JSON).json()
    by_key = {item["key"]: (item["value"], item["report_id"]) for item in items["items"]}
    assert by_key == {"dead": (3, new), "missing": (4, old)}
    assert raw not in {item["report_id"] for item in items["items"]}


def test_list_reports_paginates_and_filters(personas: Any, flood_event: Any) -> None:
    operator = personas.client_for("operator37")
    ids = [submit(operator, flood_event.pk).json()["id"] for _ in range(3)]
    submit(operator, flood_event.pk, template="general", figures={}, text="Pluie forte")
    page = operator.get(
        f"/api/v1/events/{flood_event.pk}/reports?template=casualties&limit=2", headers=JSON
    ).json()
    assert [item["id"] for item in page["items"]] == ids[::-1][:2]
    rest = operator.get(
        f"/api/v1/events/{flood_event.pk}/reports?template=casualties&limit=2"
        f"&cursor={page['next_cursor']}",
        headers=JSON,
    ).json()
    assert [item["id"] for item in rest["items"]] == [ids[0]]
    assert rest["next_cursor"] is None
    bad = operator.get(f"/api/v1/events/{flood_event.pk}/reports?cursor=%%%", headers=JSON)
    assert bad.status_code == 400


def test_assign_to_an_operator_of_the_cod_and_not_to_a_mayor(
    personas: Any, flood_event: Any
) -> None:
    report_id = submit(personas.client_for("mayor_tours"), flood_event.pk).json()["id"]
    lead = personas.client_for("room_lead37")
    refused = qualify(lead, report_id, "assign", 0, assignee_id=personas.mayor_tours.user.pk)
    assert refused.status_code == 422
    assert refused.json()["code"] == "invalid_assignee"
    done = qualify(lead, report_id, "assign", 0, assignee_id=personas.operator37.user.pk)
    assert done.status_code == 200
    assert done.json()["assigned_to_id"] == personas.operator37.user.pk
    assert OutboxMessage.objects.filter(
        topic=f"user:{personas.operator37.user.pk}", kind="report.assigned"
    ).exists()


def test_journal_chain_still_verifies_after_the_whole_loop(personas: Any, flood_event: Any) -> None:
    mayor = personas.client_for("mayor_tours")
    operator = personas.client_for("operator37")
    a = submit(mayor, flood_event.pk).json()["id"]
    b = submit(mayor, flood_event.pk).json()["id"]
    c = submit(mayor, flood_event.pk, template="general", figures={}, text="Digue fissurée").json()
    qualify(operator, a, "start_check", 0)
    qualify(operator, a, "grade", 1, reliability="B", credibility=2, priority="urgent")
    qualify(operator, a, "confirm", 2)
    qualify(operator, b, "merge", 0, duplicate_of_id=a)
    qualify(operator, c["id"], "refute", 0, reason="Digue inspectée : intacte")
    qualify(operator, a, "confirm", 3)  # 409, nothing written
    checked, problem = verify_chain(flood_event.chain)
    assert problem is None
    assert checked == JournalEntry.objects.filter(event=flood_event).count()
    assert checked >= 8


def test_resources_report_takes_personnel_and_vehicles_per_service(
    personas: Any, flood_event: Any
) -> None:
    client = personas.client_for("liaison_sdis37")
    figures = {"sdis": {"personnel": 45, "vehicles": 12}, "aasc": {"personnel": 20}}
    response = submit(client, flood_event.pk, template="resources", figures=figures, text="")
    assert response.status_code == 201, response.content
    assert response.json()["figures"] == figures
    bad = submit(
        client, flood_event.pk, template="resources", figures={"sdis": {"boats": 2}}, text=""
    )
    assert bad.status_code == 422
    assert "« sdis.boats »" in bad.json()["message"]


def test_malformed_inputs_get_4xx_never_500(personas: Any, flood_event: Any) -> None:
    client = personas.client_for("operator37")
    nested = submit(client, flood_event.pk, figures={"dead": {"personnel": 1}})
    assert nested.status_code == 422
    assert nested.json()["code"] == "invalid_figure"
    assert submit(client, flood_event.pk, template="volcano").status_code == 422
    assert submit(client, flood_event.pk, figures={}).json()["code"] == "figures_required"
    general = submit(client, flood_event.pk, template="general", figures={"dead": 1}, text="x")
    assert general.json()["code"] == "unknown_field"
    huge = 2**62
    assert client.get(f"/api/v1/reports/{huge}", headers=JSON).status_code == 422
    assert qualify(client, 10**6, "start_check", 0).status_code == 404
    assert qualify(client, 1, "explode", 0).status_code == 422
    assert not FieldReport.objects.exists()
