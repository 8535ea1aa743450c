"""Secure parsing of EDXL-DE 2.0 (and 1.0) distribution envelopes, and typed reading."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _

from ..errors import InvalidMessage
from ..secure import DEFAULT_MAX_BYTES, DEFAULT_MAX_DEPTH, parse_xml
from ..xmlpaths import element_path, local_name, namespace_of

EDXL_DE_20 = "urn:oasis:names:tc:emergency:EDXL:DE:2.0"
EDXL_DE_10 = "urn:oasis:names:tc:emergency:EDXL:DE:1.0"
EDXL_NAMESPACES = {EDXL_DE_20: "2.0", EDXL_DE_10: "1.0"}
ROOT_NAMES = {"2.0": "edxlDistribution", "1.0": "EDXLDistribution"}
XLINK = "http://www.w3.org/1999/xlink"
CT = "urn:oasis:names:tc:emergency:edxl:ct:1.0"

# Lenient on input: fractional seconds and "Z" accepted; an offset (or Z) is required.
_INPUT_DATETIME = re.compile(r"^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(\.\d+)?(Z|[+-]\d{2}:\d{2})$")


@dataclass(frozen=True)
class EdxlDocument:
    root: Any
    version: str

    @property
    def namespace(self) -> str:
        return EDXL_DE_20 if self.version == "2.0" else EDXL_DE_10


def parse_edxlde(
    data: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES, max_depth: int = DEFAULT_MAX_DEPTH
) -> EdxlDocument:
    """Parse ``data`` securely; ``InvalidMessage`` if it is not an EDXL-DE 2.0/1.0 envelope."""
    root = parse_xml(data, max_bytes=max_bytes, max_depth=max_depth)
    return document_of(root)


def document_of(root: Any) -> EdxlDocument:
    namespace = namespace_of(root.tag)
    version = EDXL_NAMESPACES.get(namespace)
    if version is None or local_name(root.tag) != ROOT_NAMES[version]:
        raise InvalidMessage(
            "edxlde_not_a_distribution",
            _(
                "Ce n'est pas une enveloppe EDXL-DE 2.0 ou 1.0 : élément racine « %(tag)s » "
                "(espace de noms « %(ns)s »)."
            )
            % {"tag": local_name(root.tag)[:100], "ns": namespace[:200]},
            "/" + local_name(root.tag)[:100],
        )
    return EdxlDocument(root=root, version=version)


def is_edxlde_root(root: Any) -> bool:
    version = EDXL_NAMESPACES.get(namespace_of(root.tag))
    return version is not None and local_name(root.tag) == ROOT_NAMES[version]


def parse_datetime(text: str) -> dt.datetime | None:
    """An aware datetime from an input dateTime (fractional seconds tolerated), else None."""
    match = _INPUT_DATETIME.match(text.strip())
    if not match:
        return None
    offset = "+00:00" if match.group(3) == "Z" else match.group(3)
    try:
        return dt.datetime.fromisoformat(match.group(1) + offset)
    except ValueError:
        return None


def strip_fraction(text: str) -> str:
    """``2023-09-15T18:57:10.5360608+02:00`` → ``2023-09-15T18:57:10+02:00`` (XSD step only)."""
    match = _INPUT_DATETIME.match(text.strip())
    if not match or match.group(3) == "Z":
        return text
    return match.group(1) + match.group(3)


# --- typed reading ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ContentItem:
    """One contentObject: its 1-based index, its path, and its embedded XML root (if any)."""

    index: int
    path: str
    payload: Any | None
    payload_path: str
    mime_type: str = ""


@dataclass(frozen=True)
class Envelope:
    version: str
    distribution_id: str
    sender_id: str
    sent: dt.datetime | None
    expires: dt.datetime | None
    status: str
    kind: str
    language: str = ""
    combined_confidentiality: str = ""
    addresses: list[tuple[str, str]] = field(default_factory=list)
    contents: list[ContentItem] = field(default_factory=list)


def _kids(element: Any, name: str) -> list[Any]:
    return [c for c in element if isinstance(c.tag, str) and local_name(c.tag) == name]


def _value(element: Any, name: str) -> str:
    found = _kids(element, name)
    return str(found[0].text or "").strip() if found else ""


def read_envelope(document: EdxlDocument) -> Envelope:
    """The envelope's fields and its content objects (not validated here)."""
    root = document.root
    if document.version == "2.0":
        descriptor = (_kids(root, "descriptor") or [None])[0]
        content = (_kids(root, "content") or [None])[0]
        objects = _kids(content, "contentObject") if content is not None else []
        addresses = []
        if descriptor is not None:
            for address in _kids(descriptor, "explicitAddress"):
                addresses.append(
                    (
                        _value(address, "explicitAddressScheme"),
                        _value(address, "explicitAddressValue"),
                    )
                )
        language = _value(descriptor, "language") if descriptor is not None else ""
        confidentiality = (
            _value(descriptor, "combinedConfidentiality") if descriptor is not None else ""
        )
        kind = _value(root, "distributionKind")
        expires = parse_datetime(_value(root, "dateTimeExpires"))
        xml_name = "contentXML"
    else:
        objects = _kids(root, "contentObject")
        addresses = []
        for address in _kids(root, "explicitAddress"):
            scheme = _value(address, "explicitAddressScheme")
            for value in _kids(address, "explicitAddressValue"):
                addresses.append((scheme, str(value.text or "").strip()))
        language = _value(root, "language")
        confidentiality = _value(root, "combinedConfidentiality")
        kind = _value(root, "distributionType")
        expires = None
        xml_name = "xmlContent"
    contents = []
    for index, item in enumerate(objects, start=1):
        payload = None
        payload_path = element_path(item)
        mime = ""
        for xml_content in _kids(item, xml_name):
            for embedded in _kids(xml_content, "embeddedXMLContent"):
                payload_path = element_path(embedded)
                children = [c for c in embedded if isinstance(c.tag, str)]
                payload = children[0] if children else None
        for other in _kids(item, "otherContent") + _kids(item, "nonXMLContent"):
            mime = _value(other, "mimeType")
        contents.append(
            ContentItem(
                index=index,
                path=element_path(item),
                payload=payload,
                payload_path=payload_path,
                mime_type=mime,
            )
        )
    return Envelope(
        version=document.version,
        distribution_id=_value(root, "distributionID"),
        sender_id=_value(root, "senderID"),
        sent=parse_datetime(_value(root, "dateTimeSent")),
        expires=expires,
        status=_value(root, "distributionStatus"),
        kind=kind,
        language=language,
        combined_confidentiality=confidentiality,
        addresses=addresses,
        contents=contents,
    )
