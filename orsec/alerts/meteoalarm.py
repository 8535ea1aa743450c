"""Pure mapping of a MeteoAlarm CAP alert (profile of CAP 1.2) to département vigilances.

No database here: the caller passes the geocode → département code table (built from the
territories' ``nuts3`` and ``emma_id`` fields) and the clock.

MeteoAlarm profile, as carried by Météo-France, Met Éireann and the other members:

* ``<parameter>`` ``awareness_level``: ``"<n>; <colour>; <severity>"`` (``"2; yellow; Moderate"``);
  tolerated variants: without the severity (``"3; orange"``), without spaces (``"3;orange"``),
  the colour alone (``"Orange"``), the number alone (``"3"``); number and colour must agree.
* ``<parameter>`` ``awareness_type``: ``"<n>; <name>"`` (``"9; avalanches"``, ``"1; Wind"``);
  the number decides; the name alone is accepted when it is one of the profile's names.
* ``<area>`` ``<geocode>`` ``NUTS3`` (NUTS 2013, ``FR244``) and/or ``EMMA_ID`` (``FR093``).

Stable error codes (all ``InvalidMessage``, French messages):

=================================  ============================================================
``meteoalarm_status``              status is not ``Actual`` (tests, exercises are not imported)
``meteoalarm_no_info``             no ``<info>`` block
``meteoalarm_parameter_missing``   no ``awareness_level`` or no ``awareness_type`` parameter
``meteoalarm_awareness_level``     unknown or inconsistent ``awareness_level`` value
``meteoalarm_awareness_type``      unknown ``awareness_type`` value
``meteoalarm_area_without_geocode``  an area has neither a NUTS3 nor an EMMA_ID geocode
``meteoalarm_unknown_geocode``     a NUTS3 / EMMA_ID value matches no French département
``meteoalarm_expires_missing``     an ``<info>`` without ``expires``
=================================  ============================================================
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from orsec.interop.cap.parse import CapAlert, CapInfo
from orsec.interop.errors import InvalidMessage

#: awareness_level number → colour.
LEVELS = {1: "green", 2: "yellow", 3: "orange", 4: "red"}
COLOUR_LEVEL = {colour: level for level, colour in LEVELS.items()}
COLOUR_LABELS = {
    "green": gettext_lazy("verte"),
    "yellow": gettext_lazy("jaune"),
    "orange": gettext_lazy("orange"),
    "red": gettext_lazy("rouge"),
}

#: awareness_type number → (phenomenon slug, the profile's names, lower-cased).
TYPES: dict[int, tuple[str, tuple[str, ...]]] = {
    1: ("vent", ("wind",)),
    2: ("neige_verglas", ("snow-ice", "snow/ice", "snow ice")),
    3: ("orages", ("thunderstorm", "thunderstorms")),
    4: ("brouillard", ("fog",)),
    5: ("canicule", ("high-temperature", "extreme high temperature", "high temperature")),
    6: ("grand_froid", ("low-temperature", "extreme low temperature", "low temperature")),
    7: ("vagues_submersion", ("coastalevent", "coastal event", "coastal-event")),
    8: ("feux_foret", ("forest-fire", "forestfire", "forest fire")),
    9: ("avalanches", ("avalanches", "avalanche")),
    10: ("pluie_inondation", ("rain",)),
    12: ("crues", ("flooding", "flood")),
    13: ("pluie_inondation", ("rain-flood", "rain flood")),
}
PHENOMENON_LABELS = {
    "vent": gettext_lazy("vent violent"),
    "neige_verglas": gettext_lazy("neige-verglas"),
    "orages": gettext_lazy("orages"),
    "brouillard": gettext_lazy("brouillard"),
    "canicule": gettext_lazy("canicule"),
    "grand_froid": gettext_lazy("grand froid"),
    "vagues_submersion": gettext_lazy("vagues-submersion"),
    "feux_foret": gettext_lazy("feux de forêt"),
    "avalanches": gettext_lazy("avalanches"),
    "pluie_inondation": gettext_lazy("pluie-inondation"),
    "crues": gettext_lazy("crues"),
}
GEOCODE_NAMES = ("NUTS3", "EMMA_ID")
_MAX_SHOWN = 80


@dataclass(frozen=True)
class VigilanceNotice:
    """One département's vigilance for one phenomenon, as said by one CAP alert."""

    departement_code: str
    phenomenon: str
    colour: str
    level: int
    onset: dt.datetime
    expires: dt.datetime
    identifier: str
    sender: str
    sent: dt.datetime
    msg_type: str
    references: tuple[str, ...]
    ends: bool
    headline: str
    area_description: str


def geocode_key(name: str, value: str) -> str:
    """The key of the geocode table: ``"NUTS3:FR244"``, ``"EMMA_ID:FR093"``."""
    return f"{name.strip().upper()}:{value.strip().upper()}"


def _error(code: str, message: str, path: str) -> InvalidMessage:
    return InvalidMessage(code, message, path)


def _shown(value: str) -> str:
    return value[:_MAX_SHOWN]


