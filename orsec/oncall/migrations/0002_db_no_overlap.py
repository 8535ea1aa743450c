"""The database refuses overlapping shifts of one roster, whatever writes them.

* PostgreSQL: an exclusion constraint on ``(roster, [start, end))`` — ranges only, GiST handles
  ``int8range =`` and ``tstzrange &&`` natively (no ``btree_gist`` extension needed).
* SQLite: triggers before insert and update abort with ``shift_overlap``.

The action checks first (under a lock on the roster row) and gives the clear French message;
this is the last line of defence.
"""

from django.db import migrations

PG_CREATE = (
    "ALTER TABLE oncall_shift ADD CONSTRAINT shift_no_overlap EXCLUDE USING gist "
    "(int8range(roster_id, roster_id, '[]') WITH =, tstzrange(start, \"end\", '[)') WITH &&)"
)
PG_DROP = "ALTER TABLE oncall_shift DROP CONSTRAINT IF EXISTS shift_no_overlap"

SQLITE_CONDITION = (
    "EXISTS (SELECT 1 FROM oncall_shift s WHERE s.roster_id = NEW.roster_id "
    "AND s.id IS NOT NEW.id AND s.start < NEW.\"end\" AND s.\"end\" > NEW.start)"
)
SQLITE_CREATE = [
    f"CREATE TRIGGER shift_no_overlap_insert BEFORE INSERT ON oncall_shift "
    f"WHEN {SQLITE_CONDITION} BEGIN SELECT RAISE(ABORT, 'shift_overlap'); END",
    f"CREATE TRIGGER shift_no_overlap_update BEFORE UPDATE ON oncall_shift "
    f"WHEN {SQLITE_CONDITION} BEGIN SELECT RAISE(ABORT, 'shift_overlap'); END",
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS shift_no_overlap_insert",
    "DROP TRIGGER IF EXISTS shift_no_overlap_update",
]


def _run(schema_editor, statements):
    for sql in statements:
        schema_editor.execute(sql)


def create(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        _run(schema_editor, [PG_CREATE])
    elif vendor == "sqlite":
        _run(schema_editor, SQLITE_CREATE)


def drop(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        _run(schema_editor, [PG_DROP])
    elif vendor == "sqlite":
        _run(schema_editor, SQLITE_DROP)


class Migration(migrations.Migration):
    dependencies = [("oncall", "0001_initial")]

    operations = [migrations.RunPython(create, drop)]
