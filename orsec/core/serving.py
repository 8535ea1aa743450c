"""The ASGI front door of the portal: one process serves pages, API and live streams.

``docs/adr/0002-serving-topology.md`` records why. In short: Django's own ASGI handler costs a
thread hop *per middleware layer and per database call* (asgiref ``sync_to_async``) and answered
about six times fewer requests than its WSGI handler on the same machine, while live streams
(Server-Sent Events) need a native event loop. The :class:`Dispatcher` below gives each its best
path:

* ``/live/<name>/…`` goes to a native async handler registered in :data:`live_handlers` (the live
  app plugs in there; until it does, the answer is 404);
* every other HTTP request is handed, with a single thread hop, to Django's **WSGI** handler in a
  bounded thread pool: the body is read on the event loop (size-capped, 413 before Django), a
  PEP 3333 environ is built from the ASGI scope, the WSGI application runs, its response is
  drained and closed in the same worker thread, then sent. Streaming responses
  (``StreamingHttpResponse``, ``FileResponse``) are pulled chunk by chunk from the pool instead.

Static files never reach this code: granian serves them (``manage.py serve``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import sys
import threading
from collections.abc import Awaitable, Callable, Iterable, Iterator, MutableMapping
from dataclasses import dataclass, field
from io import BytesIO
from queue import SimpleQueue
from types import TracebackType
from typing import Any

logger = logging.getLogger("orsec.serving")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None]
StartResponse = Callable[..., Callable[[bytes], None]]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]

LIVE_PREFIX = "/live/"
DEFAULT_THREADS = 8
DEFAULT_MAX_BODY_SIZE = 10 * 1024 * 1024
DEFAULT_MAX_PENDING = 1024

# Texts sent before (or instead of) Django: plain, French, never a traceback.
TEXT_NOT_FOUND = "Flux introuvable.\n"
TEXT_TOO_LARGE = "Requête trop volumineuse.\n"
TEXT_BAD_REQUEST = "Requête invalide.\n"
TEXT_OVERLOADED = "Service momentanément surchargé : réessayez dans un instant.\n"
TEXT_SERVER_ERROR = "Erreur du service : réessayez dans un instant.\n"

_LIVE_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
_PLAIN_HEADERS = [
    (b"content-type", b"text/plain; charset=utf-8"),
    (b"x-content-type-options", b"nosniff"),
    (b"cache-control", b"no-store"),
]
_DONE = object()


# --- /live/ registry ---------------------------------------------------------------------------


class LiveRegistry:
    """Native async handlers for ``/live/<name>/…``, keyed by the first path segment.

    The live app registers its stream endpoint once, at start-up (``AppConfig.ready``)::

        from orsec.core.serving import live_handlers
        live_handlers.register("evenements", event_stream)  # serves /live/evenements/…

    A handler is a plain ASGI callable; it receives the untouched scope and owns authentication
    (session cookie), access checks and database access (async ORM or ``sync_to_async``).
    """

    def __init__(self) -> None:
        self._handlers: dict[str, ASGIApp] = {}

    def register(self, name: str, handler: ASGIApp) -> None:
        if not _LIVE_NAME.match(name):
            raise ValueError(f"invalid live handler name: {name!r}")
        if name in self._handlers and self._handlers[name] is not handler:
            raise ValueError(f"live handler {name!r} is already registered")
        self._handlers[name] = handler

    def unregister(self, name: str) -> None:
        self._handlers.pop(name, None)

    def resolve(self, path: str) -> ASGIApp | None:
        """The handler for a path under :data:`LIVE_PREFIX`, or ``None``."""
        name = path[len(LIVE_PREFIX) :].split("/", 1)[0]
        return self._handlers.get(name)

    def names(self) -> list[str]:
        return sorted(self._handlers)


live_handlers = LiveRegistry()


# --- Worker threads ----------------------------------------------------------------------------


_Job = tuple[asyncio.AbstractEventLoop, asyncio.Future[Any], Callable[..., Any], tuple[Any, ...]]


def _resolve(future: asyncio.Future[Any], result: Any, error: BaseException | None) -> None:
    if future.cancelled():
        return  # the request's task was cancelled (client gone): nobody waits any more
    if error is None:
        future.set_result(result)
    else:
        future.set_exception(error)


class WorkerPool:
    """A fixed number of threads fed by one queue: the single thread hop of a request.

    Leaner than ``loop.run_in_executor`` (no ``concurrent.futures.Future`` chained to an asyncio
    future): a job is ``(loop, future, function, args)``, the worker resolves the asyncio future
    with ``call_soon_threadsafe``. Threads start with the first job (importing ``config.asgi``
    starts none).
    """

    def __init__(self, size: int, name: str = "orsec-wsgi") -> None:
        self.size = size
        self.name = name
        self._queue: SimpleQueue[_Job | None] = SimpleQueue()
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        self._closed = False

    def submit(self, function: Callable[..., Any], *args: Any) -> asyncio.Future[Any]:
        if self._closed:
            raise RuntimeError("worker pool is shut down")
        if not self._threads:
            self._start()
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        self._queue.put((loop, future, function, args))
        return future

    def _start(self) -> None:
        with self._lock:
            if self._closed:
                raise RuntimeError("worker pool is shut down")
            while len(self._threads) < self.size:
                thread = threading.Thread(
                    target=self._work, name=f"{self.name}-{len(self._threads)}", daemon=True
                )
                thread.start()
                self._threads.append(thread)

    def _work(self) -> None:
        while (job := self._queue.get()) is not None:
            loop, future, function, args = job
            try:
                result = function(*args)
            except Exception as error:
                outcome: tuple[Any, BaseException | None] = (None, error)
            except BaseException:
                loop.call_soon_threadsafe(
                    _resolve, future, None, RuntimeError("worker thread interrupted")
                )
                raise
            else:
                outcome = (result, None)
            with contextlib.suppress(RuntimeError):  # loop closed: the server is stopping
                loop.call_soon_threadsafe(_resolve, future, *outcome)

    def shutdown(self, timeout: float = 30.0) -> None:
        """Let the queued jobs finish, then stop the threads."""
        with self._lock:
            self._closed = True
            threads = list(self._threads)
        for _ in threads:
            self._queue.put(None)
        for thread in threads:
            thread.join(timeout)


# --- WSGI bridge -------------------------------------------------------------------------------


class BodyTooLarge(Exception):
    """The request body exceeds the configured cap."""


class ClientGone(Exception):
    """The client disconnected before its body was read."""


@dataclass
class _WSGIResponse:
    """What ``start_response`` received, plus anything written through ``write()``."""

    status: int = 0
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)
    written: list[bytes] = field(default_factory=list)
    committed: bool = False  # set once the status line has gone to the client

    def start_response(
        self,
        status: str,
        headers: list[tuple[str, str]],
        exc_info: ExcInfo | None = None,
    ) -> Callable[[bytes], None]:
        if exc_info is not None:
            try:
                if self.committed:
                    raise exc_info[1].with_traceback(exc_info[2])
            finally:
                exc_info = None  # no reference cycle through the traceback
        elif self.status:
            raise RuntimeError("start_response called twice without exc_info")
        self.status = int(status[:3])
        self.headers = [
            (name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in headers
        ]
        return self.written.append


@dataclass
class _Outcome:
    response: _WSGIResponse
    body: list[bytes]
    stream: Iterator[bytes] | None = None  # remaining chunks of a streaming response
    closer: Callable[[], None] | None = None


def _header_key(name: str) -> str:
    return "HTTP_" + name.upper().replace("-", "_")


def build_environ(scope: Scope, body: bytes) -> dict[str, Any]:
    """A PEP 3333 environ for an ASGI HTTP ``scope`` whose body was read in full."""
    root_path: str = scope.get("root_path", "") or ""
    path: str = scope["path"]
    if root_path and path.startswith(root_path):
        path = path[len(root_path) :]
    server = scope.get("server") or ("localhost", 80)
    client = scope.get("client") or ("", 0)
    environ: dict[str, Any] = {
        "REQUEST_METHOD": scope["method"],
        "SCRIPT_NAME": root_path.encode("utf-8", "surrogateescape").decode("latin-1"),
        # PEP 3333: native strings holding the request's bytes as latin-1.
        "PATH_INFO": path.encode("utf-8", "surrogateescape").decode("latin-1"),
        "QUERY_STRING": scope.get("query_string", b"").decode("latin-1"),
        "SERVER_NAME": str(server[0]),
        "SERVER_PORT": "" if server[1] is None else str(server[1]),
        "SERVER_PROTOCOL": "HTTP/" + scope.get("http_version", "1.1"),
        "REMOTE_ADDR": str(client[0]),
        "REMOTE_PORT": str(client[1]),
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": scope.get("scheme", "http"),
        "wsgi.input": BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
        "wsgi.input_terminated": True,
    }
    if body:
        environ["CONTENT_LENGTH"] = str(len(body))
    for raw_name, raw_value in scope.get("headers", ()):
        name = raw_name.decode("latin-1").lower()
        value = raw_value.decode("latin-1")
        if name == "content-length":
            continue  # the body was read in full: CONTENT_LENGTH is its real length
        if name == "content-type":
            environ.setdefault("CONTENT_TYPE", value)
            continue
        if "_" in name:
            # "X-Forwarded_For" and "X-Forwarded-For" would both become HTTP_X_FORWARDED_FOR;
            # like nginx, gunicorn and runserver, drop names with underscores (no spoofing).
            continue
        key = _header_key(name)
        previous = environ.get(key)
        if previous is None:
            environ[key] = value
        elif key == "HTTP_COOKIE":
            environ[key] = previous + "; " + value  # HTTP/2 splits cookies (RFC 9113 §8.2.3)
        else:
            environ[key] = previous + "," + value  # RFC 9110 §5.3
    return environ


def _request_body_expected(scope: Scope) -> bool:
    """False when an HTTP/1.x request has no body framing at all (RFC 9112 §6.3)."""
    if not scope.get("http_version", "1.1").startswith("1"):
        return True  # HTTP/2 and 3 may send a body without Content-Length
    for name, value in scope.get("headers", ()):
        lowered = name.lower()
        if lowered == b"transfer-encoding":
            return True
        if lowered == b"content-length" and value.strip() != b"0":
            return True
    return False


async def read_body(scope: Scope, receive: Receive, max_size: int) -> bytes:
    """The whole request body; :class:`BodyTooLarge` past ``max_size`` bytes."""
    for name, value in scope.get("headers", ()):
        if name.lower() == b"content-length":
            try:
                declared = int(value)
            except ValueError:
                raise ValueError("invalid Content-Length") from None
            if declared > max_size:
                raise BodyTooLarge
    if not _request_body_expected(scope):
        return b""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientGone
        chunk = message.get("body", b"")
        if chunk:
            size += len(chunk)
            if size > max_size:
                raise BodyTooLarge
            chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


async def send_plain(
    send: Send, status: int, text: str, extra: list[tuple[bytes, bytes]] | None = None
) -> None:
    body = text.encode("utf-8")
    headers = [*_PLAIN_HEADERS, (b"content-length", str(len(body)).encode("ascii"))]
    if extra:
        headers.extend(extra)
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _close(iterable: object) -> None:
    close = getattr(iterable, "close", None)
    if close is not None:
        close()


class Dispatcher:
    """ASGI application: ``/live/`` to async handlers, everything else to a WSGI application.

    ``threads`` bounds the worker threads that run the WSGI application; ``max_pending`` bounds
    the requests waiting for or holding one (beyond it: 503 at once rather than an endless
    queue); ``max_body_size`` caps request bodies, answered 413 before the WSGI application sees
    them. ``static`` is an optional ``(url prefix, ASGI app)`` serving static files
    (:class:`orsec.core.static.StaticFiles`) without a thread hop.
    """

    def __init__(
        self,
        wsgi_app: WSGIApp,
        *,
        live: LiveRegistry | None = None,
        static: tuple[str, ASGIApp] | None = None,
        threads: int = DEFAULT_THREADS,
        max_body_size: int = DEFAULT_MAX_BODY_SIZE,
        max_pending: int = DEFAULT_MAX_PENDING,
    ) -> None:
        if threads < 1 or max_body_size < 0 or max_pending < 1:
            raise ValueError("threads and max_pending must be ≥ 1, max_body_size ≥ 0")
        self.wsgi_app = wsgi_app
        self.live = live_handlers if live is None else live
        self.static = static
        self.threads = threads
        self.max_body_size = max_body_size
        self.max_pending = max_pending
        self._pending = 0
        self._pool = WorkerPool(threads)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            path: str = scope["path"]
            root_path: str = scope.get("root_path", "") or ""
            if root_path and path.startswith(root_path):
                path = path[len(root_path) :]
            if path.startswith(LIVE_PREFIX):
                handler = self.live.resolve(path)
                if handler is None:
                    await send_plain(send, 404, TEXT_NOT_FOUND)
                    return
                await handler(scope, receive, send)
                return
            if self.static is not None and path.startswith(self.static[0]):
                await self.static[1](scope, receive, send)
                return
            await self.handle_wsgi(scope, receive, send)
        elif kind == "lifespan":
            await self._lifespan(receive, send)
        elif kind == "websocket":
            await send({"type": "websocket.close", "code": 1008})  # no WebSocket endpoint
        else:
            raise ValueError(f"unsupported ASGI scope type: {kind!r}")

    # -- HTTP through WSGI ------------------------------------------------------------------

    async def handle_wsgi(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            body = await read_body(scope, receive, self.max_body_size)
        except BodyTooLarge:
            await send_plain(send, 413, TEXT_TOO_LARGE, [(b"connection", b"close")])
            return
        except ValueError:
            await send_plain(send, 400, TEXT_BAD_REQUEST, [(b"connection", b"close")])
            return
        except ClientGone:
            return
        if self._pending >= self.max_pending:
            await send_plain(send, 503, TEXT_OVERLOADED, [(b"retry-after", b"1")])
            return
        environ = build_environ(scope, body)
        self._pending += 1
        try:
            try:
                outcome: _Outcome = await self._pool.submit(self._run, environ)
            except Exception:
                logger.exception(
                    "wsgi_application_error",
                    extra={"method": scope["method"], "path": scope["path"][:200]},
                )
                await send_plain(send, 500, TEXT_SERVER_ERROR)
                return
            response = outcome.response
            response.committed = True
            await send(
                {
                    "type": "http.response.start",
                    "status": response.status,
                    "headers": response.headers,
                }
            )
            if outcome.stream is None:
                await send({"type": "http.response.body", "body": b"".join(outcome.body)})
                return
            await self._stream(outcome, outcome.stream, send)
        finally:
            self._pending -= 1

    def _run(self, environ: dict[str, Any]) -> _Outcome:
        """Worker thread: call the application, drain and close a non-streaming response."""
        response = _WSGIResponse()
        result = self.wsgi_app(environ, response.start_response)
        try:
            if getattr(result, "streaming", False):
                # Django streaming response: hand the iterator back, chunks are pulled one by
                # one (an SSE-like generator must not be drained here).
                iterator = iter(result)
                first = next(iterator, None)
                body = list(response.written)
                if first is not None:
                    body.append(first)
                    return _Outcome(response, body, iterator, getattr(result, "close", None))
                _close(result)
                return _Outcome(response, body)
            body = list(response.written)
            body.extend(result)
        except BaseException:
            _close(result)
            raise
        _close(result)
        if not response.status:
            raise RuntimeError("WSGI application returned without calling start_response")
        return _Outcome(response, body)

    async def _stream(self, outcome: _Outcome, iterator: Iterator[bytes], send: Send) -> None:
        try:
            await send(
                {"type": "http.response.body", "body": b"".join(outcome.body), "more_body": True}
            )
            while True:
                chunk = await self._pool.submit(next, iterator, _DONE)
                if chunk is _DONE:
                    break
                if chunk:
                    await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": b""})
        except Exception:
            # Headers are gone: nothing left to tell the client; the connection is cut.
            logger.warning("wsgi_stream_interrupted", exc_info=True)
        finally:
            if outcome.closer is not None:
                try:
                    await self._pool.submit(outcome.closer)  # in a worker thread, like Django
                except Exception:
                    logger.exception("wsgi_close_error")

    # -- lifespan ------------------------------------------------------------------------

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await asyncio.to_thread(self.shutdown)
                await send({"type": "lifespan.shutdown.complete"})
                return

    def shutdown(self) -> None:
        """Finish the requests in progress and stop the worker threads."""
        self._pool.shutdown()
