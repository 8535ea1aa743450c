"""The ceiling: the smallest ASGI application granian can serve (``bench/http.py``, row a)."""

from __future__ import annotations

from typing import Any

_BODY = b"Bonjour"
_START = {
    "type": "http.response.start",
    "status": 200,
    "headers": [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", b"7")],
}
_END = {"type": "http.response.body", "body": _BODY}


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    await send(_START)
    await send(_END)
