"""Token strings: generation, parsing, hashing and look-up (no writes except ``last_used_at``).

Format: ``orsec_<prefix>_<secret>`` — ``prefix`` is 8 lowercase hex characters, public, used to
find the row; ``secret`` is 256 random bits (43 URL-safe base64 characters). The database keeps
``sha256(token string)`` only: a 256-bit random secret needs no slow hash (nothing to brute
force), and a copy of the database gives no usable token. Comparison is constant-time.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db.models import Q
from django.utils import timezone

from orsec.partners.models import PREFIX_LENGTH, TOKEN_SCHEME, PartnerToken

SECRET_BYTES = 32
#: ``last_used_at`` moves forward at most this often (one write a minute, not one per request).
LAST_USED_RESOLUTION = timedelta(minutes=1)

_TOKEN_RE = re.compile(
    rf"^{TOKEN_SCHEME}_(?P<prefix>[0-9a-f]{{{PREFIX_LENGTH}}})_(?P<secret>[A-Za-z0-9_-]{{43}})$"
)


@dataclass(frozen=True)
class NewSecret:
    prefix: str
    plaintext: str
    digest: str


def hash_token(plaintext: str) -> str:
    return hashlib.sha256(plaintext.encode("ascii")).hexdigest()


def new_prefix() -> str:
    return secrets.token_hex(PREFIX_LENGTH // 2)


def new_secret(prefix: str) -> NewSecret:
    plaintext = f"{TOKEN_SCHEME}_{prefix}_{secrets.token_urlsafe(SECRET_BYTES)}"
    return NewSecret(prefix=prefix, plaintext=plaintext, digest=hash_token(plaintext))


def parse_prefix(plaintext: str) -> str | None:
    """The prefix of a well-formed token string, else ``None`` (never raises)."""
    match = _TOKEN_RE.match(plaintext)
    return match.group("prefix") if match else None


def find_usable_token(plaintext: str, *, now: Any = None) -> PartnerToken | None:
    """The active token matching ``plaintext`` (with its organisation, territory and user)."""
    prefix = parse_prefix(plaintext)
    if prefix is None:
        return None
    token = (
        PartnerToken.objects.select_related("organisation", "territory", "service_user")
        .defer("territory__boundary")
        .filter(prefix=prefix)
        .first()
    )
    if token is None:
        # Spend the same hashing work as a hit: no timing difference between the two cases.
        hmac.compare_digest(hash_token(plaintext), "0" * 64)
        return None
    if not hmac.compare_digest(hash_token(plaintext), token.secret_hash):
        return None
    now = now or timezone.now()
    if not token.is_usable(now):
        return None
    if not (token.service_user.is_active and token.organisation.is_active):
        return None
    touch_last_used(token, now)
    return token


def touch_last_used(token: PartnerToken, now: Any) -> None:
    """Move ``last_used_at`` forward, at most once per :data:`LAST_USED_RESOLUTION`."""
    if token.last_used_at is not None and now - token.last_used_at < LAST_USED_RESOLUTION:
        return
    threshold = now - LAST_USED_RESOLUTION
    PartnerToken.objects.filter(
        Q(last_used_at__isnull=True) | Q(last_used_at__lt=threshold), pk=token.pk
    ).update(last_used_at=now)
    token.last_used_at = now
