"""The partner inbox, HTTP side (``POST /api/v1/interop/inbox``).

:func:`receive` checks what HTTP can check before reading the message (size: 413; content type:
415) and hands the bytes to :func:`orsec.interop.actions.do_receive_message`, the one writer
(validation, import, kept message, audit, live message). The answer is the standard's own:
EDXL-DE ``Ack``/``Error`` envelope, Hub Santé RC-REF/RS-ERROR, a JSON verdict for CAP and EMSI;
the HTTP status is 200 (accepted or replay), 400 (refused for security: audited, nothing else
written), 413 (too large), 415 (unknown format), 422 (invalid or not acceptable: kept, audited).
"""

from __future__ import annotations

import json

from django.http import HttpResponse
from django.utils.translation import gettext as _

from .actions import do_receive_message
from .importing import ImportContext

MAX_INBOX_BYTES = 2 * 1024 * 1024
ACCEPTED_TYPES = frozenset(
    {
        "application/xml",
        "text/xml",
        "application/json",
        "application/cap+xml",
        "application/edxl-de+xml",
        "application/octet-stream",
        "",
    }
)


def _problem(status: int, code: str, message: str) -> HttpResponse:
    return HttpResponse(
        json.dumps({"code": code, "message": message}, ensure_ascii=False),
        status=status,
        content_type="application/json; charset=utf-8",
    )


def too_large() -> HttpResponse:
    return _problem(
        413,
        "payload_too_large",
        _("Message trop volumineux (%(max)s octets au plus).") % {"max": MAX_INBOX_BYTES},
    )


def receive(data: bytes, content_type: str, context: ImportContext) -> HttpResponse:
    """Answer one message posted to the inbox (see the module docstring)."""
    media = content_type.split(";", 1)[0].strip().lower()
    if len(data) > MAX_INBOX_BYTES:
        return too_large()
    if media not in ACCEPTED_TYPES:
        return _problem(
            415,
            "unsupported_media_type",
            _(
                "Type de contenu « %(type)s » non pris en charge : XML (EDXL-DE, CAP, Hub Santé, "
                "EMSI) ou JSON (Hub Santé, EMSI)."
            )
            % {"type": media[:100]},
        )
    reception = do_receive_message(data, context, content_type=media)
    return HttpResponse(
        reception.body, status=reception.status, content_type=reception.content_type
    )
