"""Outbound delivery engine: the policy of one attempt, without database writes.

:func:`perform_attempt` re-checks the endpoint (active, mode accepted, URL still allow-listed),
signs the stored bytes with a fresh timestamp and POSTs them through the hardened client of
:mod:`orsec.core.net` (S27). :func:`classify` turns the answer into an :class:`Outcome`:

* 2xx → delivered;
* 408, 429, 5xx, timeouts and connection errors → retried later (:func:`backoff_delay`);
* any other 4xx, a redirect (never followed) or a policy refusal → dead at once.

The transitions themselves are the actions ``do_start_attempt`` / ``do_finish_attempt``
(``orsec/partners/actions.py``); the worker glue is ``orsec/partners/tasks.py``.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _

from orsec.core.net import (
    OutboundRefused,
    OutboundResponse,
    OutboundUnreachable,
    check_outbound_url,
    outbound_post,
)
from orsec.partners.models import OutboundMessage
from orsec.partners.webhooks import signed_headers

#: Delay before the 2nd, 3rd… attempt; the last one repeats until the maximum is reached.
BACKOFF_SECONDS = (30, 120, 480, 1800, 7200)
#: ± this fraction of random jitter, so that retries of one outage do not arrive all at once.
JITTER = 0.2
RETRYABLE_STATUSES = frozenset({408, 429})
_random = secrets.SystemRandom()


@dataclass(frozen=True)
class Outcome:
    delivered: bool
    permanent: bool = False
    status: int | None = None
    error: str = ""
    code: str = ""


def allowed_hosts() -> list[str]:
    return list(getattr(settings, "ORSEC_OUTBOUND_ALLOWED_HOSTS", []))


def check_endpoint_url(url: str) -> None:
    """Raise :class:`OutboundRefused` when ``url`` may not be used (save and send time)."""
    check_outbound_url(
        url,
        allowed_hosts=allowed_hosts(),
        allow_http_loopback=getattr(settings, "ORSEC_OUTBOUND_ALLOW_HTTP_LOOPBACK", False),
    )


def max_attempts() -> int:
    return int(getattr(settings, "ORSEC_OUTBOUND_MAX_ATTEMPTS", 6))


def backoff_delay(failed_attempts: int, *, jitter: bool = True) -> timedelta:
    """The wait after ``failed_attempts`` failures (1 → about 30 s, 2 → 2 min, … then 2 h)."""
    base = BACKOFF_SECONDS[min(max(failed_attempts, 1), len(BACKOFF_SECONDS)) - 1]
    factor = _random.uniform(1 - JITTER, 1 + JITTER) if jitter else 1.0
    return timedelta(seconds=base * factor)


def classify(response: OutboundResponse) -> Outcome:
    status = response.status
    if 200 <= status < 300:
        return Outcome(delivered=True, status=status)
    if 300 <= status < 400:
        return Outcome(
            delivered=False,
            permanent=True,
            status=status,
            error=_("Redirection refusée (HTTP %(status)s vers %(location)s) : corrigez l'adresse.")
            % {"status": status, "location": response.location or "?"},
            code="redirect_refused",
        )
    if status in RETRYABLE_STATUSES or status >= 500:
        return Outcome(
            delivered=False,
            status=status,
            error=_("Le partenaire a répondu HTTP %(status)s %(reason)s.")
            % {"status": status, "reason": response.reason},
            code="server_error",
        )
    return Outcome(
        delivered=False,
        permanent=True,
        status=status,
        error=_("Le partenaire a refusé le message : HTTP %(status)s %(reason)s.")
        % {"status": status, "reason": response.reason},
        code="client_error",
    )


def refusal(message: OutboundMessage) -> Outcome | None:
    """Why the message may not be sent any more (endpoint changed since it was queued)."""
    endpoint = message.endpoint
    if not endpoint.is_active:
        return Outcome(
            delivered=False,
            permanent=True,
            error=_("Le point de réception est désactivé."),
            code="endpoint_inactive",
        )
    if message.mode and message.mode not in endpoint.modes:
        return Outcome(
            delivered=False,
            permanent=True,
            error=_("Le partenaire n'accepte plus les messages de ce mode (%(mode)s).")
            % {"mode": message.mode},
            code="mode_refused",
        )
    try:
        check_endpoint_url(endpoint.url)
    except OutboundRefused as error:
        return Outcome(delivered=False, permanent=True, error=str(error), code=error.code)
    return None


def perform_attempt(message: OutboundMessage, now: datetime) -> Outcome:
    """Send the stored bytes once, signed now; never raises for network or policy reasons."""
    refused = refusal(message)
    if refused is not None:
        return refused
    endpoint = message.endpoint
    body = bytes(message.body)
    headers = signed_headers(
        secret=endpoint.secret,
        delivery_id=str(message.delivery_id),
        timestamp=int(now.timestamp()),
        body=body,
        content_type=message.content_type,
        kind=message.kind,
    )
    try:
        response = outbound_post(
            endpoint.url,
            body,
            headers,
            allowed_hosts=allowed_hosts(),
            allow_http_loopback=getattr(settings, "ORSEC_OUTBOUND_ALLOW_HTTP_LOOPBACK", False),
            timeout=float(getattr(settings, "ORSEC_OUTBOUND_TIMEOUT_SECONDS", 10)),
            max_response_bytes=int(getattr(settings, "ORSEC_OUTBOUND_MAX_RESPONSE_BYTES", 65536)),
        )
    except OutboundRefused as error:
        return Outcome(delivered=False, permanent=True, error=str(error), code=error.code)
    except OutboundUnreachable as error:
        return Outcome(delivered=False, error=str(error), code=error.code)
    return classify(response)


def outcome_summary(outcome: Outcome) -> dict[str, Any]:
    return {"delivered": outcome.delivered, "status": outcome.status, "code": outcome.code}
