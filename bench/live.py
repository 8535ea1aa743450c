"""Live delivery benchmark: N SSE streams on one server process, against raw Redis pub/sub.

    .venv/bin/python bench/live.py [--quick] [--subscribers 1000] [--rate 10] [--duration 30]
                                   [--burst 100] [--idle 5000] [--hold 25] [--users 10]
                                   [--database-url postgres://postgres@127.0.0.1:5432/postgres]
                                   [--redis-url redis://127.0.0.1:6379/0] [--json FILE] [--keep]

In one run, on loopback only, it:

1. creates a throw-away PostgreSQL database (``orsec_bench_live_<pid>``), migrates it and writes
   a territory chain (FR → OUEST → R24 → D37), the COD 37, an open flood event, ``--users``
   COD operators each with a confirmed TOTP device and a *verified* session (the wall screens),
   and a partner token of the COD 37 holding ``journal:write`` (the writer);
2. starts ``manage.py serve`` (granian, one worker: the topology of ADR 0002) as a child on a
   free loopback port with ``REDIS_URL`` set (live backend ``redis``), its open-files limit
   raised;
3. opens ``--subscribers`` SSE streams ``/live/evenement/<id>/?after=<cursor>`` spread over the
   sessions, with a lean asyncio client that does what ``live.js`` does: parse the SSE frames,
   keep the ``id``, parse the JSON ``swap`` message, read the swapped HTML (here: find the entry
   markers in the journal tail) — the server pushes rendered panels, there is no fragment fetch;
4. posts journal entries through the real API (``POST /api/v1/events/<id>/journal``) at
   ``--rate`` per second for ``--duration`` seconds, then ``--burst`` entries at once, and
   measures for each (subscriber, entry) the latency from the entry's **commit** (the
   ``created_at`` of its outbox row, the last row its transaction writes, a few ms before
   ``COMMIT``: the latency is over-stated by that much) to the moment that subscriber has parsed
   a swap message reflecting it; counts lost entries (never reflected, or reflected by a message
   whose journal tail should show it and does not) and duplicated deliveries (a message whose id
   the subscriber already had);
5. **baseline, same run**: N raw Redis subscribers in this process (asyncio, minimal RESP
   parser), one publisher, the same schedule and the same payload (a captured swap message);
   each subscriber parses it exactly like the SSE client; publish → parsed latency;
6. idle streams: server RSS (VmRSS of granian's process group) before and after opening the N
   streams, then ``--idle`` streams (try 5,000) held for ``--hold`` seconds (past a heartbeat):
   KiB per idle stream and how many one process holds, with what broke first if any;
7. prints the figures and the ratios live / raw, optionally writes JSON, stops its children and
   drops the database.

Goals (issue 4): p99_ratio ≤ 2.0 at 1,000 streams and 10 entries/s, lost = duplicated = 0,
≥ 5,000 idle streams per process at ≤ 64 KiB each. Client, server, PostgreSQL and Redis share the
machine's cores: the ratio compares within a run, where the raw baseline pays the same client.
"""

# ruff: noqa: E402  (path fix-up before imports; a CLI prints)

from __future__ import annotations

import os
import sys

_HERE = os.path.dirname(os.path.abspath(__file__))
_ROOT = os.path.dirname(_HERE)
sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != _HERE]
sys.path.insert(0, _ROOT)

import argparse
import asyncio
import bisect
import datetime as dt
import http.client
import json
import platform
import re
import shutil
import socket
import statistics
import subprocess
import tempfile
import threading
import time
import urllib.parse
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench._common import (
    CHILDREN,
    LOOPBACK,
    Watchdog,
    bench_environment,
    create_database,
    create_territory_chain,
    database_urls,
    drop_database,
    free_port,
    install_cleanup,
    on_cleanup,
    process_group_cpu_seconds,
    process_group_rss_kib,
    raise_nofile,
    stop_all,
    stop_child,
    verified_session_cookie,
)

#: the channel of orsec.live.backends.redis (its publish follows each commit)
WAKE_CHANNEL = b"orsec:live:wake"
MARKER = re.compile(r"BLM(\d+)Z")
TAIL_TARGET = "emplacement-journal_tail"
#: the list of the journal tail: a batch of entries is prepended to it
#: (orsec.dashboards.live.JOURNAL_TAIL_LIST), a corrected entry replaces ``entree-<seq>``
TAIL_LIST = "journal-tail-list"
#: the journal tail panel shows this many entries (orsec.dashboards.panels.JOURNAL_TAIL)
TAIL_SIZE = 20
POSTERS = 4
#: seconds a stream may take to answer its first byte before it counts as refused
FIRST_BYTE_TIMEOUT = 30.0
#: every phase has a deadline (bench._common.Watchdog), created in main()
WATCHDOG: Watchdog


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


# --- fixture ------------------------------------------------------------------------------------


@dataclass
class Fixture:
    event_id: int
    token: str
    cookies: list[str]
    journal_path: str
    live_path: str


def make_environment(tmp: Path, database_url: str, redis_url: str) -> dict[str, str]:
    return bench_environment(tmp, database_url, REDIS_URL=redis_url, ORSEC_LIVE_BACKEND="redis")


