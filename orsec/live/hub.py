"""The hub: one per process, between the outbox and that process's live streams.

* It reads the outbox **once per wake-up for the whole process** (a backend notification, a
  local write, or the poll timer), never once per stream.
* It delivers rows in id order and never skips one that is still being committed: ids are
  taken from a sequence when a row is inserted, so on PostgreSQL row 11 can be visible before
  row 10 commits. A missing id holds back the rows after it until it appears or
  :data:`GAP_WAIT_SECONDS` have passed (then it is taken as rolled back, and still watched for
  :data:`LATE_WINDOW_SECONDS` in case it commits late; if it does, it is delivered then).
  ``safe_upto`` is the id up to which everything has been delivered: a reconnecting stream
  replays from the outbox up to it, and gets the rest live — none lost, none twice.
* It groups the streams concerned by a row by **audience** and asks the channel to render once
  per audience, in a worker thread; the encoded message is shared by the streams.
* Every :data:`~orsec.live.protocol.SWEEP_SECONDS` it checks in one batch that the sessions
  and accounts of its streams are still valid (logout, logout everywhere, account disabled:
  the stream ends within seconds).

No database connection or transaction is held by a stream: database work runs in a small pool
of worker threads (``ORSEC_LIVE_DB_THREADS``), one short autocommit query at a time.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import defaultdict
from collections.abc import Callable, Hashable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session
from django.db import DatabaseError, close_old_connections, connection
from django.db.models import Max, Min, Q
from django.utils import timezone

from orsec.live.backends import get_backend
from orsec.live.backends.base import WakeupBackend
from orsec.live.channels import WATCH_PREFIX, Grant, OutboxRow, get_channel, matching_topics
from orsec.live.models import OutboxMessage
from orsec.live.outbox import WAKEUP_HOOKS
from orsec.live.protocol import (
    MAX_QUEUED_BYTES,
    MAX_QUEUED_MESSAGES,
    REPLAY_LIMIT,
    SWEEP_SECONDS,
    SSEMessage,
    encode_control,
    jitter,
)

logger = logging.getLogger("orsec.live")

T = TypeVar("T")

GAP_WAIT_SECONDS = 3.0
LATE_WINDOW_SECONDS = 120.0
FETCH_LIMIT = 2000
#: a jump larger than this in ids is not tracked id by id (sequence reset, mass rollback)
MAX_TRACKED_GAP = 10_000

_CLOSE = b""  # queue sentinel: the writer ends the response


def run_db[T](function: Callable[..., T], *args: Any) -> T:
    """Run a short database job in the calling worker thread, dropping a broken connection
    (PostgreSQL restarted) so that the next job reconnects."""
    close_old_connections()
    try:
        return function(*args)
    except DatabaseError:
        with contextlib.suppress(DatabaseError):
            connection.close()
        raise


# --- streams -------------------------------------------------------------------------------


@dataclass(eq=False)
class Stream:
    """One open SSE response. Only the event loop's thread touches it."""

    grant: Grant
    last_id: int
    queue: asyncio.Queue[bytes] = field(default_factory=asyncio.Queue)
    ready: bool = False
    pending: list[SSEMessage] = field(default_factory=list)
    closed: bool = False
    end_reason: str = ""
    writer: asyncio.Task[Any] | None = None
    #: skipped-then-late ids this stream already received by replay (no second delivery)
    replayed_late: set[int] = field(default_factory=set)
    #: while attaching: the replay covers rows up to this id (0 once ready)
    replay_upto: int = 0

    def wants(self, row_id: int, late: bool) -> bool:
        """Whether the row is not yet reflected by this stream (sent, or about to be replayed)."""
        if late:
            return row_id not in self.replayed_late
        return row_id > max(self.last_id, self.replay_upto)

    #: bytes in ``queue`` (the writer subtracts what it takes, see :meth:`take`)
    queued_bytes: int = 0
    #: event-loop time of the last chunk handed to the server, and of the send in progress
    #: (``None`` when none): one keeper per process sends heartbeats and drops clients stuck on
    #: a send, instead of two timers per message and per stream (orsec.live.stream)
    sent_at: float = 0.0
    sending_since: float | None = None

    @property
    def topics(self) -> tuple[str, ...]:
        return self.grant.topics

    @property
    def audience_key(self) -> tuple[str, Hashable]:
        return (self.grant.channel, self.grant.audience)

    def offer(self, message: SSEMessage, *, late: bool = False) -> None:
        """Queue ``message`` unless it is already reflected; a client that does not read is
        dropped (told to reload) instead of growing the queue."""
        if self.closed:
            return
        if late:
            if message.id in self.replayed_late:
                return
        elif message.id <= self.last_id:
            return
        if not self.ready:
            self.pending.append(message)
            if len(self.pending) > MAX_QUEUED_MESSAGES:
                self.close("slow_consumer", encode_control("reload", "slow_consumer"))
            return
        data = message.encoded  # the same bytes object for every stream of the audience
        if (
            self.queue.qsize() >= MAX_QUEUED_MESSAGES
            or self.queued_bytes + len(data) > MAX_QUEUED_BYTES
        ):
            self.close("slow_consumer", encode_control("reload", "slow_consumer"))
            return
        self.last_id = max(self.last_id, message.id)
        self._put(data)

    def send_now(self, data: bytes, message_id: int | None = None) -> None:
        if self.closed:
            return
        if message_id is not None:
            self.last_id = max(self.last_id, message_id)
        self._put(data)

    def _put(self, data: bytes) -> None:
        self.queued_bytes += len(data)
        self.queue.put_nowait(data)

    async def take(self) -> bytes:
        """The next chunk for the writer (waits for one)."""
        data = await self.queue.get()
        self.queued_bytes -= len(data)
        return data

    def take_queued(self) -> tuple[list[bytes], bool]:
        """Every chunk already queued, without waiting (one send for several messages), and
        whether the end of the stream was among them."""
        chunks: list[bytes] = []
        while not self.queue.empty():
            data = self.queue.get_nowait()
            self.queued_bytes -= len(data)
            if data == _CLOSE:
                return chunks, True
            chunks.append(data)
        return chunks, False

    def close(self, reason: str, control: bytes | None = None) -> None:
        """End the stream: drop what is queued, send ``control`` (``reload``/``denied``) if
        given, then end the response. A writer stuck on a client that does not read is
        cancelled after a short grace."""
        if self.closed:
            return
        self.closed = True
        self.end_reason = reason
        while not self.queue.empty():
            self.queue.get_nowait()
        self.queued_bytes = 0
        if control:
            self._put(control)
        self._put(_CLOSE)
        writer = self.writer
        if writer is not None and not writer.done():
            asyncio.get_running_loop().call_later(2.0, _cancel_if_running, writer)


