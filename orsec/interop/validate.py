"""Validate a message of any supported standard (auto-detection): CAP, EMSI and GeoJSON."""

from __future__ import annotations

import codecs
import re

from django.utils.translation import gettext as _

from .cap.validate import validate_cap
from .emsi.parse import emsi_document_from_json, looks_like_emsi_json
from .emsi.validate import validate_emsi, validate_emsi_document
from .errors import InteropError, ValidationError, Verdict
from .geojson.validate import looks_like_geojson, validate_geojson_document
from .secure import parse_json


def _looks_like_json(data: bytes) -> bool:
    head = data[3:] if data.startswith(codecs.BOM_UTF8) else data
    return head.lstrip(b" \t\r\n")[:1] in (b"{", b"[")


# The first start tag after the prolog (comments, processing instructions, declarations
# skipped): only a routing hint; the chosen validator parses the message securely itself.
_ROOT_TAG = re.compile(rb"<(?![?!])(?:[A-Za-z_][\w.-]*:)?([A-Za-z_][\w.-]*)")


def _xml_root_name(data: bytes) -> str:
    head = data[:4096]
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        head = head.decode("utf-16", errors="ignore").encode("utf-8")
    for match in _ROOT_TAG.finditer(head):
        start = match.start()
        if head.rfind(b"<!--", 0, start) > head.rfind(b"-->", 0, start):
            continue  # inside a comment
        return match.group(1).decode("ascii", errors="ignore")
    return ""


def validate_message(data: bytes) -> Verdict:
    """Detect the standard of ``data`` and validate it in two steps (schema, then spec rules).

    Supported so far: CAP 1.2 and CAP 1.1 alerts (XML); EMSI (XML whose root element is
    ``emsi``: Hub Santé or NexSIS 2015; JSON ``{"emsi": {...}}``: Hub Santé); GeoJSON
    (RFC 7946), a JSON object whose ``type`` is one of the nine GeoJSON types. Other JSON is
    invalid (``json_unknown_standard``); anything else is read as CAP (``cap_not_an_alert`` when
    it is not an alert); hostile input is ``refused``.
    """
    if not _looks_like_json(data):
        if _xml_root_name(data) == "emsi":
            return validate_emsi(data)
        return validate_cap(data)
    try:
        document = parse_json(data)
    except InteropError as exc:
        return Verdict(standard="JSON", verdict=exc.verdict, errors=[exc.as_error()])
    if looks_like_geojson(document):
        return validate_geojson_document(document)
    if looks_like_emsi_json(document):
        try:
            return validate_emsi_document(emsi_document_from_json(document))
        except InteropError as exc:
            return Verdict(standard="EMSI", verdict=exc.verdict, errors=[exc.as_error()])
    return Verdict(
        standard="JSON",
        verdict="invalid",
        errors=[
            ValidationError(
                path="/",
                code="json_unknown_standard",
                message=_(
                    "Message JSON d'un format non reconnu (attendu : GeoJSON, un objet dont le "
                    'membre « type » est un type GeoJSON, ou EMSI, un objet {"emsi": …}).'
                ),
            )
        ],
    )
