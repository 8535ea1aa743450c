"""Two-step validation of Hub Santé / CISU messages (ANS models), JSON and XML forms.

Shapes accepted (the three the ANS samples use):

* an **EDXL-DE envelope in JSON** (the Hub's default form): ``{"distributionID", "senderID", …,
  "content": [{"jsonContent": {"embeddedJsonContent": {"message": {…}}}}]}``;
* a **use-case message alone**, wrapped in its key: ``{"createCase": {…}}``,
  ``{"reference": {…}}`` (JSON), or ``<createCase xmlns="urn:emergency:eda:1.9:createCase">``
  (XML);
* the ``message`` element of an EDXL-DE envelope in XML (namespace ``urn:emergency:cisu:3.0``
  or ``urn:emergency:eda:1.9``): validated by :mod:`orsec.interop.edxlde` through
  :func:`message_from_xml` and :func:`message_errors`.

Step 1 is the published JSON Schema (local registry, no network): the envelope against
``EDXL-DE-envelope-only``, then in every ``message`` the RC-DE header (``RC-DE``) and the use case
(``createCase`` → ``RC-EDA``…). The XML form is read into the JSON form, guided by the same
schemas (arrays where the schema has arrays, numbers, booleans), and validated the same way: XML
and JSON of the same message give the same object, and the same rules apply to both (namespace
drift between ``urn:emergency:eda:1.9`` and ``urn:emergency:cisu:3.0`` is tolerated). Unknown
properties are errors (the schemas say ``additionalProperties: false``; an unknown key at the
top of ``message`` is reported too).

Step 2 (only when step 1 passes): header ↔ envelope consistency (``hubsante_header_mismatch``):
``messageId`` = ``distributionID``, ``sender.URI`` = ``<scheme>:<senderID>``, ``kind`` =
``distributionKind``, ``status`` = ``distributionStatus``, each ``recipient.URI`` among the
envelope's explicit addresses.

Paths are JSON pointers into the JSON form (``/content/0/jsonContent/embeddedJsonContent/
message/createCase/caseId``), the same places the ANS reference validator names with ``$.…``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from django.utils.translation import gettext as _

from ..errors import InteropError, ValidationError, Verdict
from ..secure import parse_json, parse_xml
from ..xmlpaths import local_name, namespace_of
from . import schemas

STANDARD = "Hub Santé"
_MAX_ERRORS = 50
MESSAGE_POINTER = ("jsonContent", "embeddedJsonContent", "message")
HUB_NAMESPACE_PREFIXES = ("urn:emergency:eda:", "urn:emergency:cisu:")
ENVELOPE_KEYS = frozenset({"distributionID", "senderID", "content"})


def pointer(parts: Iterable[Any]) -> str:
    escaped = [str(part).replace("~", "~0").replace("/", "~1") for part in parts]
    return "/" + "/".join(escaped) if escaped else "/"


def _schema_message(error: Any) -> str:
    validator = error.validator
    if validator == "required":
        return _("Propriété obligatoire absente.")
    if validator == "additionalProperties":
        return _("Propriété inconnue : elle n'est pas définie par le schéma.")
    if validator == "enum":
        allowed = ", ".join(str(v) for v in list(error.validator_value)[:12])
        return _("Valeur hors de la liste autorisée (%(allowed)s).") % {"allowed": allowed}
    if validator == "pattern":
        return _("Valeur de forme invalide (motif attendu : %(pattern)s).") % {
            "pattern": error.validator_value
        }
    if validator == "type":
        return _("Type invalide : %(expected)s attendu.") % {"expected": error.validator_value}
    if validator == "format":
        return _("Format « %(format)s » invalide.") % {"format": error.validator_value}
    return _("Non conforme au schéma Hub Santé : %(detail)s") % {"detail": error.message[:200]}


def _leaves(errors: Iterable[Any]) -> Iterator[Any]:
    for error in errors:
        if error.context and error.validator in ("anyOf", "oneOf", "allOf"):
            yield from _leaves(error.context)
        else:
            yield error


def schema_errors(model: str, instance: Any, prefix: tuple[Any, ...] = ()) -> list[ValidationError]:
    """Errors of ``instance`` against the published schema of ``model``, one per faulty place:
    a missing property is reported at its own path, an unknown one at its own path."""
    found: list[ValidationError] = []
    validator = schemas.validator(model)
    for error in _leaves(validator.iter_errors(instance)):
        base = (*prefix, *error.absolute_path)
        message = _schema_message(error)
        code = f"hubsante_schema_{error.validator}"
        if error.validator == "required" and isinstance(error.instance, dict):
            for name in error.validator_value:
                if name not in error.instance:
                    found.append(ValidationError(pointer((*base, name)), code, message))
        elif error.validator == "additionalProperties" and isinstance(error.instance, dict):
            known = set(error.schema.get("properties", {}))
            for name in sorted(set(error.instance) - known):
                found.append(ValidationError(pointer((*base, name)), code, message))
        else:
            found.append(ValidationError(pointer(base), code, message))
        if len(found) >= _MAX_ERRORS:
            break
    unique: dict[tuple[str, str], ValidationError] = {}
    for item in found:
        unique.setdefault((item.path, item.code), item)
    return list(unique.values())


def use_case_keys(message: dict[str, Any]) -> list[str]:
    models = schemas.use_case_models()
    return [key for key in message if key in models]


def message_errors(message: Any, prefix: tuple[Any, ...]) -> list[ValidationError]:
    """Step 1 for one ``message`` object: RC-DE header and exactly one use case."""
    if not isinstance(message, dict):
        return [
            ValidationError(
                pointer(prefix), "hubsante_schema_type", _("Type invalide : object attendu.")
            )
        ]
    errors: list[ValidationError] = []
    keys = use_case_keys(message)
    header_props = set(schemas.schema_of("RC-DE").get("properties", {}))
    if not (len(keys) == 1 and keys[0] in schemas.headerless_keys()):
        header = {k: v for k, v in message.items() if k in header_props}
        errors += schema_errors("RC-DE", header, prefix)
    for name in message:
        if name not in header_props and name not in keys:
            errors.append(
                ValidationError(
                    pointer((*prefix, name)),
                    "hubsante_schema_additionalProperties",
                    _("Propriété inconnue : elle n'est pas définie par le schéma."),
                )
            )
    if not keys:
        errors.append(
            ValidationError(
                pointer(prefix),
                "hubsante_no_use_case",
                _(
                    "Aucun cas d'usage reconnu dans le message (createCase, reference, emsi…) : "
                    "il en faut exactement un."
                ),
            )
        )
    elif len(keys) > 1:
        errors.append(
            ValidationError(
                pointer(prefix),
                "hubsante_several_use_cases",
                _("Plusieurs cas d'usage dans un même message (%(keys)s) : un seul est permis.")
                % {"keys": ", ".join(keys)},
            )
        )
    models = schemas.use_case_models()
    for key in keys:
        errors += schema_errors(models[key], message[key], (*prefix, key))
    return errors


def envelope_errors(document: dict[str, Any]) -> list[ValidationError]:
    """Step 1 for a JSON EDXL-DE envelope: the envelope, then each content's message."""
    errors = schema_errors("EDXL-DE-envelope-only", document)
    content = document.get("content")
    if isinstance(content, list):
        for index, item in enumerate(content):
            message = _dig(item, MESSAGE_POINTER)
            if message is not None:
                errors += message_errors(message, ("content", index, *MESSAGE_POINTER))
    return errors


