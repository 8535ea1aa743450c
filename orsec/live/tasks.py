"""Background task of the live delivery (Django's tasks framework, database queue).

:func:`prune_outbox` deletes the outbox rows older than ``ORSEC_LIVE_RETENTION_HOURS``
(:func:`orsec.live.actions.do_prune_outbox`) and re-enqueues itself ``PRUNE_INTERVAL`` later,
whatever its outcome (``django.tasks`` has no periodic schedule; the database backend supports
``run_after``). :func:`ensure_prune_scheduled` starts the chain when no run is pending; it is
called by ``manage.py schedule_live_prune`` (``make run`` calls it before starting the worker)
and is idempotent.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.tasks import task
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from orsec.live.actions import do_prune_outbox

#: How often the outbox is pruned.
PRUNE_INTERVAL = timedelta(minutes=15)


@task()
def prune_outbox() -> dict[str, Any]:
    """Prune the outbox, then schedule the next run."""
    try:
        return {"deleted": do_prune_outbox()}
    finally:
        ensure_prune_scheduled()


def pending_prunes() -> Any:
    """Runs of :func:`prune_outbox` queued and not yet started."""
    return DBTaskResult.objects.filter(task_path=prune_outbox.module_path, status="READY")


def ensure_prune_scheduled(*, now: datetime | None = None) -> bool:
    """Queue the next run ``PRUNE_INTERVAL`` from now unless one is pending. True if queued."""
    if pending_prunes().exists():
        return False
    now = now or timezone.now()
    prune_outbox.using(run_after=now + PRUNE_INTERVAL).enqueue()
    return True
