"""Importing a message of any supported standard: one entry point for the API, the partner inbox
and the command line (``orsec interop import``).

:func:`import_message` validates the message in two steps (:func:`orsec.interop.validate.
validate_message`), then hands it to the importer of the detected standard. An importer turns
the message into rows of the core loop through their actions (events, journal entries, field
reports) and returns an :class:`ImportOutcome`. Importers are listed in :data:`IMPORTERS` by
dotted path (one line per standard) so that this module imports none of them up front.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from .errors import InvalidMessage, Verdict
from .validate import validate_message


@dataclass(frozen=True)
class ImportContext:
    """Who imports, on whose behalf, into what.

    ``actor`` is the authenticated user (a partner token's service user, or a person at the
    command line); ``organisation`` the sending organisation (the partner's); ``event`` the
    target event when the caller names one (``--event`` or the API's ``event`` parameter);
    ``channel`` the journal channel (``partner`` for the inbox, ``interop`` for the command
    line…).
    """

    actor: Any
    organisation: Any = None
    event: Any = None
    channel: str = "system"


@dataclass
class ImportOutcome:
    """What an import wrote (ids), and whether it was a replay of a message already imported."""

    standard: str
    summary: str
    event_id: int | None = None
    entry_ids: list[int] = field(default_factory=list)
    report_ids: list[int] = field(default_factory=list)
    replay: bool = False
    #: the standard's own acknowledgement to answer with (bytes and content type), if any
    response: bytes = b""
    response_type: str = ""
    #: the :class:`~orsec.interop.models.InboundMessage` kept for it, when already written
    inbound_id: int | None = None


Importer = Callable[[bytes, ImportContext], ImportOutcome]

#: Standard name (``Verdict.standard``) → dotted path of its importer.
IMPORTERS: dict[str, str] = {
    "EDXL-DE 2.0": "orsec.interop.edxlde.importer.import_edxlde",
    "EDXL-DE 1.0": "orsec.interop.edxlde.importer.import_edxlde",
    "Hub Santé": "orsec.interop.hubsante.importer.import_hubsante",
    "EMSI": "orsec.interop.emsi.importer.import_emsi",
    # CAP alerts: the MeteoAlarm profile goes to the vigilances (alerts, a higher layer), any
    # other alert to the plain CAP importer of interop (orsec.interop.cap.importer).
    "CAP 1.2": "orsec.alerts.importer.import_cap",
    "CAP 1.1": "orsec.alerts.importer.import_cap",
}


class NotImportable(InvalidMessage):
    """Valid message of a standard that has no importer (or not for this kind of message)."""


def importer_for(standard: str) -> Importer:
    path = IMPORTERS.get(standard)
    if path is None:
        raise NotImportable(
            "not_importable",
            _("Les messages « %(standard)s » peuvent être validés mais pas importés.")
            % {"standard": standard},
        )
    importer: Importer = import_string(path)
    return importer


def import_message(data: bytes, context: ImportContext) -> tuple[Verdict, ImportOutcome | None]:
    """Validate ``data`` and, when valid, import it. Returns the verdict and the outcome
    (``None`` when the message is invalid or refused: nothing was written)."""
    verdict = validate_message(data)
    if not verdict.is_valid:
        return verdict, None
    return verdict, importer_for(verdict.standard)(data, context)
