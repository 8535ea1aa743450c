"""The demo's rosters and flood scheme: cover now ± 1 week, reloadable, started on the flood."""

from __future__ import annotations

import itertools
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from orsec.demo.demo_oncall import SCHEME_NAME, build_oncall
from orsec.journal.chain import verify_chain
from orsec.oncall.models import CallList, Shift
from orsec.oncall.queries import who_is_on_call

pytestmark = pytest.mark.django_db


def test_demo_rosters_cover_now_plus_minus_a_week_and_reload_cleanly(
    personas: Any, flood_event: Any
) -> None:
    people = {p.key: p.user for p in personas.all()}
    rosters = build_oncall(people, personas.organisations, {"flood": flood_event})
    rosters = build_oncall(people, personas.organisations, {"flood": flood_event})  # reload
    now = timezone.now()
    assert len(rosters) == 4
    for roster in rosters.values():
        for at in (now - timedelta(days=6), now, now + timedelta(days=6)):
            [on_call] = who_is_on_call(roster, at)
            assert not on_call.is_gap, (roster.label, at)
        shifts = list(Shift.objects.filter(roster=roster).order_by("start"))
        assert all(a.end == b.start for a, b in itertools.pairwise(shifts))
    [call_list] = CallList.objects.filter(event=flood_event)
    assert call_list.scheme_name == SCHEME_NAME
    assert call_list.items.count() == 5
    assert call_list.items.filter(is_gap=True).count() == 0
    assert verify_chain(flood_event.chain)[1] is None
