"""Partner API (``/api/v1/partner/…``): what a caller's credential allows.

``GET /api/v1/partner/whoami`` lets a partner system check its token at start-up (and a
portal script its session): the organisation, territory, verbs and expiry it acts with. It needs
no verb: any authenticated caller may read its own credential. Nothing here reveals a secret.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from django.http import HttpRequest
from ninja import Router, Schema

from orsec.core.api import VERBS, principal
from orsec.partners.models import PartnerToken

router = Router(tags=["Systèmes partenaires"])


class OrganisationRefOut(Schema):
    id: int
    name: str
    short_name: str


class TerritoryRefOut(Schema):
    kind: str
    code: str
    name: str


class TokenOut(Schema):
    name: str
    prefix: str
    organisation: OrganisationRefOut
    territory: TerritoryRefOut
    created_at: datetime
    expires_at: datetime | None


class WhoAmIOut(Schema):
    kind: Literal["session", "partner_token"]
    username: str
    verbs: list[str]
    token: TokenOut | None


@router.get(
    "/partner/whoami",
    response=WhoAmIOut,
    summary="Identité et droits de l'appelant",
    operation_id="partners_whoami",
)
def whoami(request: HttpRequest) -> dict[str, Any]:
    """The caller's credential: a partner token's scope, or a portal session (every verb)."""
    user = principal(request)
    token: PartnerToken | None = getattr(request, "partner_token", None)
    return {
        "kind": "session" if token is None else "partner_token",
        "username": user.get_username(),
        "verbs": sorted(VERBS) if token is None else sorted(token.verbs),
        "token": token,
    }