def _cancel_if_running(task: asyncio.Task[Any]) -> None:
    if not task.done():
        task.cancel()


# --- the hub -------------------------------------------------------------------------------


@dataclass
class _State:
    safe_upto: int
    gaps: dict[int, float]
    late: dict[int, float]


class Hub:
    def __init__(self, backend: WakeupBackend, loop: asyncio.AbstractEventLoop) -> None:
        self.backend = backend
        self.loop = loop
        self.streams: set[Stream] = set()
        self.subscriptions: dict[str, set[Stream]] = defaultdict(set)
        self.state = _State(safe_upto=0, gaps={}, late={})
        #: rows up to this id are being (or have been) dispatched to the streams attached at
        #: that moment; a stream attached later replays up to it from the outbox
        self.announced_upto = 0
        self.started = False
        self._start_lock = asyncio.Lock()
        self._wake = asyncio.Event()
        self._tasks: list[asyncio.Task[Any]] = []
        self.executor = ThreadPoolExecutor(
            max_workers=getattr(settings, "ORSEC_LIVE_DB_THREADS", 4),
            thread_name_prefix="orsec-live",
        )
        self.stats: dict[str, int] = defaultdict(int)
        #: the streams' keeper (heartbeats, stuck sends), started by the first stream
        self.keeper: asyncio.Task[Any] | None = None

    # -- life cycle --------------------------------------------------------------------------

    async def start(self) -> None:
        async with self._start_lock:
            if self.started:
                return
            while True:
                try:
                    self.state.safe_upto = await self.db(_max_outbox_id)
                    self.announced_upto = self.state.safe_upto
                    break
                except DatabaseError:
                    logger.warning("live_hub_start_waiting_for_database", exc_info=True)
                    await asyncio.sleep(1.0)
            self._tasks = [
                self.loop.create_task(self._run(), name="orsec-live-hub"),
                self.loop.create_task(self.backend.listen(self.wake), name="orsec-live-listen"),
                self.loop.create_task(self._sweep(), name="orsec-live-sweep"),
            ]
            self.started = True

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks = []
        self.started = False
        for stream in list(self.streams):
            stream.close("shutdown")
        self.executor.shutdown(wait=False, cancel_futures=True)

    def add_task(self, task: asyncio.Task[Any]) -> None:
        """A task of the process's live machinery, cancelled when the hub stops."""
        self._tasks.append(task)

    def wake(self) -> None:
        """Look at the outbox now (event loop thread)."""
        self._wake.set()

    def wake_threadsafe(self) -> None:
        with contextlib.suppress(RuntimeError):  # loop closed (process shutting down)
            self.loop.call_soon_threadsafe(self._wake.set)

    async def db(self, function: Callable[..., T], *args: Any) -> T:
        return await self.loop.run_in_executor(self.executor, run_db, function, *args)

    # -- streams -------------------------------------------------------------------------------

    def attach(self, stream: Stream) -> int:
        """Subscribe ``stream`` (not ready yet: live messages wait in ``pending``) and return
        the id up to which it must replay from the outbox."""
        self.streams.add(stream)
        for topic in stream.topics:
            self.subscriptions[topic].add(stream)
        self.stats["attached"] += 1
        return self.announced_upto

    def detach(self, stream: Stream) -> None:
        self.streams.discard(stream)
        for topic in stream.topics:
            subscribers = self.subscriptions.get(topic)
            if subscribers is not None:
                subscribers.discard(stream)
                if not subscribers:
                    del self.subscriptions[topic]
        if stream.end_reason == "slow_consumer":
            self.stats["dropped_slow"] += 1

    async def open(self, stream: Stream) -> None:
        """Attach, replay what the page missed (or tell it to reload), then go live."""
        upto = self.attach(stream)
        after = stream.last_id
        if after == 0:
            stream.last_id = upto  # no cursor: live from now on
        elif after >= upto:
            pass  # the page is ahead of this process's hub (another node): live after it
        else:
            stream.replay_upto = upto  # live batches meanwhile carry only the rows after it
            replay = await self.db(_replay_rows, stream.topics, after, upto, REPLAY_LIMIT)
            if replay is None:
                stream.close("too_old", encode_control("reload", "too_old"))
                return
            if replay:
                channel = get_channel(stream.grant.channel)
                if channel is None:
                    stream.close("gone", encode_control("reload", "channel"))
                    return
                messages = await self.db(channel.render, stream.grant, replay)
                late_ids = set(self.state.late)
                stream.replayed_late = {row.id for row in replay if row.id in late_ids}
                for message in messages:
                    stream.send_now(message.encoded, message.id)
                self.stats["replayed"] += len(replay)
            stream.last_id = max(stream.last_id, upto)
            stream.replay_upto = 0
        stream.ready = True
        pending, stream.pending = stream.pending, []
        for message in pending:
            stream.offer(message)

    # -- the loop --------------------------------------------------------------------------------

    async def _run(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    self._wake.wait(), timeout=self.backend.current_poll_interval()
                )
            self._wake.clear()
            try:
                more = await self._cycle()
            except asyncio.CancelledError:
                raise
            except DatabaseError:
                self.stats["db_errors"] += 1
                logger.warning("live_hub_database_error", exc_info=True)
                await asyncio.sleep(jitter(0.5, 1.5))
                continue
            except Exception:
                logger.exception("live_hub_error")
                await asyncio.sleep(1.0)
                continue
            if more:
                self._wake.set()

    async def _cycle(self) -> bool:
        state = self.state
        late_ids = sorted(state.late)
        rows = await self.db(_fetch_rows, state.safe_upto, late_ids, FETCH_LIMIT)
        new_state, deliver, late_rows = settle(state, rows, time.monotonic())
        # no await between the choice of the rows and the choice of their streams (below)
        self.announced_upto = max(self.announced_upto, new_state.safe_upto)
        if self.streams and (deliver or late_rows):
            await self._dispatch(deliver, late_rows)  # raises: state unchanged, retried
        self.state = new_state
        self.stats["cycles"] += 1
        self.stats["rows"] += len(deliver) + len(late_rows)
        return len(rows) >= FETCH_LIMIT

    async def _dispatch(self, rows: list[OutboxRow], late_rows: list[OutboxRow]) -> None:
        """Render once per audience **and** set of rows, and offer the messages.

        Streams of an audience usually need the same rows; one that just replayed part of them
        (or reconnected with a later cursor) is grouped with the streams needing exactly what it
        needs, so that a message never carries a row a stream already reflects.
        """
        late_ids = {row.id for row in late_rows}
        needs: dict[Stream, list[OutboxRow]] = {}
        for row in sorted([*rows, *late_rows], key=lambda r: r.id):
            late = row.id in late_ids
            for topic in matching_topics(row.topic):
                for stream in self.subscriptions.get(topic, ()):
                    if stream.closed or not stream.wants(row.id, late):
                        continue
                    wanted = needs.setdefault(stream, [])
                    if not wanted or wanted[-1].id != row.id:
                        wanted.append(row)
        groups: dict[tuple[Any, ...], tuple[Grant, list[Stream], list[OutboxRow]]] = {}
        for stream, wanted in needs.items():
            key = (stream.audience_key, tuple(row.id for row in wanted))
            group = groups.get(key)
            if group is None:
                groups[key] = (stream.grant, [stream], wanted)
            else:
                group[1].append(stream)
        if not groups:
            return
        rendered = await asyncio.gather(
            *(self._render(grant, group_rows) for grant, _, group_rows in groups.values())
        )
        for (_, streams, _), messages in zip(groups.values(), rendered, strict=True):
            self.stats["renders"] += 1
            for message in messages:
                late = message.id in late_ids
                for stream in streams:
                    stream.offer(message, late=late)
                self.stats["deliveries"] += len(streams)

    async def _render(self, grant: Grant, rows: list[OutboxRow]) -> list[SSEMessage]:
        channel = get_channel(grant.channel)
        if channel is None:
            return []
        return await self.db(channel.render, grant, rows)

    # -- access sweep ------------------------------------------------------------------------

    async def _sweep(self) -> None:
        while True:
            await asyncio.sleep(SWEEP_SECONDS * jitter(0.8, 1.2))
            streams = [s for s in self.streams if not s.closed]
            if not streams:
                continue
            sessions = {s.grant.session_key for s in streams}
            users = {s.grant.user_id for s in streams}
            try:
                valid_sessions, active_users = await self.db(_valid, sessions, users)
            except DatabaseError:
                continue  # the database is away: keep the streams, check again later
            for stream in streams:
                grant = stream.grant
                if (
                    grant.session_key not in valid_sessions
                    or active_users.get(grant.user_id) != grant.session_epoch
                ):
                    self.stats["revoked"] += 1
                    stream.close("revoked", encode_control("denied", "session"))

    def describe(self) -> dict[str, Any]:
        return {
            "streams": len(self.streams),
            "topics": len(self.subscriptions),
            "safe_upto": self.state.safe_upto,
            "gaps": len(self.state.gaps),
            "late": len(self.state.late),
            "backend": self.backend.describe(),
            **self.stats,
        }


