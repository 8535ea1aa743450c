"""Queue live messages inside the caller's transaction; wake streams only after commit.

Actions call :func:`queue_live_message`; nothing else writes :class:`OutboxMessage`. The wake-up
hooks (registered by the live delivery backends) run through ``transaction.on_commit``, so a
stream never hears of a change that could still roll back.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from django.db import transaction

from orsec.live.models import OutboxMessage

#: Called after commit with the topics that received messages (Redis publish, local wake-up…).
WAKEUP_HOOKS: list[Callable[[list[str]], None]] = []


def event_topic(event_id: int) -> str:
    return f"event:{event_id}"


def watch_topic(territory_path: str) -> str:
    return f"watch:{territory_path}"


def organisation_topic(organisation_id: int) -> str:
    return f"organisation:{organisation_id}"


def user_topic(user_id: int) -> str:
    return f"user:{user_id}"


def _wake(topics: list[str]) -> None:
    for hook in WAKEUP_HOOKS:
        hook(topics)


def queue_live_message(
    topics: Iterable[str], kind: str, payload: dict[str, Any], *, mode: str = ""
) -> list[OutboxMessage]:
    """Write one outbox row per topic (deduplicated) in the current transaction."""
    unique_topics = list(dict.fromkeys(t for t in topics if t))
    if not unique_topics:
        return []
    rows = OutboxMessage.objects.bulk_create(
        [OutboxMessage(topic=t, kind=kind, mode=mode, payload=payload) for t in unique_topics]
    )
    if WAKEUP_HOOKS:
        transaction.on_commit(lambda: _wake(unique_topics))
    return rows
