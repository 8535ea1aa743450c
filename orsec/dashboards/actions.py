"""The dashboards' only state change: a user's "last seen" position on an event's page.

It is per-user reading state, like a read receipt in a mail client: not an operational fact.
It records no main courante entry, no audit row and no live message (the watch room computes
its unread counts in the page from the totals it is pushed, see ``docs/live-pages.md``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from orsec.dashboards.models import EventSeen
from orsec.events.models import Event
from orsec.journal.models import JournalChain


@transaction.atomic
def do_mark_event_seen(user: Any, event: Event, *, now: datetime | None = None) -> EventSeen:
    """Mark the event's main courante read by ``user`` up to its current last entry (the page
    is live: what comes later is shown as it arrives). Never moves backwards."""
    now = now or timezone.now()
    last_seq = (
        JournalChain.objects.filter(event=event).values_list("last_seq", flat=True).first() or 0
    )
    seen, created = EventSeen.objects.select_for_update().get_or_create(
        user=user, event=event, defaults={"seen_seq": last_seq, "seen_at": now}
    )
    if not created:
        seen.seen_seq = max(seen.seen_seq, last_seq)
        seen.seen_at = now
        seen.save(update_fields=["seen_seq", "seen_at"])
    return seen
