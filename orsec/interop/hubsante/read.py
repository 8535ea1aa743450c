"""Typed reading of validated Hub Santé messages: the RC-DE header and an RC-EDA createCase.

The same objects come out of the JSON and the XML form (the XML form is first read into the JSON
form, see :func:`orsec.interop.hubsante.validate.message_from_xml`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

#: RC-DE ``status`` / EDXL-DE ``distributionStatus`` ↔ event mode.
STATUS_TO_MODE = {"Actual": "real", "Exercise": "exercise", "System": "test", "Test": "test"}
#: Hub Santé RC-DE knows no "Test" status (enum Actual, Exercise, System): test → System
MODE_TO_STATUS = {"real": "Actual", "exercise": "Exercise", "test": "System"}

#: CISU ``whatsHappen`` code family → event type of the portal.
_EVENT_TYPES = {
    "C01": "transport_accident",
    "C04": "urban_fire",
    "C05": "forest_fire",
    "C07": "hazmat",
    "C08": "network_power",
}


@dataclass(frozen=True)
class Header:
    message_id: str
    sender_uri: str
    sent_at: str
    kind: str
    status: str
    recipients: tuple[str, ...] = ()


@dataclass(frozen=True)
class CreateCase:
    case_id: str
    sender_case_id: str
    creation: str
    what_code: str
    what_label: str
    location_kind: str
    risks: tuple[str, ...] = ()
    victims: str = ""
    address: str = ""
    city: str = ""
    insee_code: str = ""
    lat: float | None = None
    lon: float | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def event_type(self) -> str:
        return _EVENT_TYPES.get(self.what_code[:3], "other")


def _get(value: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


def _text(value: Any) -> str:
    return str(value).strip() if isinstance(value, str | int | float) else ""


def read_header(message: dict[str, Any]) -> Header:
    return Header(
        message_id=_text(message.get("messageId")),
        sender_uri=_text(_get(message, "sender", "URI")),
        sent_at=_text(message.get("sentAt")),
        kind=_text(message.get("kind")),
        status=_text(message.get("status")),
        recipients=tuple(
            _text(_get(r, "URI")) for r in message.get("recipient") or [] if isinstance(r, dict)
        ),
    )


def read_create_case(case: dict[str, Any]) -> CreateCase:
    qualification = case.get("qualification") or {}
    location = case.get("location") or {}
    coord = _get(location, "geometry", "point", "coord") or {}
    lat, lon = coord.get("lat"), coord.get("lon")
    notes = []
    for note in _get(case, "initialAlert", "notes") or []:
        if isinstance(note, dict) and _text(note.get("freetext")):
            notes.append(_text(note.get("freetext")))
    return CreateCase(
        case_id=_text(case.get("caseId")),
        sender_case_id=_text(case.get("senderCaseId")),
        creation=_text(case.get("creation")),
        what_code=_text(_get(qualification, "whatsHappen", "code")),
        what_label=_text(_get(qualification, "whatsHappen", "label")),
        location_kind=_text(_get(qualification, "locationKind", "label")),
        risks=tuple(
            _text(r.get("label")) or _text(r.get("code"))
            for r in qualification.get("riskThreat") or []
            if isinstance(r, dict)
        ),
        victims=_text(_get(qualification, "victims", "count")),
        address=_text(_get(location, "detailedAddress", "complete")),
        city=_text(_get(location, "city", "name")),
        insee_code=_text(_get(location, "city", "inseeCode")),
        lat=float(lat) if isinstance(lat, int | float) else None,
        lon=float(lon) if isinstance(lon, int | float) else None,
        notes=tuple(notes),
    )
