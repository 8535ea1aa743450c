"""One mapping from rule errors (events, journal, location) to HTTP status and stable code.

* 409 Conflict: the state changed under the caller (already closed, already decided, a phase
  change another operator made first…);
* 422 Unprocessable: the content is refused (empty text, date out of bounds, bad geometry,
  refused attachment, missing final bilan or reason…);
* 400 otherwise.
"""

from __future__ import annotations

from orsec.events.actions import EventRuleError
from orsec.events.geo import LocationError
from orsec.journal.actions import JournalError
from orsec.journal.files import AttachmentError

#: The rule errors views and API endpoints catch (``except RuleError``).
RuleError: tuple[type[Exception], ...] = (
    EventRuleError,
    JournalError,
    LocationError,
    AttachmentError,
)

CONFLICT_CODES = frozenset(
    {
        "event_closed",
        "event_open",
        "invalid_phase_change",
        "already_shared",
        "already_decided",
        "already_pinned",
        "not_pinned",
    }
)


def error_code(error: Exception) -> str:
    if isinstance(error, LocationError):
        return "invalid_location"
    if isinstance(error, AttachmentError):
        return "attachment_refused"
    return str(getattr(error, "code", "") or "rule_error")


def error_status(error: Exception) -> int:
    code = error_code(error)
    if code in CONFLICT_CODES:
        return 409
    if isinstance(error, LocationError | AttachmentError | JournalError):
        return 422
    if code in ("final_summary_required", "reason_required", "invalid_gravity"):
        return 422
    return 400
