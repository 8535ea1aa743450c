"""What the accounts app keeps in the server-side session, in one place.

* the *pending login*: after a correct password and before the second factor, the session holds
  the user id, the time, the backend and the user's session hash — never a logged-in user;
* the *session clock*: the login time (absolute lifetime) and the last-activity stamp (idle
  timeout), read by :class:`orsec.accounts.middleware.SessionPolicyMiddleware`;
* a one-shot *notice* shown on the login page after the session was ended by the server.

Stamps are whole seconds since the epoch taken from ``django.utils.timezone.now()``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.utils import timezone

from orsec.accounts.models import User

if TYPE_CHECKING:
    from django.http import HttpRequest

PENDING_KEY = "_orsec_pending_login"
LOGIN_AT_KEY = "_orsec_login_at"
SEEN_AT_KEY = "_orsec_seen_at"
NOTICE_KEY = "_orsec_notice"

#: A pending login (password checked, second factor not yet) lives five minutes.
PENDING_TTL_SECONDS = 5 * 60
#: The last-activity stamp is written at most once a minute (no session write per request).
SEEN_AT_RESOLUTION_SECONDS = 60


class Notice:
    """Why the login page is shown again (a code kept in the session, rendered in French)."""

    EXPIRED = "expired"
    UNVERIFIED = "unverified"
    PENDING_EXPIRED = "pending_expired"


def now_seconds() -> int:
    return int(timezone.now().timestamp())


@dataclass(frozen=True)
class PendingLogin:
    user: User
    backend: str
    next_url: str
    totp_key: str  # candidate secret shown on the enrolment page ("" until shown)


def start_pending_login(request: HttpRequest, user: Any, *, next_url: str) -> None:
    """Remember a password-verified user for the second step, under a fresh session key."""
    request.session.cycle_key()
    request.session[PENDING_KEY] = {
        "user_id": user.pk,
        "at": now_seconds(),
        "backend": getattr(user, "backend", settings.AUTHENTICATION_BACKENDS[0]),
        "hash": user.get_session_auth_hash(),
        "next": next_url,
        "totp_key": "",
    }


def get_pending_login(request: HttpRequest) -> PendingLogin | None:
    """The pending login, or None when absent, expired, or no longer valid for the user.

    The user's session hash is compared again: a password change or a "log out everywhere"
    between the two steps voids the pending login.
    """
    data = request.session.get(PENDING_KEY)
    if not isinstance(data, dict):
        return None
    if now_seconds() - int(data.get("at", 0)) > PENDING_TTL_SECONDS:
        clear_pending_login(request)
        return None
    user_id = data.get("user_id")
    user = (
        User.objects.filter(pk=user_id, is_active=True).first()
        if isinstance(user_id, int)
        else None
    )
    if user is None or user.get_session_auth_hash() != data.get("hash"):
        clear_pending_login(request)
        return None
    return PendingLogin(
        user=user,
        backend=str(data.get("backend", "")),
        next_url=str(data.get("next", "")),
        totp_key=str(data.get("totp_key", "")),
    )


def set_pending_totp_key(request: HttpRequest, key: str) -> None:
    data = dict(request.session[PENDING_KEY])
    data["totp_key"] = key
    request.session[PENDING_KEY] = data


def clear_pending_login(request: HttpRequest) -> None:
    request.session.pop(PENDING_KEY, None)


def start_session_clock(request: HttpRequest) -> None:
    """Called right after ``login()``: the absolute lifetime starts now."""
    now = now_seconds()
    request.session[LOGIN_AT_KEY] = now
    request.session[SEEN_AT_KEY] = now


def session_expiry_reason(request: HttpRequest) -> str | None:
    """``"absolute"``, ``"idle"`` or None. A session without stamps is treated as expired."""
    now = now_seconds()
    login_at = request.session.get(LOGIN_AT_KEY)
    seen_at = request.session.get(SEEN_AT_KEY)
    if not isinstance(login_at, int) or not isinstance(seen_at, int):
        return "absolute"
    if now - login_at > int(settings.ORSEC_SESSION_ABSOLUTE_SECONDS):
        return "absolute"
    if now - seen_at > int(settings.ORSEC_SESSION_IDLE_SECONDS):
        return "idle"
    return None


def touch_session(request: HttpRequest) -> None:
    """Move the last-activity stamp forward, at most once a minute."""
    now = now_seconds()
    seen_at = request.session.get(SEEN_AT_KEY)
    if not isinstance(seen_at, int) or now - seen_at >= SEEN_AT_RESOLUTION_SECONDS:
        request.session[SEEN_AT_KEY] = now


def set_notice(request: HttpRequest, notice: str) -> None:
    request.session[NOTICE_KEY] = notice


def pop_notice(request: HttpRequest) -> str:
    return str(request.session.pop(NOTICE_KEY, "") or "")
