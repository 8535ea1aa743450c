"""The plan exchange format (``orsec-plan/1``): JSON Schema validation with French errors naming
the path, the references check, serialisation of a version, the bundled templates, and the diff
between two versions. Pure functions: no writes here (the actions write).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from django.utils.translation import gettext as _
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from orsec.plans.models import PlanVersion

FORMAT = "orsec-plan/1"
SCHEMA_PATH = Path(__file__).parent / "schemas" / "plan.schema.json"
TEMPLATES_DIR = Path(__file__).parent / "plan_templates"
#: Largest JSON document accepted by the import (bytes).
MAX_IMPORT_BYTES = 2 * 1024 * 1024
#: At most this many errors are reported at once.
MAX_ERRORS = 20


class PlanContentError(ValueError):
    """An invalid plan document; ``errors`` are ``(path, French message)`` pairs."""

    def __init__(self, errors: list[tuple[str, str]]) -> None:
        self.errors = errors[:MAX_ERRORS]
        super().__init__(
            "; ".join(f"{path} : {message}" if path else message for path, message in self.errors)
        )
        self.code = "invalid_plan_document"


@cache
def plan_schema() -> dict[str, Any]:
    schema: dict[str, Any] = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    return schema


def _path(parts: Any) -> str:
    text = "$"
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else f".{part}"
    return text


def _message(error: ValidationError) -> str:
    validator = error.validator
    if validator == "additionalProperties":
        allowed = sorted((error.schema.get("properties") or {}).keys())
        extra = (
            sorted(set(error.instance) - set(allowed)) if isinstance(error.instance, dict) else []
        )
        return _("champ inconnu %(fields)s (champs admis : %(allowed)s)") % {
            "fields": ", ".join(f"« {name} »" for name in extra),
            "allowed": ", ".join(allowed),
        }
    if validator == "required":
        missing = [n for n in error.validator_value if n not in (error.instance or {})]
        return _("champ obligatoire manquant : %(fields)s") % {
            "fields": ", ".join(f"« {n} »" for n in missing)
        }
    if validator == "enum":
        return _("valeur « %(value)s » non admise (valeurs admises : %(allowed)s)") % {
            "value": str(error.instance)[:60],
            "allowed": ", ".join(str(v) for v in error.validator_value),
        }
    if validator == "const":
        return _("valeur attendue : « %(value)s »") % {"value": error.validator_value}
    if validator == "type":
        return _("type attendu : %(type)s") % {"type": error.validator_value}
    if validator == "pattern":
        return _(
            "identifiant « %(value)s » invalide : minuscules, chiffres et tirets, 60 caractères "
            "au plus"
        ) % {"value": str(error.instance)[:60]}
    if validator in ("minLength", "minItems"):
        return _("ne doit pas être vide")
    if validator in ("maxLength", "maxItems"):
        return _("trop long (au plus %(max)s)") % {"max": error.validator_value}
    return _("valeur invalide")


def validate_document(data: Any) -> dict[str, Any]:
    """``data`` checked against the schema and its internal references; raises
    :class:`PlanContentError` listing every problem with its path."""
    validator = Draft202012Validator(plan_schema())
    errors = sorted(validator.iter_errors(data), key=lambda e: list(map(str, e.absolute_path)))
    if errors:
        raise PlanContentError([(_path(e.absolute_path), _message(e)) for e in errors])
    problems: list[tuple[str, str]] = []
    section_keys: set[str] = set()
    for index, section in enumerate(data["sections"]):
        if section["key"] in section_keys:
            problems.append(
                (
                    f"$.sections[{index}].key",
                    _("identifiant de section « %(key)s » en double") % {"key": section["key"]},
                )
            )
        section_keys.add(section["key"])
    sheet_keys: set[str] = set()
    for index, sheet in enumerate(data["fiches"]):
        if sheet["section"] not in section_keys:
            problems.append(
                (
                    f"$.fiches[{index}].section",
                    _("la fiche « %(key)s » renvoie à une section inconnue « %(section)s »")
                    % {"key": sheet["key"], "section": sheet["section"]},
                )
            )
        if sheet["key"] in sheet_keys:
            problems.append(
                (
                    f"$.fiches[{index}].key",
                    _("identifiant de fiche « %(key)s » en double") % {"key": sheet["key"]},
                )
            )
        sheet_keys.add(sheet["key"])
        item_keys: set[str] = set()
        for item_index, item in enumerate(sheet["items"]):
            if item["key"] in item_keys:
                problems.append(
                    (
                        f"$.fiches[{index}].items[{item_index}].key",
                        _("identifiant d'action « %(key)s » en double dans la fiche")
                        % {"key": item["key"]},
                    )
                )
            item_keys.add(item["key"])
    if problems:
        raise PlanContentError(problems)
    return data


def parse_document(raw: bytes | str) -> dict[str, Any]:
    """Decode and validate a JSON document (size-limited)."""
    if isinstance(raw, str):
        raw = raw.encode("utf-8")
    if len(raw) > MAX_IMPORT_BYTES:
        raise PlanContentError(
            [("", _("Le document dépasse %(max)s Mo.") % {"max": MAX_IMPORT_BYTES // 2**20})]
        )
    try:
        data = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise PlanContentError([("", _("Le document n'est pas encodé en UTF-8."))]) from None
    except json.JSONDecodeError as error:
        raise PlanContentError(
            [
                (
                    "",
                    _("JSON illisible ligne %(line)s, colonne %(col)s : %(msg)s")
                    % {"line": error.lineno, "col": error.colno, "msg": error.msg},
                )
            ]
        ) from None
    return validate_document(data)


def serialize_version(version: PlanVersion) -> dict[str, Any]:
    """The version as an ``orsec-plan/1`` document (round-trips through the import)."""
    plan = version.plan
    source: dict[str, Any] = {
        "territory": plan.territory_path,
        "version": version.number,
        "state": version.state,
    }
    if version.decree_number:
        source["decree_number"] = version.decree_number
    if version.decree_date:
        source["decree_date"] = version.decree_date.isoformat()
    if plan.template_key:
        source["template"] = plan.template_key
    sections = list(version.sections.all())
    by_section = {s.pk: s.key for s in sections}
    return {
        "format": FORMAT,
        "title": plan.title,
        "level": plan.level,
        "summary": version.summary,
        "source": source,
        "sections": [
            {"key": s.key, "kind": s.kind, "title": s.title, "body": s.body, "trigger": s.trigger}
            for s in sections
        ],
        "fiches": [
            {
                "key": sheet.key,
                "section": by_section[sheet.section_id],
                "actor": sheet.actor_kind,
                "phase": sheet.phase,
                "title": sheet.title,
                "items": [{"key": i.key, "text": i.text} for i in sheet.items.all()],
            }
            for sheet in version.sheets.prefetch_related("items")
        ],
    }


# --- Bundled templates -----------------------------------------------------------------------


@dataclass(frozen=True)
class PlanTemplate:
    key: str
    title: str
    level: str
    summary: str
    document: dict[str, Any] = field(repr=False)


@cache
def plan_templates() -> dict[str, PlanTemplate]:
    """The templates shipped in ``plan_templates/`` (validated when first read)."""
    found: dict[str, PlanTemplate] = {}
    for path in sorted(TEMPLATES_DIR.glob("*.json")):
        document = validate_document(json.loads(path.read_text(encoding="utf-8")))
        found[path.stem] = PlanTemplate(
            key=path.stem,
            title=document["title"],
            level=document["level"],
            summary=document.get("summary", ""),
            document=document,
        )
    return found


# --- Diff -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Change:
    what: str  # section, fiche, action
    change: str  # added, removed, changed
    key: str
    label: str
    details: tuple[str, ...] = ()


_SECTION_FIELDS = ("kind", "title", "body", "trigger")
_SHEET_FIELDS = ("section", "actor", "phase", "title")


def diff_documents(old: dict[str, Any], new: dict[str, Any]) -> list[Change]:
    """Sections, fiches and their actions added, removed or changed from ``old`` to ``new``
    (matched by their stable keys)."""
    changes: list[Change] = []
    old_sections = {s["key"]: s for s in old["sections"]}
    new_sections = {s["key"]: s for s in new["sections"]}
    for key, section in new_sections.items():
        if key not in old_sections:
            changes.append(Change("section", "added", key, section["title"]))
        else:
            fields = tuple(
                f for f in _SECTION_FIELDS if old_sections[key].get(f, "") != section.get(f, "")
            )
            if fields:
                changes.append(Change("section", "changed", key, section["title"], fields))
    for key, section in old_sections.items():
        if key not in new_sections:
            changes.append(Change("section", "removed", key, section["title"]))
    old_sheets = {s["key"]: s for s in old["fiches"]}
    new_sheets = {s["key"]: s for s in new["fiches"]}
    for key, sheet in new_sheets.items():
        if key not in old_sheets:
            changes.append(Change("fiche", "added", key, sheet["title"]))
            continue
        before = old_sheets[key]
        fields = tuple(f for f in _SHEET_FIELDS if before.get(f) != sheet.get(f))
        if fields:
            changes.append(Change("fiche", "changed", key, sheet["title"], fields))
        old_items = {i["key"]: i["text"] for i in before["items"]}
        new_items = {i["key"]: i["text"] for i in sheet["items"]}
        for item_key, text in new_items.items():
            label = f"{sheet['title']} — {text}"
            if item_key not in old_items:
                changes.append(Change("action", "added", f"{key}/{item_key}", label))
            elif old_items[item_key] != text:
                changes.append(
                    Change("action", "changed", f"{key}/{item_key}", label, (old_items[item_key],))
                )
        for item_key, text in old_items.items():
            if item_key not in new_items:
                changes.append(
                    Change("action", "removed", f"{key}/{item_key}", f"{sheet['title']} — {text}")
                )
    for key, sheet in old_sheets.items():
        if key not in new_sheets:
            changes.append(Change("fiche", "removed", key, sheet["title"]))
    return changes
