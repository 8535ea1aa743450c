"""The ASGI dispatcher (``orsec.core.serving``), called as a real ASGI application.

Most tests drive :class:`Dispatcher` in-process with a scope, ``receive`` and ``send``; one starts
``manage.py serve`` (granian) on a free loopback port to check the whole chain, static files
included.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable, Iterator
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.management import call_command

from orsec.core.serving import (
    TEXT_NOT_FOUND,
    TEXT_SERVER_ERROR,
    TEXT_TOO_LARGE,
    Dispatcher,
    LiveRegistry,
    Receive,
    Scope,
    Send,
    build_environ,
)

Message = dict[str, Any]


# --- Helpers ------------------------------------------------------------------------------------


class Result:
    def __init__(self, messages: list[Message]) -> None:
        self.messages = messages
        start = next(m for m in messages if m["type"] == "http.response.start")
        self.status: int = start["status"]
        self.headers: list[tuple[bytes, bytes]] = [tuple(h) for h in start["headers"]]
        self.body = b"".join(m.get("body", b"") for m in messages if m["type"].endswith("body"))

    def header(self, name: bytes) -> list[bytes]:
        return [value for key, value in self.headers if key == name]

    def json(self) -> Any:
        return json.loads(self.body)


def call(
    app: Any,
    *,
    method: str = "GET",
    path: str = "/",
    query: bytes = b"",
    headers: Iterable[tuple[bytes, bytes]] = (),
    chunks: list[bytes] | None = None,
    scheme: str = "http",
    http_version: str = "1.1",
    disconnect: bool = False,
) -> Result:
    scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": http_version,
        "method": method,
        "scheme": scheme,
        "path": path,
        "raw_path": path.encode("utf-8"),
        "query_string": query,
        "root_path": "",
        "headers": list(headers),
        "client": ("203.0.113.7", 51234),
        "server": ("127.0.0.1", 8000),
    }
    chunks = chunks or [b""]
    incoming: list[Message] = [
        {"type": "http.request", "body": chunk, "more_body": i < len(chunks) - 1}
        for i, chunk in enumerate(chunks)
    ]
    if disconnect:
        incoming = [{"type": "http.disconnect"}]
    sent: list[Message] = []

    async def receive() -> Message:
        if incoming:
            return incoming.pop(0)
        await asyncio.sleep(3600)  # a real server would wait for the client
        raise AssertionError("unreachable")

    async def send(message: Message) -> None:
        sent.append(message)

    async def main() -> None:
        await asyncio.wait_for(app(scope, receive, send), timeout=10)

    asyncio.run(main())
    return Result(sent) if any(m["type"] == "http.response.start" for m in sent) else None  # type: ignore[return-value]


def echo_app(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
    """WSGI application answering the textual part of its environ as JSON."""
    data = {k: v for k, v in environ.items() if isinstance(v, str)}
    data["_body"] = environ["wsgi.input"].read().decode("utf-8")
    data["_thread"] = threading.current_thread().name
    start_response(
        "201 Created",
        [("Content-Type", "application/json"), ("Set-Cookie", "a=1"), ("Set-Cookie", "b=2")],
    )
    return [json.dumps(data).encode("utf-8")]


@pytest.fixture
def make_dispatcher() -> Iterator[Callable[..., Dispatcher]]:
    created: list[Dispatcher] = []

    def factory(app: Any = echo_app, **kwargs: Any) -> Dispatcher:
        kwargs.setdefault("live", LiveRegistry())
        dispatcher = Dispatcher(app, **kwargs)
        created.append(dispatcher)
        return dispatcher

    yield factory
    for dispatcher in created:
        dispatcher.shutdown()


# --- Requests through the WSGI bridge -----------------------------------------------------------


def test_get_builds_a_pep3333_environ_from_the_scope(make_dispatcher: Any) -> None:
    result = call(
        make_dispatcher(),
        path="/annuaire/été/",
        query=b"q=%C3%A9t%C3%A9&type=cod",
        headers=[(b"host", b"portail.example"), (b"accept", b"text/html")],
        scheme="https",
    )
    assert result.status == 201
    environ = result.json()
    assert environ["REQUEST_METHOD"] == "GET"
    assert environ["PATH_INFO"] == "/annuaire/été/".encode().decode("latin-1")
    assert environ["SCRIPT_NAME"] == ""
    assert environ["QUERY_STRING"] == "q=%C3%A9t%C3%A9&type=cod"
    assert environ["HTTP_HOST"] == "portail.example"
    assert environ["HTTP_ACCEPT"] == "text/html"
    assert environ["SERVER_NAME"] == "127.0.0.1"
    assert environ["SERVER_PORT"] == "8000"
    assert environ["SERVER_PROTOCOL"] == "HTTP/1.1"
    assert environ["REMOTE_ADDR"] == "203.0.113.7"
    assert environ["wsgi.url_scheme"] == "https"
    assert environ["_body"] == ""
    assert "CONTENT_LENGTH" not in environ
    assert environ["_thread"].startswith("orsec-wsgi")


def test_post_body_sent_in_several_messages_is_read_in_full(make_dispatcher: Any) -> None:
    result = call(
        make_dispatcher(),
        method="POST",
        path="/formulaire/",
        headers=[
            (b"content-type", b"application/x-www-form-urlencoded"),
            (b"transfer-encoding", b"chunked"),
        ],
        chunks=[b"nom=Tours", b"&code=", b"37261"],
    )
    environ = result.json()
    assert environ["REQUEST_METHOD"] == "POST"
    assert environ["_body"] == "nom=Tours&code=37261"
    assert environ["CONTENT_LENGTH"] == "20"
    assert environ["CONTENT_TYPE"] == "application/x-www-form-urlencoded"
    assert "HTTP_CONTENT_TYPE" not in environ


def test_http2_body_without_content_length_is_read(make_dispatcher: Any) -> None:
    result = call(make_dispatcher(), method="POST", http_version="2", chunks=[b"x=1"])
    assert result.json()["_body"] == "x=1"


def test_repeated_headers_are_joined_and_cookies_with_semicolons(make_dispatcher: Any) -> None:
    result = call(
        make_dispatcher(),
        headers=[
            (b"accept-language", b"fr"),
            (b"accept-language", b"en;q=0.5"),
            (b"cookie", b"orsec_session=abc"),
            (b"cookie", b"orsec_csrftoken=def"),
        ],
    )
    environ = result.json()
    assert environ["HTTP_ACCEPT_LANGUAGE"] == "fr,en;q=0.5"
    assert environ["HTTP_COOKIE"] == "orsec_session=abc; orsec_csrftoken=def"


def test_header_names_with_underscores_are_dropped(make_dispatcher: Any) -> None:
    result = call(
        make_dispatcher(),
        headers=[(b"x-forwarded-for", b"198.51.100.1"), (b"x-forwarded_for", b"10.0.0.1")],
    )
    assert result.json()["HTTP_X_FORWARDED_FOR"] == "198.51.100.1"


def test_response_status_headers_and_repeated_set_cookie_are_kept(make_dispatcher: Any) -> None:
    result = call(make_dispatcher())
    assert result.status == 201
    assert result.header(b"content-type") == [b"application/json"]
    assert result.header(b"set-cookie") == [b"a=1", b"b=2"]


def test_environ_does_not_leak_the_process_environment() -> None:
    os.environ["ORSEC_TEST_MARKER"] = "1"
    try:
        scope = {"type": "http", "method": "GET", "path": "/", "headers": []}
        assert "ORSEC_TEST_MARKER" not in build_environ(scope, b"")
    finally:
        del os.environ["ORSEC_TEST_MARKER"]


def test_body_over_the_declared_cap_is_413_before_the_application(make_dispatcher: Any) -> None:
    calls: list[Any] = []

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        calls.append(environ)
        start_response("200 OK", [])
        return [b""]

    dispatcher = make_dispatcher(app, max_body_size=10)
    declared = call(dispatcher, method="POST", headers=[(b"content-length", b"11")])
    streamed = call(
        dispatcher,
        method="POST",
        headers=[(b"transfer-encoding", b"chunked")],
        chunks=[b"123456", b"789012"],
    )
    for result in (declared, streamed):
        assert result.status == 413
        assert result.body.decode() == TEXT_TOO_LARGE
    assert calls == []
    assert (
        call(
            dispatcher, method="POST", chunks=[b"0123456789"], headers=[(b"content-length", b"10")]
        ).status
        == 200
    )


def test_invalid_content_length_is_400(make_dispatcher: Any) -> None:
    result = call(make_dispatcher(), method="POST", headers=[(b"content-length", b"abc")])
    assert result.status == 400


def test_get_without_body_framing_does_not_wait_for_the_body(make_dispatcher: Any) -> None:
    # call() never delivers a message for an HTTP/1.1 GET here: receive() would block.
    sent: list[Message] = []

    async def receive() -> Message:
        await asyncio.sleep(3600)
        raise AssertionError("unreachable")

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {"type": "http", "http_version": "1.1", "method": "GET", "path": "/", "headers": []}
    asyncio.run(asyncio.wait_for(make_dispatcher()(scope, receive, send), timeout=5))
    assert sent[0]["status"] == 201


def test_client_gone_before_the_body_runs_nothing(make_dispatcher: Any) -> None:
    result = call(
        make_dispatcher(), method="POST", headers=[(b"content-length", b"5")], disconnect=True
    )
    assert result is None


def test_exception_in_the_application_is_a_generic_500_without_traceback(
    make_dispatcher: Any, caplog: pytest.LogCaptureFixture
) -> None:
    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        raise RuntimeError("mot de passe de la base : hunter2")

    result = call(make_dispatcher(app), path="/panne/")
    assert result.status == 500
    assert result.body.decode() == TEXT_SERVER_ERROR
    assert b"Traceback" not in result.body
    assert b"hunter2" not in result.body
    assert result.header(b"content-type") == [b"text/plain; charset=utf-8"]
    assert any(r.message == "wsgi_application_error" for r in caplog.records)


def test_exception_while_iterating_the_body_is_a_500(make_dispatcher: Any) -> None:
    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterator[bytes]:
        start_response("200 OK", [])
        yield b"debut"
        raise ValueError("secret")

    result = call(make_dispatcher(app))
    assert result.status == 500
    assert b"secret" not in result.body


class ClosingBody:
    def __init__(self, chunks: list[bytes], streaming: bool = False) -> None:
        self.chunks = chunks
        self.streaming = streaming
        self.closed_in: str | None = None

    def __iter__(self) -> Iterator[bytes]:
        return iter(self.chunks)

    def close(self) -> None:
        self.closed_in = threading.current_thread().name


def test_response_iterable_is_drained_and_closed_in_a_worker_thread(make_dispatcher: Any) -> None:
    body = ClosingBody([b"Bon", b"", b"jour"])

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> ClosingBody:
        start_response("200 OK", [("Content-Type", "text/plain")])
        return body

    result = call(make_dispatcher(app))
    assert result.body == b"Bonjour"
    bodies = [m for m in result.messages if m["type"] == "http.response.body"]
    assert len(bodies) == 1  # a single send for a buffered response
    assert body.closed_in is not None
    assert body.closed_in.startswith("orsec-wsgi")


def test_streaming_response_is_sent_chunk_by_chunk_then_closed(make_dispatcher: Any) -> None:
    body = ClosingBody([b"data: 1\n\n", b"data: 2\n\n", b"data: 3\n\n"], streaming=True)

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> ClosingBody:
        start_response("200 OK", [("Content-Type", "text/event-stream")])
        return body

    result = call(make_dispatcher(app))
    chunks = [m["body"] for m in result.messages if m["type"] == "http.response.body"]
    assert chunks[:3] == [b"data: 1\n\n", b"data: 2\n\n", b"data: 3\n\n"]
    assert chunks[-1] == b""
    assert all(m.get("more_body") for m in result.messages[1:-1])
    assert body.closed_in is not None
    assert body.closed_in.startswith("orsec-wsgi")


def test_requests_beyond_max_pending_get_503(make_dispatcher: Any) -> None:
    release = threading.Event()

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        release.wait(5)
        start_response("200 OK", [])
        return [b"ok"]

    dispatcher = make_dispatcher(app, threads=1, max_pending=1)
    statuses: list[int] = []

    async def one() -> None:
        sent: list[Message] = []

        async def receive() -> Message:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: Message) -> None:
            sent.append(message)

        scope = {"type": "http", "http_version": "2", "method": "GET", "path": "/", "headers": []}
        await dispatcher(scope, receive, send)
        statuses.append(sent[0]["status"])

    async def main() -> None:
        first = asyncio.create_task(one())
        await asyncio.sleep(0.1)
        await one()  # refused at once while the first one holds the only slot
        release.set()
        await first

    asyncio.run(main())
    assert statuses == [503, 200]


# --- /live/ routing hook ------------------------------------------------------------------------


def test_live_path_without_a_registered_handler_is_404(make_dispatcher: Any) -> None:
    calls: list[Any] = []

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        calls.append(environ)
        start_response("200 OK", [])
        return [b""]

    result = call(make_dispatcher(app), path="/live/evenements/12/")
    assert result.status == 404
    assert result.body.decode() == TEXT_NOT_FOUND
    assert calls == []  # never reaches Django


def test_live_path_goes_to_the_registered_async_handler(make_dispatcher: Any) -> None:
    registry = LiveRegistry()
    seen: list[str] = []

    async def stream(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append(scope["path"])
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b": ping\n\n"})

    registry.register("evenements", stream)
    dispatcher = make_dispatcher(live=registry)
    assert call(dispatcher, path="/live/evenements/12/").body == b": ping\n\n"
    assert seen == ["/live/evenements/12/"]
    assert call(dispatcher, path="/live/autre/").status == 404
    assert call(dispatcher, path="/livre/").status == 201  # not under /live/: Django


def test_live_registry_refuses_bad_names_and_double_registration() -> None:
    registry = LiveRegistry()

    async def handler(scope: Any, receive: Any, send: Any) -> None:
        return None

    async def other(scope: Any, receive: Any, send: Any) -> None:
        return None

    registry.register("evenements", handler)
    registry.register("evenements", handler)  # idempotent
    with pytest.raises(ValueError, match="already registered"):
        registry.register("evenements", other)
    for name in ("", "a/b", "../x", "Majuscule"):
        with pytest.raises(ValueError, match="invalid"):
            registry.register(name, handler)
    assert registry.names() == ["evenements"]
    registry.unregister("evenements")
    assert registry.resolve("/live/evenements/") is None


# --- Lifespan and other scopes ------------------------------------------------------------------


def test_lifespan_startup_and_shutdown_complete(make_dispatcher: Any) -> None:
    dispatcher = make_dispatcher()
    inbox = [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}]
    sent: list[Message] = []

    async def receive() -> Message:
        return inbox.pop(0)

    async def send(message: Message) -> None:
        sent.append(message)

    asyncio.run(dispatcher({"type": "lifespan"}, receive, send))
    assert [m["type"] for m in sent] == ["lifespan.startup.complete", "lifespan.shutdown.complete"]


def test_websocket_is_refused(make_dispatcher: Any) -> None:
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "websocket.connect"}

    async def send(message: Message) -> None:
        sent.append(message)

    asyncio.run(make_dispatcher()({"type": "websocket", "path": "/"}, receive, send))
    assert sent == [{"type": "websocket.close", "code": 1008}]


# --- With Django --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_django_health_page_through_the_dispatcher(make_dispatcher: Any) -> None:
    from django.core.handlers.wsgi import WSGIHandler

    result = call(
        make_dispatcher(WSGIHandler()), path="/sante/", headers=[(b"host", b"testserver")]
    )
    assert result.status == 200
    assert result.json() == {"status": "ok"}


def test_serve_command_execs_granian_in_asgi_mode() -> None:
    out = StringIO()
    call_command(
        "serve", "--print-command", "--port", "8123", "--threads", "4", "--workers", "2", stdout=out
    )
    argv = out.getvalue().split()
    assert argv[1:3] == ["-m", "granian"]
    assert argv[argv.index("--interface") + 1] == "asgi"
    assert argv[argv.index("--port") + 1] == "8123"
    assert argv[argv.index("--workers") + 1] == "2"
    # An open live stream is a request for its whole life: granian's default cap (its backlog,
    # 1,024) would freeze the worker at 1,024 wall screens.
    assert int(argv[argv.index("--backpressure") + 1]) > 1024
    # Static files go through orsec.core.static (security headers), not granian's own server.
    assert "--static-path-mount" not in argv
    assert argv[-1] == "config.asgi:application"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _get(url: str) -> tuple[int, bytes, dict[str, str]]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - loopback
            return response.status, response.read(), dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, error.read(), dict(error.headers)


@pytest.mark.slow
def test_manage_py_serve_answers_pages_live_and_static_files(tmp_path: Path) -> None:
    static = tmp_path / "static"
    static.mkdir()
    (static / "banc.txt").write_text("fichier statique", encoding="utf-8")
    port = _free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings_test",
        "ORSEC_VAR_DIR": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'serve.sqlite3'}",
    }
    process = subprocess.Popen(  # noqa: S603 - fixed argv
        [sys.executable, "manage.py", "serve", "--port", str(port), "--threads", "2"],
        cwd=settings.BASE_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    break
            except OSError:
                assert process.poll() is None, process.stdout.read() if process.stdout else ""
                assert time.monotonic() < deadline, "granian did not start"
                time.sleep(0.2)
        base = f"http://127.0.0.1:{port}"
        assert _get(f"{base}/sante/")[:2] == (200, b'{"status": "ok"}')
        status, body, headers = _get(f"{base}/static/banc.txt")
        assert (status, body) == (200, b"fichier statique")
        assert "Content-Security-Policy" not in headers  # served on the loop, not by Django
        lowered = {name.lower(): value for name, value in headers.items()}
        assert lowered["x-content-type-options"] == "nosniff"
        assert lowered["content-type"] == "text/plain; charset=utf-8"
        assert _get(f"{base}/live/evenements/")[:2] == (404, TEXT_NOT_FOUND.encode())
    finally:
        os.killpg(process.pid, 15)
        output = process.communicate(timeout=15)[0].decode()
    assert f"Portail ORSEC sur http://127.0.0.1:{port} — Ctrl+C pour arrêter" in output
