"""Test support: a partner system calling the API with its token, as the SDIS dispatch would.

``issue_test_token()`` goes through the real action (:func:`orsec.partners.actions.do_issue_token`)
with an administrator of the organisation; ``PartnerClient.client`` sends
``Authorization: Bearer <token>`` on every request (and never a session cookie or CSRF token).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.test import Client

from orsec.directory.models import Organisation
from orsec.partners.actions import do_issue_token
from orsec.partners.models import PartnerToken
from orsec.territories.models import Territory

__all__ = ["DISPATCH_VERBS", "PartnerClient", "issue_test_token", "token_client"]

#: What a dispatch system (SDIS) needs: file reports, read events and the main courante,
#: receive and acknowledge deliveries, post standard messages to the interop inbox.
DISPATCH_VERBS = [
    "reports:write",
    "reports:read",
    "events:read",
    "journal:read",
    "deliveries:read",
    "deliveries:ack",
    "interop:submit",
]


@dataclass
class PartnerClient:
    token: str
    partner_token: PartnerToken
    client: Client


def token_client(plaintext: str) -> Client:
    """A test client that authenticates every request with the token."""
    return Client(headers={"Authorization": f"Bearer {plaintext}"})


def issue_test_token(
    actor: Any,
    organisation: Organisation,
    *,
    verbs: list[str],
    territory: Territory | None = None,
    name: str = "Système de test",
    expires_at: datetime | None = None,
) -> PartnerClient:
    """Issue a token through the real action; ``actor`` must administer ``organisation``.

    ``territory`` defaults to the organisation's territory.
    """
    if not callable(getattr(actor, "is_verified", None)):
        # As after the administrator's login with a second factor (OTPMiddleware sets it).
        actor.is_verified = lambda: True
    token, plaintext = do_issue_token(
        actor,
        organisation=organisation,
        territory=territory or organisation.territory,
        verbs=verbs,
        name=name,
        expires_at=expires_at,
    )
    return PartnerClient(token=plaintext, partner_token=token, client=token_client(plaintext))
