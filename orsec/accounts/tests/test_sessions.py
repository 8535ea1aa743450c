"""Session cookie, new id at login, logout, timeouts, ending every session of a user (S7 to S11)."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.models import Session
from django.test import Client, override_settings
from django.urls import reverse

from orsec.accounts import actions, sessions
from orsec.accounts.models import Membership, User
from orsec.accounts.tests.helpers import (
    Clock,
    Personas,
    audit_actions,
    fresh_code,
    log_in,
    post_code,
    post_password,
    session_key,
)

pytestmark = pytest.mark.django_db

HOME = reverse("accounts:home")
LOGIN = reverse("accounts:login")


def with_cookie(key: str) -> Client:
    client = Client()
    client.cookies[settings.SESSION_COOKIE_NAME] = key
    return client


def lands_on_login(client: Client) -> bool:
    response = client.get(HOME)
    return response.status_code == 302 and response["Location"].startswith(LOGIN)


def test_session_cookie_is_secure_httponly_lax_and_host_prefixed(personas: Personas) -> None:
    client = Client()
    response = log_in(client, personas.operator37)
    assert settings.SESSION_COOKIE_NAME == "__Host-orsec_session"  # non-demo settings
    cookie = response.cookies[settings.SESSION_COOKIE_NAME]
    assert cookie["secure"] is True
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Lax"
    assert cookie["path"] == "/"
    assert not cookie["domain"]  # required by the __Host- prefix


def test_login_gives_a_new_session_id_and_the_old_ones_are_dead(personas: Personas) -> None:
    persona = personas.operator37
    client = with_cookie("fixationattemptbyanattacker0123")  # session fixation attempt
    post_password(client, persona.username, persona.password)
    pending = session_key(client)
    assert pending
    assert pending != "fixationattemptbyanattacker0123"
    post_code(client, fresh_code(persona))
    logged_in = session_key(client)
    assert logged_in not in ("", pending)
    assert client.get(HOME).status_code == 200
    # The pre-login id is gone from the server: replaying it leads to the login page.
    assert not Session.objects.filter(session_key=pending).exists()
    assert lands_on_login(with_cookie(pending))
    assert lands_on_login(with_cookie("fixationattemptbyanattacker0123"))


def test_logout_is_post_only_and_kills_the_server_session(personas: Personas) -> None:
    client = Client()
    log_in(client, personas.operator37)
    key = session_key(client)
    assert client.get(reverse("accounts:logout")).status_code == 405
    assert client.get(HOME).status_code == 200  # a GET logged nobody out
    response = client.post(reverse("accounts:logout"))
    assert response.status_code == 302
    assert response["Location"] == LOGIN
    assert "Vous êtes déconnecté." in client.get(LOGIN).content.decode()
    assert not Session.objects.filter(session_key=key).exists()
    assert lands_on_login(with_cookie(key))
    assert "auth.logout" in audit_actions()


def test_idle_session_expires_with_a_french_message(personas: Personas, clock: Clock) -> None:
    client = Client()
    log_in(client, personas.operator37)
    key = session_key(client)
    clock.advance(settings.ORSEC_SESSION_IDLE_SECONDS - 120)
    assert client.get(HOME).status_code == 200  # activity moves the stamp forward
    clock.advance(settings.ORSEC_SESSION_IDLE_SECONDS - 120)
    assert client.get(HOME).status_code == 200
    clock.advance(settings.ORSEC_SESSION_IDLE_SECONDS + 1)
    response = client.get(HOME)
    assert response.status_code == 302
    assert response["Location"] == f"{LOGIN}?next={HOME}"
    assert "Votre session a expiré" in client.get(LOGIN).content.decode()
    assert lands_on_login(with_cookie(key))
    record = [a for a in audit_actions() if a.startswith("auth.session")]
    assert record == ["auth.session.expired"]


def test_activity_stamp_is_written_at_most_once_a_minute(personas: Personas, clock: Clock) -> None:
    client = Client()
    log_in(client, personas.operator37)
    stamp = client.session[sessions.SEEN_AT_KEY]
    clock.advance(30)
    client.get(HOME)
    assert client.session[sessions.SEEN_AT_KEY] == stamp
    clock.advance(31)
    client.get(HOME)
    assert client.session[sessions.SEEN_AT_KEY] == stamp + 61


@override_settings(ORSEC_SESSION_ABSOLUTE_SECONDS=3600, ORSEC_SESSION_IDLE_SECONDS=1800)
def test_active_session_still_ends_at_its_absolute_lifetime(
    personas: Personas, clock: Clock
) -> None:
    client = Client()
    log_in(client, personas.operator37)
    for _ in range(3):
        clock.advance(1000)  # always active: idle never reached
        assert client.get(HOME).status_code == 200
    clock.advance(700)  # 3700 s since login
    assert lands_on_login(client)
    assert "Votre session a expiré" in client.get(LOGIN).content.decode()


def test_session_without_login_stamps_is_treated_as_expired(personas: Personas) -> None:
    client = Client()
    log_in(client, personas.operator37)
    session = client.session
    del session[sessions.LOGIN_AT_KEY]
    session.save()
    assert lands_on_login(client)


def test_non_html_client_of_an_expired_session_gets_401(personas: Personas, clock: Clock) -> None:
    client = Client()
    log_in(client, personas.operator37)
    clock.advance(settings.ORSEC_SESSION_IDLE_SECONDS + 1)
    response = client.get(HOME, headers={"Accept": "text/event-stream"})
    assert response.status_code == 401


def two_sessions(personas: Personas, key: str = "operator37") -> tuple[Client, Client]:
    first, second = Client(), Client()
    log_in(first, getattr(personas, key), ip="198.51.100.1")
    log_in(second, getattr(personas, key), ip="198.51.100.2")
    assert first.get(HOME).status_code == second.get(HOME).status_code == 200
    return first, second


def test_logout_everywhere_ends_both_sessions_of_the_user(personas: Personas) -> None:
    first, second = two_sessions(personas)
    other_user = Client()
    log_in(other_user, personas.room_lead37)
    response = first.post(reverse("accounts:logout_everywhere"))
    assert response.status_code == 302
    assert lands_on_login(first)
    assert lands_on_login(second)
    assert other_user.get(HOME).status_code == 200
    assert "auth.logout_everywhere" in audit_actions()


def test_disabling_the_account_ends_both_sessions(personas: Personas) -> None:
    first, second = two_sessions(personas)
    user = personas.operator37.user
    actions.do_disable_user(user, actor=personas.admin.user)
    assert lands_on_login(first)
    assert lands_on_login(second)
    assert User.objects.get(pk=user.pk).is_active is False
    assert "account.disabled" in audit_actions()


def test_removing_a_membership_ends_both_sessions(personas: Personas) -> None:
    first, second = two_sessions(personas)
    membership = Membership.objects.get(user=personas.operator37.user)
    actions.do_remove_membership(membership, actor=personas.admin.user)
    assert lands_on_login(first)
    assert lands_on_login(second)
    assert "membership.removed" in audit_actions()


def test_deactivating_a_membership_ends_the_sessions(personas: Personas) -> None:
    first, second = two_sessions(personas)
    membership = Membership.objects.get(user=personas.operator37.user)
    membership.is_active = False
    actions.do_save_membership(membership, actor=personas.admin.user)
    assert lands_on_login(first)
    assert lands_on_login(second)
    assert "membership.removed" in audit_actions()


def test_password_change_keeps_this_session_under_a_new_id_and_ends_the_other(
    personas: Personas,
) -> None:
    persona = personas.operator37
    first, second = two_sessions(personas)
    before = session_key(first)
    new_password = "Marée-Basse-Sur-Le-Quai-2031"  # noqa: S105 - a test password
    response = first.post(
        reverse("accounts:password_change"),
        {
            "old_password": persona.password,
            "new_password1": new_password,
            "new_password2": new_password,
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    assert response["Location"] == reverse("accounts:security")
    assert session_key(first) != before
    assert first.get(HOME).status_code == 200
    assert lands_on_login(second)
    assert lands_on_login(with_cookie(before))
    assert "auth.password_changed" in audit_actions()
    assert SESSION_KEY in first.session
