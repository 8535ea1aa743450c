"""State changes of the live delivery: pruning the outbox.

The outbox (:class:`~orsec.live.models.OutboxMessage`) is only a delivery log: a page that was
away longer than ``ORSEC_LIVE_RETENTION_HOURS`` cannot replay from it and is told to reload
(``orsec.live.hub._replay_rows``). Rows older than that are deleted here, in batches so that a
large backlog never holds one long transaction (nor locks the table against the writers).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from orsec.live.models import OutboxMessage

logger = logging.getLogger("orsec.live")

#: Rows deleted per transaction.
PRUNE_BATCH = 5000


def retention() -> timedelta:
    return timedelta(hours=int(settings.ORSEC_LIVE_RETENTION_HOURS))


def do_prune_outbox(*, now: datetime | None = None, batch: int = PRUNE_BATCH) -> int:
    """Delete the outbox rows created before ``now - ORSEC_LIVE_RETENTION_HOURS``; returns how
    many. The newest row is always kept, whatever its age: the ids must keep growing (on SQLite
    an emptied table could reuse them) and a reconnecting page must find the floor of the log."""
    if batch < 1:
        raise ValueError("batch must be >= 1")
    cutoff = (now or timezone.now()) - retention()
    newest = OutboxMessage.objects.order_by("-id").values_list("id", flat=True).first()
    if newest is None:
        return 0
    deleted = 0
    while True:
        with transaction.atomic():
            ids = list(
                OutboxMessage.objects.filter(created_at__lt=cutoff, id__lt=newest)
                .order_by("id")
                .values_list("id", flat=True)[:batch]
            )
            if not ids:
                break
            count, _ = OutboxMessage.objects.filter(id__in=ids).delete()
        deleted += count
        if len(ids) < batch:
            break
    if deleted:
        logger.info("live_outbox_pruned", extra={"deleted": deleted, "before": cutoff.isoformat()})
    return deleted
