"""Export of an event's situation and bilan as EMSI (Hub Santé XML/JSON, NexSIS 2015 XML).

:func:`situation_of_event` builds the domain message from an event; :func:`emsi_xml` and
:func:`emsi_json` write any :class:`~orsec.interop.emsi.parse.EmsiMessage` (context and event:
identification, type, gravity → SCALE, status, casualties, evacuation, position) in the element
order of the variant's official schema — the output validates against it (tested).

Mapping of the portal's data:

* CONTEXT.MODE ← event mode (réel → ACTUAL, exercice → EXERCS, test → TEST); LEVEL strategic
  (a COD) written STRTGC (Hub Santé) or STRTG (NexSIS); SECLASS RESTRC; MSGTYPE ALERT;
* EVENT.ID ``ORSEC-<pk>``; NAME the title; SCALE the gravity (1 to 5, both scales have five steps);
  STATUS IPR (open) or COM (closed); ETYPE.CATEGORY from the event type;
  DECL_DATIME the opening time;
* CASUALTIES (context ``PRELIM_STAT``) from the confirmed key figures: décédés → TRIAGEBLACK,
  urgences absolues → TRIAGERED, urgences relatives → TRIAGEYELLOW, impliqués → TRIAGEGREEN,
  disparus → MISSING; EVAC: évacués → EVACUATED, hébergés → DISPLACED;
* EGEO POSITION: the event's location (a point, or the centre of its bounding box).
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django.utils import timezone
from lxml import etree

from orsec.events.models import Event
from orsec.reports.queries import confirmed_facts

from .parse import (
    EMSI_OF_LEVEL,
    EMSI_OF_MODE,
    HUBSANTE,
    NAMESPACE_OF_VARIANT,
    NEXSIS_2015,
    EmsiCasualties,
    EmsiEvacuation,
    EmsiEvent,
    EmsiMessage,
    EmsiPosition,
    variant_name,
)

CATEGORY_OF_EVENT_TYPE = {
    "weather": "GND",
    "flood": "FLD",
    "forest_fire": "FIR",
    "urban_fire": "FIR",
    "transport_accident": "TRP",
    "hazmat": "POL/CHM",
    "industrial": "EXP",
    "nuclear": "POL/NUK",
    "health": "HLT",
    "public_order": "PSW",
    "mass_casualty": "ASR",
    "missing_persons": "ASR",
}


def _datetime(moment: dt.datetime) -> str:
    return timezone.localtime(moment).replace(microsecond=0).isoformat()


def _event_position(event: Event) -> EmsiPosition | None:
    location = event.location or {}
    if location.get("type") == "Point":
        lon, lat = location["coordinates"][:2]
        return EmsiPosition(name=event.title[:80], lat=float(lat), lon=float(lon))
    if (
        event.bbox_min_lat is not None
        and event.bbox_max_lat is not None
        and event.bbox_min_lon is not None
        and event.bbox_max_lon is not None
    ):
        return EmsiPosition(
            name=event.title[:80],
            lat=(event.bbox_min_lat + event.bbox_max_lat) / 2,
            lon=(event.bbox_min_lon + event.bbox_max_lon) / 2,
        )
    return None


def situation_of_event(
    event: Event, *, origin_id: str, origin_name: str, now: dt.datetime | None = None
) -> EmsiMessage:
    """The EMSI message of an event's situation and confirmed bilan."""
    now = (now or timezone.now()).replace(microsecond=0)
    facts = confirmed_facts(event)
    casualties: tuple[EmsiCasualties, ...] = ()
    if any(key in facts for key in ("dead", "absolute", "relative", "involved", "missing")):
        casualties = (
            EmsiCasualties(
                context="PRELIM_STAT",
                at=now,
                triage_red=facts.get("absolute"),
                triage_yellow=facts.get("relative"),
                triage_green=facts.get("involved"),
                triage_black=facts.get("dead"),
                missing=facts.get("missing"),
            ),
        )
    evacuations: tuple[EmsiEvacuation, ...] = ()
    if "evacuated" in facts or "sheltered" in facts:
        evacuations = (
            EmsiEvacuation(
                at=now, displaced=facts.get("sheltered"), evacuated=facts.get("evacuated")
            ),
        )
    position = _event_position(event)
    return EmsiMessage(
        id=f"ORSEC-{event.pk}-{now.strftime('%Y%m%d%H%M%S')}",
        mode=event.mode,
        msg_type="ALERT",
        created_at=now,
        level="strategic",
        seclass="RESTRC",
        freetext=(event.description or "")[:500],
        origin_org_id=origin_id[:40],
        origin_user_id="",
        origin_name=origin_name[:80],
        event=EmsiEvent(
            id=f"ORSEC-{event.pk}",
            name=event.title[:40],
            categories=(CATEGORY_OF_EVENT_TYPE.get(event.event_type, "OTH"),),
            actors=("PPL",),
            loctypes=("OTH",),
            scale=event.gravity,
            declared_at=event.opened_at.replace(microsecond=0) if event.opened_at else None,
            status="COM" if event.closed_at else "IPR",
            casualties=casualties,
            evacuations=evacuations,
            positions=(position,) if position else (),
        ),
    )


def _count(value: int | None) -> str | None:
    return None if value is None else str(value)


def _number(value: float | None) -> str | None:
    return None if value is None else repr(round(value, 7))


