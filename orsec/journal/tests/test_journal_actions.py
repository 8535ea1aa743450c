"""Journal actions (add, correct, pin), confidentiality filter and the verify_journal command."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.management import ManagementUtility, call_command
from django.core.management.base import CommandError
from django.utils import timezone

from orsec.audit.models import AuditRecord
from orsec.journal.access import filter_entries
from orsec.journal.actions import (
    JournalError,
    do_add_entry,
    do_correct_entry,
    do_pin_entry,
    do_unpin_entry,
    log_information,
)
from orsec.journal.chain import chain_for_event, verify_chain, watch_chain_for
from orsec.journal.models import Highlight, JournalEntry

pytestmark = pytest.mark.django_db


def test_operator37_adds_an_entry_with_organisation_audit_and_chain(personas, flood_event):
    chain = chain_for_event(flood_event)
    entry = do_add_entry(
        personas.operator37.user,
        chain,
        kind="information",
        text="  Digue de Saint-Pierre surveillée.  ",
        channel="phone",
    )
    assert entry.seq == 2
    assert entry.text == "Digue de Saint-Pierre surveillée."
    assert entry.organisation_label == "COD 37"
    assert entry.mode == "real"
    assert AuditRecord.objects.filter(action="journal.entry.added", target_id=str(entry.pk))
    assert verify_chain(chain) == (2, None)


@pytest.mark.parametrize(
    ("text", "code"),
    [("   ", "text_required"), ("x" * 10_001, "text_too_long")],
)
def test_bad_text_is_refused_and_nothing_is_written(personas, flood_event, text, code):
    chain = chain_for_event(flood_event)
    with pytest.raises(JournalError) as error:
        do_add_entry(
            personas.operator37.user, chain, kind="information", text=text, channel="phone"
        )
    assert error.value.code == code
    assert JournalEntry.objects.filter(event=flood_event).count() == 1


def test_occurred_at_in_the_future_or_before_opening_is_refused(personas, flood_event):
    chain = chain_for_event(flood_event)
    user = personas.operator37.user
    now = timezone.now()
    with pytest.raises(JournalError) as future:
        log_information(
            user, chain, "Demain", channel="phone", occurred_at=now + timedelta(hours=1)
        )
    assert future.value.code == "occurred_at_future"
    assert "dans le futur" in str(future.value)
    with pytest.raises(JournalError) as early:
        log_information(
            user,
            chain,
            "Avant",
            channel="phone",
            occurred_at=flood_event.opened_at - timedelta(hours=25),
        )
    assert early.value.code == "occurred_at_before_event"
    assert "antérieure de plus de 24 heures" in str(early.value)
    # within the skew and within the 24 h before opening: accepted
    log_information(user, chain, "Skew", channel="phone", occurred_at=now + timedelta(minutes=4))
    log_information(
        user,
        chain,
        "Veille",
        channel="phone",
        occurred_at=flood_event.opened_at - timedelta(hours=23),
    )


def test_correction_is_a_new_entry_and_the_original_never_changes(personas, flood_event):
    chain = chain_for_event(flood_event)
    user = personas.operator37.user
    original = log_information(user, chain, "12 évacués", channel="phone")
    before = (original.text, original.hash)
    correction = do_correct_entry(user, original, text="21 évacués", reason="Inversion")
    original.refresh_from_db()
    assert (original.text, original.hash) == before
    assert correction.corrects_id == original.pk
    assert correction.data == {"corrects_seq": original.seq, "reason": "Inversion"}
    assert list(original.corrections.values_list("seq", flat=True)) == [correction.seq]
    with pytest.raises(JournalError) as error:
        do_correct_entry(user, original, text="x", reason=" ")
    assert error.value.code == "reason_required"


def test_correction_never_widens_the_audience(personas, flood_event):
    chain = chain_for_event(flood_event)
    lead = personas.room_lead37.user
    secret = log_information(
        lead, chain, "Nom de la victime", channel="phone", confidentiality="restricted"
    )
    correction = do_correct_entry(
        lead, secret, text="Autre nom", reason="x", confidentiality="public"
    )
    assert correction.confidentiality == "restricted"


def test_state_change_entries_cannot_be_corrected(personas, flood_event):
    opening = JournalEntry.objects.get(event=flood_event, seq=1)
    with pytest.raises(JournalError) as error:
        do_correct_entry(personas.room_lead37.user, opening, text="x", reason="y")
    assert error.value.code == "not_correctable"


def test_pin_and_unpin_are_recorded_and_a_second_pin_is_refused(personas, flood_event):
    chain = chain_for_event(flood_event)
    user = personas.operator37.user
    entry = log_information(user, chain, "Coupure RD 952", channel="radio")
    do_pin_entry(user, entry)
    assert Highlight.objects.filter(entry=entry).exists()
    with pytest.raises(JournalError) as error:
        do_pin_entry(user, entry)
    assert error.value.code == "already_pinned"
    do_unpin_entry(user, entry)
    assert not Highlight.objects.filter(entry=entry).exists()
    texts = list(JournalEntry.objects.filter(event=flood_event).values_list("text", flat=True))
    assert f"Fait marquant épinglé : entrée n° {entry.seq}." in texts
    assert f"Fait marquant retiré : entrée n° {entry.seq}." in texts
    assert AuditRecord.objects.filter(action="journal.entry.pinned").count() == 2
    assert verify_chain(chain)[1] is None


def test_filter_entries_hides_restricted_without_the_ability(personas, flood_event):
    chain = chain_for_event(flood_event)
    log_information(
        personas.room_lead37.user, chain, "Secret", channel="phone", confidentiality="restricted"
    )
    queryset = JournalEntry.objects.filter(event=flood_event)
    assert filter_entries(queryset, {"view": True, "view_restricted": True}).count() == 2
    assert filter_entries(queryset, {"view": True, "view_restricted": False}).count() == 1
    assert filter_entries(queryset, {"view": False, "view_restricted": True}).count() == 0


def test_watch_log_entry_older_than_seven_days_is_refused(personas):
    territory = personas.organisations["cod37"].territory
    chain = watch_chain_for(territory)
    with pytest.raises(JournalError) as error:
        log_information(
            personas.operator37.user,
            chain,
            "Ancien",
            channel="phone",
            occurred_at=timezone.now() - timedelta(days=8),
        )
    assert error.value.code == "occurred_at_too_old"


def test_verify_journal_command_exit_codes_after_an_sql_tamper(personas, flood_event, capsys):
    chain = chain_for_event(flood_event)
    log_information(personas.operator37.user, chain, "Information", channel="phone")
    call_command("verify_journal", "--event", str(flood_event.pk))
    assert "intègres" in capsys.readouterr().out
    JournalEntry.objects.filter(event=flood_event, seq=2).update(text="Réécrit en SQL")
    with pytest.raises(CommandError) as error:
        call_command("verify_journal", "--event", str(flood_event.pk))
    assert "ALTÉRÉE" in str(error.value)
    assert "entrée n° 2" in str(error.value)
    with pytest.raises(CommandError):
        call_command("verify_journal")  # all chains: the broken one is found too


def test_verify_journal_command_process_exit_code_is_1(personas, flood_event):
    JournalEntry.objects.filter(event=flood_event, seq=1).update(text="x")
    utility = ManagementUtility(["manage.py", "verify_journal", "--event", str(flood_event.pk)])
    with pytest.raises(SystemExit) as raised:
        utility.execute()
    assert raised.value.code == 1
