"""/alertes/vigilances/: the vigilances in force in the user's départements."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from django.utils import timezone

from orsec.alerts.actions import do_import_meteoalarm
from orsec.alerts.models import Vigilance

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).parent / "fixtures"
URL = "/alertes/vigilances/"


@pytest.fixture
def vigilances(personas):
    """Orange rain-flood in 37 and 41, yellow wind in 45, all still in force now."""
    now = dt.datetime(2024, 3, 7, 7, 0, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    for name in ("d37_d41_orange_rain_flood_alert.xml", "d45_yellow_wind_alert.xml"):
        assert do_import_meteoalarm((FIXTURES / name).read_bytes(), now=now).accepted
    Vigilance.objects.update(expires=timezone.now() + dt.timedelta(hours=6))
    return personas


def test_operator37_sees_only_indre_et_loire_vigilance_with_a_text_badge(vigilances):
    response = vigilances.client_for("operator37").get(URL)

    assert response.status_code == 200
    html = response.content.decode()
    assert "Indre-et-Loire (37)" in html
    assert "Vigilance orange" in html  # colour said in words, not colour alone
    assert "pluie-inondation" in html
    assert "Loiret" not in html
    assert "Loir-et-Cher" not in html


def test_operator45_sees_only_loiret_vigilance(vigilances):
    html = vigilances.client_for("operator45").get(URL).content.decode()

    assert "Loiret (45)" in html
    assert "Vigilance jaune" in html
    assert "vent violent" in html
    assert "Indre-et-Loire" not in html


def test_zone_ouest_sees_orange_before_yellow(vigilances):
    html = vigilances.client_for("zone_ouest").get(URL).content.decode()

    assert html.index("Vigilance orange") < html.index("Vigilance jaune")


def test_ended_or_expired_vigilances_are_not_listed(vigilances):
    Vigilance.objects.filter(departement__code="37").update(
        expires=timezone.now() - dt.timedelta(minutes=1)
    )

    html = vigilances.client_for("operator37").get(URL).content.decode()

    assert "Indre-et-Loire (37)" not in html
    assert "Aucune vigilance météorologique en cours" in html


def test_anonymous_visitor_is_sent_to_the_login_page(client):
    response = client.get(URL)

    assert response.status_code == 302
    assert "/connexion" in response["Location"] or "login" in response["Location"]
