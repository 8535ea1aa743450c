"""Secure parsing of CAP alerts and version detection."""

from __future__ import annotations

import copy
import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _

from ..errors import InvalidMessage
from ..secure import DEFAULT_MAX_BYTES, DEFAULT_MAX_DEPTH, parse_xml
from ..xmlpaths import local_name, namespace_of

CAP_12 = "urn:oasis:names:tc:emergency:cap:1.2"
CAP_11 = "urn:oasis:names:tc:emergency:cap:1.1"
CAP_NAMESPACES = {CAP_12: "1.2", CAP_11: "1.1"}
XMLDSIG = "http://www.w3.org/2000/09/xmldsig#"


@dataclass(frozen=True)
class CapDocument:
    """A parsed CAP alert: its root element and its version ("1.2" or "1.1")."""

    root: Any
    version: str

    @property
    def namespace(self) -> str:
        return CAP_12 if self.version == "1.2" else CAP_11


def parse_cap(
    data: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES, max_depth: int = DEFAULT_MAX_DEPTH
) -> CapDocument:
    """Parse ``data`` securely; raise ``InvalidMessage`` if it is not a CAP 1.2/1.1 alert."""
    root = parse_xml(data, max_bytes=max_bytes, max_depth=max_depth)
    namespace = namespace_of(root.tag)
    if local_name(root.tag) != "alert" or namespace not in CAP_NAMESPACES:
        raise InvalidMessage(
            "cap_not_an_alert",
            _(
                "Ce n'est pas une alerte CAP 1.2 ou 1.1 : élément racine « %(tag)s » "
                "(espace de noms « %(ns)s »)."
            )
            % {"tag": local_name(root.tag)[:100], "ns": namespace[:200]},
            "/" + local_name(root.tag)[:100],
        )
    return CapDocument(root=root, version=CAP_NAMESPACES[namespace])


def without_signature(root: Any) -> Any:
    """A copy of ``root`` without its enveloped XML-DSig signatures (direct children).

    CAP 1.1 allows an enveloped signature but its XSD has no slot for it; the signature is
    not verified here (not yet), only set aside for schema validation.
    """
    stripped = copy.deepcopy(root)
    for child in list(stripped):
        if isinstance(child.tag, str) and namespace_of(child.tag) == XMLDSIG:
            stripped.remove(child)
    return stripped


# --- Typed reading of a validated alert ---------------------------------------------------------


@dataclass(frozen=True)
class CapReference:
    sender: str
    identifier: str
    sent: dt.datetime


@dataclass(frozen=True)
class CapArea:
    description: str
    polygons: list[list[tuple[float, float]]] = field(default_factory=list)
    circles: list[tuple[float, float, float]] = field(default_factory=list)
    geocodes: list[tuple[str, str]] = field(default_factory=list)
    altitude: float | None = None
    ceiling: float | None = None


@dataclass(frozen=True)
class CapInfo:
    language: str
    categories: list[str]
    event: str
    response_types: list[str]
    urgency: str
    severity: str
    certainty: str
    effective: dt.datetime | None
    onset: dt.datetime | None
    expires: dt.datetime | None
    sender_name: str
    headline: str
    description: str
    instruction: str
    web: str
    contact: str
    event_codes: list[tuple[str, str]]
    parameters: list[tuple[str, str]]
    areas: list[CapArea]


@dataclass(frozen=True)
class CapAlert:
    """The content of a CAP alert, read only from a document that passed ``validate_cap``."""

    version: str
    identifier: str
    sender: str
    sent: dt.datetime
    status: str
    msg_type: str
    scope: str
    source: str
    restriction: str
    addresses: str
    codes: list[str]
    note: str
    references: list[CapReference]
    incidents: list[str]
    infos: list[CapInfo]


def _kids(element: Any, name: str) -> list[Any]:
    return [child for child in element if local_name(child.tag) == name]


def _value(element: Any, name: str) -> str:
    found = _kids(element, name)
    if not found or found[0].text is None:
        return ""
    return str(found[0].text).strip()


def _when(text: str) -> dt.datetime | None:
    if not text:
        return None
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        raise InvalidMessage(
            "cap_datetime_format", _("Date « %(value)s » invalide.") % {"value": text[:60]}, "/"
        ) from None
    if moment.tzinfo is None:
        raise InvalidMessage(
            "cap_datetime_format",
            _("Date « %(value)s » sans fuseau horaire.") % {"value": text[:60]},
            "/",
        )
    return moment


def _pairs(element: Any, name: str) -> list[tuple[str, str]]:
    return [(_value(pair, "valueName"), _value(pair, "value")) for pair in _kids(element, name)]


def _float(text: str) -> float | None:
    return float(text) if text else None


def _area(area: Any) -> CapArea:
    polygons = []
    for polygon in _kids(area, "polygon"):
        points = []
        for token in (polygon.text or "").split():
            lat, lon = token.split(",")
            points.append((float(lat), float(lon)))
        polygons.append(points)
    circles = []
    for circle in _kids(area, "circle"):
        center, radius = (circle.text or "").split()
        lat, lon = center.split(",")
        circles.append((float(lat), float(lon), float(radius)))
    return CapArea(
        description=_value(area, "areaDesc"),
        polygons=polygons,
        circles=circles,
        geocodes=_pairs(area, "geocode"),
        altitude=_float(_value(area, "altitude")),
        ceiling=_float(_value(area, "ceiling")),
    )


def _info(info: Any) -> CapInfo:
    return CapInfo(
        language=_value(info, "language") or "en-US",
        categories=[str(c.text or "").strip() for c in _kids(info, "category")],
        event=_value(info, "event"),
        response_types=[str(r.text or "").strip() for r in _kids(info, "responseType")],
        urgency=_value(info, "urgency"),
        severity=_value(info, "severity"),
        certainty=_value(info, "certainty"),
        effective=_when(_value(info, "effective")),
        onset=_when(_value(info, "onset")),
        expires=_when(_value(info, "expires")),
        sender_name=_value(info, "senderName"),
        headline=_value(info, "headline"),
        description=_value(info, "description"),
        instruction=_value(info, "instruction"),
        web=_value(info, "web"),
        contact=_value(info, "contact"),
        event_codes=_pairs(info, "eventCode"),
        parameters=_pairs(info, "parameter"),
        areas=[_area(area) for area in _kids(info, "area")],
    )


def read_alert(document: CapDocument) -> CapAlert:
    """Typed content of ``document``. Call it only after ``validate_cap_document`` said valid."""
    root = document.root
    references = []
    for triple in _value(root, "references").split():
        ref_sender, ref_identifier, ref_sent = triple.split(",")
        moment = _when(ref_sent)
        if moment is not None:
            references.append(
                CapReference(sender=ref_sender, identifier=ref_identifier, sent=moment)
            )
    sent = _when(_value(root, "sent"))
    if sent is None:
        raise InvalidMessage("cap_schema", _("Élément « sent » manquant."), "/alert")
    return CapAlert(
        version=document.version,
        identifier=_value(root, "identifier"),
        sender=_value(root, "sender"),
        sent=sent,
        status=_value(root, "status"),
        msg_type=_value(root, "msgType"),
        scope=_value(root, "scope"),
        source=_value(root, "source"),
        restriction=_value(root, "restriction"),
        addresses=_value(root, "addresses"),
        codes=[str(code.text or "").strip() for code in _kids(root, "code")],
        note=_value(root, "note"),
        references=references,
        incidents=_value(root, "incidents").split(),
        infos=[_info(info) for info in _kids(root, "info")],
    )
