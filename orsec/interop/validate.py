"""Validate a message of any supported standard (auto-detection): CAP, EMSI, GeoJSON, EDXL-DE
2.0/1.0 and Hub Santé/CISU (JSON envelope, use case alone in JSON or XML)."""

from __future__ import annotations

import codecs

from django.utils.translation import gettext as _
from lxml import etree

from .cap.validate import validate_cap
from .edxlde.parse import document_of, is_edxlde_root
from .edxlde.validate import validate_edxlde_document
from .emsi.parse import emsi_document_from_json, looks_like_emsi_json
from .emsi.validate import validate_emsi, validate_emsi_document
from .errors import InteropError, ValidationError, Verdict
from .geojson.validate import looks_like_geojson, validate_geojson_document
from .hubsante.validate import (
    looks_like_hubsante_json,
    looks_like_hubsante_xml,
    use_case_from_xml,
    validate_hubsante_document,
)
from .secure import parse_json, parse_xml


def _looks_like_json(data: bytes) -> bool:
    head = data[3:] if data.startswith(codecs.BOM_UTF8) else data
    return head.lstrip(b" \t\r\n")[:1] in (b"{", b"[")


def validate_message(data: bytes) -> Verdict:
    """Detect the standard of ``data`` and validate it in two steps (schema, then spec rules).

    XML is parsed once, securely, to route it by its root element: EDXL-DE (2.0 or 1.0
    envelope), Hub Santé/CISU use case, EMSI, otherwise CAP. Supported: CAP 1.2 and CAP 1.1
    alerts (XML); EMSI (XML whose root element is
    ``emsi``: Hub Santé or NexSIS 2015; JSON ``{"emsi": {...}}``: Hub Santé); GeoJSON
    (RFC 7946), a JSON object whose ``type`` is one of the nine GeoJSON types. Other JSON is
    invalid (``json_unknown_standard``); anything else is read as CAP (``cap_not_an_alert`` when
    it is not an alert); hostile input is ``refused``.
    """
    if not _looks_like_json(data):
        try:
            root = parse_xml(data)
        except InteropError as exc:
            return Verdict(standard="XML", verdict=exc.verdict, errors=[exc.as_error()])
        if is_edxlde_root(root):
            return validate_edxlde_document(document_of(root))
        if etree.QName(root).localname == "emsi":  # a Hub Santé use case with its own importer
            return validate_emsi(data)
        if looks_like_hubsante_xml(root):
            return validate_hubsante_document(use_case_from_xml(root))
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
    if looks_like_hubsante_json(document):
        return validate_hubsante_document(document)
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
