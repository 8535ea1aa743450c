"""The demo's default routing rules (``orsec.demo.demo_dissemination``): idempotent, and they
route the demo flood's information to the services a préfecture would expect.

Lives outside ``orsec/`` because ``orsec.dissemination`` may not import the demo layer.
"""

from __future__ import annotations

from typing import Any

import pytest

from orsec.demo.demo_dissemination import build_routing_rules
from orsec.dissemination.models import RoutingRule
from orsec.dissemination.routing import route_entry
from orsec.events.actions import do_set_location
from orsec.journal.chain import append_entry, chain_for_event

pytestmark = pytest.mark.django_db


def entry(event: Any, kind: str, template: str = "") -> Any:
    return append_entry(
        chain_for_event(event),
        kind=kind,
        channel="portal",
        text="Information confirmée",
        qualification="confirmed",
        data={"template": template} if template else {},
    )


def test_demo_rules_are_idempotent_and_route_by_kind_and_template(
    personas: Any, flood_event: Any
) -> None:
    build_routing_rules()
    rules = build_routing_rules()
    assert RoutingRule.objects.count() == len(rules) == 3

    def names(e: Any) -> list[str]:
        return [o.short_name for o in route_entry(flood_event, e).organisations]

    assert names(entry(flood_event, "bilan", "casualties")) == ["SAMU 37", "SDIS 37", "ARS CVL"]
    assert names(entry(flood_event, "decision")) == ["GGD 37", "DDSP 37", "SDIS 37"]
    # networks: the operator of the région and the mairies of the communes concerned
    do_set_location(
        personas.room_lead37.user,
        flood_event,
        {"type": "Point", "coordinates": [0.6890, 47.3941]},
    )
    assert names(entry(flood_event, "bilan", "networks")) == ["Mairie de Tours", "Enedis CVL"]
    assert names(entry(flood_event, "situation")) == []


def test_demo_rules_do_not_apply_to_another_departement(personas: Any, event45: Any) -> None:
    build_routing_rules()
    assert route_entry(event45, entry(event45, "bilan", "casualties")).organisations == []
