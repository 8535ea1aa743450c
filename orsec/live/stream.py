"""The ASGI handler of ``/live/<channel>/…``: one Server-Sent Events stream per page.

1. Authorise through Django in a worker thread (:mod:`orsec.live.auth`): 401/403/404 are
   answered as plain text, like any refusal; a foreign topic gets the same 404 as an absent one.
2. Answer ``200 text/event-stream; charset=utf-8`` with the security headers Django produced,
   a ``retry:`` hint with jitter, then the replay after the page's cursor (``Last-Event-ID``
   or ``?after=``), then live messages from the hub.
3. Every ~20 s a heartbeat; every ~60 s (with jitter) access is authorised again through
   Django: refused → ``denied`` and the end; the audience changed (a role, a sharing) →
   ``reload``. A client that stops reading is dropped (``reload`` if it ever reads again).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any
from urllib.parse import parse_qs

from django.db import DatabaseError

from orsec.core.serving import (
    LIVE_PREFIX,
    TEXT_NOT_FOUND,
    LiveRegistry,
    Receive,
    Scope,
    Send,
    build_environ,
    live_handlers,
    send_plain,
)
from orsec.live.auth import Authorisation, authorize_environ
from orsec.live.channels import Channel, add_channel, get_channel
from orsec.live.hub import _CLOSE, Hub, Stream, get_hub
from orsec.live.protocol import (
    HEARTBEAT,
    HEARTBEAT_SECONDS,
    RECHECK_SECONDS,
    encode_control,
    encode_retry,
    jitter,
    parse_cursor,
)

logger = logging.getLogger("orsec.live")

#: A client that takes longer than this to accept one chunk is dropped.
SEND_TIMEOUT_SECONDS = 10.0

TEXT_REFUSED = {
    401: "Session absente ou expirée : reconnectez-vous.\n",
    403: "Accès refusé à ce flux.\n",
    404: TEXT_NOT_FOUND,
    405: "Méthode non autorisée : un flux se lit avec GET.\n",
}
TEXT_UNAVAILABLE = "Flux momentanément indisponible : nouvelle tentative dans un instant.\n"

_SSE_HEADERS = [
    (b"content-type", b"text/event-stream; charset=utf-8"),
    (b"cache-control", b"no-store"),
    (b"x-accel-buffering", b"no"),
    (b"x-content-type-options", b"nosniff"),
]
_OWN = {name for name, _ in _SSE_HEADERS}


def register_channel(channel: Channel, registry: LiveRegistry | None = None) -> None:
    """Register a channel and route ``/live/<channel.name>/`` to the stream handler."""
    add_channel(channel)
    (registry or live_handlers).register(channel.name, stream_app)


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            return str(value.decode("latin-1"))
    return None


async def stream_app(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] != "http":
        return
    if scope["method"] != "GET":
        await send_plain(send, 405, TEXT_REFUSED[405], [(b"allow", b"GET")])
        return
    name = scope["path"][len(LIVE_PREFIX) :].split("/", 1)[0]
    if get_channel(name) is None:
        await send_plain(send, 404, TEXT_NOT_FOUND)
        return
    hub = await get_hub()
    environ = build_environ(scope, b"")
    try:
        outcome = await hub.db(authorize_environ, environ)
    except DatabaseError:
        await send_plain(send, 503, TEXT_UNAVAILABLE, [(b"retry-after", b"2")])
        return
    if outcome.grant is None:
        status = outcome.status if outcome.status in TEXT_REFUSED else 403
        await send_plain(send, status, TEXT_REFUSED[status])
        return
    query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    cursor = parse_cursor(_header(scope, b"last-event-id"), query)
    stream = Stream(grant=outcome.grant, last_id=cursor)
    headers = _SSE_HEADERS + [(k, v) for k, v in outcome.headers if k not in _OWN]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    stream.writer = asyncio.current_task()
    watcher = asyncio.create_task(_watch_disconnect(receive, stream))
    try:
        await _body(send, encode_retry())
        stream.sent_at = hub.loop.time()
        _ensure_keeper(hub)
        await hub.open(stream)
        await _pump(hub, stream, send, environ)
    except (asyncio.CancelledError, ConnectionError, OSError, TimeoutError):
        pass  # client gone or dropped as a slow consumer
    except DatabaseError:
        logger.warning("live_stream_database_error", exc_info=True)
    finally:
        watcher.cancel()
        hub.detach(stream)
        if stream.end_reason != "gone":
            with contextlib.suppress(asyncio.CancelledError, Exception):  # client gone
                await asyncio.wait_for(
                    send({"type": "http.response.body", "body": b""}), timeout=1.0
                )


async def _body(send: Send, data: bytes) -> None:
    await asyncio.wait_for(
        send({"type": "http.response.body", "body": data, "more_body": True}),
        timeout=SEND_TIMEOUT_SECONDS,
    )


async def _watch_disconnect(receive: Receive, stream: Stream) -> None:
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            stream.close("gone")
            return


def _next_recheck() -> float:
    return time.monotonic() + RECHECK_SECONDS * jitter(0.75, 1.25)


def _ensure_keeper(hub: Hub) -> None:
    """Start the process's keeper (once per hub): see :func:`_keep`."""
    if hub.keeper is None or hub.keeper.done():
        hub.keeper = hub.loop.create_task(_keep(hub), name="orsec-live-keeper")
        hub.add_task(hub.keeper)


