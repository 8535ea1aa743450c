"""Two-step validation of EMSI messages: the official schema of the variant, then the rules.

Step 1 — schema of the variant, copied in ``orsec/interop/schemas/emsi/`` (see its NOTICE):
Hub Santé XML → ``hubsante/EMSI.xsd``; Hub Santé JSON → ``hubsante/EMSI.schema.json`` (local
registry, nothing fetched); NexSIS 2015 XML → ``nexsis2015/emsi.2015.xsd``. Code values are the
schemas' (e.g. ``EXERCS``, ``NCREA``): the typos of the published CSV code lists (``EXCERCS``,
``INCREA``, trailing spaces) are rejected by the schemas and never tolerated here.

Step 2 — rules the schemas do not enforce, each with a stable code:

===============================  ==============================================================
``emsi_datetime_format``         a date is not ``YYYY-MM-DDThh:mm:ss±hh:mm`` (explicit offset,
                                 no ``Z``, no fraction: the rule of the NexSIS XSD and of the
                                 Hub Santé JSON schema, which the Hub Santé XSD forgets)
``emsi_id_empty``                CONTEXT.ID or EVENT.ID is empty
``emsi_negative_count``          a casualty or evacuation count is negative
``emsi_certainty_range``         EVENT.CERTAINTY outside 0-100 (a percentage)
``emsi_coordinate_out_of_range`` latitude outside [-90, 90] or longitude outside [-180, 180]
``emsi_mission_times``           a mission ends before it starts
``emsi_duplicate_id``            two missions or two resources share an ID in one message
===============================  ==============================================================

Paths: XML element paths in the variant's own names (``/emsi/EVENT[1]/CASUALTIES[1]/
TRIAGERED[1]`` or ``/emsi/event[1]/casualties[1]/triagered[1]``); JSON pointers
(``/emsi/EVENT/CASUALTIES/0/TRIAGERED``).
"""

from __future__ import annotations

import datetime as dt
import json
import re
import threading
from functools import lru_cache
from typing import Any

from django.utils.translation import gettext as _
from jsonschema import Draft7Validator
from referencing import Registry, Resource
from referencing.exceptions import NoSuchResource

from ..errors import InteropError, ValidationError, Verdict
from ..secure import parse_json, parse_xml
from ..xmlpaths import SCHEMAS_DIR, load_schema, path_from_schema_error
from .parse import (
    HUBSANTE,
    EmsiDocument,
    EmsiMessage,
    as_list,
    emsi_document_from_json,
    emsi_document_from_root,
    read_emsi,
    variant_name,
)

STANDARD = "EMSI"
_XSD = {HUBSANTE: "emsi/hubsante/EMSI.xsd", "nexsis2015": "emsi/nexsis2015/emsi.2015.xsd"}
_JSON_SCHEMA = SCHEMAS_DIR / "emsi" / "hubsante" / "EMSI.schema.json"
_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{2}:\d{2}$")
_MAX_ERRORS = 50
_SCHEMA_LOCK = threading.Lock()

_COUNTS = {
    "CASUALTIES": ("DECONT", "TRIAGERED", "TRIAGEYELLOW", "TRIAGEGREEN", "TRIAGEBLACK", "MISSING"),
    "EVAC": ("DISPLACED", "EVACUATED"),
}


def validate_emsi(data: bytes) -> Verdict:
    """Parse securely (XML or JSON, detected from the first byte) and validate; never raises."""
    return read_valid_emsi(data)[0]


def parse_emsi(data: bytes) -> EmsiDocument:
    head = data[3:] if data.startswith(b"\xef\xbb\xbf") else data
    if head.lstrip(b" \t\r\n")[:1] == b"{":
        return emsi_document_from_json(parse_json(data))
    return emsi_document_from_root(parse_xml(data))


def read_valid_emsi(data: bytes) -> tuple[Verdict, EmsiMessage | None]:
    """The verdict, and the domain message when (and only when) the verdict is valid."""
    try:
        document = parse_emsi(data)
    except InteropError as exc:
        return Verdict(standard=STANDARD, verdict=exc.verdict, errors=[exc.as_error()]), None
    return read_valid_document(document)


def read_valid_document(document: EmsiDocument) -> tuple[Verdict, EmsiMessage | None]:
    verdict = validate_emsi_document(document)
    return verdict, (read_emsi(document) if verdict.is_valid else None)


