"""Background polling of the MeteoAlarm feeds (Django's tasks framework, database queue).

Like ``orsec.dissemination.tasks``: :func:`poll_vigilance_feeds` re-enqueues itself with
``run_after`` once it has run, whatever its outcome; :func:`ensure_feeds_scheduled` starts the
chain when no run is pending (``manage.py schedule_vigilance_feeds``, called by ``make run``) and
is idempotent. Without any configured feed nothing is scheduled.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.tasks import task
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from orsec.alerts.feeds import configured_feeds, poll_all_feeds

logger = logging.getLogger(__name__)


def poll_interval() -> timedelta:
    return timedelta(seconds=int(getattr(settings, "ORSEC_METEOALARM_POLL_SECONDS", 300)))


@task()
def poll_vigilance_feeds() -> dict[str, Any]:
    """Poll every configured feed once, then schedule the next run."""
    try:
        outcomes = poll_all_feeds(now=timezone.now())
        return {
            "feeds": len(outcomes),
            "imported": sum(outcome.imported for outcome in outcomes),
            "errors": sum(len(outcome.errors) for outcome in outcomes),
        }
    except Exception:  # recorded per feed already; a bug must not end the chain
        logger.exception("vigilance feed poll failed")
        return {"feeds": 0, "imported": 0, "errors": 1}
    finally:
        ensure_feeds_scheduled()


def pending_polls() -> Any:
    """Runs of :func:`poll_vigilance_feeds` queued and not yet started."""
    return DBTaskResult.objects.filter(task_path=poll_vigilance_feeds.module_path, status="READY")


def ensure_feeds_scheduled(*, now: datetime | None = None, delay: timedelta | None = None) -> bool:
    """Queue the next poll (``poll_interval()`` from now unless ``delay`` is given) unless one
    is pending or no feed is configured. True if queued."""
    if not configured_feeds() or pending_polls().exists():
        return False
    now = now or timezone.now()
    poll_vigilance_feeds.using(
        run_after=now + (poll_interval() if delay is None else delay)
    ).enqueue()
    return True
