"""Two-step validation of EDXL-DE 2.0 (and 1.0) envelopes, then of every embedded payload.

Step 1, the envelope against its XSD: EDXL-DE 2.0 against the OASIS schema as published by the
ANS (``schemas/edxl-de/v2.0/edxl-de-v2.0-envelope-only.xsd``: the OASIS CS02 schema with a *lax*
``embeddedXMLContent`` wildcard, since each payload is checked against its own schema below);
EDXL-DE 1.0 against ``edxlde-1_0.xsd``. Input is lenient on fractional seconds: they are removed
from ``dateTimeSent``/``dateTimeExpires`` in the copy given to the XSD (whose pattern forbids
them); everything else is as the XSD says.

Step 2 (only when step 1 passes), the spec rules beyond the XSD:

==============================  ==============================================================
``edxlde_id_empty``             distributionID or senderID blank
``edxlde_datetime_format``      dateTimeSent/dateTimeExpires not a real date with an offset
``edxlde_expires_before_sent``  dateTimeExpires not after dateTimeSent
``edxlde_content_missing``      Report/Update/Request/Response/Dispatch without contentObject
``edxlde_payload_missing``      contentObject whose embeddedXMLContent is empty
``edxlde_payload_unknown``      payload of a namespace no validator knows
``edxlde_payload_unsupported``  payload of a known standard whose validator is not installed
==============================  ==============================================================

Step 3, every payload against its own schema and rules, its errors prefixed with the path of
its ``embeddedXMLContent`` (so the failing contentObject's index is in the path, e.g.
``/edxlDistribution/content/contentObject[2]/contentXML/embeddedXMLContent/alert/info[1]``):
CAP 1.2/1.1 (:mod:`orsec.interop.cap.validate`), Hub Santé / CISU messages
(:mod:`orsec.interop.hubsante.validate`, RC-DE header checked against the envelope), EMSI
(Hub Santé and NexSIS 2015 variants) through :data:`PAYLOAD_HOOKS` → :func:`emsi_payload_errors`
(:mod:`orsec.interop.emsi.validate`).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from ..cap.parse import CAP_NAMESPACES, CapDocument
from ..cap.validate import validate_cap_document
from ..emsi.parse import NS_HUBSANTE, NS_LEGACY, NS_NEXSIS_2015, emsi_document_from_root
from ..emsi.validate import validate_emsi_document
from ..errors import InteropError, ValidationError, Verdict
from ..hubsante import validate as hub
from ..secure import parse_xml
from ..xmlpaths import (
    element_path,
    load_schema,
    local_name,
    namespace_of,
    path_from_schema_error,
)
from .parse import (
    EdxlDocument,
    Envelope,
    document_of,
    parse_datetime,
    read_envelope,
    strip_fraction,
)

_SCHEMAS = {
    "2.0": "edxl-de/v2.0/edxl-de-v2.0-envelope-only.xsd",
    "1.0": "edxl-de/v1.0/edxlde-1_0.xsd",
}
_MAX_SCHEMA_ERRORS = 50
_NEEDS_CONTENT = frozenset({"Report", "Update", "Request", "Response", "Dispatch"})

EMSI_NAMESPACES = (NS_HUBSANTE, NS_NEXSIS_2015, NS_LEGACY)

#: Namespace of a payload → dotted path of ``f(element) -> list[ValidationError]`` (paths
#: relative to the payload, starting with ``/<root>``). EMSI (both variants, and the legacy TSO
#: 1.0 namespace, refused with its own message) goes to :func:`emsi_payload_errors`, checked
#: before the generic Hub Santé namespaces (the Hub Santé EMSI namespace starts like them).
PAYLOAD_HOOKS: dict[str, str] = {
    namespace: "orsec.interop.edxlde.validate.emsi_payload_errors" for namespace in EMSI_NAMESPACES
}


def emsi_payload_errors(payload: Any) -> list[ValidationError]:
    """An embedded EMSI message checked by :mod:`orsec.interop.emsi.validate` (schema of its
    variant, then the rules); paths start with ``/emsi``."""
    try:
        document = emsi_document_from_root(payload)
    except InteropError as exc:
        return [exc.as_error()]
    return validate_emsi_document(document).errors


def standard_name(version: str) -> str:
    return f"EDXL-DE {version}"


def validate_edxlde(data: bytes) -> Verdict:
    """Parse securely and validate an EDXL-DE envelope and its payloads; never raises."""
    try:
        root = parse_xml(data)
        document = document_of(root)
    except InteropError as exc:
        return Verdict(standard="EDXL-DE", verdict=exc.verdict, errors=[exc.as_error()])
    return validate_edxlde_document(document)


def validate_edxlde_document(document: EdxlDocument) -> Verdict:
    errors = schema_errors(document)
    if not errors:
        envelope = read_envelope(document)
        errors = semantic_errors(document, envelope)
        errors += payload_errors(envelope)
    return Verdict(
        standard=standard_name(document.version),
        verdict="invalid" if errors else "valid",
        errors=errors,
    )


def schema_errors(document: EdxlDocument) -> list[ValidationError]:
    schema = load_schema(_SCHEMAS[document.version])
    candidate = copy.deepcopy(document.root)
    for child in candidate:
        if isinstance(child.tag, str) and local_name(child.tag) in (
            "dateTimeSent",
            "dateTimeExpires",
        ):
            child.text = strip_fraction(child.text or "")
    if schema.validate(candidate):
        return []
    errors = []
    for entry in list(schema.error_log)[:_MAX_SCHEMA_ERRORS]:
        errors.append(
            ValidationError(
                path=path_from_schema_error(candidate, entry),
                code="edxlde_schema",
                message=_(
                    "Non conforme au schéma officiel EDXL-DE %(version)s (ligne %(line)s) : "
                    "%(detail)s"
                )
                % {"version": document.version, "line": entry.line, "detail": entry.message},
            )
        )
    return errors


def _child(root: Any, name: str) -> Any:
    for child in root:
        if isinstance(child.tag, str) and local_name(child.tag) == name:
            return child
    return root


def semantic_errors(document: EdxlDocument, envelope: Envelope) -> list[ValidationError]:
    root = document.root
    errors: list[ValidationError] = []

    def add(name: str, code: str, message: str) -> None:
        errors.append(ValidationError(element_path(_child(root, name)), code, message))

    for name, value in (
        ("distributionID", envelope.distribution_id),
        ("senderID", envelope.sender_id),
    ):
        if not value:
            add(name, "edxlde_id_empty", _("« %(name)s » est vide.") % {"name": name})
    names = ["dateTimeSent"] + (["dateTimeExpires"] if document.version == "2.0" else [])
    for name in names:
        element = _child(root, name)
        if element is not root and parse_datetime(element.text or "") is None:
            add(
                name,
                "edxlde_datetime_format",
                _(
                    "Date « %(value)s » invalide : la forme attendue est "
                    "AAAA-MM-JJThh:mm:ss±hh:mm (fuseau explicite)."
                )
                % {"value": (element.text or "").strip()[:60]},
            )
    if envelope.sent and envelope.expires and envelope.expires <= envelope.sent:
        add(
            "dateTimeExpires",
            "edxlde_expires_before_sent",
            _("« dateTimeExpires » doit être postérieure à « dateTimeSent »."),
        )
    if envelope.kind in _NEEDS_CONTENT and not envelope.contents:
        add(
            "distributionKind" if document.version == "2.0" else "distributionType",
            "edxlde_content_missing",
            _("Une distribution « %(kind)s » doit porter au moins un contentObject.")
            % {"kind": envelope.kind},
        )
    return errors


def _prefixed(prefix: str, errors: list[ValidationError]) -> list[ValidationError]:
    return [
        ValidationError(prefix + (e.path if e.path != "/" else ""), e.code, e.message)
        for e in errors
    ]


def envelope_as_json(envelope: Envelope) -> dict[str, Any]:
    """The envelope fields in the Hub Santé JSON form (for the RC-DE consistency checks)."""
    scheme, value = envelope.addresses[0] if envelope.addresses else ("", "")
    return {
        "distributionID": envelope.distribution_id,
        "senderID": envelope.sender_id,
        "distributionKind": envelope.kind,
        "distributionStatus": envelope.status,
        "descriptor": {
            "explicitAddress": {"explicitAddressScheme": scheme, "explicitAddressValue": value}
        },
    }


def payload_errors(envelope: Envelope) -> list[ValidationError]:
    errors: list[ValidationError] = []
    for item in envelope.contents:
        payload = item.payload
        if payload is None:
            if not item.mime_type:
                errors.append(
                    ValidationError(
                        item.payload_path,
                        "edxlde_payload_missing",
                        _("Le contentObject n° %(index)s ne porte aucun contenu XML.")
                        % {"index": item.index},
                    )
                )
            continue
        errors += _prefixed(item.payload_path, payload_errors_of(payload, envelope))
    return errors


def payload_errors_of(payload: Any, envelope: Envelope) -> list[ValidationError]:
    """Errors of one embedded payload, paths relative to it (``/alert/…``, ``/message/…``)."""
    namespace = namespace_of(payload.tag)
    name = local_name(payload.tag)
    if namespace in CAP_NAMESPACES and name == "alert":
        own = copy.deepcopy(payload)
        return validate_cap_document(
            CapDocument(root=own, version=CAP_NAMESPACES[namespace])
        ).errors
    hook = PAYLOAD_HOOKS.get(namespace) if name == "emsi" else None
    if hook is None and namespace.startswith(hub.HUB_NAMESPACE_PREFIXES):
        if name == "message":
            message = hub.message_from_xml(payload)
            errors = hub.message_errors(message, ())
            if not errors:
                errors = hub.consistency_errors(envelope_as_json(envelope), message, ())
            return _prefixed("/message", errors)
        if hub.looks_like_hubsante_xml(payload):
            return hub.validate_hubsante_document(hub.use_case_from_xml(payload)).errors
    if hook is None:
        hook = PAYLOAD_HOOKS.get(namespace)
    if hook is not None:
        try:
            validator: Callable[[Any], list[ValidationError]] = import_string(hook)
        except ImportError:
            return [
                ValidationError(
                    "/" + name[:100],
                    "edxlde_payload_unsupported",
                    _(
                        "Contenu « %(name)s » (%(ns)s) : ce format n'est pas encore validé par "
                        "le portail, le message ne peut pas être accepté."
                    )
                    % {"name": name[:100], "ns": namespace[:200]},
                )
            ]
        return validator(copy.deepcopy(payload))
    return [
        ValidationError(
            "/" + name[:100],
            "edxlde_payload_unknown",
            _(
                "Contenu « %(name)s » d'un espace de noms inconnu (« %(ns)s ») : formats acceptés "
                "CAP 1.2/1.1, Hub Santé/CISU, EMSI."
            )
            % {"name": name[:100], "ns": namespace[:200]},
        )
    ]
