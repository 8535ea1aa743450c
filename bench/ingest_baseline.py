"""The baseline of bench/ingest.py: one field report's writes through raw psycopg.

The same rows and locks as ``orsec.reports.actions.do_submit_report`` (plus the idempotency
record the API writes), in the same order, with the hashes computed the same way — but no HTTP,
no Django, no validation, no access check: what the database alone does for this write pattern.
Table and column names come from the models' metadata, so a renamed column fails loudly here.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

from psycopg import sql

_META: dict[str, tuple[str, set[str]]] = {}


def _table(label: str) -> tuple[str, set[str]]:
    """(db_table, column names) of a model, from Django's metadata (read once)."""
    if label not in _META:
        from django.apps import apps

        model = apps.get_model(label)
        _META[label] = (model._meta.db_table, {f.column for f in model._meta.concrete_fields})
    return _META[label]


def _insert(connection: Any, label: str, values: dict[str, Any]) -> int:
    table, columns = _table(label)
    row = {k: v for k, v in values.items() if k in columns}
    missing = set(values) - columns
    if missing:
        raise SystemExit(f"ligne de base : colonnes inconnues dans {table} : {sorted(missing)}")
    query = sql.SQL("INSERT INTO {} ({}) VALUES ({}) RETURNING id").format(
        sql.Identifier(table),
        sql.SQL(", ").join(sql.Identifier(c) for c in row),
        sql.SQL(", ").join(sql.Placeholder() for _ in row),
    )
    cursor = connection.execute(
        query, [json.dumps(v) if isinstance(v, dict | list) else v for v in row.values()]
    )
    result = cursor.fetchone()
    assert result is not None
    return int(result[0])