def _dig(value: Any, keys: Iterable[str]) -> Any:
    for key in keys:
        if not isinstance(value, dict) or key not in value:
            return None
        value = value[key]
    return value


def consistency_errors(
    envelope: dict[str, Any], message: dict[str, Any], prefix: tuple[Any, ...]
) -> list[ValidationError]:
    """Step 2: the RC-DE header says the same as the envelope around it."""
    if use_case_keys(message) and use_case_keys(message)[0] in schemas.headerless_keys():
        return []
    errors: list[ValidationError] = []

    def mismatch(name: str, got: Any, expected: Any) -> None:
        errors.append(
            ValidationError(
                pointer((*prefix, name)),
                "hubsante_header_mismatch",
                _(
                    "En-tête RC-DE incohérent avec l'enveloppe EDXL-DE : « %(name)s » vaut "
                    "« %(got)s », l'enveloppe indique « %(expected)s »."
                )
                % {"name": name, "got": str(got)[:200], "expected": str(expected)[:200]},
            )
        )

    scheme = str(_dig(envelope, ("descriptor", "explicitAddress", "explicitAddressScheme")) or "")
    if message.get("messageId") != envelope.get("distributionID"):
        mismatch("messageId", message.get("messageId"), envelope.get("distributionID"))
    sender_uri = str(_dig(message, ("sender", "URI")) or "")
    expected_sender = f"{scheme}:{envelope.get('senderID')}"
    if sender_uri != expected_sender:
        errors.append(
            ValidationError(
                pointer((*prefix, "sender", "URI")),
                "hubsante_header_mismatch",
                _(
                    "En-tête RC-DE incohérent avec l'enveloppe EDXL-DE : l'émetteur « %(got)s » "
                    "n'est pas l'expéditeur « %(expected)s »."
                )
                % {"got": sender_uri[:200], "expected": expected_sender[:200]},
            )
        )
    if message.get("kind") != envelope.get("distributionKind"):
        mismatch("kind", message.get("kind"), envelope.get("distributionKind"))
    if message.get("status") != envelope.get("distributionStatus"):
        mismatch("status", message.get("status"), envelope.get("distributionStatus"))
    address = _dig(envelope, ("descriptor", "explicitAddress", "explicitAddressValue"))
    expected_recipient = f"{scheme}:{address}"
    for index, recipient in enumerate(message.get("recipient") or []):
        uri = recipient.get("URI") if isinstance(recipient, dict) else None
        if uri != expected_recipient:
            errors.append(
                ValidationError(
                    pointer((*prefix, "recipient", index, "URI")),
                    "hubsante_header_mismatch",
                    _(
                        "En-tête RC-DE incohérent avec l'enveloppe EDXL-DE : le destinataire "
                        "« %(got)s » n'est pas l'adresse de l'enveloppe « %(expected)s »."
                    )
                    % {"got": str(uri)[:200], "expected": expected_recipient[:200]},
                )
            )
    return errors