def settle(
    state: _State, rows: list[OutboxRow], now: float
) -> tuple[_State, list[OutboxRow], list[OutboxRow]]:
    """Which of ``rows`` (id order) can be delivered now, and the hub's next state.

    Pure: the clock is passed in. A missing id younger than :data:`GAP_WAIT_SECONDS` holds
    back every row after it; an older one is taken as rolled back and moves to ``late``.
    """
    gaps = dict(state.gaps)
    late = {i: t for i, t in state.late.items() if now - t < LATE_WINDOW_SECONDS}
    safe = state.safe_upto
    deliver: list[OutboxRow] = []
    late_rows: list[OutboxRow] = []
    for row in rows:
        if row.id <= safe:
            if row.id in late:
                del late[row.id]
                late_rows.append(row)
            continue
        expected = safe + 1
        if row.id > expected:
            if row.id - expected > MAX_TRACKED_GAP:
                logger.warning("live_outbox_id_jump", extra={"from": safe, "to": row.id})
            else:
                missing = range(expected, row.id)
                first_seen = [gaps.setdefault(i, now) for i in missing]
                if any(now - seen < GAP_WAIT_SECONDS for seen in first_seen):
                    break
                for i in missing:
                    late[i] = now
        deliver.append(row)
        safe = row.id
    gaps = {i: t for i, t in gaps.items() if i > safe}
    return _State(safe_upto=safe, gaps=gaps, late=late), deliver, late_rows


