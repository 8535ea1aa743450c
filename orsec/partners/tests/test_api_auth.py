"""Partner tokens on the API (S22): scope, organisation, territory and verbs enforced; revocable.

The partner is the SDIS 37 dispatch system (``partner_sdis37`` fixture, verbs of a dispatch
system, territory Indre-et-Loire) or a token issued here with other verbs or territories.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client, RequestFactory
from django.utils import timezone

from orsec.accounts.access import scope_of
from orsec.audit.models import AuditRecord
from orsec.partners.actions import do_revoke_token
from orsec.partners.auth import PartnerTokenAuth
from orsec.partners.models import PartnerToken
from orsec.partners.testing import issue_test_token, token_client
from orsec.partners.tokens import hash_token
from orsec.territories.models import Territory

pytestmark = pytest.mark.django_db

JSON = {"Accept": "application/json"}


def _directory_token(personas: Any, **kwargs: Any) -> Any:
    return issue_test_token(
        personas.admin.user,
        personas.organisations["sdis37"],
        verbs=kwargs.pop("verbs", ["directory:read"]),
        **kwargs,
    )


def test_partner_token_with_directory_read_lists_organisations_of_its_departement(
    personas: Any,
) -> None:
    partner = _directory_token(personas)
    response = partner.client.get("/api/v1/organisations?limit=200", headers=JSON)
    assert response.status_code == 200
    names = {item["short_name"] for item in response.json()["items"]}
    assert {"SDIS 37", "COD 37", "Mairie de Tours"} <= names
    assert "COD 45" not in names
    assert response["Cache-Control"] == "private, no-store"


def test_sdis37_dispatch_token_without_directory_read_gets_403_scope_denied(
    partner_sdis37: Any,
) -> None:
    response = partner_sdis37.client.get("/api/v1/organisations", headers=JSON)
    assert response.status_code == 403
    assert response.json() == {
        "code": "scope_denied",
        "message": "Ce jeton ne donne pas le droit « directory:read ».",
    }


def test_revoked_token_gets_401_invalid_token_with_bearer_challenge(personas: Any) -> None:
    partner = _directory_token(personas)
    assert partner.client.get("/api/v1/organisations", headers=JSON).status_code == 200
    do_revoke_token(personas.admin.user, partner.partner_token)
    response = partner.client.get("/api/v1/organisations", headers=JSON)
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_token"
    assert response.json()["message"] == "Jeton d'API inconnu, expiré ou révoqué."
    assert response["WWW-Authenticate"].startswith("Bearer ")
    assert 'error="invalid_token"' in response["WWW-Authenticate"]


def test_expired_token_gets_401_invalid_token(personas: Any) -> None:
    partner = _directory_token(personas, expires_at=timezone.now() + timedelta(hours=1))
    PartnerToken.objects.filter(pk=partner.partner_token.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    response = partner.client.get("/api/v1/organisations", headers=JSON)
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_token"


@pytest.mark.parametrize(
    "header",
    [
        "Bearer orsec_00000000_" + "A" * 43,  # well-formed, unknown prefix
        "Bearer not-a-token",
        "Bearer ",
        "bearer " + "x" * 5000,
    ],
)
def test_unknown_or_malformed_bearer_token_gets_401_invalid_token(
    personas: Any, header: str
) -> None:
    response = Client(headers={"Authorization": header}).get("/api/v1/organisations")
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_token"


def test_right_prefix_with_a_wrong_secret_gets_401(partner_sdis37: Any) -> None:
    prefix = partner_sdis37.partner_token.prefix
    forged = f"orsec_{prefix}_" + "B" * 43
    response = token_client(forged).get("/api/v1/partner/whoami")
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_token"


def test_no_credential_at_all_still_gets_401_not_authenticated(personas: Any) -> None:
    response = Client().get("/api/v1/partner/whoami", headers=JSON)
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
    assert "Bearer" in response["WWW-Authenticate"]


def test_sdis37_dispatch_whoami_shows_organisation_territory_verbs_and_expiry(
    partner_sdis37: Any,
) -> None:
    response = partner_sdis37.client.get("/api/v1/partner/whoami", headers=JSON)
    assert response.status_code == 200
    data = response.json()
    assert data["kind"] == "partner_token"
    assert data["verbs"] == sorted(
        [
            "reports:write",
            "reports:read",
            "events:read",
            "journal:read",
            "deliveries:read",
            "deliveries:ack",
            "interop:submit",
        ]
    )
    assert data["token"]["organisation"]["short_name"] == "SDIS 37"
    assert data["token"]["territory"] == {
        "kind": "departement",
        "code": "37",
        "name": "Indre-et-Loire",
    }
    assert data["token"]["prefix"] == partner_sdis37.partner_token.prefix
    assert data["token"]["expires_at"] is None
    assert partner_sdis37.token not in response.content.decode()


def test_operator37_session_whoami_holds_every_verb(personas: Any) -> None:
    client = personas.client_for("operator37")
    data = client.get("/api/v1/partner/whoami", headers=JSON).json()
    assert data["kind"] == "session"
    assert data["token"] is None
    assert "directory:read" in data["verbs"]


def test_token_on_a_commune_narrows_the_scope_to_that_commune(personas: Any) -> None:
    tours = Territory.objects.get(kind="commune", code="37261")
    partner = _directory_token(personas, territory=tours)
    data = partner.client.get("/api/v1/organisations?limit=200", headers=JSON).json()
    names = {item["short_name"] for item in data["items"]}
    assert "Mairie de Tours" in names
    assert "Mairie d'Amboise" not in {item["name"] for item in data["items"]}
    amboise = personas.organisations["mairie_amboise"]
    assert partner.client.get(f"/api/v1/organisations/{amboise.pk}").status_code == 404


def test_token_scope_is_the_intersection_of_organisation_and_token_territory(
    partner_sdis37: Any,
) -> None:
    from orsec.partners.access import install_token_scope

    user = install_token_scope(partner_sdis37.partner_token)
    scope = scope_of(user)
    assert scope.paths == (partner_sdis37.partner_token.territory.path,)
    assert scope.roles == frozenset({"liaison_officer"})


def test_token_on_a_post_without_csrf_token_authenticates(partner_sdis37: Any) -> None:
    request = RequestFactory().post(
        "/api/v1/events", HTTP_AUTHORIZATION=f"Bearer {partner_sdis37.token}"
    )
    user = PartnerTokenAuth()(request)  # no csrf_failed: a token is no ambient credential
    assert user == partner_sdis37.partner_token.service_user
    assert request.auth_verbs == frozenset(partner_sdis37.partner_token.verbs)  # type: ignore[attr-defined]


def test_session_cookie_without_bearer_falls_through_the_token_authenticator() -> None:
    assert PartnerTokenAuth()(RequestFactory().get("/api/v1/organisations")) is None


def test_token_is_stored_hashed_and_never_logged_or_audited(
    personas: Any, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG):
        partner = _directory_token(personas)
        partner.client.get("/api/v1/organisations", headers=JSON)
        token_client(partner.token + "x").get("/api/v1/organisations")
    row = PartnerToken.objects.get(pk=partner.partner_token.pk)
    assert row.secret_hash == hash_token(partner.token)
    assert partner.token not in row.secret_hash
    secret = partner.token.split("_", 2)[2]  # the secret itself may contain "_"
    assert secret not in caplog.text
    for record in AuditRecord.objects.all():
        assert secret not in str(record.data)


def test_last_used_at_moves_at_most_once_a_minute(personas: Any) -> None:
    partner = _directory_token(personas)
    partner.client.get("/api/v1/partner/whoami")
    first = PartnerToken.objects.get(pk=partner.partner_token.pk).last_used_at
    assert first is not None
    partner.client.get("/api/v1/partner/whoami")
    assert PartnerToken.objects.get(pk=partner.partner_token.pk).last_used_at == first
    PartnerToken.objects.filter(pk=partner.partner_token.pk).update(
        last_used_at=first - timedelta(minutes=2)
    )
    partner.client.get("/api/v1/partner/whoami")
    moved = PartnerToken.objects.get(pk=partner.partner_token.pk).last_used_at
    assert moved is not None
    assert moved > first