# --- detection ----------------------------------------------------------------------------------


def looks_like_hubsante_json(document: Any) -> bool:
    """A JSON EDXL-DE envelope, or an object whose only key is a Hub Santé use case."""
    if not isinstance(document, dict):
        return False
    if ENVELOPE_KEYS & set(document) and ("content" in document or "descriptor" in document):
        return True
    return len(document) == 1 and next(iter(document)) in schemas.use_case_models()


def looks_like_hubsante_xml(root: Any) -> bool:
    return namespace_of(root.tag).startswith(HUB_NAMESPACE_PREFIXES) and (
        local_name(root.tag) in schemas.use_case_models()
    )


# --- XML form → JSON form -----------------------------------------------------------------------


def _schema_type(node: dict[str, Any]) -> str:
    kind = node.get("type")
    if isinstance(kind, str):
        return kind
    if "properties" in node:
        return "object"
    return ""


def _scalar(text: str, kind: str) -> Any:
    if kind == "integer":
        try:
            return int(text)
        except ValueError:
            return text
    if kind == "number":
        try:
            number = float(text)
        except ValueError:
            return text
        return int(number) if number.is_integer() and "." not in text else number
    if kind == "boolean":
        return {"true": True, "1": True, "false": False, "0": False}.get(text, text)
    return text


