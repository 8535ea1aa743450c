"""S5: CORS — a foreign ``Origin`` is never reflected, never with credentials.

The portal serves no cross-origin client: no response, for pages or the API, with a session or a
partner token, on GET, POST or an OPTIONS preflight, carries ``Access-Control-Allow-Origin`` or
``Access-Control-Allow-Credentials``.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db

FOREIGN_ORIGINS = ["https://evil.example", "null", "https://orsec.example.evil.example"]
PATHS = ["/", "/connexion/", "/annuaire/", "/api/v1/organisations", "/api/v1/openapi.json"]
PREFLIGHT = {
    "Access-Control-Request-Method": "POST",
    "Access-Control-Request-Headers": "authorization, content-type, idempotency-key",
}


def _assert_no_cors(response: Any, origin: str) -> None:
    headers = {name.lower(): value for name, value in response.headers.items()}
    assert "access-control-allow-origin" not in headers
    assert "access-control-allow-credentials" not in headers
    assert "access-control-allow-headers" not in headers
    assert origin not in str(response.headers)


def _clients(personas: Any, partner_sdis37: Any) -> dict[str, Client]:
    return {
        "anonymous": Client(),
        "session": personas.client_for("operator37"),
        "token": partner_sdis37.client,
    }


@pytest.mark.parametrize("origin", FOREIGN_ORIGINS)
@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("method", ["get", "post", "options"])
def test_foreign_origin_is_never_reflected(
    personas: Any, partner_sdis37: Any, origin: str, path: str, method: str
) -> None:
    for client in _clients(personas, partner_sdis37).values():
        headers = {"Origin": origin, **(PREFLIGHT if method == "options" else {})}
        response = getattr(client, method)(path, headers=headers)
        assert response.status_code < 500
        _assert_no_cors(response, origin)


@pytest.mark.parametrize("origin", FOREIGN_ORIGINS)
def test_api_post_with_idempotency_key_from_foreign_origin_is_not_reflected(
    partner_sdis37: Any, origin: str
) -> None:
    response = partner_sdis37.client.post(
        "/api/v1/partner/whoami",
        data="{}",
        content_type="application/json",
        headers={"Origin": origin, "Idempotency-Key": "k-1"},
    )
    _assert_no_cors(response, origin)
