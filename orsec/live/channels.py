"""Live channels: what a page subscribes to, who may, and what its streams receive.

A channel is served at ``/live/<name>/<rest>`` (the event dashboard ``/live/evenement/42/``,
the watch room ``/live/veille/``, the inbox ``/live/a-prendre-en-compte/``). Channels are
registered by the apps that own the pages (``orsec.dashboards``), above every domain they read;
this module only defines the shape:

``authorize(request, rest)``
    Runs inside Django (full middleware: session, second factor, session policy) for the
    connection and every periodic re-check. Returns a :class:`Grant` or raises ``Http404`` (also
    for "forbidden": a foreign topic looks absent) or ``PermissionDenied``.
``render(grant, rows)``
    Runs in a worker thread with database access, **once per audience** for a batch of new
    outbox rows of the grant's topics (or for a replay), never once per stream. Returns the
    messages to send. Streams whose grants have the same ``(channel, audience)`` share them, so
    ``audience`` must capture everything that decides what a user may see on that page (for
    the event dashboard: the event and the user's abilities on it; for the watch room: the
    user's scope). A row that the audience may not see simply renders nothing.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import Any, Protocol

from django.http import HttpRequest

from orsec.live.protocol import SSEMessage

WATCH_PREFIX = "watch:"


@dataclass(frozen=True)
class OutboxRow:
    """What the hub reads of an outbox row (no ORM object crosses threads)."""

    id: int
    topic: str
    kind: str
    mode: str
    payload: dict[str, Any]


@dataclass
class Grant:
    """The outcome of a successful authorisation: who, which topics, which audience."""

    channel: str
    user_id: int
    session_key: str
    #: exact topics (``event:42``, ``user:7``…); a ``watch:<path>`` topic also matches every
    #: ``watch:`` topic below ``<path>`` (a zone's watch room hears its départements)
    topics: tuple[str, ...]
    audience: Hashable
    #: the user object to render with (any user of the audience gives the same result)
    user: Any = None
    context: dict[str, Any] = field(default_factory=dict)
    #: the user's ``session_epoch`` when authorised: bumped by "log out everywhere", a disabled
    #: account, a role removed… (``orsec.accounts.actions``), it ends the user's streams
    session_epoch: int = 0


class Channel(Protocol):
    name: str

    def authorize(self, request: HttpRequest, rest: str) -> Grant: ...

    def render(self, grant: Grant, rows: list[OutboxRow]) -> list[SSEMessage]: ...


_channels: dict[str, Channel] = {}


def add_channel(channel: Channel) -> None:
    """Record a channel (use :func:`orsec.live.stream.register_channel`, which also routes it)."""
    existing = _channels.get(channel.name)
    if existing is not None and existing is not channel:
        raise ValueError(f"live channel {channel.name!r} is already registered")
    _channels[channel.name] = channel


def get_channel(name: str) -> Channel | None:
    return _channels.get(name)


def channel_names() -> list[str]:
    return sorted(_channels)


def matching_topics(topic: str) -> list[str]:
    """The subscription topics a row's topic reaches: itself, and for a watch topic every
    ancestor watch topic (``watch:FR/OUEST/R24/D37`` → ``watch:FR/OUEST``, ``watch:FR``…)."""
    if not topic.startswith(WATCH_PREFIX):
        return [topic]
    parts = topic[len(WATCH_PREFIX) :].split("/")
    return [WATCH_PREFIX + "/".join(parts[:i]) for i in range(len(parts), 0, -1)]
