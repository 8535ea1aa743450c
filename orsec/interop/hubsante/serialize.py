"""Hub Santé answers, in the Hub's JSON EDXL-DE form: RC-REF acknowledgement and RS-ERROR.

* RC-REF: a ``reference`` use case (``distributionID`` of the acknowledged message) under an
  RC-DE header, ``distributionKind``/``kind`` ``Ack``;
* RS-ERROR: an ``error`` use case (``errorCode`` {statusCode, statusString}, ``errorCause``,
  ``referencedDistributionID``, ``sourceMessage`` when it was JSON), ``kind`` ``Error`` (the Hub
  carries ``error`` without an RC-DE header).

Both keep the original's status (an exercise is answered as an exercise), are addressed to the
original sender, use strict dates (no fraction, explicit offset), and validate against the
published schemas (tested).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.utils import timezone

from ..edxlde.serialize import (
    ANSWER_LIFETIME,
    DEFAULT_SENDER_ID,
    format_datetime,
    new_distribution_id,
)
from ..errors import InteropError, ValidationError
from ..secure import parse_json

MEDIA_TYPE = "application/json"


def _envelope(
    *,
    sender_id: str,
    recipient_id: str,
    scheme: str,
    status: str,
    kind: str,
    message: dict[str, Any],
    now: dt.datetime,
) -> dict[str, Any]:
    distribution_id = new_distribution_id(sender_id)
    return {
        "distributionID": distribution_id,
        "senderID": sender_id,
        "dateTimeSent": format_datetime(now),
        "dateTimeExpires": format_datetime(now + ANSWER_LIFETIME),
        "distributionStatus": status if status in ("Actual", "Exercise") else "Exercise",
        "distributionKind": kind,
        "descriptor": {
            "language": "fr-FR",
            "explicitAddress": {
                "explicitAddressScheme": scheme,
                "explicitAddressValue": recipient_id,
            },
        },
        "content": [{"jsonContent": {"embeddedJsonContent": {"message": message}}}],
    }


def build_reference(
    *,
    original_id: str,
    original_sender: str,
    status: str,
    sender_id: str,
    scheme: str = "hubex",
    now: dt.datetime | None = None,
) -> bytes:
    """RC-REF: the functional acknowledgement of ``original_id``."""
    now = now or timezone.now()
    status = status if status in ("Actual", "Exercise") else "Exercise"
    envelope = _envelope(
        sender_id=sender_id,
        recipient_id=original_sender or "inconnu",
        scheme=scheme,
        status=status,
        kind="Ack",
        message={},
        now=now,
    )
    envelope["content"][0]["jsonContent"]["embeddedJsonContent"]["message"] = {
        "messageId": envelope["distributionID"],
        "sender": {"name": sender_id, "URI": f"{scheme}:{sender_id}"},
        "sentAt": envelope["dateTimeSent"],
        "kind": "Ack",
        "status": status,
        "recipient": [{"name": original_sender or "inconnu", "URI": f"{scheme}:{original_sender}"}],
        "reference": {"distributionID": original_id},
    }
    return json.dumps(envelope, ensure_ascii=False).encode()


def build_error(
    *,
    original_id: str,
    original_sender: str,
    status: str,
    sender_id: str,
    errors: Sequence[ValidationError],
    cause: str,
    status_code: int = 400,
    source: Any = None,
    scheme: str = "hubex",
    now: dt.datetime | None = None,
) -> bytes:
    """RS-ERROR: why ``original_id`` was not accepted (each error with its path)."""
    now = now or timezone.now()
    detail = "\n".join(f"{e.path} [{e.code}] {e.message}" for e in errors)
    error: dict[str, Any] = {
        "errorCode": {"statusCode": status_code, "statusString": "INVALID_MESSAGE"},
        "errorCause": (cause + ("\n" + detail if detail else ""))[:4000],
        "referencedDistributionID": original_id or "inconnu",
    }
    if isinstance(source, dict):
        error["sourceMessage"] = source
    envelope = _envelope(
        sender_id=sender_id,
        recipient_id=original_sender or "inconnu",
        scheme=scheme,
        status=status,
        kind="Error",
        message={"error": error},
        now=now,
    )
    return json.dumps(envelope, ensure_ascii=False).encode()


def error_answer(data: bytes, errors: Sequence[ValidationError]) -> tuple[bytes, str] | None:
    """RS-ERROR answering a JSON Hub Santé message (None for the XML form: see EDXL-DE)."""
    try:
        document = parse_json(data)
    except InteropError:
        return None
    if not isinstance(document, dict):
        return None
    scheme = "hubex"
    descriptor = document.get("descriptor")
    if isinstance(descriptor, dict) and isinstance(descriptor.get("explicitAddress"), dict):
        scheme = str(descriptor["explicitAddress"].get("explicitAddressScheme") or scheme)
    body = build_error(
        original_id=str(document.get("distributionID") or ""),
        original_sender=str(document.get("senderID") or ""),
        status=str(document.get("distributionStatus") or "Actual"),
        sender_id=str(getattr(settings, "ORSEC_INTEROP_SENDER_ID", DEFAULT_SENDER_ID)),
        errors=errors,
        cause="Message non conforme",
        scheme=scheme,
    )
    return body, MEDIA_TYPE
