"""Test support for live streams: the real ASGI application on a loopback port, and a small
Server-Sent Events reader.

:class:`ThreadedServer` serves ``config.asgi.application`` (the dispatcher: pages, API, static
files and ``/live/``) with uvicorn in a background thread of the test process, so that the test
database (SQLite in memory, shared cache; or PostgreSQL) is the one the server reads. Tests that
need separate processes (two nodes, a killed node) start ``manage.py serve`` instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import uvicorn
from django.conf import settings
from django.test import Client

from orsec.live.hub import running_hub


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ThreadedServer:
    """uvicorn serving the portal's ASGI application in a thread (tests only)."""

    def __init__(self, app: Any = None) -> None:
        if app is None:
            # imported here: building the application installs the WSGI handler and pool
            from config.asgi import application

            app = application
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(
            app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="off"
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> ThreadedServer:
        self.thread.start()
        deadline = time.monotonic() + 15
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the test server did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        hub = running_hub()
        if hub is not None and not hub.loop.is_closed():
            # stop the hub's tasks in its own loop before the loop goes away
            with contextlib.suppress(Exception):
                asyncio.run_coroutine_threadsafe(hub.stop(), hub.loop).result(5)
        self.server.should_exit = True
        self.server.force_exit = True
        self.thread.join(10)


def session_cookie(client: Client) -> str:
    """``name=value`` of the Django test client's session cookie (to replay it elsewhere)."""
    name = settings.SESSION_COOKIE_NAME
    return f"{name}={client.cookies[name].value}"


@dataclass
class SSEEvent:
    id: str | None
    event: str
    data: str


@dataclass
class SSEReader:
    """Reads a ``text/event-stream`` response in a thread, events into a list."""

    response: httpx.Response
    events: list[SSEEvent] = field(default_factory=list)
    comments: int = 0
    ended: bool = False
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> SSEReader:
        threading.Thread(target=self._read, daemon=True).start()
        return self

    def _read(self) -> None:
        event: dict[str, Any] = {"id": None, "event": "message", "data": []}
        try:
            for line in self.response.iter_lines():
                if line == "":
                    if event["data"]:
                        with self._lock:
                            self.events.append(
                                SSEEvent(event["id"], event["event"], "\n".join(event["data"]))
                            )
                    event = {"id": None, "event": "message", "data": []}
                    continue
                if line.startswith(":"):
                    self.comments += 1
                    continue
                name, _, value = line.partition(":")
                value = value[1:] if value.startswith(" ") else value
                if name == "data":
                    event["data"].append(value)
                elif name in ("id", "event"):
                    event[name] = value
        except (httpx.HTTPError, RuntimeError):
            pass
        finally:
            self.ended = True

    def named(self, name: str) -> list[SSEEvent]:
        with self._lock:
            return [e for e in self.events if e.event == name]

    def wait_for(self, predicate: Any, timeout: float = 10.0) -> list[SSEEvent]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                found = [e for e in self.events if predicate(e)]
            if found:
                return found
            time.sleep(0.02)
        with self._lock:
            seen = [(e.id, e.event, e.data[:80]) for e in self.events]
        raise AssertionError(f"no matching live message within {timeout} s; got {seen}")

    def wait_ended(self, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while not self.ended and time.monotonic() < deadline:
            time.sleep(0.02)
        if not self.ended:
            raise AssertionError("the stream did not end")


def open_stream(
    http: httpx.Client, path: str, *, cookie: str, headers: dict[str, str] | None = None
) -> Iterator[httpx.Response]:
    """Context-manager-like generator: the streaming response (closed on exit)."""
    request = http.build_request(
        "GET", path, headers={"Accept": "text/event-stream", "Cookie": cookie, **(headers or {})}
    )
    response = http.send(request, stream=True)
    try:
        yield response
    finally:
        response.close()
