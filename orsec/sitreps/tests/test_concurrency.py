"""Two approvals at once: exactly one wins, the other gets a clear 409. Two compilations at
once: numbers stay sequential without gaps. Real concurrency (threads): PostgreSQL only."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from orsec.accounts.testing import log_in_verified
from orsec.dissemination.models import Delivery
from orsec.events.testing import open_test_event
from orsec.journal.chain import verify_chain
from orsec.sitreps.actions import do_compile_sitrep
from orsec.sitreps.models import Sitrep, SitrepState


def _run_together(workers: list[Callable[[], None]]) -> None:
    barrier = threading.Barrier(len(workers))

    def wrap(work: Callable[[], None]) -> Callable[[], None]:
        def run() -> None:
            try:
                barrier.wait(timeout=10)
                work()
            finally:
                connection.close()

        return run

    threads = [threading.Thread(target=wrap(w)) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)


@pytest.mark.django_db(transaction=True)
def test_two_directors_approving_at_once_one_wins_the_other_gets_409(
    live_personas: Any,
) -> None:
    if connection.vendor == "sqlite":
        pytest.skip("concurrence réelle : PostgreSQL seulement")
    event = open_test_event(live_personas.room_lead37.user)
    sitrep = do_compile_sitrep(live_personas.room_lead37.user, event)
    clients = [log_in_verified(Client(), live_personas.director37.user) for _ in range(2)]
    results: list[tuple[int, str]] = []

    def approve(client: Client) -> Callable[[], None]:
        def work() -> None:
            response = client.post(
                reverse("sitreps:approve", args=[sitrep.pk]), {"expected_revision": "0"}
            )
            results.append((response.status_code, response.content.decode()))

        return work

    _run_together([approve(c) for c in clients])
    statuses = sorted(status for status, _body in results)
    assert statuses == [302, 409], statuses
    loser = next(body for status, body in results if status == 409)
    assert "déjà été approuvé" in loser
    sitrep.refresh_from_db()
    assert sitrep.state == SitrepState.FROZEN
    assert sitrep.transitions.count() == 3
    assert Delivery.objects.filter(entry_id=sitrep.freeze_entry_id).count() == 1
    assert verify_chain(event.chain)[1] is None


@pytest.mark.django_db(transaction=True)
def test_compiling_and_approving_in_turn_from_two_threads_keeps_numbers_without_gaps(
    live_personas: Any,
) -> None:
    if connection.vendor == "sqlite":
        pytest.skip("concurrence réelle : PostgreSQL seulement")
    event = open_test_event(live_personas.room_lead37.user)
    lead = log_in_verified(Client(), live_personas.room_lead37.user)
    operator = log_in_verified(Client(), live_personas.operator37.user)
    statuses: list[int] = []

    def compile_with(client: Client) -> Callable[[], None]:
        def work() -> None:
            response = client.post(reverse("sitreps:compile", args=[event.pk]))
            statuses.append(response.status_code)

        return work

    _run_together([compile_with(lead), compile_with(operator)])
    assert sorted(statuses) == [302, 409], statuses
    assert list(Sitrep.objects.filter(event=event).values_list("number", flat=True)) == [1]
