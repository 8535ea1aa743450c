"""The embedded default: no broker. Each process's hub reads the outbox every ``interval``
seconds (one indexed query per process, not per stream); writes made in the same process wake
it at once (``orsec.live.hub`` registers a local wake-up hook)."""

from __future__ import annotations

from orsec.live.backends.base import WakeupBackend


class PollingBackend(WakeupBackend):
    def __init__(self, interval: float = 1.0, **_: object) -> None:
        if interval <= 0:
            raise ValueError("interval must be > 0")
        self.poll_interval = interval
