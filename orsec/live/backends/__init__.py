"""Wake-up backends of the live streams (pluggable, chosen by ``ORSEC_LIVE_BACKEND``)."""

from __future__ import annotations

from django.conf import settings
from django.utils.module_loading import import_string

from orsec.live.backends.base import WakeupBackend

BACKENDS = {
    "polling": "orsec.live.backends.polling.PollingBackend",
    "redis": "orsec.live.backends.redis.RedisBackend",
}

_backend: WakeupBackend | None = None


def get_backend() -> WakeupBackend:
    """The process's backend, built once from the settings."""
    global _backend
    if _backend is None:
        name = str(settings.ORSEC_LIVE_BACKEND)
        backend_class = import_string(BACKENDS[name])
        _backend = backend_class(**settings.ORSEC_LIVE_OPTIONS)
    return _backend


def reset_backend() -> None:
    """Forget the process's backend (tests that change the settings)."""
    global _backend
    _backend = None