def prepare(env: dict[str, str], users: int) -> Fixture:
    """Migrate and write the rows in-process, through the project's own actions."""
    os.environ.update(env)
    import django

    django.setup()
    from django.core.management import call_command

    from orsec.accounts.models import Membership, Role, User
    from orsec.directory.models import Organisation
    from orsec.directory.models import OrganisationKind as OK
    from orsec.events.actions import do_open_event
    from orsec.partners.actions import do_issue_token

    call_command("migrate", verbosity=0, interactive=False)
    call_command("collectstatic", verbosity=0, interactive=False)
    departement = create_territory_chain()
    cod = Organisation.objects.create(
        name="COD 37 (banc)", short_name="COD 37", kind=OK.COD, territory=departement
    )
    lead = User.objects.create(username="banc.chef", email="banc.chef@banc.example")
    lead.set_unusable_password()
    lead.save()
    Membership.objects.create(user=lead, organisation=cod, role=Role.ROOM_LEAD)
    event = do_open_event(
        lead, title="Crue de la Loire (banc)", event_type="flood", territory=departement, gravity=3
    )
    cookies = []
    for index in range(users):
        screen = User.objects.create(
            username=f"banc.ecran{index}", email=f"banc.ecran{index}@banc.example"
        )
        screen.set_unusable_password()
        screen.save()
        Membership.objects.create(user=screen, organisation=cod, role=Role.COD_OPERATOR)
        cookies.append(verified_session_cookie(screen))
    admin = User.objects.create(
        username="banc.admin", email="banc.admin@banc.example", is_staff=True, is_superuser=True
    )
    admin.set_unusable_password()
    admin.save()
    admin.is_verified = lambda: True  # type: ignore[attr-defined]  # as after a TOTP login
    _, token = do_issue_token(
        admin, organisation=cod, territory=departement, verbs=["journal:write"], name="banc live"
    )
    return Fixture(
        event_id=event.pk,
        token=token,
        cookies=cookies,
        journal_path=f"/api/v1/events/{event.pk}/journal",
        live_path=f"/live/evenement/{event.pk}/",
    )


def max_outbox_id() -> int:
    from django.db.models import Max

    from orsec.live.models import OutboxMessage

    return int(OutboxMessage.objects.aggregate(top=Max("id"))["top"] or 0)


def entry_rows(event_id: int) -> dict[int, tuple[int, float]]:
    """entry id → (outbox id, outbox created_at as a POSIX timestamp)."""
    from django.db import close_old_connections

    from orsec.live.models import OutboxMessage

    close_old_connections()
    rows = OutboxMessage.objects.filter(kind="journal.entry", topic=f"event:{event_id}")
    return {
        int(row.payload["entry"]): (row.id, row.created_at.timestamp())
        for row in rows.only("id", "created_at", "payload")
    }


# --- server -------------------------------------------------------------------------------------


def start_server(env: dict[str, str], tmp: Path, threads: int) -> subprocess.Popen[bytes]:
    port = free_port()
    argv = [
        sys.executable,
        "manage.py",
        "serve",
        "--host",
        LOOPBACK,
        "--port",
        str(port),
        "--workers",
        "1",
        "--threads",
        str(threads),
    ]
    log = (tmp / "server.log").open("wb")
    process = subprocess.Popen(
        argv,
        cwd=_ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        preexec_fn=raise_nofile,
    )
    process.port = port  # type: ignore[attr-defined]
    CHILDREN.append(process)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"le serveur s'est arrêté au démarrage : voir {log.name}")
        try:
            with socket.create_connection((LOOPBACK, port), timeout=0.5):
                return process
        except OSError:
            time.sleep(0.2)
    raise SystemExit("le serveur ne répond pas")


# --- the writer ---------------------------------------------------------------------------------


class Poster:
    """Posts journal entries through the API from a few threads (one keep-alive each)."""

    def __init__(self, port: int, fixture: Fixture) -> None:
        self.port = port
        self.fixture = fixture
        self.local = threading.local()
        self.pool = ThreadPoolExecutor(max_workers=POSTERS, thread_name_prefix="poster")
        self.lock = threading.Lock()
        self.posted: dict[int, int] = {}  # marker number → entry id
        self.responded: dict[int, float] = {}  # marker number → API response read
        self.errors: list[str] = []
        self.api_ms: list[float] = []
        self.counter = 0
        self.phases: dict[str, set[int]] = {"steady": set(), "burst": set()}

    def _connection(self) -> http.client.HTTPConnection:
        connection = getattr(self.local, "connection", None)
        if connection is None:
            connection = http.client.HTTPConnection(LOOPBACK, self.port, timeout=30)
            self.local.connection = connection
        return connection

    def post(self, number: int) -> None:
        body = json.dumps(
            {"kind": "information", "text": f"Point de situation BLM{number}Z : banc live."}
        )
        headers = {
            "Host": LOOPBACK,
            "Content-Type": "application/json",
            "Authorization": f"Bearer {self.fixture.token}",
        }
        started = time.perf_counter()
        for attempt in (1, 2):
            connection = self._connection()
            try:
                connection.request("POST", self.fixture.journal_path, body=body, headers=headers)
                response = connection.getresponse()
                data = response.read()
                break
            except (OSError, http.client.HTTPException) as error:
                connection.close()
                self.local.connection = None
                if attempt == 2:
                    with self.lock:
                        self.errors.append(f"BLM{number}: {error!r}")
                    return
        elapsed = (time.perf_counter() - started) * 1000
        with self.lock:
            if response.status != 201:
                self.errors.append(f"BLM{number}: HTTP {response.status} {data[:200]!r}")
                return
            self.posted[number] = int(json.loads(data)["id"])
            self.responded[number] = time.time()
            self.api_ms.append(elapsed)

    def next_number(self, phase: str = "") -> int:
        self.counter += 1
        if phase:
            self.phases[phase].add(self.counter)
        return self.counter

    def steady(self, rate: float, seconds: float) -> None:
        """``rate`` posts per second for ``seconds`` (scheduled on a clock, not back to back)."""
        started = time.monotonic()
        count = int(rate * seconds)
        futures = []
        for i in range(count):
            delay = started + i / rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            futures.append(self.pool.submit(self.post, self.next_number("steady")))
        for future in futures:
            future.result()

    def burst(self, count: int, phase: str = "burst") -> None:
        futures = [self.pool.submit(self.post, self.next_number(phase)) for _ in range(count)]
        for future in futures:
            future.result()


