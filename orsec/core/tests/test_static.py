"""Static files served by the dispatcher: security headers (S4), no path outside the root."""

from __future__ import annotations

import asyncio
from collections.abc import MutableMapping
from email.utils import formatdate
from pathlib import Path
from typing import Any

import pytest

from orsec.core.static import StaticFiles


def call(
    app: StaticFiles,
    path: str,
    method: str = "GET",
    headers: list[tuple[bytes, bytes]] | None = None,
) -> dict[str, Any]:
    sent: list[MutableMapping[str, Any]] = []

    async def receive() -> MutableMapping[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "method": method, "path": path, "headers": headers or []}
    asyncio.run(app(scope, receive, send))
    start, body = sent[0], sent[1]
    return {
        "status": start["status"],
        "headers": {k.decode(): v.decode() for k, v in start["headers"]},
        "body": body["body"],
    }


@pytest.fixture
def app(tmp_path: Path) -> StaticFiles:
    root = tmp_path / "static"
    (root / "orsec").mkdir(parents=True)
    (root / "orsec" / "orsec.css").write_text("body{}", encoding="utf-8")
    (root / "orsec" / "app.0123456789ab.js").write_text("1", encoding="utf-8")
    (tmp_path / "secret.py").write_text("SECRET_KEY='x'", encoding="utf-8")
    return StaticFiles(root, "/static/")


def test_css_is_served_with_charset_and_nosniff(app: StaticFiles) -> None:
    answer = call(app, "/static/orsec/orsec.css")
    assert answer["status"] == 200
    assert answer["body"] == b"body{}"
    assert answer["headers"]["content-type"] == "text/css; charset=utf-8"
    assert answer["headers"]["x-content-type-options"] == "nosniff"
    assert answer["headers"]["cache-control"] == "public, max-age=3600"


def test_hashed_manifest_names_are_immutable(app: StaticFiles) -> None:
    answer = call(app, "/static/orsec/app.0123456789ab.js")
    assert answer["headers"]["content-type"] == "application/javascript; charset=utf-8"
    assert "immutable" in answer["headers"]["cache-control"]


@pytest.mark.parametrize(
    "path",
    [
        "/static/../secret.py",
        "/static/orsec/../../secret.py",
        "/static/",
        "/static/nope.css",
        "/static/orsec",
        "/static/orsec/orsec.css\x00.py",
    ],
)
def test_nothing_outside_the_root_or_missing_is_served(app: StaticFiles, path: str) -> None:
    answer = call(app, path)
    assert answer["status"] == 404
    assert b"SECRET" not in answer["body"]
    assert answer["headers"]["x-content-type-options"] == "nosniff"


def test_head_has_no_body_and_post_is_refused(app: StaticFiles) -> None:
    head = call(app, "/static/orsec/orsec.css", method="HEAD")
    assert head["status"] == 200
    assert head["body"] == b""
    assert head["headers"]["content-length"] == "6"
    assert call(app, "/static/orsec/orsec.css", method="POST")["status"] == 405


def test_if_modified_since_gives_304(app: StaticFiles, tmp_path: Path) -> None:
    mtime = (tmp_path / "static" / "orsec" / "orsec.css").stat().st_mtime
    since = formatdate(mtime + 60, usegmt=True).encode()
    answer = call(app, "/static/orsec/orsec.css", headers=[(b"if-modified-since", since)])
    assert answer["status"] == 304
    assert answer["body"] == b""
    garbage = call(app, "/static/orsec/orsec.css", headers=[(b"if-modified-since", b"hier")])
    assert garbage["status"] == 200
