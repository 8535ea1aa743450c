"""Reminders and escalation of unacknowledged deliveries: the logic, with the clock passed in.

:func:`process_due_deliveries` is called by the background task :func:`.tasks.check_deliveries`
(every minute, see ``docs/dissemination.md``) and directly by tests with a time-travel clock.
Each delivery is handled in its own transaction by :func:`.actions.do_remind_delivery` /
:func:`.actions.do_escalate_delivery`, which re-check the state under a row lock: a delivery
acknowledged meanwhile is left alone.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Q

from orsec.dissemination.actions import do_escalate_delivery, do_remind_delivery
from orsec.dissemination.models import Delivery, DeliveryState

#: After this many reminders, a delivery is no longer reminded (the escalation has taken over).
MAX_REMINDERS = 3
#: At most this many deliveries are handled per run (the next run continues).
BATCH_SIZE = 500


def reminder_delay() -> timedelta:
    return timedelta(minutes=getattr(settings, "ORSEC_ACK_REMINDER_MINUTES", 15))


def escalation_delay() -> timedelta:
    return timedelta(minutes=getattr(settings, "ORSEC_ACK_ESCALATION_MINUTES", 30))


@dataclass
class Summary:
    """What one run did (ids of the deliveries reminded and escalated)."""

    reminded: list[int] = field(default_factory=list)
    escalated: list[int] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def due_deliveries(now: datetime) -> Any:
    """Unacknowledged deliveries of open events old enough for a reminder or an escalation."""
    first_due = now - min(reminder_delay(), escalation_delay())
    return (
        Delivery.objects.filter(
            state__in=[DeliveryState.SENT, DeliveryState.READ],
            event__closed_at__isnull=True,
            sent_at__lte=first_due,
        )
        .filter(Q(reminder_count__lt=MAX_REMINDERS) | Q(escalated_at__isnull=True))
        .order_by("sent_at", "id")
    )


def process_due_deliveries(now: datetime) -> Summary:
    """Remind and escalate what is due at ``now``; returns what was done."""
    summary = Summary()
    remind_after, escalate_after = reminder_delay(), escalation_delay()
    for delivery in due_deliveries(now)[:BATCH_SIZE]:
        escalate = delivery.escalation_due(now, escalate_after)
        if escalate and do_escalate_delivery(delivery, now=now) is not None:
            summary.escalated.append(delivery.pk)
        remind = delivery.reminder_due(now, remind_after, MAX_REMINDERS)
        if remind and do_remind_delivery(delivery, now=now) is not None:
            summary.reminded.append(delivery.pk)
    return summary