def parse_awareness_level(value: str, path: str = "/alert/info/parameter") -> tuple[int, str]:
    """``"2; yellow; Moderate"`` (and the tolerated variants) → ``(2, "yellow")``."""
    parts = [part.strip().lower() for part in value.split(";") if part.strip()]
    number = colour = None
    for part in parts[:2]:
        if part.isdigit():
            number = int(part)
        elif part in COLOUR_LEVEL:
            colour = part
    if number is not None and number not in LEVELS:
        number = None
        colour = None
    if number is None and colour is None:
        raise _error(
            "meteoalarm_awareness_level",
            _(
                "Niveau de vigilance « %(value)s » inconnu : attendu « 1; green », « 2; yellow », "
                "« 3; orange » ou « 4; red »."
            )
            % {"value": _shown(value)},
            path,
        )
    if number is not None and colour is not None and LEVELS[number] != colour:
        raise _error(
            "meteoalarm_awareness_level",
            _("Niveau de vigilance « %(value)s » incohérent : le numéro et la couleur diffèrent.")
            % {"value": _shown(value)},
            path,
        )
    level = number if number is not None else COLOUR_LEVEL[str(colour)]
    return level, LEVELS[level]


def parse_awareness_type(value: str, path: str = "/alert/info/parameter") -> str:
    """``"9; avalanches"`` → ``"avalanches"`` (the phenomenon slug)."""
    parts = [part.strip().lower() for part in value.split(";") if part.strip()]
    if parts and parts[0].isdigit() and int(parts[0]) in TYPES:
        return TYPES[int(parts[0])][0]
    if parts and not parts[0].isdigit():
        name = re.sub(r"\s+", " ", parts[0])
        for slug, names in TYPES.values():
            if name in names:
                return slug
    raise _error(
        "meteoalarm_awareness_type",
        _(
            "Type de vigilance « %(value)s » inconnu du profil MeteoAlarm "
            "(« 1; Wind » à « 13; rain-flood »)."
        )
        % {"value": _shown(value)},
        path,
    )


def _parameter(info: CapInfo, name: str, path: str) -> str:
    for value_name, value in info.parameters:
        if value_name.strip() == name:
            return value
    raise _error(
        "meteoalarm_parameter_missing",
        _("Paramètre « %(name)s » absent : ce n'est pas une alerte du profil MeteoAlarm.")
        % {"name": name},
        path,
    )


def _chosen_infos(alert: CapAlert) -> list[tuple[int, CapInfo]]:
    """The French ``<info>`` blocks when there are some, else those of the first language."""
    indexed = list(enumerate(alert.infos, start=1))
    french = [(i, info) for i, info in indexed if info.language.lower().startswith("fr")]
    if french:
        return french
    first = indexed[0][1].language.lower()
    return [(i, info) for i, info in indexed if info.language.lower() == first]


def map_meteoalarm(
    alert: CapAlert, *, departements: Mapping[str, str], now: dt.datetime
) -> list[VigilanceNotice]:
    """The vigilances a valid MeteoAlarm CAP alert gives, one per (département, phenomenon).

    ``departements`` maps :func:`geocode_key` keys to département codes. Raises
    ``InvalidMessage`` (stable code, French message, path) when the alert is outside the profile.
    A notice ``ends`` its vigilance on a Cancel, an AllClear response, the green level, or when
    it has already expired at ``now``.
    """
    if alert.status != "Actual":
        raise _error(
            "meteoalarm_status",
            _("Statut « %(status)s » : seules les alertes réelles (Actual) sont importées.")
            % {"status": _shown(alert.status)},
            "/alert/status",
        )
    if not alert.infos:
        raise _error(
            "meteoalarm_no_info",
            _("L'alerte ne contient aucun bloc « info » : aucune vigilance à importer."),
            "/alert",
        )
    references = tuple(reference.identifier for reference in alert.references)
    notices: dict[tuple[str, str], VigilanceNotice] = {}
    for index, info in _chosen_infos(alert):
        info_path = f"/alert/info[{index}]"
        level, colour = parse_awareness_level(
            _parameter(info, "awareness_level", info_path), f"{info_path}/parameter"
        )
        phenomenon = parse_awareness_type(
            _parameter(info, "awareness_type", info_path), f"{info_path}/parameter"
        )
        if info.expires is None:
            raise _error(
                "meteoalarm_expires_missing",
                _("Élément « expires » absent : la fin de la vigilance est inconnue."),
                info_path,
            )
        onset = info.onset or info.effective or alert.sent
        ends = (
            alert.msg_type == "Cancel"
            or "AllClear" in info.response_types
            or level == 1
            or info.expires <= now
        )
        for area_index, area in enumerate(info.areas, start=1):
            area_path = f"{info_path}/area[{area_index}]"
            codes = [(n, v) for n, v in area.geocodes if n.strip().upper() in GEOCODE_NAMES]
            if not codes:
                raise _error(
                    "meteoalarm_area_without_geocode",
                    _("Zone « %(area)s » sans géocode NUTS3 ni EMMA_ID.")
                    % {"area": _shown(area.description)},
                    area_path,
                )
            departement = None
            for name, value in codes:
                departement = departements.get(geocode_key(name, value))
                if departement:
                    break
            if not departement:
                shown = ", ".join(f"{n} {v}" for n, v in codes)
                raise _error(
                    "meteoalarm_unknown_geocode",
                    _("Zone « %(area)s » : géocode %(codes)s inconnu (aucun département).")
                    % {"area": _shown(area.description), "codes": _shown(shown)},
                    area_path,
                )
            notices[(departement, phenomenon)] = VigilanceNotice(
                departement_code=departement,
                phenomenon=phenomenon,
                colour=colour,
                level=level,
                onset=onset,
                expires=info.expires,
                identifier=alert.identifier,
                sender=alert.sender,
                sent=alert.sent,
                msg_type=alert.msg_type,
                references=references,
                ends=ends,
                headline=info.headline or info.event,
                area_description=area.description,
            )
    return sorted(notices.values(), key=lambda n: (n.departement_code, n.phenomenon))
