"""Client address as seen through the documented reverse proxy."""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str | None:
    """The client's IP: ``REMOTE_ADDR``, or the address appended by the trusted proxies.

    ``ORSEC_TRUSTED_PROXIES`` counts the reverse proxies in front of the application; only the
    addresses they appended to ``X-Forwarded-For`` are believed, never what the client wrote.
    """
    candidate = request.META.get("REMOTE_ADDR", "")
    hops = getattr(settings, "ORSEC_TRUSTED_PROXIES", 0)
    if hops:
        forwarded = [
            part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
        ]
        forwarded = [part for part in forwarded if part]
        if len(forwarded) >= hops:
            candidate = forwarded[-hops]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return None