async def _keep(hub: Hub) -> None:
    """Heartbeats and stuck sends for every stream of the process, a few times per heartbeat
    period: a stream silent for :data:`HEARTBEAT_SECONDS` gets a heartbeat; a client that has
    not accepted a chunk for :data:`SEND_TIMEOUT_SECONDS` is dropped (slow consumer). One loop
    over the streams instead of two timers armed and cancelled per message and per stream —
    which cost more than the sends themselves with 1,000 streams."""
    while True:
        await asyncio.sleep(min(1.0, HEARTBEAT_SECONDS / 4))
        now = hub.loop.time()
        for stream in list(hub.streams):
            if stream.closed or not stream.ready:
                continue
            if stream.sending_since is not None:
                if now - stream.sending_since > SEND_TIMEOUT_SECONDS:
                    stream.close("slow_consumer")  # its writer is cancelled after a grace
            elif now - stream.sent_at >= HEARTBEAT_SECONDS and stream.queue.empty():
                stream.send_now(HEARTBEAT)


async def _pump(hub: Hub, stream: Stream, send: Send, environ: dict[str, Any]) -> None:
    recheck_at = _next_recheck()
    recheck: asyncio.Future[Authorisation] | None = None
    loop = hub.loop
    while True:
        data = await stream.take()
        if data == _CLOSE:
            return
        more, closing = stream.take_queued()
        if more:
            data = b"".join([data, *more])
        stream.sending_since = loop.time()
        await send({"type": "http.response.body", "body": data, "more_body": True})
        stream.sending_since = None
        stream.sent_at = loop.time()
        if closing:
            return
        if (recheck is None or recheck.done()) and time.monotonic() >= recheck_at:
            recheck = asyncio.ensure_future(hub.db(authorize_environ, dict(environ)))
            recheck.add_done_callback(lambda task: _apply_recheck(stream, task))
            recheck_at = _next_recheck()


def _apply_recheck(stream: Stream, task: asyncio.Future[Authorisation]) -> None:
    if task.cancelled():
        return
    try:
        outcome = task.result()
    except Exception:
        return  # the database is away: keep the stream, check again later
    if outcome.grant is None:
        stream.close("revoked", encode_control("denied", "access"))
    elif outcome.grant.audience != stream.grant.audience:
        stream.close("audience", encode_control("reload", "access_changed"))