def _when(value: dt.datetime | None) -> str | None:
    return None if value is None else _datetime(value)


def canonical_content(message: EmsiMessage, variant: str = HUBSANTE) -> dict[str, Any]:
    """The canonical (Hub Santé names) content of ``message``, keys in schema order.

    Scalars are strings (as in XML); :func:`emsi_json` types them as the JSON schema wants.
    """
    event = message.event
    level = EMSI_OF_LEVEL[variant].get(message.level)
    origin = {
        "ORG_ID": message.origin_org_id or None,
        "USER_ID": message.origin_user_id or None,
        "NAME": message.origin_name or None,
    }
    context: dict[str, Any] = {
        "ID": message.id,
        "MODE": EMSI_OF_MODE[message.mode],
        "MSGTYPE": message.msg_type,
        "CREATION": _when(message.created_at),
        "LEVEL": level,
        "SECLASS": message.seclass or None,
        "FREETEXT": message.freetext or None,
        "ORIGIN": origin if any(origin.values()) else None,
    }
    etype = {
        "CATEGORY": list(event.categories) or None,
        "ACTOR": list(event.actors) or None,
        "LOCTYPE": list(event.loctypes) or None,
        "ENV": list(event.envs) or None,
    }
    egeo = [
        {
            "DATIME": _when(message.created_at),
            "TYPE": "GEN/AOR",
            "POSITION": {
                "NAME": position.name or None,
                "TYPE": "POINT",
                "COORDSYS": "EPSG-4326",
                "COORD": [{"LAT": _number(position.lat), "LONG": _number(position.lon)}]
                if position.lat is not None and position.lon is not None
                else None,
                "ADDRESS": position.address or None,
            },
        }
        for position in event.positions
    ]
    content_event: dict[str, Any] = {
        "ID": event.id,
        "NAME": event.name or None,
        "MAIN_EVENT_ID": event.main_event_id or None,
        "ETYPE": etype if any(etype.values()) else None,
        "SOURCE": event.source or None,
        "SCALE": _count(event.scale),
        "CERTAINTY": _count(event.certainty),
        "DECL_DATIME": _when(event.declared_at),
        "OCC_DATIME": _when(event.occurred_at),
        "OBS_DATIME": _when(event.observed_at),
        "STATUS": event.status or None,
        "RISK_ASSESMENT": event.risk or None,
        "CASUALTIES": [
            {
                "CONTEXT": block.context,
                "DATIME": _when(block.at),
                "DECONT": _count(block.decont),
                "TRIAGERED": _count(block.triage_red),
                "TRIAGEYELLOW": _count(block.triage_yellow),
                "TRIAGEGREEN": _count(block.triage_green),
                "TRIAGEBLACK": _count(block.triage_black),
                "MISSING": _count(block.missing),
            }
            for block in event.casualties
        ]
        or None,
        "EVAC": [
            {
                "DATIME": _when(block.at),
                "DISPLACED": _count(block.displaced),
                "EVACUATED": _count(block.evacuated),
            }
            for block in event.evacuations
        ]
        or None,
        "EGEO": egeo or None,
        "CAUSE": event.cause or None,
        "FREETEXT": event.freetext or None,
    }
    return {"CONTEXT": context, "EVENT": content_event}


def _prune(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _prune(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_prune(v) for v in value]
    return value


def _append(parent: Any, namespace: str, variant: str, name: str, value: Any) -> None:
    if value is None:
        return
    for item in value if isinstance(value, list) else [value]:
        child = etree.SubElement(parent, f"{{{namespace}}}{variant_name(variant, name)}")
        if isinstance(item, dict):
            for key, sub in item.items():
                _append(child, namespace, variant, key, sub)
        else:
            child.text = str(item)


def emsi_xml(message: EmsiMessage, variant: str = HUBSANTE) -> bytes:
    """``message`` as EMSI XML of ``variant`` (``hubsante`` or ``nexsis2015``)."""
    if variant not in (HUBSANTE, NEXSIS_2015):
        raise ValueError(variant)
    namespace = NAMESPACE_OF_VARIANT[variant]
    root = etree.Element(f"{{{namespace}}}emsi", nsmap={None: namespace})
    for key, value in canonical_content(message, variant).items():
        _append(root, namespace, variant, key, value)
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True))


_JSON_INTEGERS = frozenset(
    {"CERTAINTY", "DECONT", "TRIAGERED", "TRIAGEYELLOW", "TRIAGEGREEN", "TRIAGEBLACK"}
    | {"MISSING", "DISPLACED", "EVACUATED"}
)
_JSON_NUMBERS = frozenset({"LAT", "LONG", "HEIGHT"})


def _typed(key: str, value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _typed(k, v) for k, v in value.items()}
    if isinstance(value, list):
        return [_typed(key, v) for v in value]
    if key in _JSON_INTEGERS:
        return int(value)
    if key in _JSON_NUMBERS:
        return float(value)
    return value


def emsi_json(message: EmsiMessage) -> bytes:
    """``message`` as Hub Santé EMSI JSON (``{"emsi": {...}}``)."""
    content = _prune(canonical_content(message, HUBSANTE))
    typed = {key: _typed(key, value) for key, value in content.items()}
    return json.dumps({"emsi": typed}, ensure_ascii=False, indent=2).encode("utf-8")
