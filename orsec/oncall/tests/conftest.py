"""Fixtures of the on-call tests: rosters of SDIS 37 and the préfecture, a flood scheme."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.utils import timezone

from orsec.events.models import EventType
from orsec.oncall.actions import StepSpec, do_add_shift, do_save_alert_scheme, do_save_roster
from orsec.oncall.models import AlertScheme, Roster


@dataclass
class OncallSetup:
    now: datetime
    codis: Roster  # SDIS 37, covered now by Cdt Vasseur, then Cne Colin
    prefecture: Roster  # préfecture 37, a gap now, next shift in 2 hours
    scheme: AlertScheme


@pytest.fixture
def oncall(personas: Any) -> OncallSetup:
    actor = personas.room_lead37.user
    sdis, pref = personas.organisations["sdis37"], personas.organisations["pref37"]
    now = timezone.now().replace(microsecond=0)
    codis = do_save_roster(actor, organisation=sdis, label="Officier CODIS")
    do_add_shift(
        actor,
        codis,
        person_name="Cdt Eric Vasseur",
        phone="06 99 00 37 21",
        start=now - timedelta(hours=10),
        end=now + timedelta(hours=14),
    )
    do_add_shift(
        actor,
        codis,
        person_name="Cne Sarah Colin",
        phone="06 99 00 37 22",
        start=now + timedelta(hours=14),
        end=now + timedelta(hours=38),
    )
    prefecture = do_save_roster(
        actor, organisation=pref, label="Astreinte préfecture — membre du corps préfectoral"
    )
    do_add_shift(
        actor,
        prefecture,
        person_name="Anne Delaunay",
        phone="06 99 00 37 01",
        start=now + timedelta(hours=2),
        end=now + timedelta(days=7),
    )
    scheme = do_save_alert_scheme(
        actor,
        territory=pref.territory,
        name="Inondation — Indre-et-Loire",
        event_types=[EventType.FLOOD],
        steps=[
            StepSpec(pref, roster=prefecture, instruction="Informer le corps préfectoral."),
            StepSpec(sdis, roster=codis, instruction="Point sur les moyens engagés."),
            StepSpec(personas.organisations["mairie_tours"], instruction="Activer le PCS."),
        ],
    )
    return OncallSetup(now=now, codis=codis, prefecture=prefecture, scheme=scheme)
