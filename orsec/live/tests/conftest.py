from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from orsec.live import hub as hub_module
from orsec.live.testing import ThreadedServer


@pytest.fixture
def server(live_personas: object) -> Iterator[ThreadedServer]:
    """The portal's ASGI application on a loopback port (its own hub, in its own loop)."""
    with ThreadedServer() as running:
        yield running
    if hub_module._hub is not None:
        hub_module._hub.executor.shutdown(wait=False)
    hub_module._hub = None  # the next server starts a fresh hub in its own loop


@pytest.fixture
def http(server: ThreadedServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=httpx.Timeout(10.0, read=30.0)) as client:
        yield client
