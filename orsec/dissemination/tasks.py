"""Background tasks of dissemination (Django's tasks framework, database queue).

``django.tasks`` has no periodic schedule: :func:`check_deliveries` re-enqueues itself with
``run_after`` (the database backend supports deferred tasks) once it has run, whatever its
outcome. :func:`ensure_check_scheduled` starts the chain when no run is pending; it is called by
``manage.py schedule_ack_checks`` (``make run`` calls it before starting the worker) and is
idempotent. Two chains started concurrently converge to one: a run re-enqueues only when no
other run is pending.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.tasks import task
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from orsec.dissemination.reminders import process_due_deliveries

#: How often the reminder check runs.
CHECK_INTERVAL = timedelta(seconds=60)


@task()
def check_deliveries() -> dict[str, Any]:
    """Remind and escalate unacknowledged deliveries, then schedule the next run."""
    try:
        return process_due_deliveries(timezone.now()).as_dict()
    finally:
        ensure_check_scheduled()


def pending_checks() -> Any:
    """Runs of :func:`check_deliveries` queued and not yet started."""
    return DBTaskResult.objects.filter(task_path=check_deliveries.module_path, status="READY")


def ensure_check_scheduled(*, now: datetime | None = None) -> bool:
    """Queue the next run ``CHECK_INTERVAL`` from now unless one is pending. True if queued."""
    if pending_checks().exists():
        return False
    now = now or timezone.now()
    check_deliveries.using(run_after=now + CHECK_INTERVAL).enqueue()
    return True
