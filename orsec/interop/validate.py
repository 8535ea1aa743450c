"""Validate a message of any supported standard (auto-detection): CAP and GeoJSON so far."""

from __future__ import annotations

import codecs

from django.utils.translation import gettext as _

from .cap.validate import validate_cap
from .errors import InteropError, ValidationError, Verdict
from .geojson.validate import looks_like_geojson, validate_geojson_document
from .secure import parse_json


def _looks_like_json(data: bytes) -> bool:
    head = data[3:] if data.startswith(codecs.BOM_UTF8) else data
    return head.lstrip(b" \t\r\n")[:1] in (b"{", b"[")


def validate_message(data: bytes) -> Verdict:
    """Detect the standard of ``data`` and validate it in two steps (schema, then spec rules).

    Supported so far: CAP 1.2 and CAP 1.1 alerts (XML); GeoJSON (RFC 7946), a JSON object whose
    ``type`` is one of the nine GeoJSON types. Other JSON is invalid (``json_unknown_standard``);
    anything else is read as CAP (``cap_not_an_alert`` when it is not an alert); hostile input is
    ``refused``.
    """
    if not _looks_like_json(data):
        return validate_cap(data)
    try:
        document = parse_json(data)
    except InteropError as exc:
        return Verdict(standard="JSON", verdict=exc.verdict, errors=[exc.as_error()])
    if looks_like_geojson(document):
        return validate_geojson_document(document)
    return Verdict(
        standard="JSON",
        verdict="invalid",
        errors=[
            ValidationError(
                path="/",
                code="json_unknown_standard",
                message=_(
                    "Message JSON d'un format non reconnu (GeoJSON attendu : un objet dont le "
                    "membre « type » est un type GeoJSON)."
                ),
            )
        ],
    )
