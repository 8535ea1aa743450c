"""Helpers of the accounts tests: drive the login flow through HTTP, read the audit, move time.

The personas are the project's shared ``personas`` fixture (root ``conftest.py``): the demo
scenario's people with known credentials (``.user``, ``.password``, ``.totp_key``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.test import Client
from django.urls import reverse
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from orsec.audit.models import AuditRecord

#: The shared fixture's types live in the root conftest; the tests only use their attributes.
Personas = Any
Persona = Any

DEFAULT_IP = "198.51.100.10"


def totp_code(key_hex: str, *, at: float | None = None, step_offset: int = 0) -> str:
    totp = TOTP(bytes.fromhex(key_hex), step=30, t0=0, digits=6, drift=step_offset)
    totp.time = time.time() if at is None else at
    return f"{totp.token():06d}"


def fresh_code(persona: Persona) -> str:
    """A code the server accepts now: above the last one used (django-otp refuses replays).

    Within one 30-second step a second login may use the next step's code (tolerance 1); a
    third one would have to wait for the clock, so the helper moves ``last_t`` back instead.
    """
    device = TOTPDevice.objects.get(user=persona.user, confirmed=True)
    now_t = int(time.time()) // 30
    wanted = max(now_t, device.last_t + 1)
    if wanted > now_t + 1:
        TOTPDevice.objects.filter(pk=device.pk).update(last_t=now_t - 1)
        wanted = now_t
    return totp_code(persona.totp_key, step_offset=wanted - now_t)


def wrong_code(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def post_password(
    client: Client, username: str, password: str, *, ip: str = DEFAULT_IP, next_url: str = ""
) -> Any:
    data = {"username": username, "password": password}
    if next_url:
        data["next"] = next_url
    return client.post(reverse("accounts:login"), data, REMOTE_ADDR=ip)


def post_code(client: Client, code: str, *, ip: str = DEFAULT_IP) -> Any:
    return client.post(reverse("accounts:login_second_factor"), {"code": code}, REMOTE_ADDR=ip)


def log_in(client: Client, persona: Persona, *, ip: str = DEFAULT_IP) -> Any:
    """The full flow through HTTP: password, then a TOTP code. Returns the last response."""
    response = post_password(client, persona.username, persona.password, ip=ip)
    assert response.status_code == 302, response.content.decode()[:500]
    assert response["Location"] == reverse("accounts:login_second_factor")
    response = post_code(client, fresh_code(persona), ip=ip)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert response["Location"] == reverse("accounts:home")
    return response


def session_key(client: Client) -> str:
    cookie = client.cookies.get(settings.SESSION_COOKIE_NAME)
    return cookie.value if cookie is not None else ""


def audit_actions(**filters: Any) -> list[str]:
    records = AuditRecord.objects.filter(**filters).order_by("id")
    return list(records.values_list("action", flat=True))


@dataclass
class Clock:
    """``django.utils.timezone.now`` under the test's control (sessions, throttle, audit)."""

    current: datetime

    def advance(self, seconds: float) -> None:
        self.current += timedelta(seconds=seconds)

    def now(self) -> datetime:
        return self.current
