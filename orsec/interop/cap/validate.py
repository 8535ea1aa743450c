"""Two-step validation of CAP alerts: the official XSD, then the CAP 1.2 spec rules beyond it.

Stable codes of the semantic rules (CAP 1.2, OASIS Standard, §3.2 data dictionary; the same
rules apply to CAP 1.1 input, whose text says the same):

===============================  ===========================================================
``cap_identifier_empty``         identifier or sender is empty
``cap_identifier_chars``         identifier contains a space, a comma, ``<`` or ``&``
``cap_sender_chars``             sender contains a space, a comma, ``<`` or ``&``
``cap_datetime_format``          sent/effective/onset/expires not ``YYYY-MM-DDThh:mm:ss±hh:mm``
                                 (no ``Z``, no fractional seconds) or not a real date
``cap_references_missing``       msgType Update/Cancel/Ack/Error without references
``cap_references_format``        a reference is not ``sender,identifier,sent``
``cap_restriction_missing``      scope Restricted without restriction
``cap_addresses_missing``        scope Private without addresses
``cap_polygon_format``           polygon is not whitespace-separated ``lat,lon`` pairs
``cap_polygon_too_few_points``   polygon with fewer than 4 pairs
``cap_polygon_not_closed``       first and last pairs differ
``cap_coordinate_out_of_range``  latitude outside [-90, 90] or longitude outside [-180, 180]
``cap_circle_format``            circle is not ``lat,lon radius`` with radius ≥ 0
``cap_digest_format``            resource digest is not a SHA-1 (40 hexadecimal characters)
``cap_ceiling_without_altitude`` ceiling given without altitude
===============================  ===========================================================
"""

from __future__ import annotations

import datetime as dt
import re
import threading
from typing import Any

from django.utils.translation import gettext as _
from lxml import etree

from ..errors import InteropError, ValidationError, Verdict
from ..xmlpaths import element_path, load_schema, local_name, path_from_schema_error
from .parse import (
    CAP_11,
    CAP_12,
    XMLDSIG,
    CapAlert,
    CapDocument,
    parse_cap,
    read_alert,
    without_signature,
)

_SCHEMAS = {"1.2": "cap/cap12.xsd", "1.1": "cap/cap11.xsd"}
_FORBIDDEN_ID_CHARS = re.compile(r"[\s,<&]")
_CAP_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{2}:\d{2}$")
# ASCII digits only (WGS 84 decimal degrees), without the trailing newline ``$`` would allow.
_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)\Z")
# Fast acceptance of a polygon, one regular-expression match in C (possessive quantifiers and
# atomic groups: no backtracking over points): whitespace-separated pairs whose latitude is in
# [-90, 90] and longitude in [-180, 180], written without leading zeros. It accepts only
# polygons the point-by-point rules accept; anything else (including valid but unusual
# writings such as "047.5") goes through those rules, which then decide and name the error.
_LATITUDE = r"[+-]?+(?:90(?:\.0*+)?+|[1-8]?[0-9](?:\.[0-9]*+)?+|\.[0-9]++)"
_LONGITUDE = r"[+-]?+(?:180(?:\.0*+)?+|(?:1[0-7][0-9]|[1-9]?[0-9])(?:\.[0-9]*+)?+|\.[0-9]++)"
_PAIR = rf"(?>{_LATITUDE}),(?>{_LONGITUDE})"
_POLYGON_IN_RANGE = re.compile(rf"{_PAIR}(?:\s++{_PAIR})*+")
_SHA1_HEX = re.compile(r"^[0-9A-Fa-f]{40}$")
_NEEDS_REFERENCES = frozenset({"Update", "Cancel", "Ack", "Error"})
_MAX_SCHEMA_ERRORS = 50
# A schema's error_log belongs to the validator object, shared through load_schema's cache.
_SCHEMA_LOCK = threading.Lock()


def validate_cap(data: bytes) -> Verdict:
    """Parse securely and validate a CAP 1.2 (or 1.1) alert; never raises for bad input."""
    try:
        document = parse_cap(data)
    except InteropError as exc:
        return Verdict(standard="CAP", verdict=exc.verdict, errors=[exc.as_error()])
    return validate_cap_document(document)


def read_valid_cap(data: bytes) -> tuple[Verdict, CapAlert | None]:
    """The verdict, and the typed alert when (and only when) the verdict is valid."""
    try:
        document = parse_cap(data)
    except InteropError as exc:
        return Verdict(standard="CAP", verdict=exc.verdict, errors=[exc.as_error()]), None
    verdict = validate_cap_document(document)
    if not verdict.is_valid:
        return verdict, None
    return verdict, read_alert(document)


