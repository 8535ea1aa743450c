"""Two operators adding overlapping shifts at the same moment: exactly one wins (PostgreSQL).

The action locks the roster row before checking, so the second waits for the first to commit
and then sees its shift; the exclusion constraint would catch a writer that skipped the lock.
"""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection, connections
from django.utils import timezone

from orsec.oncall.actions import OncallError, do_add_shift, do_save_roster
from orsec.oncall.models import Shift

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="row locks between connections: PostgreSQL"
    ),
]


def test_two_concurrent_overlapping_additions_one_succeeds_one_gets_overlap_error(
    live_personas: Any,
) -> None:
    actor = live_personas.room_lead37.user
    roster = do_save_roster(
        actor, organisation=live_personas.organisations["sdis37"], label="Officier CODIS"
    )
    start = timezone.now().replace(microsecond=0) + timedelta(days=1)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def add(name: str, offset_hours: int) -> None:
        try:
            barrier.wait(timeout=10)
            do_add_shift(
                actor,
                roster,
                person_name=name,
                phone="06 99 00 37 21",
                start=start + timedelta(hours=offset_hours),
                end=start + timedelta(hours=offset_hours + 24),
            )
            outcomes.append("ok")
        except OncallError as error:
            outcomes.append(error.code)
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=add, args=("Cdt Vasseur", 0)),
        threading.Thread(target=add, args=("Cne Colin", 6)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes) == ["ok", "shift_overlap"]
    assert Shift.objects.filter(roster=roster).count() == 1
