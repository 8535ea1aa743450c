"""Append-only, hash-chained audit records.

Each record's ``hash`` is SHA-256 over its canonical content and the previous record's hash; the
single :class:`AuditHead` row holds the hash and count of the last record, so that removing the
most recent records is detected as well. See ``docs/audit.md``.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _

GENESIS_HASH = "0" * 64


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


class AuditRecord(models.Model):
    at = models.DateTimeField(_("horodatage"))
    action = models.CharField(_("action"), max_length=64, db_index=True)
    outcome = models.CharField(_("résultat"), max_length=16, default="success")
    actor = models.ForeignKey(
        "accounts.User",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_constraint=False,
    )
    actor_label = models.CharField(_("auteur"), max_length=200, blank=True)
    target_type = models.CharField(max_length=64, blank=True)
    target_id = models.CharField(max_length=64, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    method = models.CharField(max_length=8, blank=True)
    path = models.CharField(max_length=300, blank=True)
    data = models.JSONField(default=dict, blank=True)
    prev_hash = models.CharField(max_length=64, unique=True)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        verbose_name = _("enregistrement d'audit")
        verbose_name_plural = _("journal d'audit")
        ordering = ["id"]

    def __str__(self) -> str:
        return f"#{self.pk} {self.at:%Y-%m-%d %H:%M:%S} {self.action} {self.actor_label}"

    def canonical_content(self) -> dict[str, Any]:
        return {
            "at": self.at.isoformat(timespec="microseconds"),
            "action": self.action,
            "outcome": self.outcome,
            "actor_id": self.actor_id,
            "actor_label": self.actor_label,
            "target_type": self.target_type,
            "target_id": self.target_id,
            "ip": self.ip,
            "method": self.method,
            "path": self.path,
            "data": self.data,
        }

    def compute_hash(self) -> str:
        payload = self.prev_hash + "\n" + canonical_json(self.canonical_content())
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()


class AuditHead(models.Model):
    """The single row naming the end of the chain; locked to append (one writer at a time)."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    last_hash = models.CharField(max_length=64, default=GENESIS_HASH)
    count = models.PositiveBigIntegerField(default=0)

    class Meta:
        verbose_name = _("tête de chaîne d'audit")

    def __str__(self) -> str:
        return f"{self.count} enregistrements, dernier {self.last_hash[:12]}…"
