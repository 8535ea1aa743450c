"""Outbox retention: rows older than ``ORSEC_LIVE_RETENTION_HOURS`` are pruned (action, command,
periodic task on the database queue run by the real worker)."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.utils import timezone
from django_tasks_db.management.commands import db_worker
from django_tasks_db.models import DBTaskResult

from orsec.journal.actions import log_information
from orsec.journal.chain import chain_for_event
from orsec.live.actions import do_prune_outbox
from orsec.live.models import OutboxMessage
from orsec.live.tasks import ensure_prune_scheduled, pending_prunes, prune_outbox


def age(rows: Any, hours: float) -> None:
    OutboxMessage.objects.filter(pk__in=[r.pk for r in rows]).update(
        created_at=timezone.now() - timedelta(hours=hours)
    )


def test_rows_older_than_the_retention_are_pruned_in_batches_and_the_newest_is_kept(
    personas: Any, flood_event: Any, settings: Any
) -> None:
    settings.ORSEC_LIVE_RETENTION_HOURS = 24
    chain = chain_for_event(flood_event)
    for number in range(7):
        log_information(personas.operator37.user, chain, f"Ancien {number}", channel="radio")
    old = list(OutboxMessage.objects.order_by("id"))
    age(old, 30)
    log_information(personas.operator37.user, chain, "Récent", channel="radio")
    recent = list(OutboxMessage.objects.exclude(pk__in=[r.pk for r in old]))
    age(recent, 23)  # inside the retention
    assert do_prune_outbox(batch=3) == len(old)  # three transactions of at most 3 rows
    assert set(OutboxMessage.objects.values_list("pk", flat=True)) == {r.pk for r in recent}
    # nothing more to do; the bad batch size is refused
    assert do_prune_outbox() == 0
    with pytest.raises(ValueError, match="batch"):
        do_prune_outbox(batch=0)
    # everything old, even the newest row: it stays, the floor of the log (ids keep growing)
    age(recent, 48)
    newest = max(r.pk for r in recent)
    assert do_prune_outbox() == len(recent) - 1
    assert list(OutboxMessage.objects.values_list("pk", flat=True)) == [newest]
    # a clock passed in decides what is old
    assert do_prune_outbox(now=timezone.now() - timedelta(days=10)) == 0


def test_the_command_prunes_and_reports_the_count(
    personas: Any, flood_event: Any, settings: Any
) -> None:
    settings.ORSEC_LIVE_RETENTION_HOURS = 2
    chain = chain_for_event(flood_event)
    log_information(personas.operator37.user, chain, "Ancien", channel="radio")
    log_information(personas.operator37.user, chain, "Récent", channel="radio")
    rows = list(OutboxMessage.objects.order_by("id"))
    age(rows[:-1], 3)
    out = StringIO()
    call_command("prune_live_outbox", stdout=out)
    assert out.getvalue().strip() == f"{len(rows) - 1} message(s) temps réel supprimé(s) " + (
        "(conservation : 2 h)."
    )
    assert OutboxMessage.objects.count() == 1


def test_the_periodic_task_runs_on_the_worker_and_requeues_itself_once(
    personas: Any, flood_event: Any, settings: Any, monkeypatch: Any
) -> None:
    monkeypatch.setattr(db_worker, "close_old_connections", lambda: None)
    settings.ORSEC_LIVE_RETENTION_HOURS = 1
    chain = chain_for_event(flood_event)
    log_information(personas.operator37.user, chain, "Ancien", channel="radio")
    log_information(personas.operator37.user, chain, "Récent", channel="radio")
    rows = list(OutboxMessage.objects.order_by("id"))
    age(rows[:-1], 5)
    out = StringIO()
    call_command("schedule_live_prune", stdout=out)
    assert "programmée" in out.getvalue()
    call_command("schedule_live_prune", stdout=out)
    assert "déjà programmée" in out.getvalue()
    assert pending_prunes().count() == 1
    assert pending_prunes().get().run_after > timezone.now()
    # run one now (the scheduled one waits for its time)
    result = prune_outbox.enqueue()
    call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", verbosity=0)
    row = DBTaskResult.objects.get(id=result.id)
    assert row.status == "SUCCESSFUL", row.traceback
    assert row.return_value == {"deleted": len(rows) - 1}
    assert OutboxMessage.objects.count() == 1
    assert pending_prunes().count() == 1  # the chain converged: still one pending run
    assert ensure_prune_scheduled() is False
