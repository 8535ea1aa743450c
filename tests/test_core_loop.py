"""Issue 3's "done when": a mayor's report of the demo flood goes brute → confirmée → routed to
SDIS 37 and ARS → both acknowledge, all visible in the main courante and in the API.

Through the real interfaces only (phone form, qualification page, inbox pages, partner API),
with the demo's routing rules, and the personas of several territories and roles.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from orsec.accounts.testing import log_in_verified
from orsec.demo.demo_dissemination import build_routing_rules
from orsec.dissemination.models import Delivery
from orsec.events.testing import open_test_event
from orsec.journal.chain import verify_chain
from orsec.reports.actions import do_submit_report
from orsec.reports.models import FieldReport

pytestmark = pytest.mark.django_db

JSON = {"Accept": "application/json"}


def _mayor_files_report(personas: Any, event: Any) -> FieldReport:
    mayor = personas.client_for("mayor_tours")
    response = mayor.post(
        reverse("reports:new", args=[event.pk]),
        {
            "template": "casualties",
            "fig_dead": "0",
            "fig_absolute": "2",
            "fig_relative": "5",
            "fig_evacuated": "40",
            "text": "Quai Paul-Bert : deux blessés graves, quarante riverains évacués.",
            "channel": "field",
            "latitude": "47.3990",
            "longitude": "0.6930",
            "occurred_at": "",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    report = FieldReport.objects.get(event=event)
    assert report.state == "raw"
    return report


def _confirm(personas: Any, report: FieldReport, who: str = "operator37") -> Any:
    return personas.client_for(who).post(
        reverse("reports:qualify", args=[report.pk]),
        {
            "action": "confirm",
            "expected_revision": report.revision,
            "reliability": "B",
            "credibility": "2",
            "priority": "urgent",
            "reason": "",
        },
    )


def test_mayor_report_is_confirmed_routed_to_sdis_and_ars_and_both_acknowledge(
    personas: Any, flood_event: Any, partner_sdis37: Any
) -> None:
    build_routing_rules()
    report = _mayor_files_report(personas, flood_event)

    # the COD operator sees it in the "à qualifier" queue, then confirms it
    queue = personas.client_for("operator37").get(reverse("reports:queue"))
    assert reverse("reports:detail", args=[report.pk]) in queue.content.decode()
    response = _confirm(personas, report)
    assert response.status_code == 302, response.content.decode()[:2000]
    report.refresh_from_db()
    assert report.state == "confirmed"

    # routed by the rules to the services concerned: SDIS 37 and ARS Centre-Val de Loire
    deliveries = Delivery.objects.filter(event=flood_event).select_related("organisation")
    recipients = {d.organisation.short_name for d in deliveries}
    assert {"SDIS 37", "ARS CVL"} <= recipients
    sdis = deliveries.get(organisation=personas.organisations["sdis37"])
    ars = deliveries.get(organisation=personas.organisations["ars_cvl"])

    # ARS, a regional service, now sees the event (it takes part); Loiret still does not
    ars_client = personas.client_for("liaison_ars")
    assert ars_client.get(f"/evenements/{flood_event.pk}/").status_code == 200
    assert (
        personas.client_for("operator45").get(f"/evenements/{flood_event.pk}/").status_code == 404
    )

    # ARS acknowledges through its inbox (page): open, then "pris en compte"
    inbox = ars_client.get(reverse("dissemination:inbox"))
    assert "Crue de la Loire" in inbox.content.decode()
    assert ars_client.post(reverse("dissemination:open", args=[ars.pk])).status_code == 302
    acknowledged = ars_client.post(
        reverse("dissemination:acknowledge", args=[ars.pk]),
        {"comment": "Cellule régionale d'appui activée."},
    )
    assert acknowledged.status_code == 302

    # SDIS 37 acknowledges through its dispatch system (partner token, API)
    read = partner_sdis37.client.post(
        f"/api/v1/deliveries/{sdis.pk}/read", content_type="application/json", headers=JSON
    )
    assert read.status_code == 200, read.content
    ack = partner_sdis37.client.post(
        f"/api/v1/deliveries/{sdis.pk}/acknowledge",
        {"comment": "Deux VSAV engagés."},
        content_type="application/json",
        headers=JSON,
    )
    assert ack.status_code == 200, ack.content
    again = partner_sdis37.client.post(
        f"/api/v1/deliveries/{sdis.pk}/acknowledge",
        {"comment": "Deux VSAV engagés."},
        content_type="application/json",
        headers=JSON,
    )
    assert again.status_code == 409
    assert again.json()["code"] == "already_acknowledged"

    for delivery in (sdis, ars):
        delivery.refresh_from_db()
        assert delivery.state == "acknowledged"
        assert delivery.acknowledged_at is not None

    # everything is in the main courante (page and API), and the chain verifies
    journal = (
        personas.client_for("room_lead37")
        .get(reverse("events:journal", args=[flood_event.pk]))
        .content.decode()
    )
    for text in ("confirmée (B2, Urgent)", "Diffusé à", "Pris en compte", "ARS CVL", "SDIS 37"):
        assert text in journal, text
    api_entries = personas.client_for("room_lead37").get(
        f"/api/v1/events/{flood_event.pk}/journal?limit=50", headers=JSON
    )
    assert api_entries.status_code == 200
    texts = " ".join(item["text"] for item in api_entries.json()["items"])
    assert "Quai Paul-Bert" in texts
    assert texts.count("Pris en compte") >= 2
    assert verify_chain(flood_event.chain) == (flood_event.chain.entries.count(), None)

    # the key figures (API) now hold the confirmed bilan, with its source
    figures = (
        personas.client_for("director37")
        .get(f"/api/v1/events/{flood_event.pk}/key-figures", headers=JSON)
        .json()
    )
    by_key = {item["key"]: item for item in figures["items"]}
    assert by_key["absolute"]["value"] == 2
    assert by_key["absolute"]["report_id"] == report.pk

    # the trace shows who was sent what and who acknowledged
    trace = (
        personas.client_for("room_lead37")
        .get(reverse("dissemination:trace", args=[flood_event.pk]))
        .content.decode()
    )
    assert "Inès Garcia" in trace


def test_observer_cannot_qualify_and_nothing_is_routed(personas: Any, flood_event: Any) -> None:
    build_routing_rules()
    report = _mayor_files_report(personas, flood_event)
    response = _confirm(personas, report, who="observer37")
    assert response.status_code in (403, 404)
    report.refresh_from_db()
    assert report.state == "raw"
    assert not Delivery.objects.exists()


def test_other_territory_gets_404_on_the_report_its_qualification_and_the_event(
    personas: Any, flood_event: Any
) -> None:
    report = _mayor_files_report(personas, flood_event)
    client = personas.client_for("operator45")
    assert client.get(reverse("reports:detail", args=[report.pk])).status_code == 404
    assert _confirm(personas, report, who="operator45").status_code == 404
    assert client.get(f"/api/v1/reports/{report.pk}", headers=JSON).status_code == 404
    assert client.get(f"/api/v1/events/{flood_event.pk}/journal", headers=JSON).status_code == 404
    report.refresh_from_db()
    assert report.state == "raw"


def test_exercise_figures_are_never_counted_as_real(
    personas: Any, flood_event: Any, exercise_event: Any
) -> None:
    build_routing_rules()
    report = _mayor_files_report(personas, exercise_event)  # the exercise also concerns Tours
    assert report.mode == "exercise"
    assert _confirm(personas, report).status_code == 302
    client = personas.client_for("director37")
    real = client.get(f"/api/v1/events/{flood_event.pk}/key-figures", headers=JSON).json()
    assert real["items"] == []
    drill = client.get(f"/api/v1/events/{exercise_event.pk}/key-figures", headers=JSON).json()
    assert drill["mode"] == "exercise"
    assert {item["key"] for item in drill["items"]} >= {"absolute"}
    # the exercise's deliveries carry the marker in the recipients' inbox
    inbox = personas.client_for("liaison_sdis37").get(reverse("dissemination:inbox"))
    assert "EXERCICE" in inbox.content.decode()
    # and its pages show EXERCICE
    page = client.get(f"/evenements/{exercise_event.pk}/").content.decode()
    assert "EXERCICE" in page


@pytest.mark.django_db(transaction=True)
def test_confirmations_and_phase_changes_at_once_never_deadlock(live_personas: Any) -> None:
    """Lock order: event row, then its chain, then the audit head — for every event-level write.
    A confirmation routes (it locks the event) while room leads change the phase: all finish.
    Real concurrency (threads): PostgreSQL only."""
    if connection.vendor == "sqlite":
        pytest.skip("concurrence réelle : PostgreSQL seulement")
    build_routing_rules()
    event = open_test_event(live_personas.room_lead37.user)
    reports = [
        do_submit_report(
            live_personas.mayor_tours.user,
            event=event,
            template="casualties",
            figures={"absolute": n + 1},
            text=f"Remontée {n}",
            channel="field",
        )
        for n in range(4)
    ]
    operator = log_in_verified(Client(), live_personas.operator37.user)
    lead = log_in_verified(Client(), live_personas.room_lead37.user)
    barrier = threading.Barrier(2)
    statuses: list[int] = []

    def confirm_all() -> None:
        try:
            barrier.wait(timeout=10)
            for report in reports:
                response = operator.post(
                    reverse("reports:qualify", args=[report.pk]),
                    {
                        "action": "confirm",
                        "expected_revision": "0",
                        "reliability": "B",
                        "credibility": "2",
                        "priority": "urgent",
                        "reason": "",
                    },
                )
                statuses.append(response.status_code)
        finally:
            connection.close()

    def change_phases() -> None:
        try:
            barrier.wait(timeout=10)
            for phase in ("crisis", "alert", "crisis", "exit"):
                response = lead.post(
                    f"/evenements/{event.pk}/phase/", {"phase": phase, "reason": "Évolution"}
                )
                statuses.append(response.status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=confirm_all), threading.Thread(target=change_phases)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert statuses.count(302) == 8, statuses
    assert Delivery.objects.filter(event=event).count() >= 4
    assert verify_chain(event.chain)[1] is None