def validate_emsi_document(document: EmsiDocument) -> Verdict:
    """Step 1: the variant's official schema. Step 2 (only if step 1 passes): the rules."""
    if document.form == "xml":
        errors = _xsd_errors(document)
    else:
        errors = _json_schema_errors(document.content)
    if not errors:
        errors = semantic_errors(document)
    return Verdict(standard=STANDARD, verdict="invalid" if errors else "valid", errors=errors)


def _xsd_errors(document: EmsiDocument) -> list[ValidationError]:
    schema = load_schema(_XSD[document.variant])
    label = "Hub Santé" if document.variant == HUBSANTE else "NexSIS 2015"
    with _SCHEMA_LOCK:
        if schema.validate(document.root):
            return []
        entries = list(schema.error_log)[:_MAX_ERRORS]
    return [
        ValidationError(
            path=path_from_schema_error(document.root, entry),
            code="emsi_schema",
            message=_("Non conforme au schéma officiel EMSI %(variant)s (ligne %(line)s) : %(d)s")
            % {"variant": label, "line": entry.line, "d": entry.message},
        )
        for entry in entries
    ]


def _refuse_retrieval(uri: str) -> Any:
    raise NoSuchResource(ref=uri)  # type: ignore[call-arg]


@lru_cache(maxsize=1)
def _json_validator() -> Draft7Validator:
    schema = json.loads(_JSON_SCHEMA.read_text(encoding="utf-8"))
    registry: Registry[Any] = Registry(retrieve=_refuse_retrieval).with_resource(  # type: ignore[call-arg]
        schema["$id"], Resource.from_contents(schema)
    )
    return Draft7Validator(schema, registry=registry)


def _pointer(parts: Any) -> str:
    return "/" + "/".join(str(p).replace("~", "~0").replace("/", "~1") for p in parts)


def _json_schema_errors(content: Any) -> list[ValidationError]:
    errors = []
    for error in _json_validator().iter_errors(content):
        errors.append(
            ValidationError(
                path=_pointer(["emsi", *error.absolute_path]),
                code="emsi_schema",
                message=_("Non conforme au schéma officiel EMSI Hub Santé (JSON) : %(d)s")
                % {"d": error.message[:300]},
            )
        )
        if len(errors) >= _MAX_ERRORS:
            break
    return errors


# --- Step 2 -------------------------------------------------------------------------------------


class _Walker:
    """Runs the rules on the canonical content and names paths in the document's own form."""

    def __init__(self, document: EmsiDocument) -> None:
        self.document = document
        self.errors: list[ValidationError] = []

    def path(self, parts: list[tuple[str, int]]) -> str:
        if self.document.form == "json":
            segments = ["emsi"]
            for name, index in parts:
                segments.append(name)
                if index >= 0:
                    segments.append(str(index))
            return _pointer(segments)
        variant = self.document.variant
        names = [f"{variant_name(variant, name)}[{max(index, 0) + 1}]" for name, index in parts]
        return "/" + "/".join(["emsi", *names])

    def add(self, parts: list[tuple[str, int]], code: str, message: str) -> None:
        if len(self.errors) < _MAX_ERRORS:
            self.errors.append(ValidationError(path=self.path(parts), code=code, message=message))

    def items(
        self, node: Any, name: str, parts: list[tuple[str, int]]
    ) -> list[tuple[Any, list[tuple[str, int]]]]:
        """The children ``name`` of ``node`` with their paths (index -1 when not a list in JSON)."""
        if not isinstance(node, dict) or name not in node:
            return []
        value = node[name]
        if isinstance(value, list):
            return [(item, [*parts, (name, i)]) for i, item in enumerate(value)]
        return [(value, [*parts, (name, -1)])]


def _scalar(value: Any) -> str:
    if isinstance(value, dict | list) or value is None:
        return ""
    return str(value).strip()


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    try:
        return float(_scalar(value))
    except ValueError:
        return None


_DATE_KEYS = frozenset(
    {"CREATION", "DECL_DATIME", "OCC_DATIME", "OBS_DATIME", "DATIME", "START_TIME", "END_TIME"}
)


def _check_dates(walker: _Walker, node: Any, parts: list[tuple[str, int]]) -> None:
    if isinstance(node, dict):
        for key in node:
            for item, item_parts in walker.items(node, key, parts):
                if key in _DATE_KEYS and not isinstance(item, dict | list):
                    value = _scalar(item)
                    if not _DATETIME.match(value) or _parse_ok(value) is False:
                        walker.add(
                            item_parts,
                            "emsi_datetime_format",
                            _(
                                "Date « %(value)s » invalide : la forme exigée est "
                                "AAAA-MM-JJThh:mm:ss±hh:mm (fuseau explicite, « Z » et fractions "
                                "de seconde interdits)."
                            )
                            % {"value": value[:60]},
                        )
                else:
                    _check_dates(walker, item, item_parts)


