"""Live streams under faults, with real server processes (``manage.py serve``, granian):

* Redis stopped mid-stream: the hubs fall back to polling the outbox, messages keep flowing;
  Redis back on the same port: the subscription returns and wake-ups are instant again.
* PostgreSQL restarted (a private cluster of the test's own): the open stream resumes, every
  message once.
* A client that never reads: the server's memory stays bounded and the stream is dropped.

PostgreSQL only: the server processes must share the test's database with the test process
(the SQLite test database lives in the test process's memory).
"""

from __future__ import annotations

import contextlib
import json
import socket
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from django.conf import settings
from django.db import connection

from orsec.dashboards.panels import JOURNAL_TAIL
from orsec.events.testing import open_test_event
from orsec.journal.actions import log_information
from orsec.journal.chain import chain_for_event
from orsec.live.backends.redis import CHANNEL
from orsec.live.models import OutboxMessage
from orsec.live.testing import SSEEvent, SSEReader, session_cookie
from tests.live_nodes import (
    Api,
    Node,
    PrivatePostgres,
    PrivateRedis,
    database_url,
    node_env,
    running,
)

pytestmark = [
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="les nœuds (processus) partagent la base du test : test PostgreSQL seulement",
    ),
]


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[PrivateRedis]:
    server = PrivateRedis(tmp_path)
    server.start()
    yield server
    server.kill()


def shared_database_url() -> str:
    return database_url(settings.DATABASES["default"]["NAME"])


def swap_texts(events: list[SSEEvent]) -> list[str]:
    return [
        " ".join(s["html"] for s in json.loads(e.data)["swaps"])
        for e in events
        if e.event == "swap"
    ]


def assert_complete_and_never_twice(reader: SSEReader, texts: list[str]) -> None:
    """Every text reached the page, and no outbox row was delivered twice: message ids (the
    last row each one reflects) strictly increase. Later messages re-render the whole panel,
    so an entry's text appears again in them — its row is not sent again."""
    swaps = reader.named("swap")
    ids = [int(e.id or 0) for e in swaps]
    assert ids == sorted(set(ids)), f"ids repeated or out of order: {ids}"
    rendered = swap_texts(swaps)
    for text in texts:
        assert any(text in t for t in rendered), text


def wait_subscribers(url: str, count: int, timeout: float = 15.0) -> None:
    client = redis.Redis.from_url(url, socket_timeout=1)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            try:
                if dict(client.pubsub_numsub(CHANNEL)).get(CHANNEL.encode(), 0) >= count:
                    return
            except redis.RedisError:
                pass
            time.sleep(0.1)
    finally:
        client.close()
    raise AssertionError(f"no {count} subscriber(s) on {CHANNEL} after {timeout} s")


def test_redis_stopped_mid_stream_falls_back_to_polling_then_recovers(
    live_personas, redis_server, tmp_path
):
    event = open_test_event(live_personas.room_lead37.user)
    path = f"/live/evenement/{event.pk}/"
    env = node_env(shared_database_url(), redis_server.url, tmp_path / "var")
    node1 = Node(env, tmp_path, "node1")
    node2 = Node(env, tmp_path, "node2")
    writer_cookie = session_cookie(live_personas.client_for("operator37"))
    reader_cookie = session_cookie(live_personas.client_for("room_lead37"))
    with running(node1, node2):
        writer = Api(node1.url, writer_cookie)
        watcher = Api(node2.url, reader_cookie)
        try:
            response = watcher.stream(path)
            assert response.status_code == 200
            reader = SSEReader(response).start()
            wait_subscribers(redis_server.url, 1)  # node 2's hub listens

            def delivered_within(text: str) -> float:
                started = time.monotonic()
                writer.write_entry(event.pk, text)
                reader.wait_for(lambda e: e.event == "swap" and text in e.data, timeout=10)
                return time.monotonic() - started

            assert delivered_within("Redis en service : crue signalée") < 2.0
            redis_server.kill()
            # node 1 cannot publish, node 2 lost its subscription: polling every 0.5 s
            outage = ["Redis arrêté : digue renforcée", "Redis arrêté : route coupée"]
            for text in outage:
                assert delivered_within(text) < 3.0
            redis_server.start()  # same port, empty
            wait_subscribers(redis_server.url, 1)
            time.sleep(1.0)  # the hub's wait started before the subscription uses its old timer
            # healthy again: the poll interval is 30 s, only a notification explains < 2 s
            assert delivered_within("Redis revenu : décrue amorcée") < 2.0
            texts = ["Redis en service : crue signalée", *outage, "Redis revenu : décrue amorcée"]
            assert_complete_and_never_twice(reader, texts)
            newest = OutboxMessage.objects.filter(topic=f"event:{event.pk}").latest("id").id
            assert int(reader.named("swap")[-1].id or 0) == newest
            assert not reader.named("reload")
            assert not reader.ended
            response.close()
        finally:
            writer.close()
            watcher.close()


