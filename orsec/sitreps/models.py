"""Points de situation (SITREP): numbered, compiled, edited, approved, then frozen documents.

A SITREP belongs to a *series*: an event and the level that emits it (the département's COD for
an event of Indre-et-Loire), or, for a zonal synthesis, the zone alone (no event). Numbers run
1, 2, 3… per series, without gaps (assigned under a lock, never deleted). Writes go through
:mod:`orsec.sitreps.actions`; the life cycle is ``docs/sitrep.md``.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _

HASH_VERSION = 1


class SitrepState(models.TextChoices):
    DRAFT = "draft", _("Projet")
    APPROVED = "approved", _("Approuvé")
    FROZEN = "frozen", _("Figé et transmis")


class EmittingLevel(models.TextChoices):
    DEPARTEMENT = "departement", _("Département (COD)")
    ZONE = "zone", _("Zone de défense (COZ)")
    NATIONAL = "national", _("National (COGIC)")


#: The text sections, in document order: (field name, French title).
SECTIONS: tuple[tuple[str, Any], ...] = (
    ("general_situation", _("Situation générale")),
    ("highlights", _("Faits marquants et informations confirmées")),
    ("casualties", _("Bilan humain consolidé")),
    ("networks", _("Réseaux et infrastructures")),
    ("resources", _("Moyens engagés")),
    ("pending_requests", _("Demandes en cours")),
    ("actions_decisions", _("Actions et décisions")),
    ("outlook", _("Perspectives")),
)
SECTION_FIELDS: tuple[str, ...] = tuple(name for name, _title in SECTIONS)
#: Longest text of one section.
MAX_SECTION_LENGTH = 20_000


def _iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


class Sitrep(models.Model):
    event = models.ForeignKey(
        "events.Event",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="sitreps",
        verbose_name=_("événement"),
    )
    emitting_level = models.CharField(
        _("niveau émetteur"), max_length=12, choices=EmittingLevel.choices
    )
    #: the emitting territory (the département of the event, or the zone of a synthesis)
    territory = models.ForeignKey(
        "territories.Territory", on_delete=models.PROTECT, related_name="+"
    )
    #: copy of ``territory.path``: access and the zone overview filter on it
    emitting_path = models.CharField(max_length=120, db_index=True)
    emitting_organisation = models.ForeignKey(
        "directory.Organisation",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("organisation émettrice"),
    )
    emitting_label = models.CharField(_("émetteur"), max_length=200)
    #: the authority the document is issued under (the préfecture, the EMIZ), for its header
    authority_label = models.CharField(_("autorité"), max_length=200, blank=True)
    #: the event's title when compiled (a later renaming never changes a frozen document)
    title = models.CharField(_("intitulé"), max_length=200)
    mode = models.CharField(max_length=10, default="real")
    number = models.PositiveIntegerField(_("numéro"))
    state = models.CharField(
        _("état"), max_length=10, choices=SitrepState.choices, default=SitrepState.DRAFT
    )
    period_start = models.DateTimeField(_("depuis le"))
    period_end = models.DateTimeField(_("jusqu'au"))
    general_situation = models.TextField(_("situation générale"), blank=True)
    highlights = models.TextField(_("faits marquants et informations confirmées"), blank=True)
    casualties = models.TextField(_("bilan humain consolidé"), blank=True)
    networks = models.TextField(_("réseaux et infrastructures"), blank=True)
    resources = models.TextField(_("moyens engagés"), blank=True)
    pending_requests = models.TextField(_("demandes en cours"), blank=True)
    actions_decisions = models.TextField(_("actions et décisions"), blank=True)
    outlook = models.TextField(_("perspectives"), blank=True)
    next_point_at = models.DateTimeField(_("heure du prochain point"), null=True, blank=True)
    #: the consolidated key figures when compiled: [{key, label, value, previous}]
    figures = models.JSONField(default=list, blank=True)
    #: what the compilation drew from (entry ids, delivery ids, SITREP ids): traceability
    sources = models.JSONField(default=dict, blank=True)
    compiled_at = models.DateTimeField()
    compiled_by = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, null=True, related_name="+"
    )
    edited_at = models.DateTimeField(null=True, blank=True)
    edited_by = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    approved_by = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    approved_by_label = models.CharField(max_length=200, blank=True)
    frozen_at = models.DateTimeField(null=True, blank=True)
    #: SHA-256 of :meth:`canonical` at freezing (hex)
    frozen_hash = models.CharField(max_length=64, blank=True)
    #: the main courante entry recording the freeze; it carries the PDF as its attachment
    freeze_entry = models.ForeignKey(
        "journal.JournalEntry", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    pdf = models.ForeignKey(
        "journal.Attachment", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    #: bumped on every change: optimistic concurrency for the edit form and the API
    revision = models.PositiveIntegerField(default=0, editable=False)

    class Meta:
        verbose_name = _("point de situation")
        verbose_name_plural = _("points de situation")
        ordering = ["emitting_path", "event_id", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["event", "emitting_path", "number"],
                condition=models.Q(event__isnull=False),
                name="sitrep_number_unique_per_event_level",
            ),
            models.UniqueConstraint(
                fields=["emitting_path", "number"],
                condition=models.Q(event__isnull=True),
                name="sitrep_number_unique_per_synthesis_level",
            ),
            models.UniqueConstraint(
                fields=["event", "emitting_path"],
                condition=models.Q(event__isnull=False) & ~models.Q(state="frozen"),
                name="sitrep_one_open_per_event_level",
            ),
            models.UniqueConstraint(
                fields=["emitting_path"],
                condition=models.Q(event__isnull=True) & ~models.Q(state="frozen"),
                name="sitrep_one_open_per_synthesis_level",
            ),
            models.CheckConstraint(condition=models.Q(number__gte=1), name="sitrep_number_gte_1"),
            models.CheckConstraint(
                condition=~models.Q(state="frozen") | ~models.Q(frozen_hash=""),
                name="sitrep_frozen_has_hash",
            ),
        ]

    def __str__(self) -> str:
        return f"SITREP n° {self.number} — {self.emitting_label}"

    @property
    def is_frozen(self) -> bool:
        return self.state == SitrepState.FROZEN

    @property
    def is_synthesis(self) -> bool:
        return self.event_id is None

    @property
    def is_exercise(self) -> bool:
        return self.mode != "real"

    def sections(self) -> list[tuple[str, str, str]]:
        """(field, French title, text) of each section, in document order."""
        return [(name, str(title), getattr(self, name)) for name, title in SECTIONS]

    def canonical(self) -> dict[str, Any]:
        """What the frozen hash covers, with stable names and UTC timestamps (documented in
        ``docs/sitrep.md``: anyone can recompute it from the API detail)."""
        return {
            "v": HASH_VERSION,
            "sitrep": self.pk,
            "event": self.event_id,
            "title": self.title,
            "authority": self.authority_label,
            "mode": self.mode,
            "level": self.emitting_level,
            "territory": self.emitting_path,
            "emitter": self.emitting_label,
            "number": self.number,
            "period_start": _iso(self.period_start),
            "period_end": _iso(self.period_end),
            "sections": {name: getattr(self, name) for name in SECTION_FIELDS},
            "figures": self.figures,
            "next_point_at": _iso(self.next_point_at),
            "approved_by": self.approved_by_label,
            "approved_at": _iso(self.approved_at),
            "frozen_at": _iso(self.frozen_at),
        }

    def compute_hash(self) -> str:
        payload = json.dumps(
            self.canonical(), sort_keys=True, ensure_ascii=False, separators=(",", ":")
        )
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()


class SitrepTransition(models.Model):
    """A recorded change of state (compiled, approved, frozen), or an edit of a draft."""

    sitrep = models.ForeignKey(Sitrep, on_delete=models.CASCADE, related_name="transitions")
    old = models.CharField(max_length=10, blank=True)
    new = models.CharField(max_length=10)
    reason = models.TextField(blank=True)
    actor = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, null=True, related_name="+"
    )
    at = models.DateTimeField()

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.old or '∅'} → {self.new}"
