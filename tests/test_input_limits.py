"""S24: body, field, JSON-depth and upload limits — oversized or deeply nested input gets a 4xx
with the API's error shape, never a 500, and nothing is written.

Hypothesis generates arbitrary JSON documents for the report submission (the partner-facing
write with the richest body) and the main courante entry; fixed cases cover depth and size.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orsec.journal.models import JournalEntry
from orsec.reports.models import FieldReport

pytestmark = pytest.mark.django_db

JSON_HEADERS = {"Accept": "application/json"}
ALLOWED = {201, 400, 403, 404, 413, 422}

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=50),
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=20), children, max_size=5)
    ),
    max_leaves=30,
)
report_bodies = st.fixed_dictionaries(
    {},
    optional={
        "template": st.sampled_from(["casualties", "networks", "general", "x", ""]) | json_values,
        "text": st.text(max_size=300) | json_values,
        "figures": st.dictionaries(
            st.sampled_from(
                ["dead", "absolute", "relative", "evacuated", "homes_without_power", "z"]
            ),
            st.integers(min_value=-(2**70), max_value=2**70) | json_values,
            max_size=6,
        )
        | json_values,
        "location": json_values,
        "occurred_at": st.text(max_size=40) | json_values,
        "channel": st.text(max_size=12) | json_values,
    },
)


def _post(client: Client, url: str, body: Any) -> Any:
    raw = body if isinstance(body, (bytes, str)) else json.dumps(body)
    return client.post(url, raw, content_type="application/json", headers=JSON_HEADERS)


def _check_error_shape(response: Any) -> None:
    assert response.status_code in ALLOWED, (response.status_code, response.content[:500])
    if response.status_code >= 400:
        payload = response.json()
        assert isinstance(payload.get("code"), str)
        assert payload["code"]
        assert isinstance(payload.get("message"), str)
        assert payload["message"]


@settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(body=report_bodies)
def test_generated_report_bodies_never_cause_a_server_error(partner_sdis37, flood_event, body):
    before = FieldReport.objects.count()
    response = _post(partner_sdis37.client, f"/api/v1/events/{flood_event.pk}/reports", body)
    _check_error_shape(response)
    assert FieldReport.objects.count() == before + (1 if response.status_code == 201 else 0)


@pytest.mark.parametrize("depth", [50, 1_000, 100_000])
def test_deeply_nested_json_is_refused_with_a_4xx(partner_sdis37, flood_event, depth):
    body = '{"template": "general", "text": "x", "figures": ' + "[" * depth + "]" * depth + "}"
    entries = JournalEntry.objects.count()
    response = _post(partner_sdis37.client, f"/api/v1/events/{flood_event.pk}/reports", body)
    _check_error_shape(response)
    assert response.status_code in (400, 413, 422)
    assert JournalEntry.objects.count() == entries


def test_an_oversized_body_is_refused_and_nothing_is_written(partner_sdis37, flood_event, settings):
    text = "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 10)
    before = FieldReport.objects.count()
    response = _post(
        partner_sdis37.client,
        f"/api/v1/events/{flood_event.pk}/reports",
        {"template": "general", "text": text},
    )
    _check_error_shape(response)
    assert response.status_code in (400, 413)
    assert FieldReport.objects.count() == before


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"{",
        b"null",
        b"[]",
        b'"text"',
        b"\xff\xfe",
        b'{"template": "general", "text": "\\ud800"}',
    ],
)
def test_malformed_json_bodies_get_a_4xx(partner_sdis37, flood_event, body):
    response = _post(partner_sdis37.client, f"/api/v1/events/{flood_event.pk}/reports", body)
    _check_error_shape(response)
    assert response.status_code in (400, 422)


def test_a_text_over_its_limit_is_named_in_the_error(personas, flood_event):
    client = personas.client_for("operator37")
    response = _post(
        client,
        f"/api/v1/events/{flood_event.pk}/journal",
        {"kind": "information", "channel": "phone", "text": "y" * 200_000},
    )
    _check_error_shape(response)
    assert response.status_code == 422
    assert "text" in json.dumps(response.json())
