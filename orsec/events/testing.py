"""Events for tests and the demo: the Loire flood in Indre-et-Loire and others."""

from __future__ import annotations

from typing import Any

from orsec.events.actions import do_open_event
from orsec.events.models import Event, EventType, Mode, Phase
from orsec.territories.models import Territory, TerritoryKind

#: Tours, on the Loire (longitude, latitude)
TOURS_POINT = {"type": "Point", "coordinates": [0.6890, 47.3941]}
#: Orléans, Loiret (another département)
ORLEANS_POINT = {"type": "Point", "coordinates": [1.9093, 47.9030]}


def departement(code: str) -> Territory:
    return Territory.objects.get(kind=TerritoryKind.DEPARTEMENT, code=code)


def open_test_event(
    actor: Any,
    *,
    departement_code: str = "37",
    title: str = "Crue de la Loire — Tours",
    event_type: str = EventType.FLOOD,
    mode: str = Mode.REAL,
    phase: str = Phase.ALERT,
    gravity: int = 3,
    location: dict[str, Any] | None = None,
) -> Event:
    if location is None:
        location = TOURS_POINT if departement_code == "37" else ORLEANS_POINT
    return do_open_event(
        actor,
        title=title,
        event_type=event_type,
        territory=departement(departement_code),
        mode=mode,
        gravity=gravity,
        phase=phase,
        location=location,
        director="Préfet d'Indre-et-Loire" if departement_code == "37" else "Préfet du Loiret",
    )
