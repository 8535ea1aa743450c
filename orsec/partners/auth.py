"""Partner-token authentication of API requests (``Authorization: Bearer orsec_…``).

:class:`PartnerTokenAuth` is one of ``config.api.API_AUTH``. A request whose ``Authorization``
header is absent, or not a Bearer one, is not its business (``None``: the next authenticator, or
401 ``not_authenticated``). A Bearer credential that is malformed, unknown, revoked or expired
gets 401 ``invalid_token`` with ``WWW-Authenticate: Bearer error="invalid_token"``. A valid one
authenticates the token's service account, whose territorial scope is narrowed to the token's
territory for the request, and sets ``request.auth_verbs`` (checked by
``orsec.core.api.require_verb``) and ``request.partner_token``.

A token is not an ambient credential (a browser never sends it by itself): no CSRF check.
The header value is never logged (S29).
"""

from __future__ import annotations

from typing import Any, cast

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja.security import HttpBearer

from orsec.core.api import ApiError
from orsec.partners.access import install_token_scope
from orsec.partners.models import PartnerToken
from orsec.partners.tokens import find_usable_token

_CACHE_ATTR = "_orsec_bearer_token"
_INVALID = object()
MAX_HEADER_LENGTH = 200


def bearer_credential(request: HttpRequest) -> str | None:
    """The Bearer credential of the request, or ``None`` when it carries none."""
    value = request.headers.get("Authorization", "")
    scheme, _sep, credential = value.partition(" ")
    if scheme.lower() != "bearer":
        return None
    return credential.strip()


def token_of_request(request: HttpRequest) -> PartnerToken | None:
    """The valid token the request carries (memoised); ``None`` if it carries no Bearer one.

    Raises 401 ``invalid_token`` for a Bearer credential that is not a valid token.
    """
    cached = getattr(request, _CACHE_ATTR, None)
    if cached is None:
        credential = bearer_credential(request)
        if credential is None:
            return None
        token = find_usable_token(credential) if len(credential) <= MAX_HEADER_LENGTH else None
        cached = token if token is not None else _INVALID
        setattr(request, _CACHE_ATTR, cached)
    if cached is _INVALID:
        raise invalid_token()
    return cast(PartnerToken, cached)


def invalid_token() -> ApiError:
    return ApiError(
        401,
        "invalid_token",
        _("Jeton d'API inconnu, expiré ou révoqué."),
        headers={"WWW-Authenticate": 'Bearer realm="Portail ORSEC", error="invalid_token"'},
    )


def authenticate_token(request: HttpRequest) -> Any:
    """The service user of the request's valid token, with the request marked accordingly."""
    token = token_of_request(request)
    if token is None:
        return None
    user = install_token_scope(token)
    user.is_verified = _not_verified  # no second factor behind a token
    request.auth_verbs = frozenset(token.verbs)  # type: ignore[attr-defined]
    request.partner_token = token  # type: ignore[attr-defined]
    return user


def _not_verified() -> bool:
    return False


class PartnerTokenAuth(HttpBearer):
    """``Authorization: Bearer orsec_<prefix>_<secret>`` — see the module docstring."""

    def __call__(self, request: HttpRequest) -> Any:
        # HttpBearer.__call__ would log a foreign header value under DEBUG: never a credential.
        return authenticate_token(request)

    def authenticate(self, request: HttpRequest, token: str) -> Any:  # pragma: no cover
        return authenticate_token(request)