def _parse_ok(value: str) -> bool:
    try:
        dt.datetime.fromisoformat(value)
    except ValueError:
        return False
    return True


def _check_event(walker: _Walker, event: Any, parts: list[tuple[str, int]]) -> None:
    for block, keys in _COUNTS.items():
        for item, item_parts in walker.items(event, block, parts):
            for key in keys:
                for value, value_parts in walker.items(item, key, item_parts):
                    number = _number(value)
                    if number is not None and number < 0:
                        walker.add(
                            value_parts,
                            "emsi_negative_count",
                            _("Le nombre « %(key)s » ne peut pas être négatif.") % {"key": key},
                        )
    for value, value_parts in walker.items(event, "CERTAINTY", parts):
        number = _number(value)
        if number is not None and not 0 <= number <= 100:
            walker.add(
                value_parts,
                "emsi_certainty_range",
                _("La fiabilité « CERTAINTY » est un pourcentage, de 0 à 100."),
            )
    for egeo, egeo_parts in walker.items(event, "EGEO", parts):
        for position, position_parts in walker.items(egeo, "POSITION", egeo_parts):
            _check_position(walker, position, position_parts)


def _check_position(walker: _Walker, position: Any, parts: list[tuple[str, int]]) -> None:
    for coord, coord_parts in walker.items(position, "COORD", parts):
        for key, limit in (("LAT", 90.0), ("LONG", 180.0)):
            for value, value_parts in walker.items(coord, key, coord_parts):
                number = _number(value)
                if number is not None and not -limit <= number <= limit:
                    walker.add(
                        value_parts,
                        "emsi_coordinate_out_of_range",
                        _(
                            "Coordonnée hors limites : latitude entre -90 et 90, longitude "
                            "entre -180 et 180."
                        ),
                    )


def _check_ids(walker: _Walker, content: dict[str, Any]) -> None:
    for block in ("MISSION", "RESOURCE"):
        seen: set[str] = set()
        for item, item_parts in walker.items(content, block, []):
            for value, value_parts in walker.items(item, "ID", item_parts):
                identifier = _scalar(value)
                if identifier and identifier in seen:
                    walker.add(
                        value_parts,
                        "emsi_duplicate_id",
                        _("Identifiant « %(id)s » en double dans « %(block)s ».")
                        % {"id": identifier[:80], "block": block},
                    )
                seen.add(identifier)


def _check_missions(walker: _Walker, content: dict[str, Any]) -> None:
    for mission, parts in walker.items(content, "MISSION", []):
        for position, position_parts in walker.items(mission, "POSITION", parts):
            _check_position(walker, position, position_parts)
        if not isinstance(mission, dict):
            continue
        start, end = _scalar(mission.get("START_TIME")), _scalar(mission.get("END_TIME"))
        if all(
            _DATETIME.match(value) and _parse_ok(value) for value in (start, end)
        ) and dt.datetime.fromisoformat(end) < dt.datetime.fromisoformat(start):
            walker.add(
                walker.items(mission, "END_TIME", parts)[0][1],
                "emsi_mission_times",
                _("La mission se termine (END_TIME) avant d'avoir commencé (START_TIME)."),
            )


def semantic_errors(document: EmsiDocument) -> list[ValidationError]:
    walker = _Walker(document)
    content = document.content
    _check_dates(walker, content, [])
    events: list[tuple[Any, list[tuple[str, int]]]] = []
    for key, code in (("CONTEXT", "emsi_id_empty"), ("EVENT", "emsi_id_empty")):
        for node, parts in walker.items(content, key, []):
            ids = walker.items(node, "ID", parts)
            if ids and not _scalar(ids[0][0]):
                walker.add(
                    ids[0][1], code, _("L'identifiant « %(key)s/ID » est vide.") % {"key": key}
                )
            if key == "EVENT":
                events.append((node, parts))
    for node, parts in events:
        _check_event(walker, node, parts)
    _check_missions(walker, content)
    _check_ids(walker, content)
    return walker.errors


__all__ = [
    "STANDARD",
    "as_list",
    "parse_emsi",
    "read_valid_document",
    "read_valid_emsi",
    "semantic_errors",
    "validate_emsi",
    "validate_emsi_document",
]
