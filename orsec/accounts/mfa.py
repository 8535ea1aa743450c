"""Second factor: who needs one, the user's devices, recovery codes, enrolment material.

Read-only helpers; every write is in :mod:`orsec.accounts.actions`.

Recovery codes are ten random codes of ten characters (about 49 bits each), shown once. They
are stored in django-otp's ``StaticToken`` table as a keyed hash (HMAC-SHA256 with
``SECRET_KEY``, truncated to 64 bits), never in clear: a copy of the database does not give
them away. A consequence: rotating ``SECRET_KEY`` voids the recovery codes (documented).
"""

from __future__ import annotations

import base64
import secrets
from typing import Any

import segno
from django.conf import settings
from django.utils.crypto import salted_hmac
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from orsec.accounts.models import READ_ONLY_ROLES

RECOVERY_CODE_COUNT = 10
RECOVERY_CODE_LENGTH = 10
# No 0/o, 1/l/i: codes are read from paper.
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
_RECOVERY_SALT = "orsec.accounts.mfa.recovery_code"
TOTP_DEVICE_NAME = "Application d'authentification"
RECOVERY_DEVICE_NAME = "Codes de secours"


def mfa_required(user: Any) -> bool:
    """True when the user must present a second factor (S13).

    Always for staff and superusers and for any active membership whose role writes; for
    read-only accounts only when ``ORSEC_MFA_REQUIRED`` is on (the default).
    """
    if settings.ORSEC_MFA_REQUIRED or user.is_staff or user.is_superuser:
        return True
    return bool(user.memberships.filter(is_active=True).exclude(role__in=READ_ONLY_ROLES).exists())


def confirmed_totp_device(user: Any) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()


def recovery_device(user: Any) -> StaticDevice | None:
    return StaticDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()


def remaining_recovery_codes(user: Any) -> int:
    device = recovery_device(user)
    return device.token_set.count() if device is not None else 0


def new_recovery_codes() -> list[str]:
    return [
        "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(RECOVERY_CODE_LENGTH))
        for _ in range(RECOVERY_CODE_COUNT)
    ]


def normalise_recovery_code(value: str) -> str:
    """What the user typed, without spaces or dashes, lower case."""
    return "".join(ch for ch in value.lower() if ch.isalnum())


def recovery_code_digest(code: str) -> str:
    """The form stored in ``StaticToken.token`` (16 hexadecimal characters)."""
    return salted_hmac(
        _RECOVERY_SALT, normalise_recovery_code(code), algorithm="sha256"
    ).hexdigest()[:16]


def format_recovery_code(code: str) -> str:
    half = len(code) // 2
    return f"{code[:half]}-{code[half:]}"


def new_totp_key() -> str:
    """A 160-bit secret, hex-encoded as django-otp stores it."""
    return secrets.token_hex(20)


def base32_secret(key_hex: str) -> str:
    """The secret as authenticator apps expect it, in groups of four for reading aloud."""
    raw = base64.b32encode(bytes.fromhex(key_hex)).decode("ascii").rstrip("=")
    return " ".join(raw[i : i + 4] for i in range(0, len(raw), 4))


def provisioning_uri(user: Any, key_hex: str) -> str:
    """The ``otpauth://`` URI of a (not yet saved) TOTP device with this key."""
    return TOTPDevice(user=user, key=key_hex, name=TOTP_DEVICE_NAME).config_url


def qr_code_data_uri(uri: str) -> str:
    """An SVG QR code as a ``data:`` URI (allowed by ``img-src data:``; no script, no file)."""
    return str(segno.make(uri, error="m").svg_data_uri(scale=5, border=4))


def verify_candidate_totp(key_hex: str, code: str, *, at: float) -> int | None:
    """Check a code against a key not yet saved; return the matched time step or None.

    Same tolerance as django-otp's devices (one step either side); the matched step becomes the
    device's ``last_t`` so the enrolment code cannot be replayed.
    """
    try:
        token = int(code)
    except ValueError:
        return None
    totp = TOTP(bytes.fromhex(key_hex), step=30, t0=0, digits=6, drift=0)
    totp.time = at
    if totp.verify(token, tolerance=1):
        return int(totp.t())
    return None
