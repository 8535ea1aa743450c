"""Reports filed in a territory's watch log before any event exists."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from orsec.events.actions import do_close_event
from orsec.events.testing import departement
from orsec.journal.chain import verify_chain, watch_chain_for
from orsec.reports.access import get_report_abilities, reports_visible_to
from orsec.reports.actions import ReportError, do_confirm_report, do_submit_report
from orsec.reports.models import FieldReport
from orsec.reports.queries import qualification_queue
from orsec.territories.models import Territory

pytestmark = pytest.mark.django_db


def test_watch_log_report_is_seen_and_qualified_in_its_territory_only(personas: Any) -> None:
    d37 = departement("37")
    report = do_submit_report(
        personas.liaison_sdis37.user,
        territory=d37,
        template="general",
        figures={},
        text="Montée rapide du Cher à Bléré, pas encore d'événement ouvert.",
        channel="radio",
    )
    assert report.event_id is None
    assert report.mode == "real"
    assert report.entry is not None
    assert report.entry.chain == watch_chain_for(d37)
    assert reports_visible_to(personas.operator37.user).filter(pk=report.pk).exists()
    assert not reports_visible_to(personas.operator45.user).filter(pk=report.pk).exists()
    assert get_report_abilities(personas.operator37.user, report)["qualify"] is True
    assert get_report_abilities(personas.liaison_sdis37.user, report)["qualify"] is False
    assert get_report_abilities(personas.observer37.user, report)["qualify"] is False
    assert [r.pk for r in qualification_queue(personas.operator37.user)] == [report.pk]
    do_confirm_report(
        personas.operator37.user, report, reliability="B", credibility=3, priority="routine"
    )
    assert verify_chain(watch_chain_for(d37))[1] is None


def test_a_report_needs_an_event_or_a_territory(personas: Any) -> None:
    with pytest.raises(ReportError) as raised:
        do_submit_report(
            personas.operator37.user, template="general", figures={}, text="x", channel="phone"
        )
    assert raised.value.code == "event_or_territory_required"


def test_a_closed_event_takes_no_more_reports(personas: Any, flood_event: Any) -> None:
    do_close_event(personas.room_lead37.user, flood_event, "Décrue constatée, fin des opérations.")
    with pytest.raises(ReportError) as raised:
        do_submit_report(
            personas.operator37.user,
            event=flood_event,
            template="general",
            figures={},
            text="x",
            channel="phone",
        )
    assert raised.value.code == "event_closed"


def test_mayor_files_a_watch_log_report_from_the_form_before_any_event(personas):
    tours = Territory.objects.get(kind="commune", code="37261")
    url = reverse("reports:watch_new", args=[tours.pk])
    client = personas.client_for("mayor_tours")
    assert "Main courante de veille" in client.get(url).content.decode()
    response = client.post(
        url,
        {
            "template": "networks",
            "fig_homes_without_power": "120",
            "fig_roads_closed": "1",
            "text": "Rue du Pont-Neuf inondée, coupure électrique.",
            "channel": "field",
            "latitude": "",
            "longitude": "",
            "occurred_at": "",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    report = FieldReport.objects.get(event=None)
    assert report.territory == tours
    assert report.state == "raw"
    # another département's operator and a read-only observer cannot use it
    assert personas.client_for("operator45").get(url).status_code == 404
    d37 = Territory.objects.get(kind="departement", code="37")
    observer_url = reverse("reports:watch_new", args=[d37.pk])
    assert personas.client_for("observer37").get(observer_url).status_code == 403