def validate_cap_document(document: CapDocument) -> Verdict:
    """Step 1: the official XSD. Step 2 (only when step 1 passes): the spec rules."""
    standard = f"CAP {document.version}"
    errors = schema_errors(document)
    if not errors:
        errors = semantic_errors(document)
    return Verdict(standard=standard, verdict="invalid" if errors else "valid", errors=errors)


def schema_errors(document: CapDocument) -> list[ValidationError]:
    schema = load_schema(_SCHEMAS[document.version])
    root = document.root
    signed = document.version == "1.1" and root.find(f"{{{XMLDSIG}}}Signature") is not None
    candidate = without_signature(root) if signed else root
    with _SCHEMA_LOCK:
        if schema.validate(candidate):
            return []
        entries = list(schema.error_log)[:_MAX_SCHEMA_ERRORS]
    errors = []
    for entry in entries:
        errors.append(
            ValidationError(
                path=path_from_schema_error(candidate, entry),
                code="cap_schema",
                message=_(
                    "Non conforme au schéma officiel CAP %(version)s (ligne %(line)s) : %(detail)s"
                )
                % {"version": document.version, "line": entry.line, "detail": entry.message},
            )
        )
    return errors


def _text(element: Any | None) -> str:
    if element is None or element.text is None:
        return ""
    return str(element.text).strip()


def _datetime_ok(value: str) -> bool:
    if not _CAP_DATETIME.match(value):
        return False
    try:
        dt.datetime.fromisoformat(value)
    except ValueError:
        return False
    return True


# The elements the spec rules look at, fetched in ONE XPath evaluation (in C) instead of a
# Python lookup per element; then dispatched by local name.
_RULE_TARGETS = (
    "c:identifier|c:sender|c:sent|c:msgType|c:references|c:scope|c:restriction|c:addresses"
    "|c:info/c:effective|c:info/c:onset|c:info/c:expires"
    "|c:info/c:area/c:polygon|c:info/c:area/c:circle|c:info/c:area/c:ceiling"
    "|c:info/c:resource/c:digest"
)
_TARGET_XPATHS = {
    namespace: etree.XPath(_RULE_TARGETS, namespaces={"c": namespace})
    for namespace in (CAP_12, CAP_11)
}
# Order of the reported errors (the order of the rules in the spec's data dictionary).
_RANK = {
    "identifier": 0,
    "sender": 0,
    "sent": 1,
    "effective": 1,
    "onset": 1,
    "expires": 1,
    "references": 2,
    "scope": 3,
}


def semantic_errors(document: CapDocument) -> list[ValidationError]:
    """The CAP spec rules the XSD does not enforce, each with its path and stable code."""
    root = document.root
    found: list[tuple[int, Any, str, str]] = []  # (rank, element, code, message)

    def add(element: Any, code: str, message: str) -> None:
        found.append((_RANK.get(local_name(element.tag), 4), element, code, message))

    singles: dict[str, Any] = {}
    for element in _TARGET_XPATHS[document.namespace](root):
        name = local_name(element.tag)
        if name in ("identifier", "sender"):
            _check_identifier(element, name, add)
        elif name in ("sent", "effective", "onset", "expires"):
            _check_datetime(element, add)
        elif name == "polygon":
            _check_polygon(element, add)
        elif name == "circle":
            _check_circle(element, add)
        elif name == "ceiling":
            if element.getparent().find(f"{{{document.namespace}}}altitude") is None:
                add(
                    element,
                    "cap_ceiling_without_altitude",
                    _("« ceiling » ne peut être donné qu'avec « altitude »."),
                )
        elif name == "digest":
            if not _SHA1_HEX.match(_text(element)):
                add(
                    element,
                    "cap_digest_format",
                    _("L'empreinte « digest » doit être un SHA-1 de 40 caractères hexadécimaux."),
                )
        else:
            singles[name] = element
    _check_references(singles, add)
    _check_scope(singles, add)
    # Paths are computed only for the (rare) errors; the sort is stable within a rank.
    found.sort(key=lambda item: item[0])
    return [
        ValidationError(path=element_path(element), code=code, message=message)
        for _rank, element, code, message in found
    ]


def _check_identifier(element: Any, name: str, add: Any) -> None:
    value = _text(element)
    if not value:
        add(element, "cap_identifier_empty", _("La valeur « %(name)s » est vide.") % {"name": name})
    elif _FORBIDDEN_ID_CHARS.search(value):
        add(
            element,
            "cap_identifier_chars" if name == "identifier" else "cap_sender_chars",
            _("« %(name)s » ne doit contenir ni espace, ni virgule, ni « < », ni « & ».")
            % {"name": name},
        )