# --- the SSE client -----------------------------------------------------------------------------


@dataclass
class Subscriber:
    index: int
    ready: asyncio.Future[bool]
    status: int = 0
    closed: bool = False
    error: str = ""
    pings: int = 0
    last_id: int = 0
    #: (message id, time parsed, markers shown in the journal tail)
    messages: list[tuple[int, float, frozenset[int]]] = field(default_factory=list)
    duplicates: int = 0
    controls: list[str] = field(default_factory=list)
    #: the payloads this subscriber parsed (kept by one subscriber only: the baseline's sample)
    samples: list[str] = field(default_factory=list)


def read_swap(data: str) -> frozenset[int]:
    """What ``live.js`` does with a ``swap`` message, less the DOM: parse the JSON, walk the
    swaps, read the HTML swapped into the journal tail — the whole panel, entries prepended to
    its list, or an entry replaced in place (here: the entry markers it shows)."""
    markers: set[int] = set()
    for swap in json.loads(data)["swaps"]:
        target = swap["target"]
        if target in (TAIL_TARGET, TAIL_LIST) or target.startswith("entree-"):
            markers.update(int(n) for n in MARKER.findall(swap.get("html", "")))
    return frozenset(markers)


class SSEProtocol(asyncio.Protocol):
    """HTTP/1.1 GET, chunked (or close-delimited) body, SSE frames: lean enough for 5,000."""

    def __init__(self, subscriber: Subscriber, request: bytes, keep_sample: bool) -> None:
        self.sub = subscriber
        self.request = request
        self.keep_sample = keep_sample
        self.head = b""
        self.in_body = False
        self.chunked = False
        self.raw = b""  # undecoded body bytes (chunked framing)
        self.text = ""  # decoded SSE text not yet framed
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        transport.write(self.request)  # type: ignore[attr-defined]

    def connection_lost(self, exc: Exception | None) -> None:
        self.sub.closed = True
        if exc is not None and not self.sub.error:
            self.sub.error = type(exc).__name__
        if not self.sub.ready.done():
            self.sub.ready.set_result(False)

    def data_received(self, data: bytes) -> None:
        if not self.in_body:
            self.head += data
            end = self.head.find(b"\r\n\r\n")
            if end < 0:
                return
            head, data = self.head[:end], self.head[end + 4 :]
            lines = head.decode("latin-1").split("\r\n")
            self.sub.status = int(lines[0].split()[1])
            self.chunked = any(
                line.lower().startswith("transfer-encoding:") and "chunked" in line.lower()
                for line in lines[1:]
            )
            self.in_body = True
            if self.sub.status != 200:
                self.sub.error = f"HTTP {self.sub.status}"
                if not self.sub.ready.done():
                    self.sub.ready.set_result(False)
                return
        if self.chunked:
            self.raw += data
            pieces = []
            while True:
                line_end = self.raw.find(b"\r\n")
                if line_end < 0:
                    break
                size = int(self.raw[:line_end].split(b";")[0], 16)
                if len(self.raw) < line_end + 2 + size + 2:
                    break
                pieces.append(self.raw[line_end + 2 : line_end + 2 + size])
                self.raw = self.raw[line_end + 2 + size + 2 :]
                if size == 0:
                    break
            data = b"".join(pieces)
        if data:
            self.text += data.decode("utf-8")
            self._frames()

    def _frames(self) -> None:
        while True:
            end = self.text.find("\n\n")
            if end < 0:
                return
            frame, self.text = self.text[:end], self.text[end + 2 :]
            self._frame(frame)

    def _frame(self, frame: str) -> None:
        sub = self.sub
        event = "message"
        message_id: int | None = None
        data: list[str] = []
        for line in frame.split("\n"):
            if line.startswith(":"):
                if not sub.ready.done():
                    sub.ready.set_result(True)  # the ": flux ouvert" comment
                continue
            name, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            if name == "id":
                message_id = int(value)
            elif name == "event":
                event = value
            elif name == "data":
                data.append(value)
        if event == "ping":
            sub.pings += 1
        elif event == "swap" and message_id is not None:
            payload = "\n".join(data)
            markers = read_swap(payload)
            now = time.time()
            if message_id <= sub.last_id:
                sub.duplicates += 1
            sub.last_id = max(sub.last_id, message_id)
            sub.messages.append((message_id, now, markers))
            if self.keep_sample:
                sub.samples.append(payload)
        elif event in ("reload", "denied"):
            sub.controls.append(f"{event}:{''.join(data)}")

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()


