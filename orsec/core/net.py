"""Network edges: the client address behind the reverse proxy, and outbound HTTP (S27)."""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpRequest
from django.utils.translation import gettext as _


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


# --- Outbound HTTP to allow-listed hosts only (S27) ---------------------------------------------
#
# The one way the portal calls another system: the host must be allow-listed, every address it
# resolves to is checked (private, loopback, link-local… refused unless that address or its
# network is listed too), and the connection goes to the address that was checked (no second
# resolution that DNS rebinding could change). No redirect is followed, reads time out and the
# response is capped. Messages are French and name no secret.


class OutboundRefused(Exception):
    """The request may not be made at all (configuration or policy); never retried."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.code = code


class OutboundUnreachable(Exception):
    """Connection refused or reset, DNS failure, timeout: worth retrying later."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class OutboundTarget:
    scheme: str
    host: str
    port: int
    path: str


@dataclass(frozen=True)
class OutboundResponse:
    status: int
    reason: str
    location: str
    body: bytes
    truncated: bool
    #: the response headers the caller asked for (``keep_headers``), lower-cased names
    headers: dict[str, str] = field(default_factory=dict)


def _normalise_host(host: str) -> str:
    return host.strip().lower().rstrip(".")


def _ip_or_none(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(value.strip("[]"))
    except ValueError:
        return None


def host_allowed(host: str, patterns: Iterable[str]) -> bool:
    """``host`` is listed: exact name or address, ``*.domain`` for its sub-domains, or a network."""
    host = _normalise_host(host)
    address = _ip_or_none(host)
    for raw in patterns:
        pattern = _normalise_host(raw)
        if not pattern:
            continue
        if address is not None and "/" in pattern:
            try:
                if address in ipaddress.ip_network(pattern, strict=False):
                    return True
            except ValueError:
                continue
        elif pattern.startswith("*."):
            if host.endswith(pattern[1:]) and len(host) > len(pattern) - 1:
                return True
        elif address is not None and (listed := _ip_or_none(pattern)) is not None:
            if listed == address:
                return True
        elif host == pattern:
            return True
    return False


def _address_explicitly_allowed(address: Any, patterns: Iterable[str]) -> bool:
    for raw in patterns:
        pattern = _normalise_host(raw)
        try:
            if "/" in pattern and address in ipaddress.ip_network(pattern, strict=False):
                return True
        except ValueError:
            continue
        if (listed := _ip_or_none(pattern)) is not None and listed == address:
            return True
    return False


def check_outbound_url(
    url: str, *, allowed_hosts: Iterable[str], allow_http_loopback: bool = False
) -> OutboundTarget:
    """The parsed target, or :class:`OutboundRefused` (https, allow-listed host, no userinfo)."""
    allowed = list(allowed_hosts)
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as error:
        raise OutboundRefused(
            _("Adresse invalide : %(error)s.") % {"error": error}, "bad_url"
        ) from error
    host = _normalise_host(parts.hostname or "")
    if not host:
        raise OutboundRefused(_("L'adresse ne contient pas de nom d'hôte."), "bad_url")
    if parts.username is not None or parts.password is not None:
        raise OutboundRefused(
            _("L'adresse ne doit pas contenir d'identifiants (utilisateur:mot de passe@)."),
            "bad_url",
        )
    if parts.scheme == "http":
        address = _ip_or_none(host)
        if not (allow_http_loopback and address is not None and address.is_loopback):
            raise OutboundRefused(
                _("Seules les adresses https:// sont acceptées pour les partenaires."),
                "https_required",
            )
    elif parts.scheme != "https":
        raise OutboundRefused(_("Seules les adresses https:// sont acceptées."), "https_required")
    if not host_allowed(host, allowed):
        raise OutboundRefused(
            _(
                "L'hôte « %(host)s » n'est pas dans la liste des partenaires autorisés "
                "(ORSEC_OUTBOUND_ALLOWED_HOSTS)."
            )
            % {"host": host},
            "host_not_allowed",
        )
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return OutboundTarget(
        scheme=parts.scheme,
        host=host,
        port=port or (443 if parts.scheme == "https" else 80),
        path=path,
    )


def resolve_outbound(target: OutboundTarget, *, allowed_hosts: Iterable[str]) -> str:
    """The address to connect to; every address of the name must be public or listed explicitly."""
    allowed = list(allowed_hosts)
    try:
        infos = socket.getaddrinfo(target.host, target.port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as error:
        raise OutboundUnreachable(
            _("Nom d'hôte introuvable : %(host)s.") % {"host": target.host}, "dns_failure"
        ) from error
    addresses = []
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%")[0])
        if not address.is_global and not _address_explicitly_allowed(address, allowed):
            raise OutboundRefused(
                _(
                    "L'hôte « %(host)s » désigne une adresse interne (%(address)s) qui n'est pas "
                    "autorisée explicitement."
                )
                % {"host": target.host, "address": address},
                "private_address",
            )
        addresses.append(str(address))
    if not addresses:
        raise OutboundUnreachable(
            _("Nom d'hôte introuvable : %(host)s.") % {"host": target.host}, "dns_failure"
        )
    return addresses[0]


def outbound_post(
    url: str,
    body: bytes,
    headers: dict[str, str],
    *,
    allowed_hosts: Iterable[str],
    allow_http_loopback: bool = False,
    timeout: float = 10.0,
    max_response_bytes: int = 64 * 1024,
) -> OutboundResponse:
    """POST ``body`` to ``url`` under the rules above; a 3xx is returned, never followed."""
    return outbound_request(
        "POST",
        url,
        body,
        headers,
        allowed_hosts=allowed_hosts,
        allow_http_loopback=allow_http_loopback,
        timeout=timeout,
        max_response_bytes=max_response_bytes,
    )


def outbound_get(
    url: str,
    headers: dict[str, str],
    *,
    allowed_hosts: Iterable[str],
    allow_http_loopback: bool = False,
    timeout: float = 10.0,
    max_response_bytes: int = 64 * 1024,
    keep_headers: Iterable[str] = (),
) -> OutboundResponse:
    """GET ``url`` under the rules above (feeds); a 3xx is returned, never followed.

    ``truncated`` tells that the body went over ``max_response_bytes`` (only that many bytes
    plus one are ever read); ``keep_headers`` names the response headers to return.
    """
    return outbound_request(
        "GET",
        url,
        None,
        headers,
        allowed_hosts=allowed_hosts,
        allow_http_loopback=allow_http_loopback,
        timeout=timeout,
        max_response_bytes=max_response_bytes,
        keep_headers=keep_headers,
    )


def outbound_request(
    method: str,
    url: str,
    body: bytes | None,
    headers: dict[str, str],
    *,
    allowed_hosts: Iterable[str],
    allow_http_loopback: bool = False,
    timeout: float = 10.0,
    max_response_bytes: int = 64 * 1024,
    keep_headers: Iterable[str] = (),
) -> OutboundResponse:
    """One request under the rules above; a 3xx is returned, never followed."""
    allowed = list(allowed_hosts)
    target = check_outbound_url(url, allowed_hosts=allowed, allow_http_loopback=allow_http_loopback)
    address = resolve_outbound(target, allowed_hosts=allowed)
    connection: http.client.HTTPConnection
    try:
        sock = socket.create_connection((address, target.port), timeout=timeout)
        if target.scheme == "https":
            context = ssl.create_default_context()
            sock = context.wrap_socket(sock, server_hostname=target.host)
            connection = http.client.HTTPSConnection(target.host, target.port, timeout=timeout)
        else:
            connection = http.client.HTTPConnection(target.host, target.port, timeout=timeout)
        connection.sock = sock  # connected to the checked address, not resolved again
        try:
            connection.request(method, target.path, body=body, headers=headers)
            response = connection.getresponse()
            data = response.read(max_response_bytes + 1)
            return OutboundResponse(
                status=response.status,
                reason=(response.reason or "")[:100],
                location=(response.getheader("Location") or "")[:300],
                body=data[:max_response_bytes],
                truncated=len(data) > max_response_bytes,
                headers={
                    name.lower(): (response.getheader(name) or "")[:300]
                    for name in keep_headers
                    if response.getheader(name) is not None
                },
            )
        finally:
            connection.close()
    except TimeoutError as error:
        raise OutboundUnreachable(
            _("Délai dépassé (%(seconds)s s) en attendant %(host)s.")
            % {"seconds": timeout, "host": target.host},
            "timeout",
        ) from error
    except ssl.SSLError as error:
        raise OutboundUnreachable(
            _("Échec TLS avec %(host)s : %(reason)s.")
            % {"host": target.host, "reason": getattr(error, "reason", None) or "erreur"},
            "tls_error",
        ) from error
    except (OSError, http.client.HTTPException) as error:
        raise OutboundUnreachable(
            _("Connexion impossible à %(host)s : %(reason)s.")
            % {"host": target.host, "reason": type(error).__name__},
            "connection_error",
        ) from error
