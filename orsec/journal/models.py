"""The main courante: append-only, hash-chained journal entries, one chain per event or watch log.

An entry is never updated or deleted (the actions only insert; a correction is a new entry
pointing to the corrected one). Each entry's ``hash`` covers its canonical content and the
previous entry's hash of the same chain, so a change made through SQL is detected by
:func:`orsec.journal.chain.verify_chain`. The chain row (:class:`JournalChain`) holds the head
(last sequence number and hash) and is the lock that serialises writers of one chain.

The journal references events only by foreign key (schema); it never imports their code: the
event's actions write into its journal, not the reverse (``docs/adr/0003-core-loop-data.md``).
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, timedelta
from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _

GENESIS_HASH = "0" * 64
HASH_VERSION = 1

#: Clock skew tolerated between a phone and the server when dating a fact (``occurred_at``).
FUTURE_SKEW = timedelta(minutes=5)
#: How long before an event's opening a fact written in its journal may have happened.
BEFORE_OPENING = timedelta(hours=24)


class Channel(models.TextChoices):
    PHONE = "phone", _("Téléphone")
    RADIO = "radio", _("Radio")
    EMAIL = "email", _("Courriel")
    FIELD = "field", _("Terrain")
    PORTAL = "portal", _("Saisie sur le portail")
    API = "api", _("API")
    PARTNER = "partner", _("Message partenaire")
    FAX = "fax", _("Télécopie")
    SYSTEM = "system", _("Automatique (portail)")


class EntryKind(models.TextChoices):
    INFORMATION = "information", _("Information")
    DECISION = "decision", _("Décision")
    REQUEST = "request", _("Demande")
    ACTION = "action", _("Action")
    BILAN = "bilan", _("Bilan")
    SITUATION = "situation", _("Point de situation")
    INCOMING = "incoming", _("Message entrant")
    OUTGOING = "outgoing", _("Message sortant")
    STATE_CHANGE = "state_change", _("Changement d'état")


class QualificationState(models.TextChoices):
    NOT_APPLICABLE = "none", _("Sans objet")
    RAW = "raw", _("Brute")
    CHECKING = "checking", _("En vérification")
    CONFIRMED = "confirmed", _("Confirmée")
    REFUTED = "refuted", _("Infirmée")


class Confidentiality(models.TextChoices):
    PUBLIC = "public", _("Public")
    INTERNAL = "internal", _("Interne")
    RESTRICTED = "restricted", _("Diffusion restreinte")


class JournalChain(models.Model):
    """The head of one main courante: an event's, or a territory's watch log (no event yet)."""

    event = models.OneToOneField(
        "events.Event", on_delete=models.PROTECT, null=True, blank=True, related_name="chain"
    )
    territory = models.ForeignKey(
        "territories.Territory", on_delete=models.PROTECT, related_name="+"
    )
    #: copy of the territory's path (the event's owning territory, or the watched one)
    territory_path = models.CharField(max_length=120, db_index=True)
    mode = models.CharField(max_length=10, default="real")
    last_seq = models.PositiveIntegerField(default=0)
    last_hash = models.CharField(max_length=64, default=GENESIS_HASH)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["territory"],
                condition=models.Q(event__isnull=True),
                name="journalchain_one_watch_log_per_territory",
            ),
        ]

    def __str__(self) -> str:
        if self.event_id:
            return f"main courante de l'événement {self.event_id}"
        return f"main courante de veille {self.territory_path}"


class JournalEntry(models.Model):
    chain = models.ForeignKey(JournalChain, on_delete=models.PROTECT, related_name="entries")
    seq = models.PositiveIntegerField()
    event = models.ForeignKey(
        "events.Event", on_delete=models.PROTECT, null=True, blank=True, related_name="entries"
    )
    territory_path = models.CharField(max_length=120, db_index=True)
    mode = models.CharField(max_length=10, default="real")
    occurred_at = models.DateTimeField(_("survenu le"))
    recorded_at = models.DateTimeField(_("enregistré le"))
    author = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    author_label = models.CharField(_("auteur"), max_length=200)
    organisation = models.ForeignKey(
        "directory.Organisation",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    organisation_label = models.CharField(_("organisation"), max_length=200, blank=True)
    channel = models.CharField(_("canal"), max_length=10, choices=Channel.choices)
    kind = models.CharField(_("nature"), max_length=14, choices=EntryKind.choices)
    text = models.TextField(_("texte"))
    qualification = models.CharField(
        _("qualification"),
        max_length=10,
        choices=QualificationState.choices,
        default=QualificationState.NOT_APPLICABLE,
    )
    confidentiality = models.CharField(
        _("confidentialité"),
        max_length=10,
        choices=Confidentiality.choices,
        default=Confidentiality.INTERNAL,
    )
    corrects = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="corrections",
        verbose_name=_("corrige l'entrée"),
    )
    is_highlight = models.BooleanField(_("fait marquant"), default=False)
    #: the object this entry is about, e.g. ``reports.fieldreport`` / ``12``
    subject_type = models.CharField(max_length=60, blank=True)
    subject_id = models.CharField(max_length=40, blank=True)
    #: structured content (figures of a bilan, old/new of a transition…), part of the hash
    data = models.JSONField(default=dict, blank=True)
    #: sha256 of each attachment, in order, part of the hash
    attachment_digests = models.JSONField(default=list, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        verbose_name = _("entrée de main courante")
        verbose_name_plural = _("entrées de main courante")
        ordering = ["chain_id", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["chain", "seq"], name="journalentry_chain_seq"),
        ]
        indexes = [
            models.Index(fields=["event", "-seq"], name="journalentry_event_seq"),
            models.Index(fields=["subject_type", "subject_id"], name="journalentry_subject"),
        ]

    def __str__(self) -> str:
        return f"#{self.seq} {self.get_kind_display()}"

    def canonical(self) -> dict[str, Any]:
        """What the hash covers, with stable names and UTC timestamps (documented format)."""

        def iso(value: Any) -> str:
            return value.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")

        return {
            "v": HASH_VERSION,
            "chain": self.chain_id,
            "seq": self.seq,
            "event": self.event_id,
            "territory": self.territory_path,
            "mode": self.mode,
            "occurred_at": iso(self.occurred_at),
            "recorded_at": iso(self.recorded_at),
            "author": self.author_label,
            "organisation": self.organisation_label,
            "channel": self.channel,
            "kind": self.kind,
            "text": self.text,
            "qualification": self.qualification,
            "confidentiality": self.confidentiality,
            "corrects": self.corrects_id,
            "highlight": self.is_highlight,
            "subject": f"{self.subject_type}:{self.subject_id}" if self.subject_type else "",
            "data": self.data,
            "attachments": self.attachment_digests,
            "prev_hash": self.prev_hash,
        }

    def compute_hash(self) -> str:
        payload = json.dumps(
            self.canonical(), sort_keys=True, ensure_ascii=False, separators=(",", ":")
        )
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()


class Attachment(models.Model):
    """A file attached to an entry: content-sniffed, size-limited, stored outside the web root."""

    entry = models.ForeignKey(JournalEntry, on_delete=models.PROTECT, related_name="attachments")
    filename = models.CharField(_("nom du fichier"), max_length=200)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64, db_index=True)
    #: relative to ``settings.ORSEC_ATTACHMENTS_ROOT``
    storage_name = models.CharField(max_length=200)

    def __str__(self) -> str:
        return self.filename


class Highlight(models.Model):
    """Pinning an existing entry as a fait marquant (the entry itself never changes)."""

    entry = models.OneToOneField(JournalEntry, on_delete=models.PROTECT, related_name="pin")
    pinned_by = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")
    pinned_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"fait marquant {self.entry_id}"
