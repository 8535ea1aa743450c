"""Reminders and escalation of unacknowledged deliveries, with a time-travel clock, and the
background task run by the real database worker."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone
from django_tasks_db.management.commands import db_worker
from django_tasks_db.models import DBTaskResult

from orsec.dissemination.actions import (
    DisseminationError,
    do_acknowledge_delivery,
    do_disseminate_entry,
)
from orsec.dissemination.models import Delivery
from orsec.dissemination.reminders import MAX_REMINDERS, process_due_deliveries
from orsec.dissemination.tasks import check_deliveries, ensure_check_scheduled, pending_checks
from orsec.events.actions import do_close_event
from orsec.journal.models import JournalEntry
from orsec.live.models import OutboxMessage

pytestmark = pytest.mark.django_db


def disseminate(personas: Any, event: Any, entry: Any, now: Any) -> list[Delivery]:
    do_disseminate_entry(personas.operator37.user, entry, event=event, now=now)
    return list(Delivery.objects.filter(entry=entry).select_related("organisation"))


def texts(event: Any) -> list[str]:
    return list(
        JournalEntry.objects.filter(event=event).order_by("seq").values_list("text", flat=True)
    )


def test_unacknowledged_deliveries_are_reminded_then_escalated_to_the_room_lead(
    personas: Any,
    flood_event: Any,
    casualty_rule: Any,
    casualties_entry: Any,
    settings: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    settings.ORSEC_ACK_REMINDER_MINUTES = 15
    settings.ORSEC_ACK_ESCALATION_MINUTES = 30
    sent = timezone.now()
    deliveries = disseminate(personas, flood_event, casualties_entry, sent)
    sdis = next(d for d in deliveries if d.organisation.kind == "sdis")
    ars = next(d for d in deliveries if d.organisation.kind == "ars")

    # nothing due yet
    with django_capture_on_commit_callbacks(execute=True):
        assert process_due_deliveries(sent + timedelta(minutes=14)).reminded == []
    assert mail.outbox == []

    # SDIS 37 acknowledges in time; ARS does not
    do_acknowledge_delivery(personas.liaison_sdis37.user, sdis, now=sent + timedelta(minutes=5))
    with django_capture_on_commit_callbacks(execute=True):
        summary = process_due_deliveries(sent + timedelta(minutes=16))
    assert summary.reminded == [ars.pk]
    assert summary.escalated == []
    ars.refresh_from_db()
    assert ars.reminder_count == 1
    assert any(
        t.startswith("Relance n° 1 : ARS CVL n'a pas encore pris en compte")
        for t in texts(flood_event)
    )
    assert [m.to for m in mail.outbox] == [["alerte.ars@demo-orsec.example"]]
    assert "Relance" in mail.outbox[0].subject
    assert OutboxMessage.objects.filter(
        kind="delivery.reminder", topic=f"organisation:{ars.organisation_id}"
    ).exists()
    # the same instant again: nothing more (a reminder every 15 minutes, not every run)
    with django_capture_on_commit_callbacks(execute=True):
        assert process_due_deliveries(sent + timedelta(minutes=17)).reminded == []

    # 31 minutes: escalation to the room lead of the COD 37 (once) and the second reminder
    with django_capture_on_commit_callbacks(execute=True):
        summary = process_due_deliveries(sent + timedelta(minutes=31))
    assert summary.escalated == [ars.pk]
    assert summary.reminded == [ars.pk]
    ars.refresh_from_db()
    assert ars.escalated_at == sent + timedelta(minutes=31)
    lead = personas.room_lead37.user
    assert [lead.email] in [m.to for m in mail.outbox]
    assert OutboxMessage.objects.filter(kind="delivery.escalated", topic=f"user:{lead.pk}").exists()
    assert any(t.startswith("Escalade au chef de salle : ARS CVL") for t in texts(flood_event))
    with django_capture_on_commit_callbacks(execute=True):
        assert process_due_deliveries(sent + timedelta(minutes=47)).escalated == []

    # reminders stop after MAX_REMINDERS, and once acknowledged
    with django_capture_on_commit_callbacks(execute=True):
        for minutes in range(60, 200, 16):
            process_due_deliveries(sent + timedelta(minutes=minutes))
    ars.refresh_from_db()
    assert ars.reminder_count == MAX_REMINDERS
    sdis.refresh_from_db()
    assert sdis.reminder_count == 0
    assert sdis.escalated_at is None


def test_deliveries_of_a_closed_event_are_not_reminded(
    personas: Any, flood_event: Any, casualty_rule: Any, casualties_entry: Any
) -> None:
    sent = timezone.now()
    disseminate(personas, flood_event, casualties_entry, sent)
    do_close_event(personas.room_lead37.user, flood_event, "Décrue, fin de l'événement.")
    summary = process_due_deliveries(sent + timedelta(hours=2))
    assert summary.reminded == []
    assert summary.escalated == []


def test_the_database_worker_runs_the_check_task_and_schedules_the_next_run(
    personas: Any,
    flood_event: Any,
    casualty_rule: Any,
    casualties_entry: Any,
    django_capture_on_commit_callbacks: Any,
    monkeypatch: Any,
) -> None:
    # The worker recycles its database connection between tasks; inside the test's transaction
    # (PostgreSQL) that would close it. Everything else is the real worker.
    monkeypatch.setattr(db_worker, "close_old_connections", lambda: None)
    an_hour_ago = timezone.now() - timedelta(hours=1)
    deliveries = disseminate(personas, flood_event, casualties_entry, an_hour_ago)
    result = check_deliveries.enqueue()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", verbosity=0)
    row = DBTaskResult.objects.get(id=result.id)
    assert row.status == "SUCCESSFUL", row.traceback
    assert row.return_value is not None
    assert sorted(row.return_value["reminded"]) == sorted(d.pk for d in deliveries)
    assert sorted(row.return_value["escalated"]) == sorted(d.pk for d in deliveries)
    assert all(d.reminder_count == 1 for d in Delivery.objects.filter(entry=casualties_entry))
    assert mail.outbox  # the ARS reminder and the escalation to the room lead
    # the next run is queued for later (the --batch worker left it alone) and only once
    pending = pending_checks().get()
    assert pending.run_after > timezone.now()
    assert ensure_check_scheduled() is False
    assert pending_checks().count() == 1


def test_named_user_delivery_reaches_their_topic_and_a_closed_event_refuses_dissemination(
    personas: Any, flood_event: Any, casualties_entry: Any
) -> None:
    marc = personas.liaison_sdis37.user
    do_disseminate_entry(
        personas.operator37.user, casualties_entry, event=flood_event, users=[marc], use_rules=False
    )
    delivery = Delivery.objects.get(entry=casualties_entry)
    assert delivery.user == marc
    assert delivery.organisation == personas.organisations["sdis37"]
    assert OutboxMessage.objects.filter(kind="delivery.sent", topic=f"user:{marc.pk}").exists()
    assert any(t.startswith("Diffusé à : SDIS 37 (Marc Dubois)") for t in texts(flood_event))
    do_close_event(personas.room_lead37.user, flood_event, "Décrue, fin de l'événement.")
    with pytest.raises(DisseminationError) as refused:
        do_disseminate_entry(
            personas.operator37.user,
            casualties_entry,
            event=flood_event,
            organisations=[personas.organisations["samu37"]],
        )
    assert refused.value.code == "event_closed"
