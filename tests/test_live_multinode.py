"""Two application nodes (``manage.py serve``, granian) share PostgreSQL and a Redis: a write
through node 1 reaches a stream open on node 2; node 2 crashes (SIGKILL); the page reconnects to
node 1 with ``Last-Event-ID`` and receives exactly what it missed — none lost, none twice.

PostgreSQL only: two processes cannot share the test run's SQLite database (in memory).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from orsec.events.testing import open_test_event
from orsec.live.models import OutboxMessage
from orsec.live.testing import SSEEvent, SSEReader, session_cookie
from tests.live_nodes import Api, Node, PrivateRedis, database_url, node_env, running

pytestmark = [
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="deux nœuds (processus) partagent une base PostgreSQL : test PostgreSQL seulement",
    ),
]


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[PrivateRedis]:
    server = PrivateRedis(tmp_path)
    server.start()
    yield server
    server.kill()


def swap_texts(events: list[SSEEvent]) -> list[str]:
    return [
        " ".join(s["html"] for s in json.loads(e.data)["swaps"])
        for e in events
        if e.event == "swap"
    ]


def test_a_write_on_node_1_reaches_node_2_and_a_reconnection_to_node_1_misses_nothing(
    live_personas, redis_server, tmp_path
):
    event = open_test_event(live_personas.room_lead37.user)
    path = f"/live/evenement/{event.pk}/"
    env = node_env(
        database_url(settings.DATABASES["default"]["NAME"]), redis_server.url, tmp_path / "var"
    )
    node1 = Node(env, tmp_path, "node1")
    node2 = Node(env, tmp_path, "node2")
    writer_cookie = session_cookie(live_personas.client_for("operator37"))
    reader_cookie = session_cookie(live_personas.client_for("room_lead37"))
    with running(node1, node2):
        writer = Api(node1.url, writer_cookie)
        on_node2 = Api(node2.url, reader_cookie)
        on_node1 = Api(node1.url, reader_cookie)
        try:
            first = on_node2.stream(path)
            assert first.status_code == 200
            reader = SSEReader(first).start()
            time.sleep(0.5)  # the stream is attached to node 2's hub
            started = time.monotonic()
            writer.write_entry(event.pk, "Node un : digue surveillée")
            seen = reader.wait_for(
                lambda e: e.event == "swap" and "Node un : digue surveillée" in e.data, timeout=5
            )
            # Redis carried the wake-up: far quicker than node 2's 30 s poll
            assert time.monotonic() - started < 3
            cursor = int(seen[-1].id or 0)
            assert cursor == OutboxMessage.objects.filter(topic=f"event:{event.pk}").latest("id").id

            node2.kill()  # a crash: no goodbye, the connection just breaks
            reader.wait_ended(timeout=5)
            missed = ["Node deux : pont fermé", "Node trois : école évacuée", "Node quatre : RAS"]
            for text in missed:
                writer.write_entry(event.pk, text)
            newest = OutboxMessage.objects.filter(topic=f"event:{event.pk}").latest("id").id

            again = on_node1.stream(path, **{"Last-Event-ID": str(cursor)})
            assert again.status_code == 200
            replay = SSEReader(again).start()
            replay.wait_for(lambda e: e.event == "swap" and int(e.id or 0) == newest, timeout=10)
            time.sleep(1.5)  # anything sent twice would have arrived by now
            swaps = replay.named("swap")
            ids = [int(e.id or 0) for e in swaps]
            assert all(i > cursor for i in ids), (cursor, ids)
            assert ids == sorted(set(ids)), f"ids repeated or out of order: {ids}"
            texts = swap_texts(swaps)
            for text in missed:
                assert sum(text in t for t in texts) == 1, (text, ids)
            assert not replay.named("reload")
            again.close()
        finally:
            for client in (writer, on_node1, on_node2):
                client.close()
