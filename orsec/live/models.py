"""The live outbox: one row per (message, topic), written in the same transaction as the change.

This table is the contract between the writers (every ``do_*`` action) and the live delivery
(SSE streams, issue "Live operating picture"). ``id`` is the SSE message id: it only grows, so a
stream resumes with ``WHERE topic = %s AND id > <Last-Event-ID>``. Messages carry kinds and ids,
never content: the stream decides what its user may see (``docs/adr/0003-core-loop-data.md``).
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class OutboxMessage(models.Model):
    id = models.BigAutoField(primary_key=True)
    created_at = models.DateTimeField(default=timezone.now)
    #: ``event:<id>``, ``watch:<territory path>``, ``organisation:<id>``, ``user:<id>``
    topic = models.CharField(max_length=160)
    #: what changed, e.g. ``journal.entry``, ``report.state``, ``delivery.sent``
    kind = models.CharField(max_length=60)
    #: the event's mode (``real``, ``exercise``, ``test``) or empty when not tied to an event
    mode = models.CharField(max_length=10, blank=True)
    #: ids only (``{"entry": 12, "event": 3}``): a stream re-checks access before showing anything
    payload = models.JSONField(default=dict)

    class Meta:
        indexes = [models.Index(fields=["topic", "id"], name="outbox_topic_id")]

    def __str__(self) -> str:
        return f"#{self.pk} {self.topic} {self.kind}"
