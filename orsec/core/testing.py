"""Helpers for tests of any domain."""

from __future__ import annotations

import re
from typing import Any

_VOLATILE = [
    (
        re.compile(r'name="csrfmiddlewaretoken" value="[^"]+"'),
        'name="csrfmiddlewaretoken" value=""',
    ),
    (re.compile(r'nonce="[^"]+"'), 'nonce=""'),
]


def comparable_body(response: Any) -> str:
    """The body with per-response tokens (CSRF, CSP nonce) blanked, to compare two answers."""
    body = response.content.decode()
    for pattern, replacement in _VOLATILE:
        body = pattern.sub(replacement, body)
    return body
