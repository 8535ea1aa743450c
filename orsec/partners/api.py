"""Partner API: what a caller's credential allows, and « Envoyer en EMSI ».

``POST /api/v1/events/{id}/emsi/send`` queues the event's EMSI situation for the subscribed
partner endpoints (``events:write`` verb and the ``disseminate`` ability).


``GET /api/v1/partner/whoami`` lets a partner system check its token at start-up (and a
portal script its session): the organisation, territory, verbs and expiry it acts with. It needs
no verb: any authenticated caller may read its own credential. Nothing here reveals a secret.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Router, Schema, Status

from orsec.core.api import VERBS, ApiError, principal, require_verb
from orsec.events.access import access_event_by_id, get_event_abilities
from orsec.partners.actions import OutboundError, do_send_event_emsi
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


class OutboundQueuedOut(Schema):
    id: int
    delivery_id: str
    endpoint: str
    organisation: str
    standard: str
    state: str


class EmsiSentOut(Schema):
    event_id: int
    messages: list[OutboundQueuedOut]


@router.post(
    "/events/{event_id}/emsi/send",
    response={202: EmsiSentOut},
    summary="Envoyer la situation d'un événement en EMSI aux partenaires abonnés",
    operation_id="event_emsi_send",
)
def event_emsi_send(request: HttpRequest, event_id: int) -> Status:
    """Queue the event's EMSI situation for every endpoint subscribed to ``emsi`` that may see
    it (``disseminate`` ability; see ``docs/outbound.md``). 202: queued; 409 ``no_recipient`` or
    ``event_closed``."""
    require_verb(request, "events:write")
    user = principal(request)
    event = access_event_by_id(user, event_id)
    if not get_event_abilities(user, event)["disseminate"]:
        raise ApiError(
            403,
            "forbidden",
            _("Vous ne pouvez pas diffuser pour cet événement (envoi EMSI)."),
        )
    try:
        queued = do_send_event_emsi(user, event, request=request)
    except OutboundError as error:
        raise ApiError(409, error.code, str(error)) from error
    return Status(
        202,
        {
            "event_id": event.pk,
            "messages": [
                {
                    "id": m.pk,
                    "delivery_id": str(m.delivery_id),
                    "endpoint": m.endpoint.name,
                    "organisation": str(m.endpoint.organisation),
                    "standard": m.standard,
                    "state": m.state,
                }
                for m in queued
            ],
        },
    )
