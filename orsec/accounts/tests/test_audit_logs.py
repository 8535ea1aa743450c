"""Authentication events are audit records and structured log lines (S28), which resist
injection and hold no secret (S29)."""

from __future__ import annotations

import json
import logging
import re

import pytest
from django.test import Client, override_settings
from django.urls import reverse

from orsec.accounts.tests.helpers import (
    Personas,
    audit_actions,
    fresh_code,
    post_code,
    post_password,
    wrong_code,
)
from orsec.audit.models import AuditRecord
from orsec.core.logging import JsonFormatter

pytestmark = pytest.mark.django_db


@pytest.fixture
def json_logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """Capture every logger at DEBUG, formatted as in production (JSON lines)."""
    caplog.set_level(logging.DEBUG)
    caplog.handler.setFormatter(JsonFormatter())
    return caplog


def audit_lines(caplog: pytest.LogCaptureFixture) -> list[dict[str, object]]:
    return [json.loads(line) for line in caplog.text.splitlines() if '"orsec.audit"' in line]


def test_login_failure_is_an_audit_record_and_a_structured_log_line(
    personas: Personas, json_logs: pytest.LogCaptureFixture
) -> None:
    post_password(Client(), personas.operator37.username, "mauvais-mot-de-passe")
    record = AuditRecord.objects.get(action="auth.login.failure")
    assert record.outcome == "failure"
    assert record.data == {"step": "password", "reason": "invalid_credentials"}
    assert record.actor_id == personas.operator37.user.pk
    assert record.ip == "198.51.100.10"
    assert record.method == "POST"
    assert record.path == reverse("accounts:login")
    lines = audit_lines(json_logs)
    assert len(lines) == 1
    line = lines[0]
    assert line["audit"]["action"] == "auth.login.failure"  # type: ignore[index]
    assert line["audit"]["actor"] == "operateur.cod37"  # type: ignore[index]
    assert str(line["time"]).endswith("+00:00")  # UTC


def test_unknown_username_is_audited_under_a_digest_never_as_typed(personas: Personas) -> None:
    # Users do type their password in the username field: what was typed is never recorded.
    for _ in range(2):
        post_password(Client(), "Mon-Mot-De-Passe-Tape-Ici", "x")
    records = AuditRecord.objects.filter(action="auth.login.failure")
    assert records.count() == 2
    labels = {r.actor_label for r in records}
    assert len(labels) == 1  # the same name gives the same label: sprays can be grouped
    label = labels.pop()
    assert label.startswith("inconnu#")
    assert "Mot-De-Passe" not in label
    assert records[0].actor_id is None
    assert records[0].data["reason"] == "unknown_user"


def test_username_with_a_newline_cannot_forge_a_log_line(
    personas: Personas, json_logs: pytest.LogCaptureFixture
) -> None:
    post_password(Client(), "alice\nFAKE audit auth.login.success admin", "x")
    lines = json_logs.text.splitlines()
    assert lines  # the failure is logged…
    assert not any(line.startswith("FAKE") for line in lines)  # …never as a forged line
    for line in lines:
        json.loads(line)  # every line is one complete JSON record
    assert "FAKE" not in json_logs.text  # and what was typed is not logged at all


def test_log_formatter_escapes_a_newline_in_any_value() -> None:
    record = logging.makeLogRecord({"msg": "audit", "audit": {"actor": "alice\nFAKE line"}})
    line = JsonFormatter().format(record)
    assert "\n" not in line  # no raw line break…
    assert "alice\\nFAKE" in line  # …only its escaped form


def test_logs_of_a_whole_login_hold_no_password_code_or_session_id(
    personas: Personas, json_logs: pytest.LogCaptureFixture
) -> None:
    persona = personas.operator37
    client = Client()
    post_password(client, persona.username, "un-essai-rate-secret")
    post_password(client, persona.username, persona.password)
    pending_key = client.cookies["__Host-orsec_session"].value
    good = fresh_code(persona)
    wrong = wrong_code(good)
    post_code(client, wrong)

    with override_settings(OTP_TOTP_THROTTLE_FACTOR=0):
        post_code(client, good)
    client.get(reverse("accounts:home"))
    session_id = client.cookies["__Host-orsec_session"].value
    client.post(reverse("accounts:logout"))

    actions = [line["audit"]["action"] for line in audit_lines(json_logs)]  # type: ignore[index]
    assert actions == [
        "auth.login.failure",
        "auth.mfa.failure",
        "auth.login.success",
        "auth.logout",
    ]
    text = json_logs.text
    for secret in (persona.password, "un-essai-rate-secret", session_id, pending_key):
        assert secret not in text
    for code in (good, wrong):
        assert not re.search(rf"(?<![0-9a-f]){code}(?![0-9a-f])", text)
    stored = json.dumps(list(AuditRecord.objects.values("data", "actor_label", "path")))
    for secret in (persona.password, "un-essai-rate-secret", good, wrong, session_id):
        assert secret not in stored


def test_every_security_event_of_the_account_page_is_audited(personas: Personas) -> None:
    persona = personas.operator37
    client = Client()
    post_password(client, persona.username, persona.password)
    post_code(client, fresh_code(persona))
    client.post(reverse("accounts:recovery_codes"), {"password": persona.password})
    client.post(reverse("accounts:password_reset"), {"email": persona.user.email})
    client.post(reverse("accounts:logout_everywhere"))
    assert audit_actions() == [
        "auth.login.success",
        "auth.recovery_codes_regenerated",
        "auth.password_reset_requested",
        "auth.logout_everywhere",
    ]
