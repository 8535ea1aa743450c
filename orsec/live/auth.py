"""Authorise a stream through Django, like a page: sessions, second factor, session policy.

:func:`authorize_environ` runs in a worker thread: it builds a ``WSGIRequest`` from the
stream's request (same cookies, headers and path), hands it to Django's handler with the
middleware of the portal and the URL configuration :mod:`orsec.live.urls`, and reads back the
:class:`~orsec.live.channels.Grant` the view attached, or the refusal (status and body) to
return instead.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.core.handlers.wsgi import WSGIHandler, WSGIRequest

from orsec.live.channels import Grant

_handler: WSGIHandler | None = None

#: Response headers of the authorisation that the stream repeats (security headers, cookies).
_SKIPPED_HEADERS = frozenset({"content-type", "content-length", "vary", "x-frame-options"})


@dataclass
class Authorisation:
    status: int
    grant: Grant | None = None
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)
    body: bytes = b""


def _django() -> WSGIHandler:
    global _handler
    if _handler is None:
        _handler = WSGIHandler()  # loads the middleware once per process
    return _handler


def authorize_environ(environ: dict[str, Any]) -> Authorisation:
    request = WSGIRequest(environ)
    request.urlconf = "orsec.live.urls"
    response = _django().get_response(request)
    try:
        headers = [
            (name.lower().encode("latin-1"), value.encode("latin-1"))
            for name, value in response.items()
            if name.lower() not in _SKIPPED_HEADERS
        ]
        headers.extend(
            (b"set-cookie", cookie.output(header="").strip().encode("latin-1"))
            for cookie in response.cookies.values()
        )
        grant = getattr(request, "live_grant", None)
        if response.status_code == 204 and isinstance(grant, Grant):
            return Authorisation(status=200, grant=grant, headers=headers)
        status = response.status_code
        if status in (301, 302, 303, 307, 308):
            status = 401  # the login redirect of a page: a stream cannot follow it
        body = b"" if getattr(response, "streaming", False) else getattr(response, "content", b"")
        return Authorisation(status=status, headers=headers, body=body[:2000])
    finally:
        response.close()
