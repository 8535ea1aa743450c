"""Append to a chain (the only INSERT into ``JournalEntry``) and verify chains."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from orsec.journal.files import MAX_ATTACHMENTS_PER_ENTRY, AttachmentError, StoredFile
from orsec.journal.models import GENESIS_HASH, Attachment, JournalChain, JournalEntry
from orsec.live.outbox import event_topic, queue_live_message, watch_topic


def chain_for_event(event: Any) -> JournalChain:
    chain, _ = JournalChain.objects.get_or_create(
        event=event,
        defaults={
            "territory_id": event.territory_id,
            "territory_path": event.territory_path,
            "mode": event.mode,
        },
    )
    return chain


def watch_chain_for(territory: Any) -> JournalChain:
    chain, _ = JournalChain.objects.get_or_create(
        event=None,
        territory=territory,
        defaults={"territory_path": territory.path, "mode": "real"},
    )
    return chain


def chain_topic(chain: JournalChain) -> str:
    return event_topic(chain.event_id) if chain.event_id else watch_topic(chain.territory_path)


def chain_topics(chain: JournalChain) -> list[str]:
    """Where a new entry is announced: the event's page, and the watch rooms above the event's
    territory (``watch:<path>`` reaches the zone and national rooms through their prefixes);
    a watch log's entries go to its territory's watch topic only."""
    if chain.event_id:
        return [event_topic(chain.event_id), watch_topic(chain.territory_path)]
    return [watch_topic(chain.territory_path)]


@transaction.atomic(savepoint=False)  # an error rolls back the caller's whole transaction
def append_entry(
    chain: JournalChain,
    *,
    kind: str,
    text: str,
    channel: str,
    author: Any = None,
    author_label: str = "",
    organisation: Any = None,
    occurred_at: datetime | None = None,
    qualification: str = "none",
    confidentiality: str = "internal",
    corrects: JournalEntry | None = None,
    is_highlight: bool = False,
    subject: Any = None,
    data: dict[str, Any] | None = None,
    files: list[StoredFile] | None = None,
    now: datetime | None = None,
) -> JournalEntry:
    """Insert one entry at the head of ``chain`` (locked), and queue its live message.

    ``files`` are uploads already checked and stored by :func:`orsec.journal.files.store_upload`;
    their SHA-256 digests are part of the entry's hash.
    """
    now = now or timezone.now()
    files = files or []
    if len(files) > MAX_ATTACHMENTS_PER_ENTRY:
        raise AttachmentError(f"{MAX_ATTACHMENTS_PER_ENTRY} pièces jointes au plus par entrée.")
    head = JournalChain.objects.select_for_update().get(pk=chain.pk)
    if author is not None and not getattr(author, "is_authenticated", False):
        author = None
    entry = JournalEntry(
        chain=head,
        seq=head.last_seq + 1,
        event_id=head.event_id,
        territory_path=head.territory_path,
        mode=head.mode,
        occurred_at=occurred_at or now,
        recorded_at=now,
        author=author,
        author_label=author_label
        or ((author.get_full_name() or author.get_username()) if author else "Portail ORSEC"),
        organisation=organisation,
        organisation_label=(organisation.short_name or organisation.name) if organisation else "",
        channel=channel,
        kind=kind,
        text=text,
        qualification=qualification,
        confidentiality=confidentiality,
        corrects=corrects,
        is_highlight=is_highlight,
        subject_type=subject._meta.label_lower if subject is not None else "",
        subject_id=str(subject.pk) if subject is not None else "",
        data=data or {},
        attachment_digests=[f.sha256 for f in files],
        prev_hash=head.last_hash,
    )
    entry.hash = entry.compute_hash()
    entry.save(force_insert=True)
    if files:
        Attachment.objects.bulk_create(
            [
                Attachment(
                    entry=entry,
                    filename=f.filename,
                    content_type=f.content_type,
                    size=f.size,
                    sha256=f.sha256,
                    storage_name=f.storage_name,
                )
                for f in files
            ]
        )
    JournalChain.objects.filter(pk=head.pk).update(last_seq=entry.seq, last_hash=entry.hash)
    chain.last_seq, chain.last_hash = entry.seq, entry.hash
    queue_live_message(
        chain_topics(head),
        "journal.entry",
        {"entry": entry.pk, "seq": entry.seq, "event": head.event_id},
        mode=head.mode,
    )
    return entry


@dataclass(frozen=True)
class ChainProblem:
    seq: int | None
    reason: str


def verify_chain(chain: JournalChain, batch_size: int = 2000) -> tuple[int, ChainProblem | None]:
    """Recompute the chain; (entries checked, first problem or None). Messages are French."""
    expected_prev = GENESIS_HASH
    expected_seq = 1
    checked = 0
    for entry in chain.entries.order_by("seq").iterator(chunk_size=batch_size):
        if entry.seq != expected_seq:
            return checked, ChainProblem(
                entry.seq,
                f"entrée n° {entry.seq} : n° {expected_seq} attendu, une ou plusieurs entrées "
                "ont été supprimées",
            )
        if entry.prev_hash != expected_prev:
            return checked, ChainProblem(
                entry.seq, f"entrée n° {entry.seq} : chaînage rompu avec l'entrée précédente"
            )
        if entry.compute_hash() != entry.hash:
            return checked, ChainProblem(
                entry.seq, f"entrée n° {entry.seq} : contenu modifié (empreinte invalide)"
            )
        expected_prev = entry.hash
        expected_seq += 1
        checked += 1
    head = JournalChain.objects.get(pk=chain.pk)
    if head.last_seq != checked or head.last_hash != expected_prev:
        return checked, ChainProblem(
            None,
            f"fin de chaîne : la tête attend {head.last_seq} entrées, {checked} trouvées "
            "(dernières entrées supprimées ou tête modifiée)",
        )
    return checked, None
