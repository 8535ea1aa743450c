"""Home and account pages: content, French wording, accessible forms."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from orsec.accounts.tests.helpers import (
    Personas,
    audit_actions,
    log_in,
    post_password,
)

pytestmark = pytest.mark.django_db


def test_operator_home_lists_memberships_with_territory_and_directory_link(
    personas: Personas,
) -> None:
    client = Client()
    log_in(client, personas.operator37)
    response = client.get(reverse("accounts:home"))
    body = response.content.decode()
    assert response.context["nav"] == "home"
    assert response.context["abilities"] == {
        "write": True,
        "administer": False,
        "see_directory": True,
        "qualify": True,
    }
    assert "Bonjour Claire Martin" in body
    assert "Centre opérationnel départemental d&#x27;Indre-et-Loire" in body
    assert "Opérateur COD" in body
    assert "Indre-et-Loire (Département)" in body
    assert f'href="{reverse("directory:list")}"' in body
    assert "Accès en lecture seule" not in body


def test_observer_home_says_read_only(personas: Personas) -> None:
    client = Client()
    log_in(client, personas.observer37)
    body = client.get(reverse("accounts:home")).content.decode()
    assert "Observateur (lecture seule)" in body
    assert "Accès en lecture seule" in body


def test_security_page_shows_second_factor_recovery_codes_and_logout_everywhere(
    personas: Personas,
) -> None:
    client = Client()
    log_in(client, personas.operator37)
    response = client.get(reverse("accounts:security"))
    body = response.content.decode()
    assert response.status_code == 200
    assert response.context["nav"] == "account"
    assert "Activé" in body
    assert "Codes de secours disponibles : 0 sur 10." in body
    assert "Se déconnecter partout" in body
    assert f'action="{reverse("accounts:logout_everywhere")}"' in body
    assert 'autocomplete="current-password"' in body


def test_login_page_has_labelled_inputs_with_autocomplete() -> None:
    response = Client().get(reverse("accounts:login"))
    body = response.content.decode()
    assert response.status_code == 200
    assert response.context["title"] == "Connexion"
    assert '<label class="fr-label" for="id_username">Identifiant' in body
    assert 'autocomplete="username"' in body
    assert '<label class="fr-label" for="id_password">Mot de passe' in body
    assert 'autocomplete="current-password"' in body
    assert 'type="password"' in body


def test_second_factor_page_asks_for_a_numeric_one_time_code(personas: Personas) -> None:
    client = Client()
    post_password(client, personas.operator37.username, personas.operator37.password)
    body = client.get(reverse("accounts:login_second_factor")).content.decode()
    assert 'autocomplete="one-time-code"' in body
    assert 'inputmode="numeric"' in body
    assert "Code à 6 chiffres" in body
    assert "code de secours" in body


def test_login_errors_are_tied_to_their_fields() -> None:
    response = Client().post(reverse("accounts:login"), {"username": "", "password": ""})
    body = response.content.decode()
    assert response.status_code == 200
    assert (
        '<p class="fr-error-text" id="id_username-error">Saisissez votre identifiant.</p>' in body
    )
    assert 'aria-describedby="id_username-error' in body
    assert 'aria-invalid="true"' in body


def test_recovery_codes_are_regenerated_only_with_the_current_password(
    personas: Personas,
) -> None:
    client = Client()
    log_in(client, personas.operator37)
    response = client.post(reverse("accounts:recovery_codes"), {"password": "pas-le-bon"})
    assert response.status_code == 200
    body = response.content.decode()
    assert "Le mot de passe actuel est incorrect." in body
    assert "<code>" not in body
    assert audit_actions(action="auth.login.failure") == ["auth.login.failure"]
    assert "auth.recovery_codes_regenerated" not in audit_actions()