async def open_streams(
    port: int,
    fixture: Fixture,
    count: int,
    after: int,
    *,
    first_index: int = 0,
    batch: int = 200,
    timeout: float = FIRST_BYTE_TIMEOUT,
) -> tuple[list[Subscriber], list[SSEProtocol], str]:
    """Open ``count`` streams in batches; return them and the first error seen (if any).

    A stream that does not answer its first byte within ``timeout`` counts as refused; a batch
    where no stream opens ends the opening (the server holds no more): no batch waits twice."""
    loop = asyncio.get_running_loop()
    subscribers: list[Subscriber] = []
    protocols: list[SSEProtocol] = []
    first_error = ""

    async def one(index: int) -> None:
        nonlocal first_error
        cookie = fixture.cookies[index % len(fixture.cookies)]
        request = (
            f"GET {fixture.live_path}?after={after} HTTP/1.1\r\nHost: {LOOPBACK}\r\n"
            f"Accept: text/event-stream\r\nCookie: {cookie}\r\n\r\n"
        ).encode("latin-1")
        sub = Subscriber(index=index, ready=loop.create_future())
        protocol = SSEProtocol(sub, request, keep_sample=index == first_index)
        subscribers.append(sub)
        protocols.append(protocol)
        try:
            await asyncio.wait_for(
                loop.create_connection(lambda: protocol, LOOPBACK, port), timeout=timeout
            )
            ok = await asyncio.wait_for(sub.ready, timeout=timeout)
            if not ok and not first_error:
                first_error = sub.error or "fermé avant le premier octet"
        except (OSError, TimeoutError) as error:
            sub.closed = True
            sub.error = sub.error or f"{type(error).__name__}: {error}"
            if not first_error:
                first_error = sub.error

    for start in range(first_index, first_index + count, batch):
        end = min(start + batch, first_index + count)
        await asyncio.gather(*(one(i) for i in range(start, end)))
        if not any(s.status == 200 and not s.closed for s in subscribers[start - first_index :]):
            first_error = (
                f"{first_error} — ouverture arrêtée : aucun des flux {start} à {end - 1} n'a"
                f" répondu en {timeout:g} s"
            )
            break
    return subscribers, protocols, first_error


