"""The only writer of audit records, and the chain verifier."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone

from orsec.audit.models import GENESIS_HASH, AuditHead, AuditRecord
from orsec.core.net import client_ip

if TYPE_CHECKING:
    from django.http import HttpRequest

logger = logging.getLogger("orsec.audit")


def record_audit(
    action: str,
    *,
    actor: Any = None,
    actor_label: str = "",
    request: HttpRequest | None = None,
    target: Any = None,
    outcome: str = "success",
    data: dict[str, Any] | None = None,
) -> AuditRecord:
    """Append one record to the chain, inside the caller's transaction when there is one.

    ``actor`` is a user (or None); ``target`` any model instance. Never put secrets in ``data``.
    """
    if actor is not None and not getattr(actor, "is_authenticated", False):
        actor = None
    with transaction.atomic(savepoint=False):  # an error rolls back the caller's transaction
        # The head row is the chain's lock: PostgreSQL serialises on it, SQLite on BEGIN IMMEDIATE.
        head, _ = AuditHead.objects.select_for_update().get_or_create(pk=1)
        record = AuditRecord(
            at=timezone.now(),
            action=action,
            outcome=outcome,
            actor=actor,
            actor_label=actor_label or (actor.get_username() if actor is not None else ""),
            target_type=target._meta.label_lower if target is not None else "",
            target_id=str(target.pk) if target is not None else "",
            ip=client_ip(request) if request is not None else None,
            method=(request.method or "") if request is not None else "",
            path=(request.path[:300] if request is not None else ""),
            data=data or {},
            prev_hash=head.last_hash,
        )
        record.hash = record.compute_hash()
        record.save(force_insert=True)
        head.last_hash = record.hash
        head.count += 1
        head.save(update_fields=["last_hash", "count"])
    logger.info(
        "audit",
        extra={
            "audit": {
                "id": record.pk,
                "action": action,
                "outcome": outcome,
                "actor": record.actor_label,
                "target": f"{record.target_type}:{record.target_id}" if target else "",
                "ip": record.ip,
                "method": record.method,
                "path": record.path,
                "hash": record.hash,
            }
        },
    )
    return record


def record_access_denied(actor: Any, model: Any, object_id: object) -> AuditRecord:
    """An authorization failure (S28): a user asked for an object that exists but is not theirs.

    The user still gets the same 404 as for an absent object; only the audit trail and the
    security log tell the two apart.
    """
    return record_audit(
        "access.denied",
        actor=actor,
        outcome="failure",
        data={"object": model._meta.label_lower, "id": str(object_id)[:64]},
    )


@dataclass(frozen=True)
class ChainProblem:
    record_id: int | None
    reason: str


def verify_audit_chain(batch_size: int = 2000) -> tuple[int, ChainProblem | None]:
    """Recompute the chain; return (records checked, first problem or None)."""
    expected_prev = GENESIS_HASH
    previous_id: int | None = None
    checked = 0
    queryset = AuditRecord.objects.order_by("id")
    for record in queryset.iterator(chunk_size=batch_size):
        if record.prev_hash != expected_prev:
            where = f"après l'enregistrement #{previous_id}" if previous_id else "au début"
            return checked, ChainProblem(
                record.pk,
                f"enregistrement #{record.pk} : chaînage rompu, un ou plusieurs enregistrements "
                f"ont été supprimés ou insérés {where}",
            )
        if record.compute_hash() != record.hash:
            return checked, ChainProblem(
                record.pk, f"enregistrement #{record.pk} : contenu modifié (empreinte invalide)"
            )
        expected_prev = record.hash
        previous_id = record.pk
        checked += 1
    head = AuditHead.objects.filter(pk=1).first()
    if head is not None and (head.last_hash != expected_prev or head.count != checked):
        return checked, ChainProblem(
            None,
            f"fin de chaîne : la tête attend {head.count} enregistrements se terminant par "
            f"{head.last_hash[:12]}…, trouvé {checked} se terminant par {expected_prev[:12]}… "
            "(derniers enregistrements supprimés)",
        )
    return checked, None
