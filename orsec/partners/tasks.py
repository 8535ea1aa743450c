"""Background tasks of outbound delivery (Django tasks, database queue; ``manage.py db_worker``).

* :func:`send_outbound_message` makes one attempt for one message; a failed attempt that may be
  retried re-enqueues it with ``run_after`` = the backoff time (``do_finish_attempt``).
* :func:`outbound_tick` runs every :data:`TICK_INTERVAL`: it queues webhooks for entries newly
  disseminated to organisations with an endpoint (:mod:`orsec.partners.triggers`), and re-enqueues
  due messages whose task was lost (a worker stopped mid-way). Like ``check_deliveries`` it
  re-enqueues itself; ``manage.py schedule_outbound`` starts the chain (``make run``, deploy).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db.models import Q
from django.tasks import task
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from orsec.partners import actions, triggers
from orsec.partners.models import OutboundMessage, OutboundState
from orsec.partners.outbound import outcome_summary, perform_attempt

TICK_INTERVAL = timedelta(seconds=30)
#: a message whose task has not run this long after it was due is enqueued again
ORPHAN_GRACE = timedelta(minutes=2)


@task()
def send_outbound_message(message_id: int) -> dict[str, Any]:
    return deliver_message(message_id)


def deliver_message(message_id: int, *, now: datetime | None = None) -> dict[str, Any]:
    """One attempt for one message, if it is due; the summary is the task's return value."""
    now = now or timezone.now()
    message = actions.do_start_attempt(message_id, now)
    if message is None:
        return {"message": message_id, "attempted": False}
    outcome = perform_attempt(message, now)
    message = actions.do_finish_attempt(message, outcome, timezone.now())
    return {
        "message": message_id,
        "attempted": True,
        "state": message.state,
        "attempts": message.attempts,
        **outcome_summary(outcome),
    }


def enqueue_send(message_id: int, *, run_after: datetime | None = None) -> None:
    if run_after is not None:
        send_outbound_message.using(run_after=run_after).enqueue(message_id)
    else:
        send_outbound_message.enqueue(message_id)


def requeue_orphans(now: datetime) -> list[int]:
    """Due messages nobody is working on (their task was lost): enqueue them again."""
    stale = now - ORPHAN_GRACE - timedelta(seconds=actions.stale_sending_seconds())
    ids = list(
        OutboundMessage.objects.filter(
            Q(
                state__in=[OutboundState.QUEUED, OutboundState.RETRYING],
                next_attempt_at__lte=now - ORPHAN_GRACE,
            )
            | Q(state=OutboundState.SENDING, last_attempt_at__lt=stale)
        )
        .order_by("pk")
        .values_list("pk", flat=True)[:200]
    )
    for message_id in ids:
        enqueue_send(message_id)
    return ids


@task()
def outbound_tick() -> dict[str, Any]:
    """Queue new webhooks, re-enqueue orphans, then schedule the next run."""
    try:
        now = timezone.now()
        queued = triggers.queue_disseminated_entries(now)
        return {"queued": queued, "requeued": requeue_orphans(now)}
    finally:
        ensure_outbound_scheduled()


def pending_ticks() -> Any:
    return DBTaskResult.objects.filter(task_path=outbound_tick.module_path, status="READY")


def ensure_outbound_scheduled(*, now: datetime | None = None) -> bool:
    """Queue the next tick ``TICK_INTERVAL`` from now unless one is pending. True if queued."""
    if pending_ticks().exists():
        return False
    now = now or timezone.now()
    outbound_tick.using(run_after=now + TICK_INTERVAL).enqueue()
    return True
