"""Session policy: idle timeout, absolute lifetime and the second-factor guard (S9, S13).

Installed after ``OTPMiddleware`` (``request.user.is_verified()`` is available) and before the
messages middleware. For an authenticated request it:

1. ends the session when a second factor applies to the user but the session is not verified:
   no path reaches a page authenticated-but-unverified, whatever logged the user in;
2. ends the session (flush) when the absolute lifetime (``ORSEC_SESSION_ABSOLUTE_SECONDS``
   since login) or the idle timeout (``ORSEC_SESSION_IDLE_SECONDS`` since the last activity) is
   exceeded — a session without the login stamps (not opened by our login flow) counts as
   expired;
3. moves the last-activity stamp forward, at most once a minute.

An ended session is answered with a redirect to the login page (which explains why), or a 401
for non-HTML clients (API, event streams).
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _

from orsec.accounts import actions, mfa, sessions


def _wants_html(request: HttpRequest) -> bool:
    accept = request.headers.get("Accept", "")
    return not accept or "text/html" in accept or "*/*" in accept


class SessionPolicyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if user.is_authenticated:
            reason: str | None = None
            # OTPMiddleware installs is_verified(); without it, nobody counts as verified.
            is_verified = getattr(user, "is_verified", None)
            if mfa.mfa_required(user) and not (callable(is_verified) and is_verified()):
                reason = "unverified"
            else:
                reason = sessions.session_expiry_reason(request)
            if reason is not None:
                return self._end_session(request, reason)
            sessions.touch_session(request)
        return self.get_response(request)

    def _end_session(self, request: HttpRequest, reason: str) -> HttpResponse:
        actions.do_end_session(request, reason=reason)
        notice = sessions.Notice.UNVERIFIED if reason == "unverified" else sessions.Notice.EXPIRED
        sessions.set_notice(request, notice)
        if not _wants_html(request):
            # The API's error shape ({code, message}, config/api.py), for every non-HTML client.
            response = JsonResponse(
                {"code": "session_expired", "message": _("Session expirée : reconnectez-vous.")},
                status=401,
            )
            response.headers["WWW-Authenticate"] = 'Session realm="Portail ORSEC"'
            return response
        next_url = request.get_full_path() if request.method == "GET" else ""
        return redirect_to_login(next_url, settings.LOGIN_URL)
