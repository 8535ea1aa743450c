"""Partner token pages: administrators of an organisation issue (shown once) and revoke tokens."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.test import Client
from django.utils.html import escape

from orsec.accounts.models import User
from orsec.accounts.testing import log_in_verified
from orsec.audit.models import AuditRecord
from orsec.partners.models import IdempotencyRecord, PartnerToken
from orsec.partners.testing import issue_test_token, token_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin37(personas: Any) -> User:
    """A staff member of the préfecture of Indre-et-Loire (administers the 37 organisations)."""
    user = personas.operator37.user
    user.is_staff = True
    user.save()
    return user


def _form(personas: Any, **overrides: Any) -> dict[str, Any]:
    data = {
        "name": "Système d'alerte SDIS 37",
        "organisation": personas.organisations["sdis37"].pk,
        "territory_code": "37",
        "verbs": ["reports:write", "events:read"],
        "expires_on": "",
    }
    data.update(overrides)
    return data


def test_departement_admin_creates_a_token_shown_once_and_stored_hashed(
    personas: Any, admin37: User
) -> None:
    client = log_in_verified(Client(), admin37)
    response = client.post("/partenaires/nouveau/", _form(personas))
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    token = PartnerToken.objects.get()
    plaintext = response.context["plaintext"]
    assert plaintext.startswith(f"orsec_{token.prefix}_")
    assert plaintext.encode() in response.content
    assert "il ne sera plus jamais affiché" in response.content.decode()
    assert token.verbs == ["events:read", "reports:write"]
    assert token.territory.code == "37"
    listing = client.get("/partenaires/")
    assert escape(token.name) in listing.content.decode()
    assert plaintext.encode() not in listing.content
    assert plaintext.split("_", 2)[2] not in str(list(AuditRecord.objects.values("data")))
    assert token_client(plaintext).get("/api/v1/partner/whoami").status_code == 200


def test_service_account_can_never_log_in_to_the_portal(partner_sdis37: Any) -> None:
    user = partner_sdis37.partner_token.service_user
    assert not user.has_usable_password()
    assert authenticate(username=user.username, password="") is None
    assert authenticate(username=user.username, password=partner_sdis37.token) is None
    response = Client().post(
        "/connexion/", {"username": user.username, "password": partner_sdis37.token}
    )
    assert "_auth_user_id" not in Client().session
    assert response.status_code in (200, 400, 429)
    assert user.memberships.get().role == "liaison_officer"


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"territory_code": "45"}, "territory_code", "Aucun territoire de code « 45 »"),
        ({"verbs": []}, "verbs", "Choisissez au moins un droit."),
        ({"verbs": ["admin:all"]}, "verbs", "Droit inconnu."),
        ({"name": ""}, "name", "Donnez un nom au système partenaire."),
        ({"expires_on": "01/01/2000"}, "expires_on", "doit être dans le futur"),
        ({"expires_on": "demain"}, "expires_on", "JJ/MM/AAAA"),
    ],
)
def test_bad_input_gives_a_precise_french_error_and_writes_nothing(
    personas: Any, admin37: User, overrides: dict[str, Any], field: str, message: str
) -> None:
    client = log_in_verified(Client(), admin37)
    response = client.post("/partenaires/nouveau/", _form(personas, **overrides))
    assert response.status_code == 400
    assert message in " ".join(response.context["form"].errors[field])
    assert not PartnerToken.objects.exists()
    assert not User.objects.filter(username__startswith="partenaire-").exists()


def test_admin_of_37_cannot_issue_for_an_organisation_of_loiret(
    personas: Any, admin37: User
) -> None:
    client = log_in_verified(Client(), admin37)
    cod45 = personas.organisations["cod45"]
    response = client.post(
        "/partenaires/nouveau/", _form(personas, organisation=cod45.pk, territory_code="")
    )
    assert response.status_code == 400
    assert "organisation" in response.context["form"].errors
    assert not PartnerToken.objects.exists()


def test_operator45_admin_gets_404_on_a_token_of_37(personas: Any, partner_sdis37: Any) -> None:
    user = personas.operator45.user
    user.is_staff = True
    user.save()
    client = log_in_verified(Client(), user)
    url = f"/partenaires/{partner_sdis37.partner_token.pk}/revoquer/"
    assert client.get(url).status_code == 404
    assert client.post(url).status_code == 404
    assert client.get("/partenaires/999999/revoquer/").status_code == 404
    assert PartnerToken.objects.get().revoked_at is None
    assert (
        escape(partner_sdis37.partner_token.name)
        not in client.get("/partenaires/").content.decode()
    )


def test_non_staff_operator37_gets_404_on_the_pages(personas: Any, partner_sdis37: Any) -> None:
    client = personas.client_for("operator37")
    assert client.get("/partenaires/").status_code == 404
    assert client.get("/partenaires/nouveau/").status_code == 404


def test_departement_admin_revokes_after_confirmation_then_the_token_gets_401(
    personas: Any, admin37: User, partner_sdis37: Any
) -> None:
    client = log_in_verified(Client(), admin37)
    url = f"/partenaires/{partner_sdis37.partner_token.pk}/revoquer/"
    confirm = client.get(url)
    assert confirm.status_code == 200
    assert "Révoquer le jeton" in confirm.content.decode()
    assert partner_sdis37.client.get("/api/v1/partner/whoami").status_code == 200
    response = client.post(url)
    assert response.status_code == 302
    token = PartnerToken.objects.get()
    assert token.revoked_at is not None
    assert token.revoked_by == admin37
    assert not token.service_user.is_active
    assert AuditRecord.objects.filter(action="partners.token.revoked").count() == 1
    assert partner_sdis37.client.get("/api/v1/partner/whoami").status_code == 401
    assert client.post(url).status_code == 302  # a second click changes nothing
    assert AuditRecord.objects.filter(action="partners.token.revoked").count() == 1


def test_admin_site_lists_tokens_read_only(personas: Any, partner_sdis37: Any) -> None:
    client = personas.client_for("admin")
    assert client.get("/admin/partners/partnertoken/").status_code == 200
    assert client.get("/admin/partners/partnertoken/add/").status_code == 403


def test_a_token_cannot_be_issued_on_a_territory_outside_its_organisation(personas: Any) -> None:
    from django.core.exceptions import ValidationError

    from orsec.territories.models import Territory

    loiret = Territory.objects.get(kind="departement", code="45")
    with pytest.raises(ValidationError):
        issue_test_token(
            personas.admin.user,
            personas.organisations["sdis37"],
            verbs=["events:read"],
            territory=loiret,
        )
    assert not PartnerToken.objects.exists()


def test_purge_command_runs(partner_sdis37: Any) -> None:
    call_command("purge_idempotency_records")
    assert not IdempotencyRecord.objects.exists()