def _digest(payload: dict[str, Any]) -> str:
    text = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def baseline_transaction(
    connection: Any, event_id: int, chain_id: int, client: int, n: int
) -> None:
    """One report, in the application's order: idempotency look-up, report, transition, watch
    outbox row, journal entry on the locked chain (+ head update, event outbox row), the
    report's entry link, audit record on the locked audit head, stored idempotent response.
    Runs inside the caller's transaction."""
    now = datetime.now(UTC)
    figures = {"dead": 0, "absolute": n % 4, "relative": n % 9, "evacuated": n % 50}
    text = f"Remontée ligne de base {client}-{n} : hauteur d'eau relevée, secteur {n % 40}."
    idem_table, _ = _table("partners.IdempotencyRecord")
    principal, key = f"token:{client}", f"ligne-de-base-{client}-{n}"
    _claim_idempotency_key(connection, idem_table, principal, key)
    report_id = _insert(
        connection,
        "reports.FieldReport",
        {
            "event_id": event_id,
            "territory_id": _event_territory(connection, event_id),
            "territory_path": "FR/OUEST/R24/D37",
            "mode": "real",
            "template": "casualties",
            "figures": figures,
            "text": text,
            "location": {"type": "Point", "coordinates": [0.68, 47.39]},
            "occurred_at": now,
            "author_label": "banc",
            "channel": "api",
            "state": "raw",
            "priority": "routine",
            "refute_reason": "",
            "revision": 0,
            "created_at": now,
            "updated_at": now,
            "reliability": "",
        },
    )
    _insert(
        connection,
        "reports.ReportTransition",
        {
            "report_id": report_id,
            "action": "submit",
            "old": "",
            "new": "raw",
            "reason": "",
            "reliability": "",
            "priority": "",
            "actor_label": "banc",
            "at": now,
        },
    )
    _insert(
        connection,
        "live.OutboxMessage",
        {
            "created_at": now,
            "topic": "watch:FR/OUEST/R24/D37",
            "kind": "report.submitted",
            "mode": "real",
            "payload": {"report": report_id, "event": event_id},
        },
    )
    chain_table, _ = _table("journal.JournalChain")
    row = connection.execute(
        sql.SQL("SELECT last_seq, last_hash FROM {} WHERE id = %s FOR UPDATE").format(
            sql.Identifier(chain_table)
        ),
        [chain_id],
    ).fetchone()
    seq, prev = row[0] + 1, row[1]
    entry_hash = _digest(
        {"chain": chain_id, "seq": seq, "text": text, "figures": figures, "prev_hash": prev}
    )
    entry_id = _insert(
        connection,
        "journal.JournalEntry",
        {
            "chain_id": chain_id,
            "seq": seq,
            "event_id": event_id,
            "territory_path": "FR/OUEST/R24/D37",
            "mode": "real",
            "occurred_at": now,
            "recorded_at": now,
            "author_label": "banc",
            "organisation_label": "SDIS 37",
            "channel": "api",
            "kind": "bilan",
            "text": text,
            "qualification": "raw",
            "confidentiality": "internal",
            "is_highlight": False,
            "subject_type": "reports.fieldreport",
            "subject_id": str(report_id),
            "data": {"template": "casualties", "figures": figures},
            "attachment_digests": [],
            "prev_hash": prev,
            "hash": entry_hash,
        },
    )
    connection.execute(
        sql.SQL("UPDATE {} SET last_seq = %s, last_hash = %s WHERE id = %s").format(
            sql.Identifier(chain_table)
        ),
        [seq, entry_hash, chain_id],
    )
    _insert(
        connection,
        "live.OutboxMessage",
        {
            "created_at": now,
            "topic": f"event:{event_id}",
            "kind": "journal.entry",
            "mode": "real",
            "payload": {"entry": entry_id, "seq": seq, "event": event_id},
        },
    )
    report_table, _ = _table("reports.FieldReport")
    connection.execute(
        sql.SQL("UPDATE {} SET entry_id = %s WHERE id = %s").format(sql.Identifier(report_table)),
        [entry_id, report_id],
    )
    head_table, _ = _table("audit.AuditHead")
    head = connection.execute(
        sql.SQL("SELECT last_hash, count FROM {} WHERE id = 1 FOR UPDATE").format(
            sql.Identifier(head_table)
        )
    ).fetchone()
    audit_hash = _digest({"action": "reports.report.submitted", "id": report_id, "prev": head[0]})
    _insert(
        connection,
        "audit.AuditRecord",
        {
            "at": now,
            "action": "reports.report.submitted",
            "outcome": "success",
            "actor_label": "banc",
            "target_type": "reports.fieldreport",
            "target_id": str(report_id),
            "method": "POST",
            "path": f"/api/v1/events/{event_id}/reports",
            "data": {"template": "casualties", "event": event_id, "photos": 0},
            "prev_hash": head[0],
            "hash": audit_hash,
        },
    )
    connection.execute(
        sql.SQL("UPDATE {} SET last_hash = %s, count = count + 1 WHERE id = 1").format(
            sql.Identifier(head_table)
        ),
        [audit_hash],
    )
    _store_idempotency(connection, principal, key, now)


_TERRITORY: dict[int, int] = {}


def _event_territory(connection: Any, event_id: int) -> int:
    if event_id not in _TERRITORY:
        table, _ = _table("events.Event")
        row = connection.execute(
            sql.SQL("SELECT territory_id FROM {} WHERE id = %s").format(sql.Identifier(table)),
            [event_id],
        ).fetchone()
        _TERRITORY[event_id] = int(row[0])
    return _TERRITORY[event_id]


def _claim_idempotency_key(connection: Any, table: str, principal: str, key: str) -> None:
    """What the Idempotency-Key middleware does before the view: the key's advisory lock and
    the look-up of a stored response."""
    digest = hashlib.sha256(f"{principal}:{key}".encode()).digest()[:8]
    connection.execute(
        "SELECT pg_try_advisory_xact_lock(%s)", [int.from_bytes(digest, "big", signed=True)]
    )
    connection.execute(
        sql.SQL("SELECT id, created_at FROM {} WHERE principal = %s AND key = %s").format(
            sql.Identifier(table)
        ),
        [principal, key],
    ).fetchone()


def _store_idempotency(connection: Any, principal: str, key: str, now: datetime) -> None:
    """... and after it: the stored response (a body of the API's size), before commit."""
    _insert(
        connection,
        "partners.IdempotencyRecord",
        {
            "principal": principal,
            "key": key,
            "request_hash": hashlib.sha256(key.encode()).hexdigest(),
            "status_code": 201,
            "content_type": "application/json; charset=utf-8",
            "location": "",
            "body": b"{" + b'"x": 0, ' * 90 + b'"id": 1}',
            "created_at": now,
        },
    )
