"""Population alert (FR-Alert) drafts: the CAP 1.2 message of an event, checked before use.

Reads only (no state change): the draft is a document the user downloads or hands to
``orsec.partners`` (the "Transmettre" button, which queues it through ``do_queue_outbound``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from orsec.events.models import Event
from orsec.interop.cap.serialize import population_alert_draft, serialize_cap
from orsec.interop.cap.validate import validate_cap


class InvalidDraft(Exception):
    """Our own output failed validation: a bug, never sent anywhere."""


def build_population_alert(
    event: Event, arguments: dict[str, Any], *, now: dt.datetime | None = None
) -> tuple[str, bytes]:
    """(CAP identifier, XML bytes) of the draft; the XML passed the XSD and the CAP rules."""
    draft = population_alert_draft(event, now=now, **arguments)
    data = serialize_cap(draft)
    verdict = validate_cap(data)
    if not verdict.is_valid:
        raise InvalidDraft("; ".join(f"{e.path}: {e.code}" for e in verdict.errors))
    return draft.identifier, data