def _check_datetime(element: Any, add: Any) -> None:
    if not _datetime_ok(_text(element)):
        add(
            element,
            "cap_datetime_format",
            _(
                "Date « %(value)s » invalide : la forme exigée est AAAA-MM-JJThh:mm:ss±hh:mm "
                "(fuseau explicite, « Z » et fractions de seconde interdits)."
            )
            % {"value": _text(element)[:60]},
        )


def _check_references(singles: dict[str, Any], add: Any) -> None:
    msg_type = _text(singles.get("msgType"))
    references = singles.get("references")
    value = _text(references)
    if not value:
        if msg_type in _NEEDS_REFERENCES:
            add(
                references if references is not None else singles["msgType"],
                "cap_references_missing",
                _(
                    "Un message de type « %(type)s » doit citer le ou les messages visés dans "
                    "« references » (sender,identifier,sent)."
                )
                % {"type": msg_type},
            )
        return
    for triple in value.split():
        parts = triple.split(",")
        if len(parts) != 3 or not all(parts) or not _datetime_ok(parts[2]):
            add(
                references,
                "cap_references_format",
                _(
                    "Référence « %(value)s » invalide : la forme exigée est "
                    "« sender,identifier,sent », séparées par des espaces."
                )
                % {"value": triple[:200]},
            )


def _check_scope(singles: dict[str, Any], add: Any) -> None:
    scope_element = singles.get("scope")
    scope = _text(scope_element)
    if scope == "Restricted" and not _text(singles.get("restriction")):
        add(
            scope_element,
            "cap_restriction_missing",
            _("Une diffusion « Restricted » exige l'élément « restriction » renseigné."),
        )
    if scope == "Private" and not _text(singles.get("addresses")):
        add(
            scope_element,
            "cap_addresses_missing",
            _("Une diffusion « Private » exige l'élément « addresses » renseigné."),
        )


def _pair(token: str) -> tuple[float, float] | None:
    parts = token.split(",")
    if len(parts) != 2 or not all(_NUMBER.match(part) for part in parts):
        return None
    return float(parts[0]), float(parts[1])


def _in_range(point: tuple[float, float]) -> bool:
    return -90.0 <= point[0] <= 90.0 and -180.0 <= point[1] <= 180.0


def _out_of_range(element: Any, add: Any) -> None:
    add(
        element,
        "cap_coordinate_out_of_range",
        _("Coordonnée hors limites : latitude entre -90 et 90, longitude entre -180 et 180."),
    )


def polygon_problems(text: str) -> list[str]:
    """The codes of the rules a CAP polygon text (stripped) breaks; empty when it is valid.

    MeteoAlarm polygons have hundreds of points: a well-formed polygon is accepted by one
    regular-expression match plus a comparison of its first and last pairs, with no Python
    code per point; only a polygon that match does not accept is checked point by point.
    """
    if _POLYGON_IN_RANGE.fullmatch(text) and text.count(",") >= 4:
        first = text.split(None, 1)[0]
        if first == text.rsplit(None, 1)[-1]:
            return []
    return polygon_problems_reference(text)


def polygon_problems_reference(text: str) -> list[str]:
    """The polygon rules, point by point: the reference for what the fast path accepts."""
    tokens = text.split()
    points = [_pair(token) for token in tokens]
    if not tokens or any(point is None for point in points):
        return ["cap_polygon_format"]
    pairs = [point for point in points if point is not None]
    problems = []
    if len(pairs) < 4:
        problems.append("cap_polygon_too_few_points")
    elif pairs[0] != pairs[-1]:
        problems.append("cap_polygon_not_closed")
    if not all(_in_range(point) for point in pairs):
        problems.append("cap_coordinate_out_of_range")
    return problems


def _check_polygon(polygon: Any, add: Any) -> None:
    for code in polygon_problems(_text(polygon)):
        if code == "cap_coordinate_out_of_range":
            _out_of_range(polygon, add)
        else:
            add(polygon, code, _polygon_message(code))


def _polygon_message(code: str) -> str:
    if code == "cap_polygon_format":
        return _("Polygone invalide : des couples « latitude,longitude » séparés par des espaces.")
    if code == "cap_polygon_too_few_points":
        return _("Polygone invalide : au moins 4 couples de coordonnées sont nécessaires.")
    return _("Polygone non fermé : le premier et le dernier point doivent être identiques.")


def _check_circle(circle: Any, add: Any) -> None:
    parts = _text(circle).split()
    center = _pair(parts[0]) if len(parts) == 2 else None
    if center is None or not _NUMBER.match(parts[1]) or float(parts[1]) < 0:
        add(
            circle,
            "cap_circle_format",
            _("Cercle invalide : la forme exigée est « latitude,longitude rayon_km »."),
        )
    elif not _in_range(center):
        _out_of_range(circle, add)