def xml_to_json(element: Any, node: dict[str, Any] | None, model: str) -> Any:
    """The JSON form of ``element`` read with the schema ``node`` of ``model`` (arrays, numbers,
    booleans where the schema has them; unknown elements kept as text or objects so that the
    schema reports them)."""
    if node is not None:
        node, model = schemas.resolve(node, model)
    children = [child for child in element if isinstance(child.tag, str)]
    kind = _schema_type(node or {})
    if not children:
        text = (element.text or "").strip()
        if kind == "object":
            return text if text else {}
        return _scalar(text, kind)
    if kind not in ("object", ""):
        # an element with children where a primitive or an array is expected
        return {local_name(c.tag): xml_to_json(c, None, model) for c in children}
    properties = (node or {}).get("properties", {})
    result: dict[str, Any] = {}
    for child in children:
        name = local_name(child.tag)
        prop = properties.get(name)
        prop_resolved, prop_model = schemas.resolve(prop, model) if prop else (None, model)
        if prop_resolved is not None and _schema_type(prop_resolved) == "array":
            items = prop_resolved.get("items")
            result.setdefault(name, []).append(xml_to_json(child, items, prop_model))
        else:
            value = xml_to_json(child, prop_resolved, prop_model)
            if name in result:
                previous = result[name]
                result[name] = (
                    [*previous, value] if isinstance(previous, list) else [previous, value]
                )
            else:
                result[name] = value
    return result


def message_from_xml(element: Any) -> dict[str, Any]:
    """The JSON form of an XML ``message`` (RC-DE header and use case), any Hub namespace."""
    header = schemas.schema_of("RC-DE")
    models = schemas.use_case_models()
    result: dict[str, Any] = {}
    for child in element:
        if not isinstance(child.tag, str):
            continue
        name = local_name(child.tag)
        if name in models:
            result[name] = xml_to_json(child, schemas.schema_of(models[name]), models[name])
        else:
            prop = header.get("properties", {}).get(name)
            resolved, model = schemas.resolve(prop, "RC-DE") if prop else (None, "RC-DE")
            if resolved is not None and _schema_type(resolved) == "array":
                result.setdefault(name, []).append(xml_to_json(child, resolved.get("items"), model))
            else:
                result[name] = xml_to_json(child, resolved, model)
    return result


def use_case_from_xml(root: Any) -> dict[str, Any]:
    """``<createCase xmlns="urn:emergency:eda:1.9:createCase">`` → ``{"createCase": {…}}``."""
    key = local_name(root.tag)
    model = schemas.use_case_models()[key]
    return {key: xml_to_json(root, schemas.schema_of(model), model)}


# --- entry points -------------------------------------------------------------------------------


def validate_hubsante_document(document: Any) -> Verdict:
    """Validate the JSON form of a Hub Santé message (envelope, or use case alone)."""
    if isinstance(document, dict) and ENVELOPE_KEYS & set(document):
        errors = envelope_errors(document)
        if not errors:
            for index, item in enumerate(document.get("content") or []):
                message = _dig(item, MESSAGE_POINTER)
                if isinstance(message, dict):
                    errors += consistency_errors(
                        document, message, ("content", index, *MESSAGE_POINTER)
                    )
    elif isinstance(document, dict) and len(document) == 1 and use_case_keys(document):
        key = next(iter(document))
        errors = schema_errors(schemas.use_case_models()[key], document[key], (key,))
    else:
        errors = message_errors(document, ())
    return Verdict(standard=STANDARD, verdict="invalid" if errors else "valid", errors=errors)


def validate_use_case(model: str, instance: Any) -> Verdict:
    """Validate a bare use-case object against one model (``TECHNICAL``, ``RC-EDA``…)."""
    errors = schema_errors(model, instance)
    return Verdict(standard=STANDARD, verdict="invalid" if errors else "valid", errors=errors)


def validate_hubsante(data: bytes) -> Verdict:
    """Parse securely (JSON or XML) and validate; never raises for bad input."""
    try:
        if data.lstrip()[:1] in (b"{", b"["):
            document = parse_json(data)
        else:
            root = parse_xml(data)
            if not looks_like_hubsante_xml(root):
                return Verdict(
                    standard=STANDARD,
                    verdict="invalid",
                    errors=[
                        ValidationError(
                            "/" + local_name(root.tag)[:100],
                            "hubsante_unknown_message",
                            _("Ce n'est pas un message Hub Santé reconnu."),
                        )
                    ],
                )
            document = use_case_from_xml(root)
    except InteropError as exc:
        return Verdict(standard=STANDARD, verdict=exc.verdict, errors=[exc.as_error()])
    return validate_hubsante_document(document)
