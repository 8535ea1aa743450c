"""Brute force throttled per account, per address and per pair; no mass lockout (S16)."""

from __future__ import annotations

from unittest import mock

import pytest
from django.conf import settings
from django.test import Client, override_settings
from django.urls import reverse

from orsec.accounts.models import LoginFailure
from orsec.accounts.tests.helpers import (
    Clock,
    Personas,
    audit_actions,
    fresh_code,
    log_in,
    post_code,
    post_password,
    wrong_code,
)
from orsec.audit.models import AuditRecord

pytestmark = pytest.mark.django_db

SMALL_LIMITS = {
    "ORSEC_LOGIN_MAX_FAILURES_PER_ACCOUNT_IP": 3,
    "ORSEC_LOGIN_MAX_FAILURES_PER_ACCOUNT": 5,
    "ORSEC_LOGIN_MAX_FAILURES_PER_IP": 8,
}


def test_ten_wrong_passwords_in_a_minute_lock_with_429_and_an_audit_record(
    personas: Personas,
) -> None:
    persona = personas.operator37
    statuses = [
        post_password(Client(), persona.username, f"mauvais-{i}").status_code for i in range(10)
    ]
    limit = settings.ORSEC_LOGIN_MAX_FAILURES_PER_ACCOUNT_IP
    assert statuses == [200] * limit + [429] * (10 - limit)

    response = post_password(Client(), persona.username, persona.password)
    assert response.status_code == 429
    body = response.content.decode()
    assert "Trop de tentatives" in body
    minutes = settings.ORSEC_LOGIN_LOCKOUT_SECONDS // 60
    assert f"réessayez dans {minutes} minutes" in body
    assert int(response["Retry-After"]) > 0
    lockouts = AuditRecord.objects.filter(action="auth.lockout")
    assert lockouts.count() == 10 - limit + 1
    assert lockouts.first().data["scope"] == "account_ip"  # type: ignore[union-attr]


def test_locked_attempt_is_answered_before_the_password_is_verified(personas: Personas) -> None:
    persona = personas.operator37
    for i in range(settings.ORSEC_LOGIN_MAX_FAILURES_PER_ACCOUNT_IP):
        post_password(Client(), persona.username, f"mauvais-{i}")
    with mock.patch("orsec.accounts.actions.authenticate") as authenticate:
        right = post_password(Client(), persona.username, persona.password)
        wrong = post_password(Client(), persona.username, "encore-faux")
    authenticate.assert_not_called()
    assert right.status_code == wrong.status_code == 429


@override_settings(**SMALL_LIMITS)
def test_lock_from_one_address_does_not_lock_the_owner_at_another_address(
    personas: Personas,
) -> None:
    persona = personas.operator37
    for i in range(3):
        post_password(Client(), persona.username, f"mauvais-{i}", ip="203.0.113.66")
    assert (
        post_password(Client(), persona.username, persona.password, ip="203.0.113.66").status_code
        == 429
    )
    log_in(Client(), persona, ip="198.51.100.20")


@override_settings(**SMALL_LIMITS)
def test_failures_from_many_addresses_lock_the_account_everywhere(personas: Personas) -> None:
    persona = personas.operator37
    for i in range(5):
        post_password(Client(), persona.username, "mauvais", ip=f"203.0.113.{i + 1}")
    response = post_password(Client(), persona.username, persona.password, ip="198.51.100.99")
    assert response.status_code == 429
    assert AuditRecord.objects.filter(action="auth.lockout").last().data["scope"] == "account"  # type: ignore[union-attr]
    # Another account is untouched.
    log_in(Client(), personas.room_lead37, ip="198.51.100.99")


@override_settings(**SMALL_LIMITS)
def test_one_address_spraying_many_usernames_is_locked_but_others_are_not(
    personas: Personas,
) -> None:
    for i in range(8):
        post_password(Client(), f"inconnu{i}", "mauvais", ip="203.0.113.200")
    # Even a right password of a real account is refused from that address…
    persona = personas.room_lead37
    assert (
        post_password(Client(), persona.username, persona.password, ip="203.0.113.200").status_code
        == 429
    )
    # …and the sprayed accounts are not locked for anybody else.
    log_in(Client(), persona, ip="198.51.100.30")


@override_settings(**SMALL_LIMITS)
def test_one_anonymous_address_cannot_lock_an_account_for_its_owner(personas: Personas) -> None:
    """S16: the per-address budget runs out long before an account-wide lock is reached."""
    attacker = "203.0.113.250"
    for spec in ("operator37", "room_lead37", "director37", "liaison_sdis37"):
        for _ in range(3):
            post_password(Client(), getattr(personas, spec).username, "mauvais", ip=attacker)
    for spec in ("operator37", "room_lead37", "director37"):
        log_in(Client(), getattr(personas, spec), ip="198.51.100.40")


@override_settings(**SMALL_LIMITS)
def test_success_clears_the_failures_of_that_account_and_address(personas: Personas) -> None:
    persona = personas.operator37
    for _ in range(2):
        post_password(Client(), persona.username, "mauvais")
    log_in(Client(), persona)
    assert LoginFailure.objects.count() == 0
    for _ in range(2):
        post_password(Client(), persona.username, "mauvais")
    assert post_password(Client(), persona.username, persona.password).status_code == 302


@override_settings(**SMALL_LIMITS, OTP_TOTP_THROTTLE_FACTOR=0)
def test_second_factor_failures_count_towards_the_lock(personas: Personas) -> None:
    persona = personas.operator37
    client = Client()
    post_password(client, persona.username, persona.password)
    good = fresh_code(persona)
    wrong = wrong_code(good)
    assert [post_code(client, wrong).status_code for _ in range(3)] == [200, 200, 200]
    response = post_code(client, good)
    assert response.status_code == 429
    assert LoginFailure.objects.filter(step="second_factor").count() == 3
    assert "auth.lockout" in audit_actions()
    # The pending login is dropped: the password step must be done again.
    assert client.get(reverse("accounts:login_second_factor")).status_code == 302


@override_settings(**SMALL_LIMITS)
def test_lock_ends_when_the_window_has_passed(personas: Personas, clock: Clock) -> None:
    persona = personas.operator37
    for _ in range(3):
        post_password(Client(), persona.username, "mauvais")
    assert post_password(Client(), persona.username, persona.password).status_code == 429
    clock.advance(settings.ORSEC_LOGIN_LOCKOUT_SECONDS + 1)
    assert post_password(Client(), persona.username, persona.password).status_code == 302


def test_failure_rows_hold_a_digest_not_the_typed_username(personas: Personas) -> None:
    post_password(Client(), "mot-de-passe-tape-par-erreur", "x")
    row = LoginFailure.objects.get()
    assert "mot-de-passe" not in row.username_digest
    assert len(row.username_digest) == 64
    assert row.step == "password"
