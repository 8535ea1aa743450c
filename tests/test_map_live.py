"""The map panel in the live channel of the event page: a re-render carries the new report in
the map's data block (pushed to every screen, no fetch), with the same container id.

Here and not in ``orsec/maps/tests``: it uses ``orsec.dashboards`` (a higher layer)."""

from __future__ import annotations

import pytest

from orsec.dashboards.live import event_swaps
from orsec.events.access import get_event_abilities
from orsec.maps.tests.test_panel import AMBOISE, data_block
from orsec.reports.tests.helpers import submit

pytestmark = pytest.mark.django_db


def test_the_live_render_of_the_panel_carries_the_new_report(personas, flood_event):
    user = personas.operator37.user
    before = {
        s.target: s.html
        for s in event_swaps(user, flood_event, get_event_abilities(user, flood_event))
    }
    assert "emplacement-map" in before
    created = submit(personas.client_for("mayor_tours"), flood_event.pk, location=AMBOISE).json()
    after = {
        s.target: s.html
        for s in event_swaps(user, flood_event, get_event_abilities(user, flood_event))
    }
    assert f"remontee-{created['id']}" not in before["emplacement-map"]
    collection = data_block(after["emplacement-map"], flood_event.pk)
    assert f"remontee-{created['id']}" in {f["id"] for f in collection["features"]}
    # the container keeps its id: the page's script swaps its kept Leaflet node back in
    assert f'id="carte-evenement-{flood_event.pk}"' in after["emplacement-map"]
