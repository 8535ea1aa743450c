"""Brute-force throttling of the authentication steps, and response-time padding.

Three sliding-window counters over :class:`~orsec.accounts.models.LoginFailure` rows, all read
*before* a password or a code is verified (a locked request never reaches the hasher, so the
answer reveals nothing about the credentials):

* ``(username, ip)``: ``ORSEC_LOGIN_MAX_FAILURES_PER_ACCOUNT_IP`` (5) — the usual lock, which
  only the attacker's own address feels;
* ``username`` from any address: ``ORSEC_LOGIN_MAX_FAILURES_PER_ACCOUNT`` (20) — a distributed
  guess against one account;
* ``ip`` for any username: ``ORSEC_LOGIN_MAX_FAILURES_PER_IP`` (30) — one address spraying many
  accounts.

The per-IP budget (30) is larger than the per-account one (20) but smaller than twice it, and the
``(username, ip)`` lock (5) stops one address long before the account-wide lock: an anonymous
attacker on one address can never lock any account for its owner's other addresses, and needs
four addresses per account to do so. ``docs/accounts.md`` gives the reasoning.

The username is stored as a keyed HMAC digest: the table never holds what was typed (a password
typed in the username field, for instance).

This module only reads and writes the counter table; the actions in ``orsec.accounts.actions``
decide when to call it and write the audit records.
"""

from __future__ import annotations

import functools
import math
import time
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from http import HTTPStatus
from typing import TYPE_CHECKING, Any, cast

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.crypto import salted_hmac

from orsec.accounts.models import LoginFailure

if TYPE_CHECKING:
    from django.http.response import HttpResponseBase

_DIGEST_SALT = "orsec.accounts.throttle.username"


class Step:
    """What was being verified when a failure happened (stored in ``LoginFailure.step``)."""

    # A step name, not a secret.
    PASSWORD = "password"  # noqa: S105  # nosec B105
    SECOND_FACTOR = "second_factor"
    ENROLMENT = "enrolment"
    REAUTH = "reauth"


def normalise_username(username: str) -> str:
    """The form in which usernames are compared (NFKC, as Django's ``UsernameField`` does)."""
    return unicodedata.normalize("NFKC", username or "")


def username_digest(username: str) -> str:
    """A keyed hash of the username: stable for counting, useless without ``SECRET_KEY``."""
    return salted_hmac(_DIGEST_SALT, normalise_username(username), algorithm="sha256").hexdigest()


@dataclass(frozen=True)
class LockStatus:
    """Whether a username/address pair may try to authenticate now."""

    locked: bool
    scope: str = ""  # "account_ip", "account" or "ip"
    retry_after_seconds: int = 0

    @property
    def retry_after_minutes(self) -> int:
        """Whole minutes to wait, rounded up (at least one) for the user-facing message."""
        return max(1, math.ceil(self.retry_after_seconds / 60))


NOT_LOCKED = LockStatus(locked=False)


def _window_seconds() -> int:
    return int(settings.ORSEC_LOGIN_LOCKOUT_SECONDS)


def _ip_q(ip: str | None) -> Q:
    # An unparsable address is one bucket of its own rather than no bucket at all (fail closed).
    return Q(ip=ip) if ip is not None else Q(ip__isnull=True)


def _retry_after(failures: QuerySet[LoginFailure], limit: int, now: datetime) -> int:
    """Seconds until the count in the window falls below ``limit`` again."""
    times = list(failures.order_by("at").values_list("at", flat=True))
    # Once the (count - limit + 1) oldest failures leave the window, one attempt is allowed.
    pivot = times[len(times) - limit]
    remaining = (pivot + timedelta(seconds=_window_seconds()) - now).total_seconds()
    return max(1, math.ceil(remaining))


def check_lock(username: str, ip: str | None, *, now: datetime | None = None) -> LockStatus:
    """Read the three counters; call before any credential is verified."""
    now = now or timezone.now()
    since = now - timedelta(seconds=_window_seconds())
    recent = LoginFailure.objects.filter(at__gt=since)
    digest = username_digest(username)
    checks: tuple[tuple[str, QuerySet[LoginFailure], int], ...] = (
        (
            "account_ip",
            recent.filter(Q(username_digest=digest) & _ip_q(ip)),
            int(settings.ORSEC_LOGIN_MAX_FAILURES_PER_ACCOUNT_IP),
        ),
        (
            "account",
            recent.filter(username_digest=digest),
            int(settings.ORSEC_LOGIN_MAX_FAILURES_PER_ACCOUNT),
        ),
        ("ip", recent.filter(_ip_q(ip)), int(settings.ORSEC_LOGIN_MAX_FAILURES_PER_IP)),
    )
    for scope, failures, limit in checks:
        if failures.count() >= limit:
            return LockStatus(True, scope, _retry_after(failures, limit, now))
    return NOT_LOCKED


def add_failure(username: str, ip: str | None, step: str, *, now: datetime | None = None) -> None:
    """Count one failed step; rows older than the window are purged on the way."""
    now = now or timezone.now()
    LoginFailure.objects.filter(at__lte=now - timedelta(seconds=_window_seconds())).delete()
    LoginFailure.objects.create(username_digest=username_digest(username), ip=ip, at=now, step=step)


def clear_failures(username: str, ip: str | None) -> None:
    """A complete login clears the failures of this username from this address only.

    The account-wide and per-address counters keep the other addresses' failures: a legitimate
    login must not wipe the trace of an attack coming from elsewhere.
    """
    LoginFailure.objects.filter(Q(username_digest=username_digest(username)) & _ip_q(ip)).delete()


def pad_anonymous_response[V: Callable[..., HttpResponseBase]](view: V) -> V:
    """Make a POST take at least ``ORSEC_ANONYMOUS_MIN_RESPONSE_MS`` (S17, no timing oracle).

    Every outcome that could depend on an account (unknown user, wrong password, success, reset
    request) is padded to the same floor, which sits above the cost of one Argon2id verification
    with the production parameters. A 429 is not padded: the lock does not depend on whether the
    account exists, and a locked flood should not hold a worker for the floor.
    """

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> HttpResponseBase:
        request: Any = args[0] if args else None
        if getattr(request, "method", "") != "POST":
            return view(*args, **kwargs)
        floor = int(settings.ORSEC_ANONYMOUS_MIN_RESPONSE_MS) / 1000
        started = time.monotonic()
        response = view(*args, **kwargs)
        remaining = floor - (time.monotonic() - started)
        if remaining > 0 and response.status_code != HTTPStatus.TOO_MANY_REQUESTS:
            time.sleep(remaining)
        return response

    return cast("V", wrapper)
