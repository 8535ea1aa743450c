"""The wire format of the live streams (Server-Sent Events) and its constants.

A stream sends, in this order: a ``retry:`` hint (with jitter), then the replay of what the page
missed, then live messages. Each message that changes the page carries the ``id`` of the last
outbox row it reflects; the page resumes after that id (``Last-Event-ID`` header, or the
``after`` query parameter that our client sends on its own reconnections). Message kinds
(the SSE ``event`` field):

``swap``
    ``data`` is JSON ``{"swaps": [{"target": "<element id>", "mode": "replace"|"inner"|
    "prepend"|"append"|"remove", "html": "…", "keep": n?}]}``. Every swap is idempotent:
    replacing an element, or inserting an element whose id already exists replaces it; ``keep``
    trims the target to its first (prepend) or last (append) ``n`` children.
``reload``
    The stream cannot replay what the page missed (too old, too many): the page reloads.
``denied``
    Access ended (logout, account disabled, role removed, event no longer visible): the page
    stops reconnecting and tells the user.
``ping``
    Sent with the heartbeat comment, so the client notices a dead connection.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cached_property
from secrets import SystemRandom
from typing import Any

#: A heartbeat comment (and a ``ping``) keeps proxies from closing an idle stream.
HEARTBEAT_SECONDS = 20.0
_random = SystemRandom()


def jitter(low: float, high: float) -> float:
    """A random factor in ``[low, high)``: spreads reconnections and periodic work so that a
    thousand screens (or nodes) do not act in the same second."""
    return low + (high - low) * _random.random()


#: The client reconnects after this many milliseconds (plus jitter), told by ``retry:``.
RETRY_BASE_MS = 2000
#: At most this many outbox rows are replayed to a reconnecting page; beyond: ``reload``.
REPLAY_LIMIT = 500
#: Messages waiting for a client that does not read; beyond, the stream is dropped.
MAX_QUEUED_MESSAGES = 200
#: Bytes waiting for a client that does not read (a rendering reaches hundreds of kB on a busy
#: event page, and a personal audience's messages are not shared); beyond, the stream is dropped.
MAX_QUEUED_BYTES = 4 * 1024 * 1024
#: Access is re-checked through Django (sessions, second factor, scope) this often per stream.
RECHECK_SECONDS = 60.0
#: Sessions and accounts of all streams of a process are checked in one batch this often.
SWEEP_SECONDS = 5.0

SWAP_MODES = frozenset({"replace", "inner", "prepend", "append", "remove"})


@dataclass(frozen=True)
class Swap:
    target: str
    mode: str
    html: str = ""
    #: for ``prepend``/``append``: the target keeps at most this many children (0: no limit), so
    #: that a wall screen's list does not grow for the whole night
    keep: int = 0

    def as_dict(self) -> dict[str, str | int]:
        result: dict[str, str | int] = {"target": self.target, "mode": self.mode, "html": self.html}
        if self.keep:
            result["keep"] = self.keep
        return result


@dataclass(frozen=True)
class SSEMessage:
    """One message for the streams of an audience; ``encoded`` is shared by all of them."""

    id: int
    event: str
    data: str

    @cached_property
    def encoded(self) -> bytes:
        """The wire bytes, encoded once and shared by every stream the message goes to."""
        return encode_message(self.id, self.event, self.data)


def swap_message(message_id: int, swaps: list[Swap]) -> SSEMessage:
    payload = json.dumps({"swaps": [s.as_dict() for s in swaps]}, ensure_ascii=False)
    return SSEMessage(id=message_id, event="swap", data=payload)


def encode_message(message_id: int | None, event: str, data: str) -> bytes:
    lines = []
    if message_id is not None:
        lines.append(f"id: {message_id}")
    lines.append(f"event: {event}")
    # ``data`` may hold newlines: one ``data:`` line each (the client joins them with "\n").
    lines.extend(f"data: {line}" for line in (data.split("\n") if data else [""]))
    return ("\n".join(lines) + "\n\n").encode("utf-8")


def encode_retry() -> bytes:
    """The reconnection delay hint, with jitter so that 1,000 screens do not come back at once."""
    delay = int(RETRY_BASE_MS * jitter(0.5, 1.5))
    return f"retry: {delay}\n: flux ouvert\n\n".encode("ascii")


HEARTBEAT = b": heartbeat\nevent: ping\ndata: 1\n\n"


def encode_control(event: str, reason: str) -> bytes:
    return encode_message(None, event, json.dumps({"reason": reason}))


def parse_cursor(header: str | None, query: dict[str, Any]) -> int:
    """The id the page reflects: the larger of ``Last-Event-ID`` and ``?after=``; 0 if none.

    Anything that is not a plain non-negative integer counts as absent (the stream then starts
    live, and the page, which rendered its own id, is asked nothing it cannot answer).
    """
    best = 0
    candidates = [header or ""]
    after = query.get("after")
    if isinstance(after, list):
        candidates.extend(str(a) for a in after)
    elif after is not None:
        candidates.append(str(after))
    for raw in candidates:
        raw = raw.strip()
        if raw.isascii() and raw.isdigit() and len(raw) <= 18:
            best = max(best, int(raw))
    return best
