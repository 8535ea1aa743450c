"""Test support: open a session as the login flow would, without going through its pages.

``Client.force_login()`` alone is not enough for :class:`SessionPolicyMiddleware`: a session must
carry a verified second factor (when one applies) and the login/activity stamps, or it is ended
on its first request (fail closed). Other apps' tests use :func:`log_in_verified`.
"""

from __future__ import annotations

from typing import Any

from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from orsec.accounts import sessions

__all__ = ["log_in_verified"]


def log_in_verified(client: Client, user: Any, *, verified: bool = True) -> Client:
    """Log ``client`` in as ``user`` with a verified TOTP device and a fresh session clock.

    A confirmed TOTP device is created for the user when none exists. ``verified=False`` gives
    the authenticated-but-unverified session that the middleware must refuse.
    """
    client.force_login(user)
    session = client.session
    if verified:
        device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
        if device is None:
            device = TOTPDevice.objects.create(user=user, name="Test", confirmed=True)
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    now = sessions.now_seconds()
    session[sessions.LOGIN_AT_KEY] = now
    session[sessions.SEEN_AT_KEY] = now
    session.save()
    return client
