"""No user enumeration by message, status or timing, password reset included (S17)."""

from __future__ import annotations

import re
import statistics
import time
from collections.abc import Callable

import pytest
from django.core import mail
from django.test import Client, override_settings
from django.urls import reverse

from orsec.accounts.tests.helpers import (
    Personas,
    post_password,
)

pytestmark = pytest.mark.django_db

_VOLATILE = [
    re.compile(r'(name="csrfmiddlewaretoken" value=")[^"]+(")'),
    re.compile(r'(nonce=")[^"]+(")'),
]
NO_LOCK = {
    "ORSEC_LOGIN_MAX_FAILURES_PER_ACCOUNT_IP": 1000,
    "ORSEC_LOGIN_MAX_FAILURES_PER_ACCOUNT": 1000,
    "ORSEC_LOGIN_MAX_FAILURES_PER_IP": 1000,
}


def stable_body(content: bytes) -> str:
    """The page without what changes on every response (masked CSRF token, CSP nonce)."""
    body = content.decode()
    for pattern in _VOLATILE:
        body = pattern.sub(r"\1…\2", body)
    return body


def test_unknown_user_and_wrong_password_get_identical_answers(personas: Personas) -> None:
    known = personas.operator37.username
    unknown = post_password(Client(), "operateur.cod99", "un-mot-de-passe-faux")
    wrong = post_password(Client(), known, "un-mot-de-passe-faux")
    assert unknown.status_code == wrong.status_code == 200
    # The typed username is echoed back in the form: the rest is byte for byte the same.
    assert stable_body(unknown.content).replace("operateur.cod99", known) == stable_body(
        wrong.content
    )
    assert sorted(unknown.cookies) == sorted(wrong.cookies)


def test_password_reset_answers_identically_for_known_and_unknown_addresses(
    personas: Personas,
) -> None:
    known = Client().post(
        reverse("accounts:password_reset"), {"email": personas.operator37.user.email}
    )
    unknown = Client().post(
        reverse("accounts:password_reset"), {"email": "personne@demo-orsec.example"}
    )
    assert known.status_code == unknown.status_code == 302
    assert known["Location"] == unknown["Location"]
    assert known.content == unknown.content
    assert len(mail.outbox) == 1  # only the real account got a message
    done = Client().get(known["Location"])
    assert "Si cette adresse correspond à un compte actif" in done.content.decode()


def _durations_ms(send: Callable[[], object], rounds: int) -> list[float]:
    durations = []
    for _ in range(rounds):
        started = time.perf_counter()
        send()
        durations.append((time.perf_counter() - started) * 1000)
    return durations


def _assert_close(first: list[float], second: list[float], floor_ms: int) -> None:
    a, b = statistics.median(first), statistics.median(second)
    assert a >= floor_ms
    assert b >= floor_ms
    assert abs(a - b) <= 0.10 * max(a, b), f"medians {a:.1f} ms and {b:.1f} ms"


@override_settings(ORSEC_ANONYMOUS_MIN_RESPONSE_MS=150, **NO_LOCK)
def test_login_timing_is_the_same_for_unknown_user_and_wrong_password(
    personas: Personas,
) -> None:
    known = personas.operator37.username
    unknown_times: list[float] = []
    wrong_times: list[float] = []
    for _ in range(15):  # interleaved, so that a slow moment hits both series
        unknown_times += _durations_ms(
            lambda: post_password(Client(), "personne.inconnue", "faux-mot-de-passe"), 1
        )
        wrong_times += _durations_ms(lambda: post_password(Client(), known, "faux-mot-de-passe"), 1)
    _assert_close(unknown_times, wrong_times, 150)


@override_settings(ORSEC_ANONYMOUS_MIN_RESPONSE_MS=150)
def test_password_reset_timing_is_the_same_for_known_and_unknown_addresses(
    personas: Personas,
) -> None:
    url = reverse("accounts:password_reset")
    email = personas.operator37.user.email
    known_times: list[float] = []
    unknown_times: list[float] = []
    for _ in range(15):
        known_times += _durations_ms(lambda: Client().post(url, {"email": email}), 1)
        unknown_times += _durations_ms(
            lambda: Client().post(url, {"email": "personne@demo-orsec.example"}), 1
        )
    _assert_close(known_times, unknown_times, 150)
