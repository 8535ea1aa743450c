"""Dissemination API: inbox, deliveries, acknowledgements, an event's trace, disseminating.

Thin endpoints — verb, parse, access, act, serialise. A delivery or an event of another
territory answers the same 404 as an absent one.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema
from ninja.responses import Status

from orsec.core.api import ApiError, cursor_page, principal, require_verb
from orsec.directory.access import organisations_visible_to
from orsec.dissemination.access import (
    access_delivery_by_id,
    access_event_entry_by_id,
    access_trace_event_by_id,
    deliveries_of_event,
    deliveries_visible_to,
    get_delivery_abilities,
    is_acting_recipient,
)
from orsec.dissemination.actions import (
    DisseminationError,
    do_acknowledge_delivery,
    do_disseminate_entry,
    do_mark_delivery_read,
    person_label,
)
from orsec.dissemination.models import Delivery, DeliveryState
from orsec.events.access import access_event_by_id, get_event_abilities

router = Router(tags=["Diffusion et prise en compte"])

MAX_LIMIT = 100
MAX_TEXT = 2000


class StateFilter(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    READ = "read"
    ACKNOWLEDGED = "acknowledged"


class OrganisationRef(Schema):
    id: int
    name: str
    short_name: str


class EntryRef(Schema):
    id: int
    seq: int
    kind: str
    text: str
    qualification: str
    occurred_at: datetime


class DeliveryOut(Schema):
    id: int
    event_id: int
    event_title: str
    mode: str
    mode_marker: str
    entry: EntryRef
    organisation: OrganisationRef
    user_id: int | None
    state: DeliveryState
    sent_at: datetime
    read_at: datetime | None
    read_by: str | None
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    ack_comment: str
    reminder_count: int
    escalated_at: datetime | None
    abilities: dict[str, bool]

    @staticmethod
    def resolve_event_title(obj: Delivery) -> str:
        return obj.event.title

    @staticmethod
    def resolve_mode_marker(obj: Delivery) -> str:
        return obj.event.mode_marker()

    @staticmethod
    def resolve_read_by(obj: Delivery) -> str | None:
        return person_label(obj.read_by) if obj.read_by_id else None

    @staticmethod
    def resolve_acknowledged_by(obj: Delivery) -> str | None:
        return person_label(obj.acknowledged_by) if obj.acknowledged_by_id else None

    @staticmethod
    def resolve_abilities(obj: Delivery, context: dict[str, Any]) -> dict[str, bool]:
        return get_delivery_abilities(principal(context["request"]), obj)


class ErrorBody(Schema):
    code: str
    message: str


class DeliveryPage(Schema):
    items: list[DeliveryOut]
    next_cursor: str | None


class InboxFilters(Schema):
    state: StateFilter | None = Field(
        None, description="pending (non prises en compte), sent, read ou acknowledged"
    )
    cursor: str | None = Field(None, max_length=40)
    limit: int = Field(50, ge=1, le=MAX_LIMIT)


class TraceFilters(Schema):
    cursor: str | None = Field(None, max_length=40)
    limit: int = Field(50, ge=1, le=MAX_LIMIT)


class AcknowledgeIn(Schema):
    comment: str = Field("", max_length=MAX_TEXT)


class DisseminateIn(Schema):
    entry_id: int = Field(..., ge=1, le=2**62)
    organisation_ids: list[Annotated[int, Field(ge=1, le=2**62)]] = Field(
        default_factory=list, max_length=100
    )
    use_rules: bool = True
    note: str = Field("", max_length=MAX_TEXT)


class DisseminationOut(Schema):
    id: int
    event_id: int
    entry_id: int
    routing: str
    rule_names: list[str]
    deliveries: list[DeliveryOut]
    skipped_organisation_ids: list[int]

    @staticmethod
    def resolve_deliveries(obj: Any) -> list[Any]:
        return list(
            obj.deliveries.select_related(
                "organisation", "event", "entry", "user", "read_by", "acknowledged_by"
            ).order_by("id")
        )

    @staticmethod
    def resolve_skipped_organisation_ids(obj: Any) -> list[int]:
        return [o.pk for o in getattr(obj, "skipped", [])]


def _conflict_or_unprocessable(error: DisseminationError) -> ApiError:
    status = 409 if error.code in ("already_acknowledged", "already_disseminated") else 422
    return ApiError(status, error.code, str(error))


@router.get(
    "/inbox",
    response={200: DeliveryPage, 400: ErrorBody},
    summary="Informations reçues (à prendre en compte)",
    operation_id="dissemination_inbox",
)
def inbox(request: HttpRequest, filters: Query[InboxFilters]) -> dict[str, Any]:
    require_verb(request, "deliveries:read")
    queryset = deliveries_visible_to(principal(request))
    if filters.state == StateFilter.PENDING:
        queryset = queryset.exclude(state=DeliveryState.ACKNOWLEDGED)
    elif filters.state is not None:
        queryset = queryset.filter(state=filters.state.value)
    items, next_cursor = cursor_page(queryset, filters.cursor, filters.limit)
    return {"items": items, "next_cursor": next_cursor}


@router.get(
    "/deliveries/{delivery_id}",
    response=DeliveryOut,
    summary="Une information reçue",
    operation_id="dissemination_get_delivery",
)
def get_delivery(request: HttpRequest, delivery_id: int) -> Delivery:
    require_verb(request, "deliveries:read")
    return access_delivery_by_id(principal(request), delivery_id)


@router.post(
    "/deliveries/{delivery_id}/read",
    response=DeliveryOut,
    summary="Marquer une information reçue comme lue",
    operation_id="dissemination_mark_read",
)
def mark_read(request: HttpRequest, delivery_id: int) -> Delivery:
    require_verb(request, "deliveries:read")
    user = principal(request)
    delivery = access_delivery_by_id(user, delivery_id)
    if not is_acting_recipient(user, delivery):
        raise ApiError(
            403,
            "not_recipient",
            _("Seul un membre de l'organisation destinataire peut marquer cette information lue."),
        )
    return do_mark_delivery_read(user, delivery, request=request)


@router.post(
    "/deliveries/{delivery_id}/acknowledge",
    response={200: DeliveryOut, 409: ErrorBody},
    summary="Accuser la prise en compte d'une information reçue",
    operation_id="dissemination_acknowledge",
)
def acknowledge(request: HttpRequest, delivery_id: int, payload: AcknowledgeIn) -> Delivery:
    require_verb(request, "deliveries:ack")
    user = principal(request)
    delivery = access_delivery_by_id(user, delivery_id)
    if not is_acting_recipient(user, delivery):
        raise ApiError(
            403,
            "not_recipient",
            _(
                "Seul un membre de l'organisation destinataire (hors observateur) peut accuser "
                "la prise en compte."
            ),
        )
    try:
        return do_acknowledge_delivery(user, delivery, comment=payload.comment, request=request)
    except DisseminationError as error:
        raise _conflict_or_unprocessable(error) from None


@router.get(
    "/events/{event_id}/deliveries",
    response={200: DeliveryPage, 400: ErrorBody},
    summary="Trace des diffusions d'un événement",
    operation_id="dissemination_event_trace",
)
def event_trace(
    request: HttpRequest, event_id: int, filters: Query[TraceFilters]
) -> dict[str, Any]:
    require_verb(request, "deliveries:read")
    event = access_trace_event_by_id(principal(request), event_id)
    queryset = deliveries_of_event(event).select_related("event")
    items, next_cursor = cursor_page(queryset, filters.cursor, filters.limit)
    return {"items": items, "next_cursor": next_cursor}


@router.post(
    "/events/{event_id}/disseminations",
    response={201: DisseminationOut, 409: ErrorBody},
    summary="Diffuser une entrée de la main courante",
    operation_id="dissemination_disseminate",
)
def disseminate(request: HttpRequest, event_id: int, payload: DisseminateIn) -> Status[Any]:
    require_verb(request, "journal:write")
    user = principal(request)
    event = access_event_by_id(user, event_id)
    if not get_event_abilities(user, event)["disseminate"]:
        raise ApiError(
            403, "permission_denied", _("Vous n'avez pas le droit de diffuser pour cet événement.")
        )
    try:
        entry = access_event_entry_by_id(user, event, payload.entry_id)
    except Http404:
        raise ApiError(
            422, "unknown_entry", _("Entrée inconnue dans la main courante de cet événement.")
        ) from None
    wanted = sorted(set(payload.organisation_ids))
    organisations = list(organisations_visible_to(user).filter(pk__in=wanted))
    if len(organisations) != len(wanted):
        raise ApiError(
            422,
            "unknown_organisation",
            _("Organisation inconnue ou hors de votre annuaire : %(ids)s.")
            % {
                "ids": ", ".join(
                    str(i) for i in sorted(set(wanted) - {o.pk for o in organisations})
                )
            },
        )
    try:
        dissemination = do_disseminate_entry(
            user,
            entry,
            event=event,
            organisations=organisations,
            use_rules=payload.use_rules,
            note=payload.note,
            request=request,
        )
    except DisseminationError as error:
        raise _conflict_or_unprocessable(error) from None
    return Status(201, dissemination)