# --- database jobs (worker threads) ------------------------------------------------------------


def _row(values: tuple[int, str, str, str, dict[str, Any]]) -> OutboxRow:
    return OutboxRow(
        id=values[0], topic=values[1], kind=values[2], mode=values[3], payload=values[4]
    )


_FIELDS = ("id", "topic", "kind", "mode", "payload")


def _max_outbox_id() -> int:
    return OutboxMessage.objects.aggregate(top=Max("id"))["top"] or 0


def _fetch_rows(after: int, late_ids: list[int], limit: int) -> list[OutboxRow]:
    condition = Q(id__gt=after)
    if late_ids:
        condition |= Q(id__in=late_ids)
    values = OutboxMessage.objects.filter(condition).order_by("id").values_list(*_FIELDS)
    return [_row(v) for v in values[:limit]]


def topics_q(topics: tuple[str, ...] | list[str]) -> Q:
    condition = Q(pk__in=[])
    for topic in topics:
        condition |= Q(topic=topic)
        if topic.startswith(WATCH_PREFIX):
            condition |= Q(topic__startswith=topic + "/")
    return condition


def _replay_rows(
    topics: tuple[str, ...], after: int, upto: int, limit: int
) -> list[OutboxRow] | None:
    """Rows of ``topics`` in ``(after, upto]``; ``None`` when the page is too far behind
    (more than ``limit`` rows, or rows already pruned from the outbox)."""
    oldest = OutboxMessage.objects.aggregate(low=Min("id"))["low"]
    if oldest is not None and after < oldest - 1:
        return None
    values = (
        OutboxMessage.objects.filter(topics_q(topics), id__gt=after, id__lte=upto)
        .order_by("id")
        .values_list(*_FIELDS)[: limit + 1]
    )
    rows = [_row(v) for v in values]
    if len(rows) > limit:
        return None
    return rows


