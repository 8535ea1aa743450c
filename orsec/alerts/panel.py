"""The event page's panel of weather vigilances in force on the event's département(s).

Registered in ``orsec/dashboards/panels.py`` (the dashboards sit above the alerts). The panel
appears only when a vigilance is in force; orange and red ones come first and are what the
watch officer must not miss (yellow ones are listed below them, green ones never).
"""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.translation import gettext as _

from orsec.alerts.queries import active_vigilances
from orsec.events.models import Event

#: Vigilances shown on the panel (the full list is on /alertes/vigilances/).
PANEL_SHOWN = 12
#: Levels shown on the panel: yellow (2), orange (3), red (4).
PANEL_MIN_LEVEL = 2


def event_departement_paths(event: Event) -> list[str]:
    """Paths whose départements concern ``event`` (no query: read from its territory path).

    The département containing its territory (a commune's département), or its territory
    itself when that is a département or above (a zone's event concerns every département
    of the zone). Paths look like ``FR/OUEST/R24/D37/C37261``.
    """
    parts = event.territory_path.split("/")
    for index, part in enumerate(parts):
        if part.startswith("D") and index >= 2:
            return ["/".join(parts[: index + 1])]
    return [event.territory_path]


def vigilances_panel(user: Any, event: Event, abilities: dict[str, bool]) -> dict[str, Any] | None:
    """Vigilances (yellow and above) in force on the event's département(s); None without any.

    Vigilances are public bulletins: anyone who may see the event may see them.
    """
    if event.departement_id is not None:  # set on the event: no path needed, one query
        found = active_vigilances([], departement_ids=[event.departement_id])
    else:
        found = active_vigilances(event_departement_paths(event))
    vigilances = list(found.filter(level__gte=PANEL_MIN_LEVEL)[: PANEL_SHOWN + 1])
    if not vigilances:
        return None
    return {
        "title": _("Vigilances météorologiques en cours"),
        "template": "alerts/panels/vigilances.html",
        "data": {
            "vigilances": vigilances[:PANEL_SHOWN],
            "more": len(vigilances) > PANEL_SHOWN,
            "severe": any(vigilance.level >= 3 for vigilance in vigilances),
            "list_url": reverse("alerts:vigilances"),
        },
    }
