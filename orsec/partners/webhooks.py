"""Signing and shaping of outbound messages (``docs/outbound.md``).

Every message, JSON webhook or raw standard message (CAP, EDXL-DE, EMSI), is sent with:

* ``X-Orsec-Delivery-Id``: the message's UUID, the same on every attempt (idempotency);
* ``X-Orsec-Timestamp``: the attempt's time in Unix seconds;
* ``X-Orsec-Signature``: ``sha256=`` + hex HMAC-SHA256 of ``<timestamp>.<body bytes>`` under the
  endpoint's secret (the construction partner engineers re-compute, documented with a script).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from datetime import datetime
from typing import Any

SIGNATURE_SCHEME = "sha256"
SECRET_PREFIX = "whsec_"  # noqa: S105  # nosec B105
WEBHOOK_CONTENT_TYPE = "application/json"
USER_AGENT = "PortailORSEC-Webhook/1"


def new_endpoint_secret() -> str:
    """256 random bits, URL-safe; shown once to the administrator who creates the endpoint."""
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """``sha256=<hex HMAC-SHA256(secret, "<timestamp>." + body)>``."""
    message = str(int(timestamp)).encode("ascii") + b"." + body
    digest = hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()
    return f"{SIGNATURE_SCHEME}={digest}"


def signed_headers(
    *, secret: str, delivery_id: str, timestamp: int, body: bytes, content_type: str, kind: str
) -> dict[str, str]:
    return {
        "Content-Type": content_type,
        "User-Agent": USER_AGENT,
        "X-Orsec-Delivery-Id": delivery_id,
        "X-Orsec-Kind": kind,
        "X-Orsec-Timestamp": str(int(timestamp)),
        "X-Orsec-Signature": signature(secret, timestamp, body),
    }


def minimal_event(event: Any) -> dict[str, Any] | None:
    """What a partner needs to file a message under the right event: ids and labels only."""
    if event is None:
        return None
    return {
        "id": event.pk,
        "title": event.title,
        "mode": event.mode,
        "type": event.event_type,
        "phase": event.phase,
        "gravity": event.gravity,
        "territory": event.territory_path,
    }


def webhook_body(
    *, delivery_id: str, kind: str, created_at: datetime, event: Any, data: dict[str, Any]
) -> bytes:
    """``{"id", "kind", "created_at", "event", "data"}``, compact UTF-8 JSON: the signed bytes."""
    document = {
        "id": delivery_id,
        "kind": kind,
        "created_at": created_at.isoformat(),
        "event": minimal_event(event),
        "data": data,
    }
    return json.dumps(document, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode(
        "utf-8"
    )


def journal_entry_data(entry: Any, *, delivery_pk: int | None = None) -> dict[str, Any]:
    """The ``data`` of a ``journal.entry`` webhook: the entry as disseminated to the partner."""
    return {
        "entry": {
            "id": entry.pk,
            "seq": entry.seq,
            "kind": entry.kind,
            "text": entry.text,
            "occurred_at": entry.occurred_at.isoformat(),
            "recorded_at": entry.recorded_at.isoformat(),
            "author": entry.author_label,
            "organisation": entry.organisation_label,
            "qualification": entry.qualification,
            "confidentiality": entry.confidentiality,
            "hash": entry.hash,
        },
        "delivery": delivery_pk,
    }