def test_postgresql_restarted_the_open_stream_resumes_without_loss(
    live_personas, redis_server, tmp_path
):
    event = open_test_event(live_personas.room_lead37.user)
    path = f"/live/evenement/{event.pk}/"
    writer_cookie = session_cookie(live_personas.client_for("operator37"))
    reader_cookie = session_cookie(live_personas.client_for("room_lead37"))
    cluster = PrivatePostgres()
    try:
        cluster.init()
        # the committed test data (territories, personas, their sessions, the event), copied
        cluster.copy_database(shared_database_url(), "orsec_restart")
        env = node_env(cluster.url("orsec_restart"), redis_server.url, tmp_path / "var")
        node = Node(env, tmp_path, "node")
        with running(node):
            writer = Api(node.url, writer_cookie)
            watcher = Api(node.url, reader_cookie)
            try:
                response = watcher.stream(path)
                assert response.status_code == 200
                reader = SSEReader(response).start()
                time.sleep(0.5)
                writer.write_entry(event.pk, "Avant redémarrage : PC installé")
                first = reader.wait_for(
                    lambda e: e.event == "swap" and "Avant redémarrage" in e.data, timeout=10
                )
                cursor = int(first[-1].id or 0)
                started_at = cluster.started_at()
                cluster.restart()  # -m fast: every connection of the node is cut
                assert cluster.started_at() != started_at
                after = ["Après redémarrage : renforts arrivés", "Après redémarrage : RAS"]
                for text in after:
                    deadline = time.monotonic() + 15
                    while True:  # the node's first request may meet a broken connection
                        try:
                            writer.write_entry(event.pk, text)
                            break
                        except AssertionError:
                            if time.monotonic() > deadline:
                                raise
                            time.sleep(0.5)
                for text in after:
                    reader.wait_for(lambda e, t=text: e.event == "swap" and t in e.data, 15)
                time.sleep(1.0)
                swaps = [e for e in reader.named("swap")]
                ids = [int(e.id or 0) for e in swaps]
                assert ids == sorted(set(ids)), f"ids repeated or out of order: {ids}"
                texts = swap_texts(swaps)
                for text in after:
                    first_carrier = next(i for i, t in zip(ids, texts, strict=True) if text in t)
                    assert first_carrier > cursor
                assert not reader.named("reload")
                assert not reader.ended, "the stream survived the restart"
                response.close()
            finally:
                writer.close()
                watcher.close()
    finally:
        cluster.destroy()


def rss_mb(node: Node) -> float:
    return node.rss_kb() / 1024


def test_a_client_that_never_reads_is_dropped_and_memory_stays_bounded(
    live_personas, redis_server, tmp_path
):
    """A raw socket asks for the stream and never reads; a normal client of the same audience
    reads everything (it shows how much the server would have had to hold for the other)."""
    event = open_test_event(live_personas.room_lead37.user)
    chain = chain_for_event(event)
    author = live_personas.operator37.user
    long_text = "Relevé de hauteur d'eau, station de Tours, pont Wilson : 4,10 m. " * 150
    env = node_env(shared_database_url(), redis_server.url, tmp_path / "var")
    node = Node(env, tmp_path, "node")
    cookie = session_cookie(live_personas.client_for("room_lead37"))
    wake = redis.Redis.from_url(redis_server.url)
    with running(node):
        reading = Api(node.url, cookie)
        try:
            control = SSEReader(reading.stream(f"/live/evenement/{event.pk}/")).start()
            sock = socket.socket()
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            sock.connect(("127.0.0.1", node.port))
            sock.sendall(
                (
                    f"GET /live/evenement/{event.pk}/ HTTP/1.1\r\n"
                    f"Host: 127.0.0.1:{node.port}\r\n"
                    "Accept: text/event-stream\r\n"
                    f"Cookie: {cookie}\r\n\r\n"
                ).encode()
            )
            wait_subscribers(redis_server.url, 1)

            def write(text: str) -> None:
                # another node's write: committed in PostgreSQL, announced on Redis
                # a heavy page: each rendering carries the last 20 entries, all long
                log_information(author, chain, f"{text} — {long_text}", channel="radio")
                wake.publish(CHANNEL, json.dumps([f"event:{event.pk}"]))

            for number in range(JOURNAL_TAIL):  # warm-up: templates, pools, allocator
                write(f"Échauffement {number}")
            control.wait_for(lambda e: f"Échauffement {JOURNAL_TAIL - 1}" in e.data, timeout=20)
            before = peak = rss_mb(node)
            started = time.monotonic()
            number = 0
            while time.monotonic() - started < 30:
                write(f"Point de situation {number}")
                number += 1
                if number % 10 == 0:
                    peak = max(peak, rss_mb(node))
            control.wait_for(lambda e: f"Point de situation {number - 1}" in e.data, timeout=30)
            peak = max(peak, rss_mb(node))
            produced = sum(len(e.data) for e in control.named("swap"))
            # the slow client: what the kernel buffered, then the end of the response
            sock.settimeout(15)
            received = bytearray()
            with contextlib.suppress(TimeoutError):
                while not received.endswith(b"\r\n0\r\n\r\n"):
                    chunk = sock.recv(65536)
                    if not chunk:
                        break
                    received += chunk
            sock.close()
            sys.stdout.write(
                f"\nRSS {before:.1f} -> {peak:.1f} MB, produced {produced / 1e6:.1f} MB, "
                f"slow client got {len(received) / 1e6:.1f} MB, {number} writes\n"
            )
            assert received.startswith(b"HTTP/1.1 200")
            assert received.endswith(b"\r\n0\r\n\r\n"), "the server ended the slow stream"
            # unbounded, the server would have held what the slow client never took
            assert produced > 30e6, "the test did not produce enough to be meaningful"
            assert len(received) < produced / 4
            assert peak - before < 30, (before, peak)
            assert not control.ended, "the reading client kept its stream"
        finally:
            reading.close()
            wake.close()
