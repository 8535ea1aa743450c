"""Validate a message of any supported standard (auto-detection). Only CAP so far."""

from __future__ import annotations

from .cap.validate import validate_cap
from .errors import Verdict


def validate_message(data: bytes) -> Verdict:
    """Detect the standard of ``data`` and validate it in two steps (schema, then spec rules).

    Supported so far: CAP 1.2 and CAP 1.1 alerts. Anything else is reported as invalid with
    the code ``cap_not_an_alert``; hostile input is ``refused``.
    """
    return validate_cap(data)
