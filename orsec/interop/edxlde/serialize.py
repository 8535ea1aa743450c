"""Producing EDXL-DE 2.0 envelopes: the Ack and Error answers to a received distribution, and
the distributions the portal sends (:func:`build_distribution`, outbound EDXL-DE endpoints).

Output is strict (unlike input): ``dateTimeSent``/``dateTimeExpires`` without fractional seconds
and with an explicit offset, as the OASIS pattern requires; every produced envelope validates
against the official (strict) schema ``schemas/edxl-de/v2.0/edxl-de-v2.0-wd11.xsd`` (tested).

The answer references the original the way EDXL-DE 1.0's ``distributionReference`` did
(``senderID,distributionID,dateTimeSent``), carried in a 2.0 ``descriptor/keyword`` of the list
:data:`REFERENCE_LIST_URI`; it keeps the original's ``distributionStatus`` (an exercise is
answered as an exercise) and its ``combinedConfidentiality``, and is addressed (explicitAddress)
to the original sender in the original's address scheme. An Error carries the list of errors as
one ``otherContent`` (``application/json``: ``[{"path", "code", "message"}]``) and a French
``contentDescription``.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import uuid
from collections.abc import Sequence

from django.conf import settings
from django.utils import timezone
from lxml import etree

from ..errors import InteropError, ValidationError
from ..secure import parse_xml
from .parse import CT, EDXL_DE_20, XLINK, Envelope, document_of, read_envelope

REFERENCE_LIST_URI = "urn:oasis:names:tc:emergency:EDXL:DE:1.0:distributionReference"
ANSWER_LIFETIME = dt.timedelta(days=1)
DEFAULT_SCHEME = "hubex"
DEFAULT_SENDER_ID = "fr.orsec.portail"


def format_datetime(value: dt.datetime) -> str:
    """Strict EDXL/CAP form: ``2026-11-29T07:30:00+01:00`` (seconds, explicit offset)."""
    if timezone.is_naive(value):
        raise ValueError("naive datetime")
    local = timezone.localtime(value).replace(microsecond=0)
    return local.isoformat()


def new_distribution_id(sender_id: str) -> str:
    return f"{sender_id}_{uuid.uuid4()}"


def _sub(parent: etree._Element, name: str, text: str | None = None) -> etree._Element:
    element = etree.SubElement(parent, f"{{{EDXL_DE_20}}}{name}")
    if text is not None:
        element.text = text
    return element


def reference_of(original: Envelope) -> str:
    sent = format_datetime(original.sent) if original.sent else ""
    return f"{original.sender_id},{original.distribution_id},{sent}"


def build_answer(
    original: Envelope,
    *,
    sender_id: str,
    kind: str,
    errors: Sequence[ValidationError] = (),
    description: str = "",
    now: dt.datetime | None = None,
) -> bytes:
    """An EDXL-DE 2.0 ``Ack`` or ``Error`` envelope answering ``original``."""
    if kind not in ("Ack", "Error"):
        raise ValueError(kind)
    now = now or timezone.now()
    root = etree.Element(
        f"{{{EDXL_DE_20}}}edxlDistribution", nsmap={None: EDXL_DE_20, "xlink": XLINK, "ct": CT}
    )
    root.set(f"{{{XLINK}}}type", "extended")
    _sub(root, "distributionID", new_distribution_id(sender_id))
    _sub(root, "senderID", sender_id)
    _sub(root, "dateTimeSent", format_datetime(now))
    _sub(root, "dateTimeExpires", format_datetime(now + ANSWER_LIFETIME))
    status = (
        original.status
        if original.status in ("Actual", "Exercise", "System", "Test")
        else ("Unknown")
    )
    _sub(root, "distributionStatus", status)
    _sub(root, "distributionKind", kind)
    descriptor = _sub(root, "descriptor")
    descriptor.set(f"{{{XLINK}}}type", "resource")
    if original.combined_confidentiality in ("Unclassified", "Classified"):
        _sub(descriptor, "combinedConfidentiality", original.combined_confidentiality)
    _sub(descriptor, "language", "fr-FR")
    keyword = _sub(descriptor, "keyword")
    etree.SubElement(keyword, f"{{{CT}}}ValueListURI").text = REFERENCE_LIST_URI
    etree.SubElement(keyword, f"{{{CT}}}Value").text = reference_of(original)[:1023]
    address = _sub(descriptor, "explicitAddress")
    scheme = next((s for s, _v in original.addresses if s), DEFAULT_SCHEME)
    _sub(address, "explicitAddressScheme", scheme)
    _sub(address, "explicitAddressValue", original.sender_id or "inconnu")
    if kind == "Error":
        content = _sub(root, "content")
        content.set(f"{{{XLINK}}}type", "resource")
        item = _sub(content, "contentObject")
        item.set(f"{{{XLINK}}}type", "resource")
        content_descriptor = _sub(item, "contentDescriptor")
        _sub(content_descriptor, "contentDescription", (description or "Erreur")[:1023])
        other = _sub(item, "otherContent")
        _sub(other, "mimeType", "application/json")
        payload = json.dumps([e.as_dict() for e in errors], ensure_ascii=False).encode()
        _sub(other, "contentData", base64.b64encode(payload).decode("ascii"))
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))


#: portal event mode → EDXL-DE ``distributionStatus`` (and back for input, "System" → test)
STATUS_OF_MODE = {"real": "Actual", "exercise": "Exercise", "test": "Test"}
DISTRIBUTION_LIFETIME = dt.timedelta(hours=12)


def build_distribution(
    payloads: Sequence[tuple[bytes, str]],
    *,
    sender_id: str,
    mode: str,
    recipient: str = "",
    scheme: str = DEFAULT_SCHEME,
    kind: str = "Report",
    description: str = "",
    distribution_id: str = "",
    now: dt.datetime | None = None,
    lifetime: dt.timedelta = DISTRIBUTION_LIFETIME,
) -> bytes:
    """An EDXL-DE 2.0 distribution carrying ``payloads`` (``(bytes, content type)``), the
    ``distributionStatus`` given by the event ``mode`` (réel → Actual, exercice → Exercise,
    test → Test). An XML payload is embedded as ``contentXML/embeddedXMLContent`` (parsed
    securely first); any other (JSON, PDF) as ``otherContent`` with its MIME type, size, SHA-256
    digest and base64 ``contentData``."""
    if mode not in STATUS_OF_MODE:
        raise ValueError(mode)
    if not payloads:
        raise ValueError("a distribution carries at least one payload")
    now = now or timezone.now()
    root = etree.Element(
        f"{{{EDXL_DE_20}}}edxlDistribution", nsmap={None: EDXL_DE_20, "xlink": XLINK, "ct": CT}
    )
    root.set(f"{{{XLINK}}}type", "extended")
    _sub(root, "distributionID", distribution_id or new_distribution_id(sender_id))
    _sub(root, "senderID", sender_id)
    _sub(root, "dateTimeSent", format_datetime(now))
    _sub(root, "dateTimeExpires", format_datetime(now + lifetime))
    _sub(root, "distributionStatus", STATUS_OF_MODE[mode])
    _sub(root, "distributionKind", kind)
    descriptor = _sub(root, "descriptor")
    descriptor.set(f"{{{XLINK}}}type", "resource")
    _sub(descriptor, "language", "fr-FR")
    if recipient:
        address = _sub(descriptor, "explicitAddress")
        _sub(address, "explicitAddressScheme", scheme)
        _sub(address, "explicitAddressValue", recipient)
    content = _sub(root, "content")
    content.set(f"{{{XLINK}}}type", "resource")
    for body, content_type in payloads:
        item = _sub(content, "contentObject")
        item.set(f"{{{XLINK}}}type", "resource")
        if description:
            item_descriptor = _sub(item, "contentDescriptor")
            _sub(item_descriptor, "contentDescription", description[:1023])
        media = content_type.split(";", 1)[0].strip().lower()
        if media.endswith("xml"):
            xml_content = _sub(item, "contentXML")
            embedded = _sub(xml_content, "embeddedXMLContent")
            embedded.append(parse_xml(body))
        else:
            other = _sub(item, "otherContent")
            _sub(other, "mimeType", media or "application/octet-stream")
            _sub(other, "size", str(len(body)))
            _sub(other, "digest", base64.b64encode(hashlib.sha256(body).digest()).decode())
            _sub(other, "contentData", base64.b64encode(body).decode("ascii"))
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))


def error_answer(data: bytes, errors: Sequence[ValidationError]) -> tuple[bytes, str] | None:
    """The Error envelope answering ``data`` (None when not even its envelope can be read)."""
    try:
        envelope = read_envelope(document_of(parse_xml(data)))
    except InteropError:
        return None
    sender = str(getattr(settings, "ORSEC_INTEROP_SENDER_ID", DEFAULT_SENDER_ID))
    description = "; ".join(f"{e.path} [{e.code}] {e.message}" for e in errors[:5])
    body = build_answer(
        envelope, sender_id=sender, kind="Error", errors=errors, description=description
    )
    return body, "application/xml; charset=utf-8"
