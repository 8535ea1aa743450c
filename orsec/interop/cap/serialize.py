"""CAP 1.2 output: a population-alert draft (FR-Alert) built from an event.

Two layers:

* :class:`CapDraft` / :func:`serialize_cap`: a plain description of an alert and its CAP 1.2
  XML, elements in the order of the official schema. The output passes the official XSD and
  :func:`orsec.interop.cap.validate.validate_cap` (tested).
* :func:`population_alert_draft`: the draft of one event, with the texts the préfecture writes.

Mapping from the event (``docs/interop.md``, "CAP export"):

=====================  ======================================================================
``identifier``         ``<prefix>-<territory code>-<event id>-<sent as YYYYMMDDhhmmss>``
                       (``ORSEC_CAP_IDENTIFIER_PREFIX``, default ``ORSEC``): unique per sender
``sender``             ``ORSEC_CAP_SENDER`` (default ``portail-orsec``)
``sent``               local time with an explicit offset (``2026-11-29T08:15:00+01:00``)
``status``             real → ``Actual``, exercise → ``Exercise``, test → ``Test``
``msgType`` / scope    ``Alert`` / ``Public``; ``note`` "EXERCICE"/"TEST" for non-real events
``language``           ``fr-FR``
``category``           from the event type (flood, weather → ``Met``; fires → ``Fire``…)
``event``              the event type's French label
``urgency``            phase alert/crisis → ``Immediate``; vigilance → ``Expected``;
                       watch → ``Future``; exit/RETEX → ``Past``
``severity``           gravity 1 → ``Minor``, 2 → ``Moderate``, 3 or 4 → ``Severe``, 5 → ``Extreme``
``certainty``          phase alert/crisis/exit/RETEX → ``Observed``; vigilance → ``Likely``;
                       watch → ``Possible``
``expires``            ``sent`` + the validity chosen on the form (1 to 72 hours)
``area``               ``areaDesc``: the communes concerned, else the territory; a GeoJSON
                       Polygon/MultiPolygon → one ``polygon`` per exterior ring ("lat,lon"
                       pairs, closed); a Point → a ``circle`` "lat,lon radius" (radius in km,
                       from the form); geocodes ``INSEE_DEP``, ``NUTS3``, ``EMMA_ID`` of the
                       département(s), ``INSEE_COM`` of the communes concerned
=====================  ======================================================================
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from lxml import etree

from orsec.events.models import Event, EventType, Mode, Phase
from orsec.territories.models import Territory, TerritoryKind

from .parse import CAP_12

CAP_CONTENT_TYPE = "application/cap+xml"
LANGUAGE = "fr-FR"
#: CAP's recommended maximum for a headline (cell broadcast screens are small).
HEADLINE_MAX = 160

STATUS_OF_MODE = {Mode.REAL: "Actual", Mode.EXERCISE: "Exercise", Mode.TEST: "Test"}
CATEGORY_OF_TYPE = {
    EventType.WEATHER: "Met",
    EventType.FLOOD: "Met",
    EventType.FOREST_FIRE: "Fire",
    EventType.URBAN_FIRE: "Fire",
    EventType.TRANSPORT_ACCIDENT: "Transport",
    EventType.HAZMAT: "CBRNE",
    EventType.INDUSTRIAL: "CBRNE",
    EventType.NUCLEAR: "CBRNE",
    EventType.HEALTH: "Health",
    EventType.PUBLIC_ORDER: "Security",
    EventType.NETWORK_POWER: "Infra",
    EventType.NETWORK_WATER: "Infra",
    EventType.NETWORK_TELECOM: "Infra",
    EventType.MASS_CASUALTY: "Rescue",
    EventType.MISSING_PERSONS: "Rescue",
    EventType.OTHER: "Other",
}
URGENCY_OF_PHASE = {
    Phase.WATCH: "Future",
    Phase.VIGILANCE: "Expected",
    Phase.ALERT: "Immediate",
    Phase.CRISIS: "Immediate",
    Phase.EXIT: "Past",
    Phase.RETEX: "Past",
}
CERTAINTY_OF_PHASE = {
    Phase.WATCH: "Possible",
    Phase.VIGILANCE: "Likely",
    Phase.ALERT: "Observed",
    Phase.CRISIS: "Observed",
    Phase.EXIT: "Observed",
    Phase.RETEX: "Observed",
}
SEVERITY_OF_GRAVITY = {1: "Minor", 2: "Moderate", 3: "Severe", 4: "Severe", 5: "Extreme"}
#: CAP responseType values offered on the form, with their French labels.
RESPONSE_TYPES = {
    "Shelter": "Se mettre à l'abri",
    "Evacuate": "Évacuer",
    "Prepare": "Se préparer",
    "Execute": "Appliquer les consignes",
    "Avoid": "Éviter la zone",
    "Monitor": "Se tenir informé",
    "AllClear": "Fin d'alerte",
    "None": "Aucune action",
}


@dataclass(frozen=True)
class CapAreaDraft:
    description: str
    #: closed rings of (latitude, longitude)
    polygons: list[list[tuple[float, float]]] = field(default_factory=list)
    #: (latitude, longitude, radius in km)
    circles: list[tuple[float, float, float]] = field(default_factory=list)
    geocodes: list[tuple[str, str]] = field(default_factory=list)


@dataclass(frozen=True)
class CapInfoDraft:
    category: str
    event: str
    urgency: str
    severity: str
    certainty: str
    headline: str
    description: str
    instruction: str = ""
    response_type: str = ""
    expires: dt.datetime | None = None
    sender_name: str = ""
    web: str = ""
    areas: list[CapAreaDraft] = field(default_factory=list)
    language: str = LANGUAGE


@dataclass(frozen=True)
class CapDraft:
    identifier: str
    sender: str
    sent: dt.datetime
    status: str
    info: CapInfoDraft
    msg_type: str = "Alert"
    scope: str = "Public"
    note: str = ""


def cap_datetime(moment: dt.datetime) -> str:
    """``YYYY-MM-DDThh:mm:ss±hh:mm`` in local time (CAP forbids ``Z`` and fractions)."""
    if timezone.is_naive(moment):
        raise ValueError("naive datetime")
    return timezone.localtime(moment).replace(microsecond=0).isoformat()


def _coordinate(value: float) -> str:
    text = f"{value:.6f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _pair(lat: float, lon: float) -> str:
    return f"{_coordinate(lat)},{_coordinate(lon)}"


def serialize_cap(draft: CapDraft) -> bytes:
    """The CAP 1.2 XML of ``draft`` (UTF-8, with the XML declaration)."""
    ns = f"{{{CAP_12}}}"

    def sub(parent: Any, name: str, text: str) -> Any:
        element = etree.SubElement(parent, ns + name)
        element.text = text
        return element

    alert = etree.Element(ns + "alert", nsmap={None: CAP_12})
    sub(alert, "identifier", draft.identifier)
    sub(alert, "sender", draft.sender)
    sub(alert, "sent", cap_datetime(draft.sent))
    sub(alert, "status", draft.status)
    sub(alert, "msgType", draft.msg_type)
    sub(alert, "scope", draft.scope)
    if draft.note:
        sub(alert, "note", draft.note)
    info_draft = draft.info
    info = etree.SubElement(alert, ns + "info")
    sub(info, "language", info_draft.language)
    sub(info, "category", info_draft.category)
    sub(info, "event", info_draft.event)
    if info_draft.response_type:
        sub(info, "responseType", info_draft.response_type)
    sub(info, "urgency", info_draft.urgency)
    sub(info, "severity", info_draft.severity)
    sub(info, "certainty", info_draft.certainty)
    if info_draft.expires is not None:
        sub(info, "expires", cap_datetime(info_draft.expires))
    if info_draft.sender_name:
        sub(info, "senderName", info_draft.sender_name)
    sub(info, "headline", info_draft.headline)
    sub(info, "description", info_draft.description)
    if info_draft.instruction:
        sub(info, "instruction", info_draft.instruction)
    if info_draft.web:
        sub(info, "web", info_draft.web)
    for area_draft in info_draft.areas:
        area = etree.SubElement(info, ns + "area")
        sub(area, "areaDesc", area_draft.description)
        for ring in area_draft.polygons:
            sub(area, "polygon", " ".join(_pair(lat, lon) for lat, lon in ring))
        for lat, lon, radius in area_draft.circles:
            sub(area, "circle", f"{_pair(lat, lon)} {_coordinate(radius)}")
        for name, value in area_draft.geocodes:
            geocode = etree.SubElement(area, ns + "geocode")
            sub(geocode, "valueName", name)
            sub(geocode, "value", value)
    return bytes(etree.tostring(alert, xml_declaration=True, encoding="UTF-8", pretty_print=True))


# --- The population-alert draft of an event ---------------------------------------------------


def _rings(geometry: Any) -> list[list[tuple[float, float]]]:
    """Exterior rings of a GeoJSON Polygon/MultiPolygon as closed (lat, lon) lists.

    Holes are dropped (CAP polygons have none: the alert covers the whole outline). Rings with
    fewer than 4 positions are skipped; an unclosed ring is closed.
    """
    if not isinstance(geometry, dict):
        return []
    kind = geometry.get("type")
    coordinates = geometry.get("coordinates")
    if kind == "Polygon":
        polygons = [coordinates]
    elif kind == "MultiPolygon":
        polygons = coordinates if isinstance(coordinates, list) else []
    else:
        return []
    rings = []
    for polygon in polygons or []:
        if not isinstance(polygon, list) or not polygon:
            continue
        ring = [(float(position[1]), float(position[0])) for position in polygon[0]]
        if ring and ring[0] != ring[-1]:
            ring.append(ring[0])
        if len(ring) >= 4:
            rings.append(ring)
    return rings


def _point(geometry: Any) -> tuple[float, float] | None:
    if isinstance(geometry, dict) and geometry.get("type") == "Point":
        lon, lat = geometry["coordinates"][:2]
        return float(lat), float(lon)
    return None


def event_departements(event: Event) -> list[Territory]:
    """The département(s) an event concerns: its own, the one above its territory, or those
    below its territory (a zone's event)."""
    if event.departement_id is not None and event.departement is not None:
        return [event.departement]
    territory = event.territory
    if territory.kind in (TerritoryKind.DEPARTEMENT, TerritoryKind.COLLECTIVITE):
        return [territory]
    parts = territory.path.split("/")
    above = ["/".join(parts[:length]) for length in range(1, len(parts))]
    found = list(
        Territory.objects.filter(
            path__in=above, kind__in=[TerritoryKind.DEPARTEMENT, TerritoryKind.COLLECTIVITE]
        )
    )
    if found:
        return found
    return list(
        Territory.objects.filter(
            path__startswith=territory.path + "/",
            kind__in=[TerritoryKind.DEPARTEMENT, TerritoryKind.COLLECTIVITE],
        ).order_by("code")
    )


def event_area(event: Event, *, circle_radius_km: float) -> CapAreaDraft:
    """The CAP area of ``event``: description, geometry and geocodes (see the module doc)."""
    communes = list(
        Territory.objects.filter(pk__in=event.commune_links.values("commune")).order_by("code")
    )
    departements = event_departements(event)
    if communes:
        description = ", ".join(commune.name for commune in communes)
    else:
        description = ", ".join(str(departement) for departement in departements) or str(
            event.territory
        )
    geocodes: list[tuple[str, str]] = []
    for departement in departements:
        geocodes.append(("INSEE_DEP", departement.code))
        if departement.nuts3:
            geocodes.append(("NUTS3", departement.nuts3))
        if departement.emma_id:
            geocodes.append(("EMMA_ID", departement.emma_id))
    geocodes.extend(("INSEE_COM", commune.code) for commune in communes)
    point = _point(event.location)
    return CapAreaDraft(
        description=description[:1000],
        polygons=_rings(event.location),
        circles=[(point[0], point[1], circle_radius_km)] if point is not None else [],
        geocodes=geocodes,
    )


def cap_identifier(event: Event, sent: dt.datetime) -> str:
    prefix = getattr(settings, "ORSEC_CAP_IDENTIFIER_PREFIX", "ORSEC")
    stamp = timezone.localtime(sent).strftime("%Y%m%d%H%M%S")
    return f"{prefix}-{event.territory.code or 'FR'}-{event.pk}-{stamp}"


def population_alert_draft(
    event: Event,
    *,
    headline: str,
    description: str,
    instruction: str = "",
    response_type: str = "",
    validity_hours: int = 6,
    circle_radius_km: float = 1.0,
    now: dt.datetime | None = None,
) -> CapDraft:
    """The CAP draft of a population alert about ``event`` (texts written by the user)."""
    sent = (now or timezone.now()).replace(microsecond=0)
    marker = event.mode_marker()
    return CapDraft(
        identifier=cap_identifier(event, sent),
        sender=getattr(settings, "ORSEC_CAP_SENDER", "portail-orsec"),
        sent=sent,
        status=STATUS_OF_MODE.get(Mode(event.mode), "Test"),
        note=_("%(marker)s — message d'exercice, ne pas diffuser à la population.")
        % {"marker": marker}
        if marker
        else "",
        info=CapInfoDraft(
            category=CATEGORY_OF_TYPE.get(EventType(event.event_type), "Other"),
            event=str(EventType(event.event_type).label),
            urgency=URGENCY_OF_PHASE[Phase(event.phase)],
            severity=SEVERITY_OF_GRAVITY.get(event.gravity, "Unknown"),
            certainty=CERTAINTY_OF_PHASE[Phase(event.phase)],
            headline=headline[:HEADLINE_MAX],
            description=description,
            instruction=instruction,
            response_type=response_type,
            expires=sent + dt.timedelta(hours=validity_hours),
            sender_name=_("Préfecture — %(territory)s") % {"territory": event.territory},
            areas=[event_area(event, circle_radius_km=circle_radius_km)],
        ),
    )