def _valid(sessions: set[str], users: set[int]) -> tuple[set[str], dict[int, int]]:
    """The sessions still alive, and the session epoch of each active user."""
    valid_sessions = set(
        Session.objects.filter(
            session_key__in=sessions, expire_date__gt=timezone.now()
        ).values_list("session_key", flat=True)
    )
    active_users: dict[int, int] = dict(
        get_user_model()
        .objects.filter(pk__in=users, is_active=True)
        .values_list("pk", "session_epoch")
    )
    return valid_sessions, active_users


# --- the process's hub -------------------------------------------------------------------------

_hub: Hub | None = None


async def get_hub() -> Hub:
    """The hub of this process, started on first use in the running event loop."""
    global _hub
    loop = asyncio.get_running_loop()
    if _hub is None or _hub.loop is not loop:
        _hub = Hub(get_backend(), loop)
    await _hub.start()
    return _hub


def reset_hub() -> None:
    """Forget this process's hub (tests: the next server starts one in its own loop)."""
    global _hub
    if _hub is not None:
        _hub.executor.shutdown(wait=False)
    _hub = None


def running_hub() -> Hub | None:
    return _hub if _hub is not None and _hub.started else None


def current_cursor() -> int:
    """The id a page rendered now reflects, to start its stream after.

    In a serving process the hub's ``safe_upto`` (everything up to it is delivered, nothing
    after it is skipped); without a running hub (tests, commands), the last outbox id.
    """
    hub = running_hub()
    if hub is not None:
        return hub.state.safe_upto
    return _max_outbox_id()


def wake_after_commit(topics: list[str]) -> None:
    """The wake-up hook run after every commit that queued live messages."""
    get_backend().publish(topics)
    hub = _hub
    if hub is not None and hub.started:
        hub.wake_threadsafe()


def install_wakeup_hook() -> None:
    if wake_after_commit not in WAKEUP_HOOKS:
        WAKEUP_HOOKS.append(wake_after_commit)
