"""The audit chain detects alteration, removal and truncation made behind the application's back."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from orsec.audit.actions import record_audit, verify_audit_chain
from orsec.audit.models import AuditHead, AuditRecord

pytestmark = pytest.mark.django_db


def _chain(n: int) -> list[AuditRecord]:
    return [record_audit("test.event", actor_label=f"agent {i}", data={"i": i}) for i in range(n)]


def _sql(statement: str, params: list[str | int]) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


def test_intact_chain_verifies_and_command_says_so(capsys: pytest.CaptureFixture[str]) -> None:
    records = _chain(5)
    checked, problem = verify_audit_chain()
    assert problem is None
    assert checked == AuditRecord.objects.count() >= 5
    assert records[1].prev_hash == records[0].hash
    call_command("verify_audit")
    assert "intègre" in capsys.readouterr().out


def test_sql_update_of_a_record_is_detected_and_named() -> None:
    records = _chain(5)
    target = records[2]
    table = AuditRecord._meta.db_table
    _sql(f"UPDATE {table} SET actor_label = %s WHERE id = %s", ["intrus", target.pk])  # noqa: S608
    _, problem = verify_audit_chain()
    assert problem is not None
    assert problem.record_id == target.pk
    assert "modifié" in problem.reason
    with pytest.raises(CommandError, match=f"#{target.pk}"):
        call_command("verify_audit")


def test_sql_update_of_json_data_is_detected() -> None:
    records = _chain(3)
    table = AuditRecord._meta.db_table
    _sql(f"UPDATE {table} SET data = %s WHERE id = %s", ['{"i": 99}', records[1].pk])  # noqa: S608
    _, problem = verify_audit_chain()
    assert problem is not None
    assert problem.record_id == records[1].pk


def test_sql_delete_in_the_middle_is_detected_at_the_next_record() -> None:
    records = _chain(5)
    table = AuditRecord._meta.db_table
    _sql(f"DELETE FROM {table} WHERE id = %s", [records[2].pk])  # noqa: S608
    _, problem = verify_audit_chain()
    assert problem is not None
    assert problem.record_id == records[3].pk
    assert "supprimés" in problem.reason


def test_sql_delete_of_the_last_records_is_detected_by_the_head() -> None:
    records = _chain(4)
    table = AuditRecord._meta.db_table
    _sql(f"DELETE FROM {table} WHERE id >= %s", [records[2].pk])  # noqa: S608
    _, problem = verify_audit_chain()
    assert problem is not None
    assert problem.record_id is None
    assert "fin de chaîne" in problem.reason


def test_recomputing_one_hash_does_not_hide_the_change() -> None:
    """An attacker who rewrites a record *and* its hash still breaks the next link."""
    records = _chain(4)
    forged = AuditRecord.objects.get(pk=records[1].pk)
    forged.actor_label = "intrus"
    forged.hash = forged.compute_hash()
    table = AuditRecord._meta.db_table
    _sql(
        f"UPDATE {table} SET actor_label = %s, hash = %s WHERE id = %s",  # noqa: S608
        [forged.actor_label, forged.hash, forged.pk],
    )
    _, problem = verify_audit_chain()
    assert problem is not None
    assert problem.record_id == records[2].pk


def test_head_counts_every_record() -> None:
    before = AuditHead.objects.get_or_create(pk=1)[0].count
    _chain(3)
    assert AuditHead.objects.get(pk=1).count == before + 3