def steady_sample(payloads: list[str]) -> str:
    """The baseline's payload: a message of the steady phase reflecting one entry (the median
    size of those), as raw pub/sub would publish one message per entry."""
    single = sorted((p for p in payloads if len(read_swap(p)) == 1), key=len)
    if single:
        return single[len(single) // 2]
    ordered = sorted(payloads, key=len)
    return ordered[len(ordered) // 2] if ordered else ""


# --- analysis -----------------------------------------------------------------------------------


@dataclass
class Delivery:
    #: (entry marker number, time parsed) per (subscriber, entry)
    latencies: list[tuple[int, float]]
    lost: int
    duplicated: int
    deliveries: int
    window_s: float
    not_ready: int
    controls: list[str]

    def phase(self, numbers: set[int], origin: dict[int, float]) -> list[float]:
        """Latencies (ms) of the entries ``numbers`` from ``origin`` (number → time)."""
        return [(t - origin[n]) * 1000 for n, t in self.latencies if n in numbers and n in origin]


def commit_times(
    entries: dict[int, tuple[int, float]], posted: dict[int, int], wakes: list[float]
) -> tuple[dict[int, float], dict[int, float]]:
    """(number → outbox row written, number → commit) for each posted entry.

    The commit time is the first wake-up the server published on Redis (``orsec:live:wake``,
    sent right after each commit, heard here by a subscriber of its own) at or after the entry's
    outbox row was written: the entry's own wake-up follows its commit, so this is at the latest
    its commit (+ one loopback hop); with several posts in flight it can be an earlier entry's
    commit, which only over-states the latency."""
    written: dict[int, float] = {}
    committed: dict[int, float] = {}
    for number, entry_id in posted.items():
        if entry_id not in entries:
            continue
        created = entries[entry_id][1]
        written[number] = created
        k = bisect.bisect_left(wakes, created)
        committed[number] = wakes[k] if k < len(wakes) else created
    return written, committed


def analyse_live(
    subscribers: list[Subscriber], entries: dict[int, tuple[int, float]], posted: dict[int, int]
) -> Delivery:
    """Per (subscriber, entry): latency from the outbox row's commit to the first parsed message
    reflecting it; lost when never reflected, or when that message's journal tail misses an entry
    it should still show (fewer than TAIL_SIZE newer entries in the same message)."""
    marker_of = {entry_id: number for number, entry_id in posted.items()}
    ordered = sorted(
        (outbox_id, created, marker_of[eid])
        for eid, (outbox_id, created) in entries.items()
        if eid in marker_of
    )
    outbox_ids = [o for o, _, _ in ordered]
    latencies: list[tuple[int, float]] = []
    lost = duplicated = deliveries = not_ready = 0
    first_t, last_t = float("inf"), 0.0
    controls: list[str] = []
    for sub in subscribers:
        if sub.status != 200:
            not_ready += 1
            lost += len(ordered)
            continue
        duplicated += sub.duplicates
        controls.extend(sub.controls)
        deliveries += len(sub.messages)
        messages = sub.messages
        ids = [m[0] for m in messages]
        for outbox_id, _created, marker in ordered:
            k = bisect.bisect_left(ids, outbox_id)
            if k >= len(messages):
                lost += 1
                continue
            message_id, received, markers = messages[k]
            newer = bisect.bisect_right(outbox_ids, message_id) - bisect.bisect_right(
                outbox_ids, outbox_id
            )
            if marker not in markers and newer < TAIL_SIZE:
                lost += 1
                continue
            latencies.append((marker, received))
            first_t, last_t = min(first_t, received), max(last_t, received)
    return Delivery(
        latencies, lost, duplicated, deliveries, max(0.0, last_t - first_t), not_ready, controls
    )


# --- the raw Redis baseline ---------------------------------------------------------------------


class RespSubscriber(asyncio.Protocol):
    """One Redis connection subscribed to one channel; parses pushed messages (RESP2)."""

    def __init__(
        self,
        channel: bytes,
        ready: asyncio.Future[bool],
        on_message: Callable[[bytes], None] | None = None,
    ) -> None:
        self.channel = channel
        self.on_message = on_message
        self.ready = ready
        self.buffer = b""
        self.received: list[tuple[int, float, float]] = []  # (number, sent, parsed)
        self.seen: set[int] = set()
        self.duplicates = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport
        name = self.channel
        transport.write(b"*2\r\n$9\r\nSUBSCRIBE\r\n$%d\r\n%s\r\n" % (len(name), name))  # type: ignore[attr-defined]

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.ready.done():
            self.ready.set_result(False)

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            parsed = self._array()
            if parsed is None:
                return
            if parsed[0] == b"subscribe":
                if not self.ready.done():
                    self.ready.set_result(True)
            elif parsed[0] == b"message":
                if self.on_message is not None:
                    self.on_message(parsed[2])
                else:
                    self._message(parsed[2])

    def _array(self) -> list[bytes] | None:
        buffer = self.buffer
        end = buffer.find(b"\r\n")
        if end < 0:
            return None
        count = int(buffer[1:end])
        position = end + 2
        items: list[bytes] = []
        for _ in range(count):
            end = buffer.find(b"\r\n", position)
            if end < 0:
                return None
            kind = buffer[position : position + 1]
            if kind == b":":
                items.append(buffer[position + 1 : end])
                position = end + 2
                continue
            size = int(buffer[position + 1 : end])
            if len(buffer) < end + 2 + size + 2:
                return None
            items.append(buffer[end + 2 : end + 2 + size])
            position = end + 2 + size + 2
        self.buffer = buffer[position:]
        return items

    def _message(self, raw: bytes) -> None:
        head, _, body = raw.decode("utf-8").partition("|")
        number, sent = head.split(":")
        read_swap(body)
        now = time.time()
        n = int(number)
        if n in self.seen:
            self.duplicates += 1
        self.seen.add(n)
        self.received.append((n, float(sent), now))


@dataclass
class Baseline:
    steady_ms: list[float]
    burst_ms: list[float]
    lost: int
    duplicated: int
    deliveries: int
    window_s: float


_WAKE_RECORDER = """
import sys, time, redis
client = redis.Redis.from_url(sys.argv[1])
pubsub = client.pubsub(ignore_subscribe_messages=True)
pubsub.subscribe(sys.argv[2])
with open(sys.argv[3], "w", buffering=1) as out:
    out.write("ready\\n")
    for message in pubsub.listen():
        if message["type"] == "message":
            out.write(f"{time.time():.6f}\\n")
"""


def start_wake_recorder(redis_url: str, path: Path) -> subprocess.Popen[bytes]:
    """A process of its own that timestamps the server's after-commit wake-ups on Redis (this
    process's loop is too busy parsing streams to timestamp them faithfully)."""
    process = subprocess.Popen(
        [sys.executable, "-c", _WAKE_RECORDER, redis_url, WAKE_CHANNEL.decode(), str(path)],
        start_new_session=True,
    )
    CHILDREN.append(process)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if path.exists() and path.read_text().startswith("ready"):
            return process
        time.sleep(0.05)
    raise SystemExit("l'enregistreur des réveils Redis ne démarre pas")


def stop_wake_recorder(process: subprocess.Popen[bytes], path: Path) -> list[float]:
    time.sleep(0.5)
    stop_child(process)
    CHILDREN.remove(process)
    return sorted(float(x) for x in path.read_text().split()[1:])


def redis_address(url: str) -> tuple[str, int]:
    parsed = urllib.parse.urlparse(url)
    return parsed.hostname or LOOPBACK, parsed.port or 6379


def run_baseline(
    redis_url: str, subscribers: int, rate: float, seconds: float, burst: int, payload: str
) -> Baseline:
    import redis

    host, port = redis_address(redis_url)
    channel = f"orsec:bench:live:{os.getpid()}".encode()
    publisher = redis.Redis(host=host, port=port, socket_timeout=5)
    published: list[int] = []
    steady_count = int(rate * seconds)
    number = 0

    def publish_one() -> None:
        nonlocal number
        number += 1
        publisher.publish(channel, f"{number}:{time.time():.6f}|{payload}")
        published.append(number)

    def schedule() -> None:
        started = time.monotonic()
        for i in range(steady_count):
            delay = started + i / rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            publish_one()
        time.sleep(2.0)
        for _ in range(burst):
            publish_one()

    async def main() -> list[RespSubscriber]:
        loop = asyncio.get_running_loop()
        protocols = []
        for start in range(0, subscribers, 200):
            batch = []
            for _ in range(start, min(start + 200, subscribers)):
                ready: asyncio.Future[bool] = loop.create_future()
                protocol = RespSubscriber(channel, ready)
                batch.append(loop.create_connection(lambda p=protocol: p, host, port))
                protocols.append(protocol)
            await asyncio.gather(*batch)
        await asyncio.gather(*(p.ready for p in protocols))
        await loop.run_in_executor(None, schedule)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if all(len(p.seen) >= len(published) for p in protocols):
                break
            await asyncio.sleep(0.2)
        for protocol in protocols:
            transport = getattr(protocol, "transport", None)
            if transport is not None:
                transport.close()
        return protocols

    protocols = asyncio.run(main())
    publisher.close()
    latencies = [
        (n, (parsed_at - sent) * 1000) for p in protocols for n, sent, parsed_at in p.received
    ]
    times = [parsed_at for p in protocols for _, _, parsed_at in p.received]
    expected = len(published) * subscribers
    received = sum(len(p.seen) for p in protocols)
    return Baseline(
        [ms for n, ms in latencies if n <= steady_count],
        [ms for n, ms in latencies if n > steady_count],
        expected - received,
        sum(p.duplicates for p in protocols),
        sum(len(p.received) for p in protocols),
        (max(times) - min(times)) if times else 0.0,
    )


# --- the run ------------------------------------------------------------------------------------


def summary(values: list[float]) -> dict[str, float]:
    return {
        "p50_ms": round(statistics.median(values), 1) if values else 0.0,
        "p90_ms": round(percentile(values, 0.90), 1),
        "p99_ms": round(percentile(values, 0.99), 1),
        "max_ms": round(max(values), 1) if values else 0.0,
    }


async def live_phase(
    args: argparse.Namespace, server: subprocess.Popen[bytes], fixture: Fixture, poster: Poster
) -> dict[str, Any]:
    port = server.port  # type: ignore[attr-defined]
    loop = asyncio.get_running_loop()
    # warm-up: one stream and one entry, so that imports, templates and the hub are loaded
    WATCHDOG.phase("flux de contrôle", 90, "Voir server.log dans le dossier temporaire (--keep).")
    warm, warm_protocols, error = await open_streams(port, fixture, 1, max_outbox_id())
    if error:
        raise SystemExit(f"le flux de contrôle n'a pas été ouvert : {error}")
    await loop.run_in_executor(None, poster.burst, 1, "")
    await asyncio.sleep(1.5)
    if not warm[0].messages:
        raise SystemExit("le flux de contrôle n'a rien reçu après une écriture")
    for protocol in warm_protocols:
        protocol.close()
    await asyncio.sleep(1.0)
    rss_before = process_group_rss_kib(server.pid)
    cursor = max_outbox_id()
    began = time.monotonic()
    WATCHDOG.phase(
        f"ouverture de {args.subscribers} flux",
        60 + args.subscribers / 10,
        "Le serveur sert-il autant de requêtes à la fois (serve --max-requests) ?",
    )
    subscribers, protocols, error = await open_streams(port, fixture, args.subscribers, cursor)
    opened_s = time.monotonic() - began
    ready = sum(1 for s in subscribers if s.status == 200 and not s.closed)
    await asyncio.sleep(2.0)
    rss_open = process_group_rss_kib(server.pid)
    print(
        f"{ready}/{args.subscribers} flux ouverts en {opened_s:.1f} s"
        + (f" (première erreur : {error})" if error else "")
        + f" ; RSS serveur {rss_before / 1024:.0f} → {rss_open / 1024:.0f} Mio"
    )
    wake_recorder = start_wake_recorder(args.redis_url, Path(args.tmp) / "wakes.txt")
    cpu_before = process_group_cpu_seconds(server.pid)
    posts_before = len(poster.posted)
    WATCHDOG.phase("écritures en régime", args.duration + 90, "L'API répond-elle ?")
    await loop.run_in_executor(None, poster.steady, args.rate, args.duration)
    await asyncio.sleep(2.0)
    WATCHDOG.phase("rafale et livraison", 180, "L'API ou le hub sont-ils bloqués ?")
    await loop.run_in_executor(None, poster.burst, args.burst)
    # wait until every open stream reflects the last entry (or 30 s)
    last = max_outbox_id()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if all(s.closed or s.last_id >= last for s in subscribers):
            break
        await asyncio.sleep(0.2)
    cpu_used = process_group_cpu_seconds(server.pid) - cpu_before
    wakes = stop_wake_recorder(wake_recorder, Path(args.tmp) / "wakes.txt")
    for protocol in protocols:
        protocol.close()
    await asyncio.sleep(1.0)
    entries = entry_rows(fixture.event_id)
    posted = {n: e for n, e in poster.posted.items() if n > 1}  # the warm-up entry is not counted
    delivery = analyse_live(subscribers, entries, posted)
    written, committed = commit_times(entries, posted, wakes)
    sample = steady_sample(next((s.samples for s in subscribers if s.samples), []))
    return {
        "ready": ready,
        "open_error": error,
        "opened_s": round(opened_s, 2),
        "rss_before_kib": rss_before,
        "rss_open_kib": rss_open,
        "entries": len(poster.posted) - posts_before,
        "delivery": delivery,
        "written": written,
        "committed": committed,
        "server_cpu_s": round(cpu_used, 1),
        "sample": sample,
        "message_bytes": len(sample.encode("utf-8")),
    }


async def idle_phase(
    args: argparse.Namespace, server: subprocess.Popen[bytes], fixture: Fixture
) -> dict[str, Any]:
    port = server.port  # type: ignore[attr-defined]
    await asyncio.sleep(1.0)
    rss_before = process_group_rss_kib(server.pid)
    began = time.monotonic()
    WATCHDOG.phase(
        f"ouverture de {args.idle} flux au repos",
        60 + args.idle / 10,
        "Le serveur sert-il autant de requêtes à la fois (serve --max-requests) ?",
    )
    subscribers, protocols, error = await open_streams(port, fixture, args.idle, max_outbox_id())
    opened_s = time.monotonic() - began
    opened = sum(1 for s in subscribers if s.status == 200 and not s.closed)
    await asyncio.sleep(2.0)
    rss_open = process_group_rss_kib(server.pid)
    pings_before = sum(s.pings for s in subscribers)
    WATCHDOG.phase(f"flux au repos tenus {args.hold:g} s", args.hold + 60)
    await asyncio.sleep(args.hold)
    held = sum(1 for s in subscribers if s.status == 200 and not s.closed)
    pings = sum(s.pings for s in subscribers) - pings_before
    rss_end = process_group_rss_kib(server.pid)
    reasons: dict[str, int] = {}
    for s in subscribers:
        if s.closed or s.status != 200:
            reasons[s.error or "fermé"] = reasons.get(s.error or "fermé", 0) + 1
    for protocol in protocols:
        protocol.close()
    await asyncio.sleep(1.0)
    return {
        "tried": args.idle,
        "opened": opened,
        "held": held,
        "opened_s": round(opened_s, 1),
        "hold_s": args.hold,
        "pings_during_hold": pings,
        "first_error": error,
        "closed_reasons": reasons,
        "rss_before_kib": rss_before,
        "rss_open_kib": rss_open,
        "rss_end_kib": rss_end,
        "rss_per_stream_kib": round((rss_open - rss_before) / opened, 1) if opened else None,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="200 streams, 10 s (CI-sized)")
    parser.add_argument("--subscribers", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=10.0, help="journal entries per second")
    parser.add_argument("--duration", type=float, default=30.0, help="steady phase, seconds")
    parser.add_argument("--burst", type=int, default=100, help="entries posted at once after")
    parser.add_argument("--idle", type=int, default=5000, help="idle streams to try (0: skip)")
    parser.add_argument("--hold", type=float, default=25.0, help="seconds the idle streams hold")
    parser.add_argument("--users", type=int, default=10, help="sessions the streams spread over")
    parser.add_argument("--threads", type=int, default=8, help="server WSGI threads")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres"),
    )
    parser.add_argument(
        "--redis-url", default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
    )
    parser.add_argument("--json", type=Path)
    parser.add_argument("--keep", action="store_true", help="keep the database and temp dir")
    args = parser.parse_args()
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]  # progress in a log
    global WATCHDOG
    WATCHDOG = Watchdog()
    if args.quick:
        args.subscribers, args.duration, args.burst = 200, 10.0, 20
        args.idle, args.hold = min(args.idle, 500), 3.0
    limit = raise_nofile()
    if limit < args.subscribers + args.idle + 100:
        print(f"attention : limite de fichiers ouverts {limit}")
    admin_url, bench_url, name = database_urls(args.database_url, "orsec_bench_live")
    tmp = Path(tempfile.mkdtemp(prefix="orsec-bench-live-"))
    install_cleanup()
    if not args.keep:
        on_cleanup(shutil.rmtree, tmp, True)
    create_database(admin_url, name)
    if not args.keep:
        on_cleanup(drop_database, admin_url, name)
    env = make_environment(tmp, bench_url, args.redis_url)
    args.tmp = str(tmp)
    WATCHDOG.phase("migration et données", 600)
    fixture = prepare(env, args.users)
    # the bench's own short queries (max outbox id) run between awaits of its client loop
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from django.db import connections

    connections.close_all()
    WATCHDOG.phase("démarrage du serveur", 90, f"Voir {tmp / 'server.log'}.")
    server = start_server(env, tmp, args.threads)
    poster = Poster(server.port, fixture)  # type: ignore[attr-defined]
    print(
        f"banc live : {args.subscribers} flux, {args.rate:g} entrées/s pendant {args.duration:g} s"
        f" puis {args.burst} d'un coup ; PostgreSQL + Redis ; {os.cpu_count()} cœurs ;"
        f" charge {os.getloadavg()[0]:.2f}"
    )
    load_start = os.getloadavg()
    live = asyncio.run(live_phase(args, server, fixture, poster))
    load_live = os.getloadavg()
    delivery: Delivery = live["delivery"]
    if poster.errors:
        print(f"écritures en erreur : {len(poster.errors)} ; première : {poster.errors[0]}")
    idle: dict[str, Any] = {}
    if args.idle:
        idle = asyncio.run(idle_phase(args, server, fixture))
    WATCHDOG.phase("arrêt du serveur", 60)
    stop_all()
    WATCHDOG.phase(
        "référence Redis brute", args.duration + 120, "Redis répond-il (redis-cli ping) ?"
    )
    base = run_baseline(
        args.redis_url, args.subscribers, args.rate, args.duration, args.burst, live["sample"]
    )
    WATCHDOG.done()
    steady, burst = poster.phases["steady"], poster.phases["burst"]
    committed, written = live["committed"], live["written"]
    live_stats = summary(delivery.phase(steady, committed))
    raw_stats = summary(base.steady_ms)
    live_burst = summary(delivery.phase(burst, committed))
    from_written = summary(delivery.phase(steady, written))
    raw_burst = summary(base.burst_ms)
    rss_per_stream = (
        (live["rss_open_kib"] - live["rss_before_kib"]) / live["ready"] if live["ready"] else 0.0
    )
    p99_ratio = live_stats["p99_ms"] / raw_stats["p99_ms"] if raw_stats["p99_ms"] else 0.0
    p50_ratio = live_stats["p50_ms"] / raw_stats["p50_ms"] if raw_stats["p50_ms"] else 0.0
    live_rate = delivery.deliveries / delivery.window_s if delivery.window_s else 0.0
    raw_rate = base.deliveries / base.window_s if base.window_s else 0.0
    print(
        f"{'':<44} {'p50 ms':>8} {'p90 ms':>8} {'p99 ms':>8} {'max ms':>8}"
        f" {'perdus':>7} {'doublés':>8}"
    )
    for label, stats, lost, dup in (
        (
            "régime : SSE (serve + Redis + PostgreSQL)",
            live_stats,
            delivery.lost,
            delivery.duplicated,
        ),
        ("régime : Redis pub/sub brut", raw_stats, base.lost, base.duplicated),
        (f"rafale de {args.burst} : SSE", live_burst, "", ""),
        (f"rafale de {args.burst} : Redis brut", raw_burst, "", ""),
    ):
        print(
            f"{label:<44} {stats['p50_ms']:>8.1f} {stats['p90_ms']:>8.1f} {stats['p99_ms']:>8.1f}"
            f" {stats['max_ms']:>8.1f} {lost:>7} {dup:>8}"
        )
    print(
        f"ratios SSE / brut : p50 {p50_ratio:.2f}, p99 {p99_ratio:.2f} (objectif ≤ 2.0) ;"
        f" messages de {live['message_bytes'] / 1024:.1f} Kio ;"
        f" CPU serveur {live['server_cpu_s']} s"
    )
    print(
        f"livraisons : {len(delivery.latencies)} (abonné, entrée) ; messages SSE"
        f" {delivery.deliveries} ; {live_rate:.0f} messages/s (brut {raw_rate:.0f}/s) ;"
        f" API p50 {statistics.median(poster.api_ms) if poster.api_ms else 0:.1f} ms"
    )
    print(f"RSS par flux (à {live['ready']} flux) : {rss_per_stream:.1f} Kio")
    if idle:
        print(
            f"flux au repos : {idle['held']}/{idle['tried']} tenus {idle['hold_s']:g} s"
            f" ({idle['pings_during_hold']} pings) ; RSS par flux {idle['rss_per_stream_kib']} Kio"
            + (f" ; première erreur : {idle['first_error']}" if idle["first_error"] else "")
            + (f" ; fermés : {idle['closed_reasons']}" if idle["closed_reasons"] else "")
        )
    print(
        f"régime SSE depuis l'écriture de la ligne outbox (avant le COMMIT) : p50"
        f" {from_written['p50_ms']} / p99 {from_written['p99_ms']} ms"
    )
    if delivery.controls:
        print(f"messages de contrôle reçus : {delivery.controls[:5]}")
    print(
        f"charge (1, 5, 15 min) au début {', '.join(f'{x:.2f}' for x in load_start)} ;"
        f" à la fin de la phase mesurée {', '.join(f'{x:.2f}' for x in load_live)}"
    )
    result = {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "load_at_start": load_start,
            "load_after_live_phase": load_live,
        },
        "args": {
            k: (str(v) if isinstance(v, Path) else v)
            for k, v in vars(args).items()
            if k not in ("database_url", "redis_url", "tmp")
        },
        "subscribers": args.subscribers,
        "rate": args.rate,
        "entries": live["entries"],
        "p50_ms": live_stats["p50_ms"],
        "p90_ms": live_stats["p90_ms"],
        "p99_ms": live_stats["p99_ms"],
        "max_ms": live_stats["max_ms"],
        "raw_p50_ms": raw_stats["p50_ms"],
        "raw_p99_ms": raw_stats["p99_ms"],
        "burst": {"size": args.burst, "sse": live_burst, "raw": raw_burst},
        "steady_from_outbox_write": from_written,
        "p50_ratio": round(p50_ratio, 2),
        "p99_ratio": round(p99_ratio, 2),
        "lost": delivery.lost,
        "duplicated": delivery.duplicated,
        "raw_lost": base.lost,
        "raw_duplicated": base.duplicated,
        "deliveries_per_s": round(live_rate, 1),
        "raw_deliveries_per_s": round(raw_rate, 1),
        "message_bytes": live["message_bytes"],
        "server_cpu_s": live["server_cpu_s"],
        "api_p50_ms": round(statistics.median(poster.api_ms), 1) if poster.api_ms else None,
        "post_errors": len(poster.errors),
        "streams_ready": live["ready"],
        "rss_per_stream_kib": round(rss_per_stream, 1),
        "idle": idle,
    }
    if args.json:
        args.json.write_text(
            json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
        )
    failed = (
        delivery.lost or delivery.duplicated or poster.errors or live["ready"] < args.subscribers
    )
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
