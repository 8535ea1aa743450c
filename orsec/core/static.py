"""Static files for the single-process server, with the same security headers as the pages.

granian's built-in static serving sends neither ``X-Content-Type-Options: nosniff`` nor a charset
(S4), so the dispatcher serves ``STATIC_ROOT`` itself: small files read in a thread, never a path
outside the root, long cache lifetimes for the manifest's hashed names. Behind the production
reverse proxy the proxy may serve ``/static/`` instead (``docs/deploy.md``) with the same headers.
"""

from __future__ import annotations

import asyncio
import mimetypes
import re
from collections.abc import Awaitable, Callable, MutableMapping
from email.utils import formatdate, parsedate_to_datetime
from pathlib import Path
from typing import Any

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]

_HASHED_NAME = re.compile(r"\.[0-9a-f]{12}\.[A-Za-z0-9]+$")  # ManifestStaticFilesStorage names
_TEXTUAL = ("text/", "application/javascript", "application/json", "image/svg+xml")
MAX_STATIC_BYTES = 32 * 1024 * 1024

COMMON_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"strict-origin-when-cross-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
]


def _content_type(path: Path) -> bytes:
    guessed, _ = mimetypes.guess_type(path.name)
    if path.suffix == ".js" or path.suffix == ".mjs":
        guessed = "application/javascript"
    content_type = guessed or "application/octet-stream"
    if content_type.startswith(_TEXTUAL):
        content_type += "; charset=utf-8"
    return content_type.encode("ascii")


class StaticFiles:
    """ASGI app serving files below ``root`` for URLs below ``prefix`` (GET and HEAD only)."""

    def __init__(self, root: Path, prefix: str) -> None:
        self.root = root.resolve()
        self.prefix = prefix if prefix.endswith("/") else prefix + "/"

    def resolve(self, url_path: str) -> Path | None:
        relative = url_path[len(self.prefix) :]
        if not relative or "\x00" in relative or "\\" in relative:
            return None
        candidate = (self.root / relative).resolve()
        if not candidate.is_relative_to(self.root) or not candidate.is_file():
            return None
        return candidate

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        method = scope.get("method", "GET")
        if method not in ("GET", "HEAD"):
            await self._answer(send, 405, b"", [(b"allow", b"GET, HEAD")])
            return
        path = await asyncio.to_thread(self.resolve, scope["path"])
        if path is None:
            await self._answer(send, 404, b"Fichier introuvable.")
            return
        stat = await asyncio.to_thread(path.stat)
        if stat.st_size > MAX_STATIC_BYTES:
            await self._answer(send, 404, b"Fichier introuvable.")
            return
        last_modified = formatdate(stat.st_mtime, usegmt=True).encode("ascii")
        immutable = _HASHED_NAME.search(path.name) is not None
        cache = b"public, max-age=31536000, immutable" if immutable else b"public, max-age=3600"
        headers = [
            (b"content-type", _content_type(path)),
            (b"last-modified", last_modified),
            (b"cache-control", cache),
        ]
        if self._not_modified(scope, stat.st_mtime):
            await self._answer(send, 304, b"", headers, send_length=False)
            return
        body = b"" if method == "HEAD" else await asyncio.to_thread(path.read_bytes)
        headers.append((b"content-length", str(stat.st_size).encode("ascii")))
        await send(
            {"type": "http.response.start", "status": 200, "headers": headers + COMMON_HEADERS}
        )
        await send({"type": "http.response.body", "body": body})

    @staticmethod
    def _not_modified(scope: Scope, mtime: float) -> bool:
        for name, value in scope.get("headers", []):
            if name == b"if-modified-since":
                try:
                    since = parsedate_to_datetime(value.decode("latin-1")).timestamp()
                except (TypeError, ValueError):
                    return False
                return int(mtime) <= int(since)
        return False

    @staticmethod
    async def _answer(
        send: Send,
        status: int,
        body: bytes,
        extra: list[tuple[bytes, bytes]] | None = None,
        *,
        send_length: bool = True,
    ) -> None:
        headers = list(extra or [])
        if status >= 400:
            headers.append((b"content-type", b"text/plain; charset=utf-8"))
        if send_length:
            headers.append((b"content-length", str(len(body)).encode("ascii")))
        await send(
            {"type": "http.response.start", "status": status, "headers": headers + COMMON_HEADERS}
        )
        await send({"type": "http.response.body", "body": body})
