"""The shape every wake-up backend has.

A backend only says "the outbox has new rows, look now". It never carries content and is never
the truth: the hub of each process reads the outbox itself (one query per wake-up, whatever the
number of streams), and polls it anyway every :attr:`WakeupBackend.poll_interval` seconds, so a
lost notification only delays a message, it never loses one.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable


class WakeupBackend:
    #: seconds between two reads of the outbox when no notification arrives
    poll_interval: float = 1.0

    def publish(self, topics: list[str]) -> None:
        """Tell every process that ``topics`` have new rows. Called after commit, in the writer's
        thread; must never raise nor block for long (the write is already committed)."""

    async def listen(self, wake: Callable[[], None]) -> None:
        """Run for the life of the hub, calling ``wake()`` for every notification received.
        Returns only when cancelled. The default has nothing to listen to."""
        await asyncio.Event().wait()

    @property
    def healthy(self) -> bool:
        return True

    def current_poll_interval(self) -> float:
        return self.poll_interval

    def describe(self) -> dict[str, object]:
        return {"backend": type(self).__name__, "healthy": self.healthy}
