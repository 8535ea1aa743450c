"""Secure parsing of EMSI messages and their reading into domain objects.

Two XML variants of EMSI (ISO/TR 22351:2015) travel between French emergency services, with
different namespaces **and** element names for the same content:

===========  =================================================  ======================  =========
variant      namespace                                          element names           LEVEL
===========  =================================================  ======================  =========
Hub Santé    ``urn:emergency:eda:1.9:emsi`` (ANS models)        ``CONTEXT``, ``DECL_DA  ``STRTGC``
                                                                TIME``, ``LONG``…
NexSIS 2015  ``http://tacticalsituationobject.org/schemas/      ``context``,            ``STRTG``
             EMSI/2_0``                                         ``decl_datetime``,
                                                                ``lon``, ``class``…
===========  =================================================  ======================  =========

The Hub Santé variant also has a JSON form (``{"emsi": {...}}``, same upper-case names). All
three are turned into one *canonical document* (a dict with the Hub Santé JSON names), from
which :func:`read_emsi` builds the domain objects: the XML and JSON forms of a message give the
same :class:`EmsiMessage`. Which variant is meant is decided by the namespace only (never by
guessing from element names); the legacy TSO ``EMSI/1_0`` namespace is recognised and refused
with a precise message.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _

from ..errors import InvalidMessage
from ..secure import parse_json, parse_xml
from ..xmlpaths import local_name, namespace_of

NS_HUBSANTE = "urn:emergency:eda:1.9:emsi"
NS_NEXSIS_2015 = "http://tacticalsituationobject.org/schemas/EMSI/2_0"
NS_LEGACY = "http://tacticalsituationobject.org/schemas/EMSI/1_0"

HUBSANTE = "hubsante"
NEXSIS_2015 = "nexsis2015"
VARIANT_OF_NAMESPACE = {NS_HUBSANTE: HUBSANTE, NS_NEXSIS_2015: NEXSIS_2015}
NAMESPACE_OF_VARIANT = {variant: ns for ns, variant in VARIANT_OF_NAMESPACE.items()}

#: NexSIS 2015 element name → canonical (Hub Santé) name, where upper-casing is not enough.
NEXSIS_ALIASES = {
    "decl_datetime": "DECL_DATIME",
    "occ_datetime": "OCC_DATIME",
    "obs_datetime": "OBS_DATIME",
    "risk_assessmnt": "RISK_ASSESMENT",
    "class": "RCLASS",
    "lon": "LONG",
    "msgType": "MSGTYPE",
}
NEXSIS_NAMES = {canonical: nexsis for nexsis, canonical in NEXSIS_ALIASES.items()}

#: EMSI CONTEXT.MODE (XSD values; the CSV code list's « EXCERCS » is a typo, never accepted).
MODE_OF_EMSI = {"ACTUAL": "real", "EXERCS": "exercise", "TEST": "test", "SYSTEM": "test"}
EMSI_OF_MODE = {"real": "ACTUAL", "exercise": "EXERCS", "test": "TEST"}
#: CONTEXT.LEVEL: both spellings of "strategic" (NexSIS STRTG, Hub Santé STRTGC) normalised.
LEVEL_OF_EMSI = {"STRTG": "strategic", "STRTGC": "strategic", "OPR": "operational"}
LEVEL_OF_EMSI["TACTCL"] = "tactical"
EMSI_OF_LEVEL = {
    HUBSANTE: {"strategic": "STRTGC", "operational": "OPR", "tactical": "TACTCL"},
    NEXSIS_2015: {"strategic": "STRTG", "operational": "OPR", "tactical": "TACTCL"},
}


@dataclass(frozen=True)
class EmsiDocument:
    """A parsed EMSI message: its variant, form (xml/json), canonical content and XML root."""

    variant: str
    form: str
    content: dict[str, Any]
    root: Any = None


# --- Domain objects -----------------------------------------------------------------------------


@dataclass(frozen=True)
class EmsiPosition:
    name: str = ""
    lat: float | None = None
    lon: float | None = None
    address: str = ""


@dataclass(frozen=True)
class EmsiCasualties:
    context: str
    at: dt.datetime | None = None
    decont: int | None = None
    triage_red: int | None = None
    triage_yellow: int | None = None
    triage_green: int | None = None
    triage_black: int | None = None
    missing: int | None = None


@dataclass(frozen=True)
class EmsiEvacuation:
    at: dt.datetime | None = None
    displaced: int | None = None
    evacuated: int | None = None


@dataclass(frozen=True)
class EmsiResource:
    id: str = ""
    org_id: str = ""
    name: str = ""
    classes: tuple[str, ...] = ()
    capabilities: tuple[str, ...] = ()
    quantity: float | None = None
    unit: str = ""
    status: str = ""
    freetext: str = ""


@dataclass(frozen=True)
class EmsiMission:
    types: tuple[str, ...] = ()
    id: str = ""
    org_id: str = ""
    name: str = ""
    status: str = ""
    start: dt.datetime | None = None
    end: dt.datetime | None = None
    resource_ids: tuple[str, ...] = ()
    parent_ids: tuple[str, ...] = ()
    freetext: str = ""
    priority: str = ""


@dataclass(frozen=True)
class EmsiEvent:
    id: str
    name: str = ""
    main_event_id: str = ""
    categories: tuple[str, ...] = ()
    actors: tuple[str, ...] = ()
    loctypes: tuple[str, ...] = ()
    envs: tuple[str, ...] = ()
    source: str = ""
    scale: int | None = None
    certainty: int | None = None
    declared_at: dt.datetime | None = None
    occurred_at: dt.datetime | None = None
    observed_at: dt.datetime | None = None
    status: str = ""
    risk: str = ""
    casualties: tuple[EmsiCasualties, ...] = ()
    evacuations: tuple[EmsiEvacuation, ...] = ()
    positions: tuple[EmsiPosition, ...] = ()
    cause: str = ""
    freetext: str = ""


@dataclass(frozen=True)
class EmsiMessage:
    """The content of an EMSI message, the same whatever its variant and form."""

    id: str
    mode: str  # real / exercise / test (the portal's modes)
    msg_type: str
    created_at: dt.datetime | None
    level: str  # strategic / operational / tactical / ""
    seclass: str
    freetext: str
    origin_org_id: str
    origin_user_id: str
    origin_name: str
    event: EmsiEvent
    missions: tuple[EmsiMission, ...] = field(default_factory=tuple)
    resources: tuple[EmsiResource, ...] = field(default_factory=tuple)


# --- Parsing ------------------------------------------------------------------------------------


def _not_emsi(name: str, namespace: str) -> InvalidMessage:
    return InvalidMessage(
        "emsi_not_a_message",
        _(
            "Ce n'est pas un message EMSI : élément racine « %(tag)s » (espace de noms "
            "« %(ns)s »). Attendu : « emsi » dans « %(hub)s » (Hub Santé) ou « %(nexsis)s » "
            "(NexSIS 2015)."
        )
        % {"tag": name[:100], "ns": namespace[:200], "hub": NS_HUBSANTE, "nexsis": NS_NEXSIS_2015},
        "/" + name[:100],
    )


def canonical_name(variant: str, name: str) -> str:
    if variant == NEXSIS_2015:
        return NEXSIS_ALIASES.get(name, name.upper())
    return name


def variant_name(variant: str, canonical: str) -> str:
    """The element name of ``canonical`` in ``variant`` (inverse of :func:`canonical_name`)."""
    if variant == NEXSIS_2015:
        return NEXSIS_NAMES.get(canonical, canonical.lower())
    return canonical


def _element_to_value(element: Any, variant: str) -> Any:
    children = [child for child in element if isinstance(child.tag, str)]
    if not children:
        return (element.text or "").strip()
    return _children_to_dict(children, variant)


def _children_to_dict(children: list[Any], variant: str) -> dict[str, Any]:
    """Child elements → dict; a name repeated becomes a list (single ones stay scalar)."""
    result: dict[str, Any] = {}
    for child in children:
        key = canonical_name(variant, local_name(child.tag))
        value = _element_to_value(child, variant)
        if key in result:
            existing = result[key]
            result[key] = [*existing, value] if isinstance(existing, list) else [existing, value]
        else:
            result[key] = value
    return result


def _xml_to_content(root: Any, variant: str) -> dict[str, Any]:
    return _children_to_dict([c for c in root if isinstance(c.tag, str)], variant)


def parse_emsi_xml(data: bytes) -> EmsiDocument:
    root = parse_xml(data)
    return emsi_document_from_root(root)


def emsi_document_from_root(root: Any) -> EmsiDocument:
    name, namespace = local_name(root.tag), namespace_of(root.tag)
    if name == "emsi" and namespace == NS_LEGACY:
        raise InvalidMessage(
            "emsi_legacy_version",
            _(
                "Message EMSI de l'ancienne version TSO 1.0 (« %(ns)s ») : non pris en charge, "
                "demandez à l'émetteur la version 2015 (NexSIS) ou Hub Santé."
            )
            % {"ns": NS_LEGACY},
            "/emsi",
        )
    if name != "emsi" or namespace not in VARIANT_OF_NAMESPACE:
        raise _not_emsi(name, namespace)
    variant = VARIANT_OF_NAMESPACE[namespace]
    return EmsiDocument(
        variant=variant, form="xml", content=_xml_to_content(root, variant), root=root
    )


def looks_like_emsi_json(document: Any) -> bool:
    return isinstance(document, dict) and list(document) == ["emsi"]


def emsi_document_from_json(document: Any) -> EmsiDocument:
    if not looks_like_emsi_json(document) or not isinstance(document["emsi"], dict):
        raise InvalidMessage(
            "emsi_not_a_message",
            _('Ce n\'est pas un message EMSI JSON : un objet {"emsi": {…}} est attendu.'),
            "/",
        )
    return EmsiDocument(variant=HUBSANTE, form="json", content=document["emsi"])


def parse_emsi_json(data: bytes) -> EmsiDocument:
    return emsi_document_from_json(parse_json(data))


# --- Reading the canonical content (only after validation) -------------------------------------


def as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def _text(node: Any, key: str) -> str:
    if not isinstance(node, dict):
        return ""
    value = node.get(key)
    if isinstance(value, list):
        value = value[0] if value else ""
    if value is None or isinstance(value, dict):
        return ""
    return str(value).strip()


def _texts(node: Any, key: str) -> tuple[str, ...]:
    if not isinstance(node, dict):
        return ()
    return tuple(str(v).strip() for v in as_list(node.get(key)) if not isinstance(v, dict))


def _int(node: Any, key: str) -> int | None:
    text = _text(node, key)
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        return None


def _float(node: Any, key: str) -> float | None:
    text = _text(node, key)
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        return None


def parse_datetime(text: str) -> dt.datetime | None:
    if not text:
        return None
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def _when(node: Any, key: str) -> dt.datetime | None:
    return parse_datetime(_text(node, key))


def _position(node: Any) -> EmsiPosition:
    coord: Any = next(iter(as_list(node.get("COORD"))), {}) if isinstance(node, dict) else {}
    return EmsiPosition(
        name=_text(node, "NAME"),
        lat=_float(coord, "LAT"),
        lon=_float(coord, "LONG"),
        address=_text(node, "ADDRESS"),
    )


def read_emsi(document: EmsiDocument) -> EmsiMessage:
    """Domain objects of a document. Call only after ``validate_emsi_document`` said valid."""
    content = document.content
    context = content.get("CONTEXT") or {}
    event = content.get("EVENT") or {}
    origin = context.get("ORIGIN") or {}
    etype = event.get("ETYPE") or {}
    positions = []
    for egeo in as_list(event.get("EGEO")):
        for position in as_list(egeo.get("POSITION")):
            positions.append(_position(position))
    return EmsiMessage(
        id=_text(context, "ID"),
        mode=MODE_OF_EMSI.get(_text(context, "MODE"), "test"),
        msg_type=_text(context, "MSGTYPE"),
        created_at=_when(context, "CREATION"),
        level=LEVEL_OF_EMSI.get(_text(context, "LEVEL"), ""),
        seclass=_text(context, "SECLASS"),
        freetext=_text(context, "FREETEXT"),
        origin_org_id=_text(origin, "ORG_ID"),
        origin_user_id=_text(origin, "USER_ID"),
        origin_name=_text(origin, "NAME"),
        event=EmsiEvent(
            id=_text(event, "ID"),
            name=_text(event, "NAME"),
            main_event_id=_text(event, "MAIN_EVENT_ID"),
            categories=_texts(etype, "CATEGORY"),
            actors=_texts(etype, "ACTOR"),
            loctypes=_texts(etype, "LOCTYPE"),
            envs=_texts(etype, "ENV"),
            source=_text(event, "SOURCE"),
            scale=_int(event, "SCALE"),
            certainty=_int(event, "CERTAINTY"),
            declared_at=_when(event, "DECL_DATIME"),
            occurred_at=_when(event, "OCC_DATIME"),
            observed_at=_when(event, "OBS_DATIME"),
            status=_text(event, "STATUS"),
            risk=_text(event, "RISK_ASSESMENT"),
            casualties=tuple(
                EmsiCasualties(
                    context=_text(node, "CONTEXT"),
                    at=_when(node, "DATIME"),
                    decont=_int(node, "DECONT"),
                    triage_red=_int(node, "TRIAGERED"),
                    triage_yellow=_int(node, "TRIAGEYELLOW"),
                    triage_green=_int(node, "TRIAGEGREEN"),
                    triage_black=_int(node, "TRIAGEBLACK"),
                    missing=_int(node, "MISSING"),
                )
                for node in as_list(event.get("CASUALTIES"))
            ),
            evacuations=tuple(
                EmsiEvacuation(
                    at=_when(node, "DATIME"),
                    displaced=_int(node, "DISPLACED"),
                    evacuated=_int(node, "EVACUATED"),
                )
                for node in as_list(event.get("EVAC"))
            ),
            positions=tuple(positions),
            cause=_text(event, "CAUSE"),
            freetext=_text(event, "FREETEXT"),
        ),
        missions=tuple(
            EmsiMission(
                types=_texts(node, "TYPE"),
                id=_text(node, "ID"),
                org_id=_text(node, "ORG_ID"),
                name=_text(node, "NAME"),
                status=_text(node, "STATUS"),
                start=_when(node, "START_TIME"),
                end=_when(node, "END_TIME"),
                resource_ids=_texts(node, "RESOURCE_ID"),
                parent_ids=_texts(node, "PARENT_MISSION_ID"),
                freetext=_text(node, "FREETEXT"),
                priority=_text(node, "PRIORITY"),
            )
            for node in as_list(content.get("MISSION"))
        ),
        resources=tuple(
            EmsiResource(
                id=_text(node, "ID"),
                org_id=_text(node, "ORG_ID"),
                name=_text(node, "NAME"),
                classes=_texts(node.get("RTYPE") or {}, "RCLASS"),
                capabilities=_texts(node.get("RTYPE") or {}, "CAPABILITY"),
                quantity=_float(node, "QUANTITY"),
                unit=_text(node, "UM"),
                status=_text(node, "STATUS"),
                freetext=_text(node, "FREETEXT"),
            )
            for node in as_list(content.get("RESOURCE"))
        ),
    )
