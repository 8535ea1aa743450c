"""Helpers shared by the reports tests."""

from __future__ import annotations

from typing import Any

from django.test import Client

JSON = {"Accept": "application/json"}

CASUALTIES = {"dead": 1, "absolute": 2, "relative": 5, "involved": 30, "evacuated": 120}


def post_json(client: Client, url: str, body: dict[str, Any]) -> Any:
    return client.post(url, body, content_type="application/json", headers=JSON)


def submit(client: Client, event_id: int, **overrides: Any) -> Any:
    body: dict[str, Any] = {
        "template": "casualties",
        "text": "Quai de la Loire : 1 DCD, 2 UA, 5 UR.",
        "figures": dict(CASUALTIES),
    }
    body.update(overrides)
    return post_json(client, f"/api/v1/events/{event_id}/reports", body)


def qualify(client: Client, report_id: int, action: str, revision: int, **extra: Any) -> Any:
    body = {"action": action, "expected_revision": revision, **extra}
    return post_json(client, f"/api/v1/reports/{report_id}/qualification", body)
