"""What every domain's API router shares: the error type, the caller, verbs, cursor pages.

Routers live in their domain (``orsec/<domain>/api.py``) and are mounted by ``config/api.py``.
They raise :class:`ApiError` for a precise, stable error code with a French message, read the
caller with :func:`principal`, and call :func:`require_verb` before any operation so that a
partner token only does what its scope allows (a portal session holds every verb; its rights
come from the domain's abilities, checked next).
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja.errors import HttpError


class ApiError(HttpError):
    """An API error with its own stable code and French message."""

    def __init__(
        self, status_code: int, code: str, message: str, *, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(status_code, message)
        self.code = code
        self.headers = dict(headers or {})  # e.g. WWW-Authenticate on a 401


#: Verbs a partner token may hold (``docs/api.md``). Sessions hold them all.
VERBS: dict[str, str] = {
    "events:read": "Lire les événements et leurs chiffres clés",
    "events:write": "Ouvrir et faire évoluer des événements",
    "journal:read": "Lire la main courante",
    "journal:write": "Écrire dans la main courante",
    "reports:read": "Lire les remontées d'information",
    "reports:write": "Déposer des remontées d'information",
    "reports:qualify": "Qualifier des remontées",
    "deliveries:read": "Lire les diffusions reçues",
    "deliveries:ack": "Accuser réception et prendre en compte",
    "directory:read": "Lire l'annuaire",
    "interop:submit": "Déposer des messages normalisés (EDXL-DE, Hub Santé, CAP, EMSI) "
    "dans la boîte de réception des partenaires",
}


def principal(request: HttpRequest) -> Any:
    """The user the request acts for (a portal user, or a partner token's service account)."""
    return getattr(request, "auth", None)


def require_verb(request: HttpRequest, verb: str) -> None:
    """403 ``scope_denied`` unless the caller's credential carries ``verb``.

    ``request.auth_verbs`` is set by the partner-token authenticator; ``None`` (a portal
    session) means every verb.
    """
    verbs = getattr(request, "auth_verbs", None)
    if verbs is not None and verb not in verbs:
        raise ApiError(
            403,
            "scope_denied",
            _("Ce jeton ne donne pas le droit « %(verb)s ».") % {"verb": verb},
        )


def encode_cursor(value: int) -> str:
    return base64.urlsafe_b64encode(str(value).encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> int | None:
    """The position a cursor stands for; 400 ``invalid_cursor`` for a forged one."""
    if not cursor:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        value = int(raw)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise ApiError(400, "invalid_cursor", _("Curseur de pagination invalide.")) from None
    if value < 0 or value > 2**62:
        raise ApiError(400, "invalid_cursor", _("Curseur de pagination invalide."))
    return value


def cursor_page(
    queryset: Any, cursor: str | None, limit: int, *, descending: bool = True
) -> tuple[list[Any], str | None]:
    """One page of ``queryset`` keyed on ``pk`` and the cursor of the next page (or ``None``).

    Stable under concurrent inserts: a page never repeats or skips a row.
    """
    position = decode_cursor(cursor)
    if position is not None:
        queryset = (
            queryset.filter(pk__lt=position) if descending else queryset.filter(pk__gt=position)
        )
    rows = list(queryset.order_by("-pk" if descending else "pk")[: limit + 1])
    next_cursor = encode_cursor(rows[limit - 1].pk) if len(rows) > limit else None
    return rows[:limit], next_cursor
