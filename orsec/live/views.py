"""The authorisation view of the live streams, reached only from :mod:`orsec.live.auth`.

It is not in the portal's URLs (``config.urls``): the stream handler runs it through Django's
whole middleware stack (session, second factor, session policy, security headers) with its
own URL configuration (:mod:`orsec.live.urls`), so a stream is authorised exactly like a page
and a page URL can never return a grant.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import DisallowedHost, PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _

from orsec.live.channels import get_channel


def same_origin(request: HttpRequest) -> bool:
    """True without an ``Origin`` header (same-origin ``EventSource``), or when it names this
    site or one of ``CSRF_TRUSTED_ORIGINS``."""
    origin = request.headers.get("Origin")
    if origin is None:
        return True
    if origin in settings.CSRF_TRUSTED_ORIGINS:
        return True
    parts = urlsplit(origin)
    try:
        host = request.get_host()
    except DisallowedHost:
        return False
    return parts.scheme == request.scheme and parts.netloc == host


def grant_view(request: HttpRequest, channel: str, rest: str = "") -> HttpResponse:
    if request.method not in ("GET", "HEAD"):
        return HttpResponse(status=405, headers={"Allow": "GET"})
    if not same_origin(request):
        raise PermissionDenied
    found = get_channel(channel)
    if found is None:
        raise Http404
    if not request.user.is_authenticated:
        response = JsonResponse(
            {"code": "not_authenticated", "message": _("Connectez-vous pour suivre ce flux.")},
            status=401,
        )
        response.headers["WWW-Authenticate"] = 'Session realm="Portail ORSEC"'
        return response
    grant = found.authorize(request, rest)
    grant.session_epoch = int(getattr(request.user, "session_epoch", 0))
    request.live_grant = grant  # type: ignore[attr-defined]
    return HttpResponse(status=204)
