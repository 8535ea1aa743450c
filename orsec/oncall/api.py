"""On-call API: who is on call now per organisation, an event's call lists, ticking a call.

Thin endpoints — verb, parse, access, act, serialise. An organisation, event or call item of
another territory answers the same 404 as an absent one. Personal data follows
:mod:`orsec.oncall.access`: the name and the next shift only for those who see the roster in
full; the phone of a call list item only for those who may tick it.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema

from orsec.core.api import ApiError, principal, require_verb
from orsec.directory.access import access_organisation_by_id
from orsec.events.access import access_event_by_id
from orsec.oncall.access import (
    access_call_item_by_id,
    call_lists_of_event,
    duty_rosters_visible_to,
    get_call_list_abilities,
    rosters_visible_to,
)
from orsec.oncall.actions import OncallError, do_tick_call_item
from orsec.oncall.models import CallListItem
from orsec.oncall.queries import on_call_board

router = Router(tags=["Astreintes et listes d'appel"])


class ShiftOut(Schema):
    person_name: str | None = Field(
        None, description="Absent (null) pour une vue limitée à la permanence"
    )
    phone: str | None = None
    start: datetime
    end: datetime


class DutyOut(Schema):
    roster_id: int
    organisation_id: int
    organisation: str
    label: str
    function: str | None
    full_view: bool = Field(description="Vrai quand l'appelant voit l'astreinte complète")
    is_gap: bool = Field(description="Personne d'astreinte à l'instant demandé")
    current: ShiftOut | None
    next: ShiftOut | None


class OnCallOut(Schema):
    at: datetime
    duties: list[DutyOut]


class CallItemOut(Schema):
    id: int
    order: int
    organisation_id: int
    organisation: str
    duty: str
    person_name: str
    phone: str | None = Field(None, description="Seulement pour qui peut pointer l'appel")
    instruction: str
    is_gap: bool
    status: str
    ticked_by: str | None
    ticked_at: datetime | None
    comment: str
    revision: int


class CallListOut(Schema):
    id: int
    scheme_id: int
    scheme_name: str
    created_at: datetime
    items: list[CallItemOut]


class CallListsOut(Schema):
    event_id: int
    can_tick: bool
    call_lists: list[CallListOut]


class TickStatus(StrEnum):
    CALLED = "called"
    REACHED = "reached"
    ABSENT = "absent"


class TickIn(Schema):
    status: TickStatus
    comment: str = Field("", max_length=500)
    expected_revision: int | None = Field(
        None, ge=0, le=2**31, description="Révision lue ; une autre modification entre-temps → 409"
    )


def _shift(shift: Any, full: bool) -> dict[str, Any] | None:
    if shift is None:
        return None
    return {
        "person_name": shift.person_name if full else None,
        "phone": shift.phone,
        "start": shift.start,
        "end": shift.end,
    }


@router.get(
    "/organisations/{organisation_id}/on-call",
    response=OnCallOut,
    summary="Qui est d'astreinte maintenant dans une organisation",
    operation_id="oncall_now",
)
def on_call_now(request: HttpRequest, organisation_id: int) -> dict[str, Any]:
    require_verb(request, "directory:read")
    user = principal(request)
    organisation = access_organisation_by_id(user, organisation_id)
    now = timezone.now()
    rosters = duty_rosters_visible_to(user).filter(organisation=organisation)
    full_ids = set(
        rosters_visible_to(user).filter(organisation=organisation).values_list("pk", flat=True)
    )
    duties = []
    for row in on_call_board(rosters.order_by("label"), now):
        full = row.roster.pk in full_ids
        duties.append(
            {
                "roster_id": row.roster.pk,
                "organisation_id": organisation.pk,
                "organisation": str(organisation),
                "label": row.roster.label,
                "function": row.roster.function.title if row.roster.function else None,
                "full_view": full,
                "is_gap": row.is_gap,
                "current": _shift(row.current, full),
                "next": _shift(row.next, full) if full else None,
            }
        )
    return {"at": now, "duties": duties}


def _item(item: CallListItem, can_tick: bool) -> dict[str, Any]:
    return {
        "id": item.pk,
        "order": item.order,
        "organisation_id": item.organisation_id,
        "organisation": item.organisation_label,
        "duty": item.duty_label,
        "person_name": item.person_name,
        "phone": item.phone if can_tick else None,
        "instruction": item.instruction,
        "is_gap": item.is_gap,
        "status": item.status,
        "ticked_by": (item.ticked_by.get_full_name() or item.ticked_by.get_username())
        if item.ticked_by
        else None,
        "ticked_at": item.ticked_at,
        "comment": item.comment,
        "revision": item.revision,
    }


@router.get(
    "/events/{event_id}/call-lists",
    response=CallListsOut,
    summary="Listes d'appel d'un événement",
    operation_id="oncall_event_call_lists",
)
def event_call_lists(request: HttpRequest, event_id: int) -> dict[str, Any]:
    require_verb(request, "journal:read")
    user = principal(request)
    event = access_event_by_id(user, event_id)
    can_tick = get_call_list_abilities(user, event)["tick"]
    return {
        "event_id": event.pk,
        "can_tick": can_tick,
        "call_lists": [
            {
                "id": c.pk,
                "scheme_id": c.scheme_id,
                "scheme_name": c.scheme_name,
                "created_at": c.created_at,
                "items": [_item(i, can_tick) for i in c.items.all()],
            }
            for c in call_lists_of_event(event)
        ],
    }


@router.post(
    "/call-items/{item_id}/tick",
    response={200: CallItemOut},
    summary="Pointer un appel d'une liste d'appel (appelé, joint, absent)",
    operation_id="oncall_tick",
)
def tick(request: HttpRequest, item_id: int, payload: TickIn) -> dict[str, Any]:
    require_verb(request, "journal:write")
    user = principal(request)
    item, event = access_call_item_by_id(user, item_id)
    if not get_call_list_abilities(user, event)["tick"]:
        raise ApiError(
            403,
            "tick_denied",
            _("Vous ne pouvez pas pointer les appels de cet événement (lecture seule ou clos)."),
        )
    try:
        ticked = do_tick_call_item(
            user,
            item,
            payload.status.value,
            payload.comment,
            expected_revision=payload.expected_revision,
            request=request,
        )
    except OncallError as error:
        raise ApiError(error.status, error.code, str(error)) from None
    return _item(ticked, True)
