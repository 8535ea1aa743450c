"""Response headers that Django's own middleware does not set."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.middleware.csp import get_nonce

_TEXTUAL = (
    "text/",
    "application/json",
    "application/xml",
    "application/geo+json",
    "application/problem+json",
    "application/javascript",
    "image/svg+xml",
)


class SecurityHeadersMiddleware:
    """Charset on every textual ``Content-Type`` and a restrictive ``Permissions-Policy``."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        nonce = get_nonce(request)
        if nonce is not None:
            # Evaluate the lazy nonce up front: every response then carries a nonce-based
            # script-src (S3), and templates testing `{% if nonce %}` (django-dsfr) see it.
            str(nonce)
        response = self.get_response(request)
        content_type = response.headers.get("Content-Type", "")
        if content_type.startswith(_TEXTUAL) and "charset=" not in content_type.lower():
            response.headers["Content-Type"] = f"{content_type}; charset=utf-8"
        response.headers.setdefault(
            "Permissions-Policy", "camera=(), microphone=(), payment=(), usb=(), geolocation=(self)"
        )
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            # Pages behind login are never stored by shared caches or the browser's disk cache.
            response.headers.setdefault("Cache-Control", "private, no-store")
        return response
