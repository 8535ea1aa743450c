"""The event page's vigilance panel: vigilances in force on the event's département."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from django.utils import timezone

from orsec.alerts.actions import do_import_meteoalarm
from orsec.alerts.models import Vigilance
from orsec.alerts.panel import event_departement_paths
from orsec.territories.models import Territory

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).parent / "fixtures"
MORNING = dt.datetime(2024, 3, 7, 7, 0, tzinfo=dt.timezone(dt.timedelta(hours=1)))


def _import(name: str) -> None:
    assert do_import_meteoalarm((FIXTURES / name).read_bytes(), now=MORNING).accepted
    Vigilance.objects.update(expires=timezone.now() + dt.timedelta(hours=6))


def test_operator37_sees_the_orange_vigilance_panel_on_the_d37_event(personas, flood_event):
    _import("d37_d41_orange_rain_flood_alert.xml")

    response = personas.client_for("operator37").get(f"/evenements/{flood_event.pk}/")

    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="panneau-vigilances"' in html
    assert "Vigilance orange ou rouge en cours" in html
    assert "Vigilance orange" in html
    assert "pluie-inondation" in html
    assert "Loir-et-Cher" not in html  # the neighbour's vigilance is not the event's
    # placed before the key figures
    assert html.index('id="panneau-vigilances"') < html.index('id="panneau-key_figures"')


def test_event_page_has_no_vigilance_panel_without_a_vigilance_in_force(personas, flood_event):
    _import("d37_d41_orange_rain_flood_alert.xml")
    Vigilance.objects.update(expires=timezone.now() - dt.timedelta(minutes=1))

    html = personas.client_for("operator37").get(f"/evenements/{flood_event.pk}/").content.decode()

    assert 'id="panneau-vigilances"' not in html


def test_loiret_event_shows_loiret_yellow_vigilance_only(personas, event45):
    _import("d37_d41_orange_rain_flood_alert.xml")
    _import("d45_yellow_wind_alert.xml")

    html = personas.client_for("operator45").get(f"/evenements/{event45.pk}/").content.decode()

    assert "Vigilance jaune" in html
    assert "vent violent" in html
    assert "Vigilance orange ou rouge" not in html
    assert "Indre-et-Loire" not in html


def test_operator45_gets_404_on_the_d37_event_page_with_its_panel(personas, flood_event):
    _import("d37_d41_orange_rain_flood_alert.xml")

    response = personas.client_for("operator45").get(f"/evenements/{flood_event.pk}/")

    assert response.status_code == 404


def test_departement_paths_of_an_event_on_a_commune_or_a_zone(flood_event):
    d37 = Territory.objects.get(kind="departement", code="37")
    flood_event.territory_path = d37.path + "/C37261"
    assert event_departement_paths(flood_event) == [d37.path]
    zone = d37.path.split("/D")[0].rsplit("/", 1)[0]
    flood_event.territory_path = zone
    assert event_departement_paths(flood_event) == [zone]


def test_vigilance_page_is_in_the_main_navigation(personas):
    html = personas.client_for("mayor_tours").get("/alertes/vigilances/").content.decode()

    assert 'href="/alertes/vigilances/" aria-current="page"' in html
