"""Who may see and act on which deliveries: the one place (``docs/dissemination.md``).

A delivery is visible to a user when one of these holds (each a line of :func:`_visible_q`):

* it was sent to one of the user's organisations (any member sees the organisation's inbox);
* it was sent to the user by name;
* the user *owns* its event: the trace of an event (who was sent what, who acknowledged) is
  visible to the event's own level — its territory or a command level above it (not a commune
  below, not a participant, not a région) — see :func:`may_view_trace`.

Acting on a delivery (marking it read, acknowledging it) is for a member of the recipient
organisation (or the named user) holding a writing role; never an observer, never the sender.
Absent and forbidden answer the same 404; a forbidden fetch is audited.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from django.http import Http404

from orsec.accounts.access import Scope, scope_of
from orsec.accounts.models import READ_ONLY_ROLES, Membership
from orsec.audit.actions import record_access_denied
from orsec.dissemination.models import Delivery, DeliveryState
from orsec.events.access import (
    access_event_by_id,
    events_visible_to,
    get_event_abilities,
    path_level,
)
from orsec.events.models import Event
from orsec.journal.models import Confidentiality, JournalEntry


def owns_event(scope: Scope, event: Event) -> bool:
    """The user's territory is the event's, or a département/zone/national level above it."""
    for path in scope.paths:
        level = path_level(path)
        if level in ("commune", "region") and path != event.territory_path:
            continue  # a commune below or a région beside: participants, not owners
        if event.territory_path == path or event.territory_path.startswith(path + "/"):
            return True
    return False


def may_view_trace(user: Any, event: Event) -> bool:
    """May the user read the whole trace of ``event`` (obtained through access_event_by_id)?"""
    return owns_event(scope_of(user), event)


def _recipient_q(user: Any, scope: Scope) -> Q:
    condition = Q(pk__in=[])
    if scope.organisation_ids:
        # sent to one of the user's organisations
        condition |= Q(organisation_id__in=sorted(scope.organisation_ids))
    # sent to the user by name
    condition |= Q(user_id=user.pk)
    return condition


def deliveries_visible_to(user: Any) -> QuerySet[Delivery]:
    """The user's inbox: deliveries to their organisations or to them by name."""
    scope = scope_of(user)
    if scope.is_empty or not getattr(user, "is_authenticated", False):
        return Delivery.objects.none()
    return Delivery.objects.filter(_recipient_q(user, scope)).select_related(
        "organisation", "event", "entry", "user", "acknowledged_by", "read_by"
    )


def deliveries_of_event(event: Event) -> QuerySet[Delivery]:
    """Every delivery of an event (for its trace; the caller checked :func:`may_view_trace`)."""
    return Delivery.objects.filter(event=event).select_related(
        "organisation", "entry", "user", "acknowledged_by", "read_by"
    )


def access_delivery_by_id(user: Any, delivery_id: int, *, for_update: bool = False) -> Delivery:
    """The delivery if the user may see it; Http404 when absent *or* forbidden (audited)."""
    scope = scope_of(user)
    queryset = Delivery.objects.select_related(
        "organisation", "event", "entry", "user", "acknowledged_by", "read_by"
    ).filter(pk=delivery_id)
    if for_update:
        queryset = queryset.select_for_update(of=("self",))
    delivery = queryset.first()
    allowed = False
    if delivery is not None and not scope.is_empty:
        # a recipient: one of the user's organisations, or the user by name
        allowed = delivery.organisation_id in scope.organisation_ids or (
            delivery.user_id == user.pk
        )
        # the owners of the event read its whole trace
        if not allowed and owns_event(scope, delivery.event):
            allowed = events_visible_to(user).filter(pk=delivery.event_id).exists()
    if not allowed or delivery is None:
        if delivery is not None:  # forbidden, not absent
            record_access_denied(user, Delivery, delivery_id)
        raise Http404
    return delivery


def access_trace_event_by_id(user: Any, event_id: int) -> Event:
    """The event if the user may read its dissemination trace; Http404 otherwise (audited)."""
    event = access_event_by_id(user, event_id)
    if not may_view_trace(user, event):
        record_access_denied(user, Event, event_id)
        raise Http404
    return event


def is_acting_recipient(user: Any, delivery: Delivery) -> bool:
    """A member of the recipient organisation holding a writing role (never an observer); a
    named recipient receives through their own organisation, so the same check applies."""
    scope = scope_of(user)
    return (
        delivery.organisation_id in scope.organisation_ids
        and Membership.objects.filter(
            user_id=user.pk, organisation_id=delivery.organisation_id, is_active=True
        )
        .exclude(role__in=READ_ONLY_ROLES)
        .exists()
    )


def get_delivery_abilities(user: Any, delivery: Delivery) -> dict[str, bool]:
    """What the user may do on a delivery obtained through :func:`access_delivery_by_id`."""
    scope = scope_of(user)
    acting = is_acting_recipient(user, delivery)
    return {
        "view": True,
        "read": acting and delivery.state == DeliveryState.SENT,
        "acknowledge": acting and delivery.state != DeliveryState.ACKNOWLEDGED,
        "view_trace": owns_event(scope, delivery.event),
    }


def access_event_entry_by_id(user: Any, event: Event, entry_id: int) -> JournalEntry:
    """An entry of ``event`` (obtained through access_event_by_id) the user may read; Http404
    otherwise. Entries labelled "diffusion restreinte" need the ability ``view_restricted``."""
    entry = JournalEntry.objects.filter(pk=entry_id, event=event).first()
    if entry is None:
        raise Http404
    if entry.confidentiality == Confidentiality.RESTRICTED and not get_event_abilities(
        user, event
    ).get("view_restricted"):
        record_access_denied(user, JournalEntry, entry_id)
        raise Http404
    return entry
