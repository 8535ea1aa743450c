"""Directory API (``/api/v1/organisations``) through HTTP, with the demo personas.

Personas come from the root ``conftest.py`` (``personas`` fixture: real territories + the demo
scenario); ``log_in_verified`` opens a session as the login flow would.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client, RequestFactory
from ninja.errors import Throttled

from config.api import ApiError, VerifiedSessionAuth, api
from orsec.accounts import sessions
from orsec.accounts.testing import log_in_verified

pytestmark = pytest.mark.django_db

JSON = {"Accept": "application/json"}


def as_persona(personas: Any, key: str, *, verified: bool = True) -> Client:
    return log_in_verified(Client(), getattr(personas, key).user, verified=verified)


# --- Authentication -----------------------------------------------------------------------------


def test_anonymous_gets_401_json_with_a_french_message(personas: Any) -> None:
    sdis37 = personas.organisations["sdis37"]
    for url in ("/api/v1/organisations", f"/api/v1/organisations/{sdis37.pk}"):
        response = Client().get(url, headers=JSON)
        assert response.status_code == 401
        assert response["Content-Type"].startswith("application/json")
        assert response.json() == {
            "code": "not_authenticated",
            "message": "Authentification requise : connectez-vous au portail.",
        }


def test_operator_37_without_verified_second_factor_is_refused(personas: Any) -> None:
    client = as_persona(personas, "operator37", verified=False)
    sdis37 = personas.organisations["sdis37"]
    response = client.get(f"/api/v1/organisations/{sdis37.pk}", headers=JSON)
    assert response.status_code in (401, 403)
    assert b"SDIS 37" not in response.content
    # The session policy ended that session: the next call is anonymous.
    assert client.get("/api/v1/organisations", headers=JSON).status_code == 401


def test_observer_unverified_when_mfa_is_optional_gets_403_second_factor_required(
    personas: Any, settings: Any
) -> None:
    settings.ORSEC_MFA_REQUIRED = False  # observers then need no second factor for pages
    client = as_persona(personas, "observer37", verified=False)
    response = client.get("/api/v1/organisations", headers=JSON)
    assert response.status_code == 403
    assert response.json()["code"] == "second_factor_required"
    assert "second facteur" in response.json()["message"]


def test_unsafe_method_with_a_session_cookie_and_no_csrf_token_is_refused(settings: Any) -> None:
    request = RequestFactory().post(
        "/api/v1/organisations", HTTP_COOKIE=f"{settings.SESSION_COOKIE_NAME}=abc"
    )
    with pytest.raises(ApiError) as raised:
        VerifiedSessionAuth()(request)
    assert raised.value.status_code == 403
    assert raised.value.code == "csrf_failed"


def test_request_without_session_cookie_falls_through_to_the_next_authenticator() -> None:
    request = RequestFactory().post("/api/v1/organisations")
    assert VerifiedSessionAuth()(request) is None  # no CSRF error: partner tokens come next


# --- Reading organisations ----------------------------------------------------------------------


def test_operator_37_reads_an_organisation_of_own_departement(personas: Any) -> None:
    client = as_persona(personas, "operator37")
    sdis37 = personas.organisations["sdis37"]
    response = client.get(f"/api/v1/organisations/{sdis37.pk}", headers=JSON)
    assert response.status_code == 200
    data = response.json()
    assert data["id"] == sdis37.pk
    assert data["short_name"] == "SDIS 37"
    assert data["kind"] == "sdis"
    assert data["kind_label"] == "SDIS"
    assert data["territory"] == {"kind": "departement", "code": "37", "name": "Indre-et-Loire"}
    assert {f["title"] for f in data["functions"]} == {"Officier CODIS", "Directeur départemental"}
    assert {"kind": "phone", "value": "02 99 00 37 18"}.items() <= data["contact_points"][0].items()
    assert data["abilities"]["view"] is True
    assert data["abilities"]["change"] is False
    assert response["Cache-Control"] == "private, no-store"


def test_operator_45_gets_the_same_404_for_sdis_37_as_for_an_absent_organisation(
    personas: Any,
) -> None:
    client = as_persona(personas, "operator45")
    sdis37 = personas.organisations["sdis37"]
    forbidden = client.get(f"/api/v1/organisations/{sdis37.pk}", headers=JSON)
    absent = client.get("/api/v1/organisations/999999999", headers=JSON)
    assert forbidden.status_code == absent.status_code == 404
    assert forbidden.content == absent.content
    assert forbidden.json()["code"] == "not_found"


def test_operator_37_lists_own_departement_and_chain_above_but_not_loiret(personas: Any) -> None:
    client = as_persona(personas, "operator37")
    data = client.get("/api/v1/organisations?limit=200", headers=JSON).json()
    names = {item["short_name"] for item in data["items"]}
    assert {"SDIS 37", "COD 37", "Mairie de Tours", "COZ Ouest", "COGIC", "ARS CVL"} <= names
    assert "COD 45" not in names
    assert "Préfecture 45" not in names
    assert data["count"] == len(data["items"])


def test_list_filters_by_kind_and_paginates(personas: Any) -> None:
    client = as_persona(personas, "zone_ouest")
    cods = client.get("/api/v1/organisations?kind=cod", headers=JSON).json()
    assert {item["short_name"] for item in cods["items"]} == {"COD 37", "COD 45"}
    first = client.get("/api/v1/organisations?limit=2", headers=JSON).json()
    second = client.get("/api/v1/organisations?limit=2&offset=2", headers=JSON).json()
    assert first["count"] == second["count"] > 4
    assert len(first["items"]) == len(second["items"]) == 2
    assert {i["id"] for i in first["items"]}.isdisjoint({i["id"] for i in second["items"]})


def test_invalid_filter_is_422_json_with_the_faulty_parameter(personas: Any) -> None:
    client = as_persona(personas, "operator37")
    response = client.get("/api/v1/organisations?kind=pompiers&limit=0", headers=JSON)
    assert response.status_code == 422
    data = response.json()
    assert data["code"] == "validation_error"
    assert data["message"] == "Les paramètres de la requête sont invalides."
    assert {tuple(e["loc"]) for e in data["errors"]} == {("query", "kind"), ("query", "limit")}


def test_list_and_detail_query_counts_are_pinned(
    personas: Any, django_assert_max_num_queries: Any
) -> None:
    client = as_persona(personas, "operator37")
    sdis37 = personas.organisations["sdis37"]
    client.get("/api/v1/organisations", headers=JSON)  # warm caches (content types, …)
    # session + user + OTP device + scope (memberships) = 4, then the endpoint's own queries.
    with django_assert_max_num_queries(4 + 2):
        assert client.get("/api/v1/organisations?limit=5", headers=JSON).status_code == 200
    with django_assert_max_num_queries(4 + 3):
        assert client.get(f"/api/v1/organisations/{sdis37.pk}", headers=JSON).status_code == 200


# --- Errors and documentation -------------------------------------------------------------------


def test_unexpected_exception_is_a_json_500_without_details() -> None:
    request = RequestFactory().get("/api/v1/organisations")
    response = api.on_exception(request, RuntimeError("mot de passe : hunter2"))
    assert response.status_code == 500
    assert b"hunter2" not in response.content
    assert b"Traceback" not in response.content
    assert response.content.decode().startswith('{"code": "server_error"')


def test_throttling_is_a_json_429() -> None:
    response = api.on_exception(RequestFactory().get("/"), Throttled(wait=5))
    assert response.status_code == 429
    assert b'"code": "throttled"' in response.content


def test_openapi_document_is_served_with_the_error_envelope() -> None:
    response = Client().get("/api/v1/openapi.json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["info"]["title"] == "Portail ORSEC API"
    assert schema["info"]["version"] == "1"
    detail = schema["paths"]["/api/v1/organisations/{organisation_id}"]["get"]
    assert set(detail["responses"]) >= {"200", "401", "403", "404", "422", "429", "500"}
    assert detail["responses"]["404"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Error"
    }
    assert set(schema["components"]["schemas"]["Error"]["required"]) == {"code", "message"}
    assert "/api/v1/organisations" in schema["paths"]


def test_api_docs_page_is_served() -> None:
    response = Client().get("/api/v1/docs")
    assert response.status_code == 200
    assert b"swagger" in response.content.lower()


def test_api_call_with_an_expired_session_gets_the_json_error_shape(personas: Any) -> None:
    client = personas.client_for("operator37")
    session = client.session
    session[sessions.SEEN_AT_KEY] = session[sessions.SEEN_AT_KEY] - 10 * 24 * 3600
    session.save()
    response = client.get("/api/v1/organisations", HTTP_ACCEPT="application/json")
    assert response.status_code == 401
    assert response.json()["code"] == "session_expired"
    assert "reconnectez-vous" in response.json()["message"]
