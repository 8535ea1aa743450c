"""The map of the event page (a panel of ``orsec.dashboards.panels``) and of the watch room.

The panel carries the map's data as a JSON data block (``<script type="application/json">``,
never executed, allowed by the CSP): each live re-render of the panel pushes the new reports to
every screen, which updates its map in place (``static/maps/map.js``) without fetching anything.
Only the département outlines, which do not change, are fetched once per page load (cached).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext as _

from orsec.accounts.access import scope_of
from orsec.events.models import Event
from orsec.maps.queries import (
    BOUNDARY_ATTRIBUTION,
    MAX_EVENTS,
    departements_for_paths,
    event_map,
    events_map,
    reference_digest,
)


def tile_settings() -> dict[str, str]:
    return {
        "tile_url": settings.ORSEC_MAP_TILE_URL,
        "tile_attribution": settings.ORSEC_MAP_TILE_ATTRIBUTION,
        "boundary_attribution": BOUNDARY_ATTRIBUTION,
    }


def map_panel(user: Any, event: Event, abilities: dict[str, bool]) -> dict[str, Any]:
    """Provider of the ``map`` panel: the event, its département(s) and its reports."""
    data = event_map(user, event)
    boundaries = reverse("api:event_departements_geojson", args=[event.pk])
    data |= tile_settings()
    data |= {
        "map_id": f"carte-evenement-{event.pk}",
        "data_id": f"carte-donnees-evenement-{event.pk}",
        "boundaries_url": f"{boundaries}?{urlencode({'v': reference_digest()[:12]})}",
        "label": _("Carte de l'événement « %(title)s » : localisation et remontées")
        % {"title": event.title},
        "queue_url": reverse("reports:queue") + f"?event={event.pk}"
        if abilities.get("qualify")
        else "",
    }
    return {"title": _("Carte"), "template": "maps/panel_map.html", "data": data}


def watch_map(user: Any, events: Any, *, key: str = "veille") -> dict[str, Any]:
    """The context of ``maps/watch_map.html`` for a watch room: ``events`` are the events the
    user may see (already filtered by the caller, e.g. ``events_visible_to(user)``); the
    outlines are the départements of the user's scope."""
    rows = list(events.select_related(None).order_by("-updated_at", "-pk")[:MAX_EVENTS])
    data = events_map(rows)
    codes = list(departements_for_paths(scope_of(user).paths).values_list("code", flat=True))
    query = {"codes": ",".join(codes), "v": reference_digest()[:12]}
    data |= tile_settings()
    data |= {
        "map_id": f"carte-{key}",
        "data_id": f"carte-donnees-{key}",
        "boundaries_url": (
            reverse("api:departements_geojson") + "?" + urlencode(query) if codes else ""
        ),
        "label": _("Carte des événements visibles et des départements suivis"),
    }
    return data
