"""Dissemination (diffusion): routing rules, what was sent to whom, and each acknowledgement.

Writes go through :mod:`orsec.dissemination.actions`; pure rules (does a rule apply, is a
delivery due for a reminder) live here with the clock passed in.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _

from orsec.territories.models import path_covers


class RoutingRule(models.Model):
    """Which organisations receive which qualified information (managed in the admin).

    A rule applies to a journal entry of an event when the entry's kind is listed (an empty list
    means every kind), its report template is listed (when the rule lists templates), and the
    event's territory lies at or below the rule's territory.
    """

    name = models.CharField(_("nom"), max_length=200, unique=True)
    entry_kinds = models.JSONField(
        _("natures d'entrées"),
        default=list,
        blank=True,
        help_text=_("Valeurs de nature de main courante (bilan, decision…) ; vide : toutes."),
    )
    report_templates = models.JSONField(
        _("modèles de remontée"),
        default=list,
        blank=True,
        help_text=_("Modèles de remontée (casualties, networks…) ; vide : tous."),
    )
    territory = models.ForeignKey(
        "territories.Territory",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("territoire"),
        help_text=_("La règle s'applique aux événements de ce territoire et en dessous."),
    )
    #: copy of ``territory.path`` (set on save) for the routing query
    territory_path = models.CharField(max_length=120, db_index=True, editable=False)
    organisation_kinds = models.JSONField(
        _("types d'organisations destinataires"),
        default=list,
        help_text=_("Types de l'annuaire (sdis, ars, mairie…)."),
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("règle de diffusion")
        verbose_name_plural = _("règles de diffusion")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.territory_path = self.territory.path
        super().save(*args, **kwargs)

    def applies_to(self, entry: Any, event_territory_path: str) -> bool:
        """True when the rule routes ``entry`` of an event whose territory is at that path."""
        if not self.is_active:
            return False
        if self.entry_kinds and entry.kind not in self.entry_kinds:
            return False
        if self.report_templates:
            template = (entry.data or {}).get("template")
            if template not in self.report_templates:
                return False
        return path_covers(self.territory_path, event_territory_path)


class DisseminationMode(models.TextChoices):
    RULES = "rules", _("Règles de diffusion")
    MANUAL = "manual", _("Destinataires choisis")
    MIXED = "mixed", _("Règles et destinataires choisis")


class Dissemination(models.Model):
    """One act of sending a journal entry to recipients (one ``Delivery`` per recipient)."""

    event = models.ForeignKey(
        "events.Event", on_delete=models.PROTECT, related_name="disseminations"
    )
    entry = models.ForeignKey(
        "journal.JournalEntry",
        on_delete=models.PROTECT,
        related_name="disseminations",
        verbose_name=_("entrée diffusée"),
    )
    #: copy of the event's mode: lists and counts separate real and exercise without a join
    mode = models.CharField(max_length=10, default="real")
    disseminated_by = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    disseminated_at = models.DateTimeField(_("diffusé le"))
    note = models.TextField(_("note"), blank=True)
    #: how the recipients were chosen
    routing = models.CharField(max_length=8, choices=DisseminationMode.choices)
    rules = models.ManyToManyField(RoutingRule, blank=True, related_name="+")
    #: names of the rules applied, kept even if a rule is later renamed or deleted
    rule_names = models.JSONField(default=list, blank=True)
    #: the "outgoing" main courante entry that records this dissemination
    journal_entry = models.ForeignKey(
        "journal.JournalEntry", on_delete=models.PROTECT, null=True, related_name="+"
    )

    class Meta:
        verbose_name = _("diffusion")
        verbose_name_plural = _("diffusions")
        ordering = ["-disseminated_at", "-id"]

    def __str__(self) -> str:
        return f"diffusion {self.pk} de l'entrée {self.entry_id}"


class DeliveryState(models.TextChoices):
    SENT = "sent", _("Envoyée")
    READ = "read", _("Lue")
    ACKNOWLEDGED = "acknowledged", _("Prise en compte")


class Delivery(models.Model):
    """What one recipient (an organisation, optionally a named person in it) received."""

    dissemination = models.ForeignKey(
        Dissemination, on_delete=models.CASCADE, related_name="deliveries"
    )
    #: copies for the inbox and the trace (no join through the dissemination)
    event = models.ForeignKey("events.Event", on_delete=models.PROTECT, related_name="+")
    entry = models.ForeignKey("journal.JournalEntry", on_delete=models.PROTECT, related_name="+")
    mode = models.CharField(max_length=10, default="real")
    organisation = models.ForeignKey(
        "directory.Organisation",
        on_delete=models.PROTECT,
        related_name="deliveries",
        verbose_name=_("organisation destinataire"),
    )
    user = models.ForeignKey(
        "accounts.User",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="deliveries",
        verbose_name=_("destinataire nommé"),
    )
    state = models.CharField(
        _("état"), max_length=12, choices=DeliveryState.choices, default=DeliveryState.SENT
    )
    sent_at = models.DateTimeField(_("envoyée le"))
    read_at = models.DateTimeField(_("lue le"), null=True, blank=True)
    read_by = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    acknowledged_at = models.DateTimeField(_("prise en compte le"), null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    ack_comment = models.TextField(_("commentaire de prise en compte"), blank=True)
    reminder_count = models.PositiveSmallIntegerField(_("relances"), default=0)
    last_reminded_at = models.DateTimeField(_("dernière relance"), null=True, blank=True)
    escalated_at = models.DateTimeField(_("escaladée le"), null=True, blank=True)

    class Meta:
        verbose_name = _("remise")
        verbose_name_plural = _("remises")
        ordering = ["-sent_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["dissemination", "organisation", "user"], name="delivery_unique_user"
            ),
            # NULL users are distinct in a unique index: one organisation-wide delivery only
            models.UniqueConstraint(
                fields=["dissemination", "organisation"],
                condition=models.Q(user__isnull=True),
                name="delivery_unique_organisation",
            ),
        ]
        indexes = [
            models.Index(fields=["organisation", "state"], name="delivery_org_state"),
            models.Index(fields=["state", "sent_at"], name="delivery_state_sent"),
            models.Index(fields=["event", "-id"], name="delivery_event"),
        ]

    def __str__(self) -> str:
        return f"remise {self.pk} à {self.organisation_id}"

    @property
    def is_acknowledged(self) -> bool:
        return self.state == DeliveryState.ACKNOWLEDGED

    def reminder_due(self, now: datetime, delay: timedelta, max_reminders: int) -> bool:
        """A reminder is due ``delay`` after the sending, then after each previous reminder."""
        if self.is_acknowledged or self.reminder_count >= max_reminders:
            return False
        since = self.last_reminded_at or self.sent_at
        return now - since >= delay

    def escalation_due(self, now: datetime, delay: timedelta) -> bool:
        """Escalated once, ``delay`` after the sending, when still not acknowledged."""
        return (
            not self.is_acknowledged and self.escalated_at is None and now - self.sent_at >= delay
        )


class DeliveryTransition(models.Model):
    """A recorded change of a delivery's state (sent → read → acknowledged)."""

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="transitions")
    old = models.CharField(max_length=12, blank=True)
    new = models.CharField(max_length=12)
    reason = models.TextField(blank=True)
    actor = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, null=True, related_name="+"
    )
    at = models.DateTimeField()

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.old} → {self.new}"
