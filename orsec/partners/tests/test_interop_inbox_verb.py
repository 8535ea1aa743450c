"""The partner inbox needs the ``interop:submit`` verb (a token's other verbs are not enough)."""

from __future__ import annotations

from typing import Any

import pytest

from orsec.interop.models import InboundMessage
from orsec.partners.testing import DISPATCH_VERBS, issue_test_token

pytestmark = pytest.mark.django_db

URL = "/api/v1/interop/inbox"


def test_partner_token_without_interop_submit_gets_403_and_nothing_is_kept(
    personas: Any,
) -> None:
    partner = issue_test_token(
        personas.admin.user,
        personas.organisations["sdis37"],
        verbs=[verb for verb in DISPATCH_VERBS if verb != "interop:submit"],
        name="Jeton sans dépôt",
    )
    response = partner.client.post(URL, data=b"<a/>", content_type="application/xml")
    assert response.status_code == 403
    assert response.json()["code"] == "scope_denied"
    assert not InboundMessage.objects.exists()


def test_partner_token_with_interop_submit_reaches_the_inbox(partner_sdis37: Any) -> None:
    assert "interop:submit" in partner_sdis37.partner_token.verbs
    response = partner_sdis37.client.post(URL, data=b"<a/>", content_type="application/xml")
    assert response.status_code == 415  # reached: not a known standard
