"""Exports of a main courante (CSV and JSON) that a third party can re-verify.

Each row carries every field the hash covers (the canonical form of
:meth:`orsec.journal.models.JournalEntry.canonical`), its ``prev_hash`` and its ``hash``. The
header states the canonical form, the chain's head and the mode. A verifier recomputes
``sha256(json.dumps(canonical, sort_keys=True, ensure_ascii=False, separators=(",", ":")))``
for each row and checks that every ``prev_hash`` is the previous row's ``hash``
(``docs/journal.md`` holds a 30-line script).

Entries the reader may not see (diffusion restreinte) appear as **redacted rows**: sequence
number, ``prev_hash`` and ``hash`` only, ``redacted`` true. The chain stays continuous (the next
row's ``prev_hash`` is the redacted row's ``hash``), so the export verifies end to end; the
content of a redacted entry is vouched for by its hash alone.

An exercise (or test) export carries its marker in the file name, the header and every row.
Every export is audited.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest
from django.utils import timezone

from orsec.audit.actions import record_audit
from orsec.journal.access import can_read_entry
from orsec.journal.models import GENESIS_HASH, HASH_VERSION, JournalChain, JournalEntry

FORMAT_NAME = "orsec-journal-export"
FORMAT_VERSION = 1

#: The canonical fields, in the order of the CSV columns.
CANONICAL_FIELDS: tuple[str, ...] = (
    "v",
    "chain",
    "seq",
    "event",
    "territory",
    "mode",
    "occurred_at",
    "recorded_at",
    "author",
    "organisation",
    "channel",
    "kind",
    "text",
    "qualification",
    "confidentiality",
    "corrects",
    "highlight",
    "subject",
    "data",
    "attachments",
    "prev_hash",
)
#: CSV columns: the canonical fields, then the hash, the redaction flag and the mode marker.
CSV_COLUMNS: tuple[str, ...] = (*CANONICAL_FIELDS, "hash", "redacted", "marker")

CANONICAL_DESCRIPTION = (
    "hash = sha256(UTF-8 de json.dumps(canonical, sort_keys=True, ensure_ascii=False, "
    'separators=(",", ":"))) ; canonical = les champs ' + ", ".join(CANONICAL_FIELDS) + " ; "
    "dates en UTC ISO 8601 avec microsecondes et suffixe Z ; prev_hash de la première entrée = "
    + GENESIS_HASH
    + ". CSV : event et corrects vides = null ; highlight true/false ; data et attachments en "
    "JSON ; v, chain, seq, event, corrects entiers. Lignes redacted=true : contenu non "
    "communiqué (diffusion restreinte), seuls seq, prev_hash et hash font foi."
)


@dataclass(frozen=True)
class ExportFile:
    filename: str
    content_type: str
    content: bytes


def _marker(chain: JournalChain) -> str:
    return {"exercise": "EXERCICE", "test": "TEST"}.get(chain.mode, "")


def export_rows(chain: JournalChain, abilities: dict[str, bool]) -> Iterator[dict[str, Any]]:
    """One dict per entry, by sequence: the canonical fields + ``hash`` (+ ``redacted``)."""
    marker = _marker(chain)
    entries = JournalEntry.objects.filter(chain=chain).order_by("seq")
    for entry in entries.iterator(chunk_size=1000):
        if can_read_entry(entry, abilities):
            row = entry.canonical()
            row.update(hash=entry.hash, redacted=False, marker=marker)
        else:
            row = {k: None for k in CANONICAL_FIELDS}
            row.update(
                seq=entry.seq,
                prev_hash=entry.prev_hash,
                hash=entry.hash,
                redacted=True,
                marker=marker,
            )
        yield row


def export_header(chain: JournalChain, *, redacted: int = 0) -> dict[str, Any]:
    event = chain.event if chain.event_id else None
    return {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "hash_version": HASH_VERSION,
        "hash_algorithm": "sha256",
        "canonical_form": CANONICAL_DESCRIPTION,
        "canonical_fields": list(CANONICAL_FIELDS),
        "genesis_hash": GENESIS_HASH,
        "chain": chain.pk,
        "event": event.pk if event is not None else None,
        "event_title": event.title if event is not None else "",
        "territory": chain.territory_path,
        "mode": chain.mode,
        "marker": _marker(chain),
        "head": {"last_seq": chain.last_seq, "last_hash": chain.last_hash},
        "redacted_entries": redacted,
        "exported_at": timezone.now().isoformat(timespec="seconds"),
    }


def _basename(chain: JournalChain) -> str:
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    owner = f"evenement-{chain.event_id}" if chain.event_id else f"veille-{chain.territory_id}"
    marker = _marker(chain)
    return f"{marker + '-' if marker else ''}main-courante-{owner}-{stamp}"


def build_json(chain: JournalChain, abilities: dict[str, bool]) -> dict[str, Any]:
    """The JSON export as a Python structure (the API returns it as is)."""
    head = JournalChain.objects.get(pk=chain.pk)  # the head as of now, not a stale instance
    rows = list(export_rows(head, abilities))
    document = export_header(head, redacted=sum(1 for r in rows if r["redacted"]))
    document["entries"] = rows
    return document


def _csv_cell(name: str, value: Any) -> str:
    if value is None:
        return ""
    if name in ("data", "attachments"):
        return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def build_csv(chain: JournalChain, abilities: dict[str, bool]) -> str:
    """CSV text: comment lines (``#``) stating the canonical form, then the column header."""
    head = JournalChain.objects.get(pk=chain.pk)
    rows = list(export_rows(head, abilities))
    header = export_header(head, redacted=sum(1 for r in rows if r["redacted"]))
    out = io.StringIO()
    for key in ("format", "format_version", "marker", "mode", "event", "event_title", "chain"):
        out.write(f"# {key}: {' '.join(str(header[key]).splitlines())}\n")
    out.write(f"# head: {header['head']['last_seq']} {header['head']['last_hash']}\n")
    out.write(f"# redacted_entries: {header['redacted_entries']}\n")
    out.write(f"# canonical_form: {CANONICAL_DESCRIPTION}\n")
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        writer.writerow([_csv_cell(name, row.get(name)) for name in CSV_COLUMNS])
    return out.getvalue()


def export_chain(
    actor: Any,
    chain: JournalChain,
    abilities: dict[str, bool],
    fmt: str,
    *,
    request: HttpRequest | None = None,
) -> ExportFile:
    """Build the export file (``fmt``: ``csv`` or ``json``) and audit it."""
    if fmt not in ("csv", "json"):
        raise ValueError(fmt)
    if fmt == "csv":
        content = build_csv(chain, abilities).encode("utf-8")
        content_type = "text/csv; charset=utf-8"
    else:
        document = build_json(chain, abilities)
        content = json.dumps(document, ensure_ascii=False, indent=1).encode("utf-8")
        content_type = "application/json; charset=utf-8"
    audit_export(actor, chain, abilities, fmt, request=request)
    return ExportFile(f"{_basename(chain)}.{fmt}", content_type, content)


def audit_export(
    actor: Any,
    chain: JournalChain,
    abilities: dict[str, bool],
    fmt: str,
    *,
    request: HttpRequest | None = None,
) -> None:
    record_audit(
        "journal.exported",
        actor=actor,
        request=request,
        target=chain,
        data={
            "format": fmt,
            "event": chain.event_id,
            "mode": chain.mode,
            "restricted_included": bool(abilities.get("view_restricted")),
        },
    )
