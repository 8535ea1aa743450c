"""Météo-France / MeteoAlarm vigilances per département, imported from CAP alerts."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from orsec.alerts.meteoalarm import COLOUR_LABELS, PHENOMENON_LABELS


class Colour(models.TextChoices):
    GREEN = "green", COLOUR_LABELS["green"]
    YELLOW = "yellow", COLOUR_LABELS["yellow"]
    ORANGE = "orange", COLOUR_LABELS["orange"]
    RED = "red", COLOUR_LABELS["red"]


LEVEL_OF = {"green": 1, "yellow": 2, "orange": 3, "red": 4}
PHENOMENON_CHOICES = [(slug, label) for slug, label in PHENOMENON_LABELS.items()]


class VigilanceState(models.TextChoices):
    ACTIVE = "active", _("En cours")
    ENDED = "ended", _("Terminée")


class Vigilance(models.Model):
    departement = models.ForeignKey(
        "territories.Territory", on_delete=models.PROTECT, related_name="vigilances"
    )
    territory_path = models.CharField(max_length=120, db_index=True)
    phenomenon = models.CharField(_("phénomène"), max_length=32, choices=PHENOMENON_CHOICES)
    colour = models.CharField(_("couleur"), max_length=8, choices=Colour.choices)
    level = models.PositiveSmallIntegerField(_("niveau"))
    onset = models.DateTimeField(_("début"))
    expires = models.DateTimeField(_("fin prévue"))
    headline = models.CharField(_("titre"), max_length=300, blank=True)
    source = models.CharField(_("source"), max_length=32, default="meteoalarm")
    sender = models.CharField(_("émetteur CAP"), max_length=200)
    cap_identifier = models.CharField(_("dernière alerte CAP"), max_length=200, db_index=True)
    cap_identifiers = models.JSONField(_("alertes CAP reçues"), default=list)
    state = models.CharField(
        _("état"), max_length=8, choices=VigilanceState.choices, default=VigilanceState.ACTIVE
    )
    ended_at = models.DateTimeField(null=True, blank=True)
    mode = models.CharField(max_length=8, default="real", editable=False)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        verbose_name = _("vigilance")
        verbose_name_plural = _("vigilances")
        ordering = ["-level", "onset", "pk"]
        indexes = [models.Index(fields=["state", "territory_path"], name="vigilance_state_path")]

    def __str__(self) -> str:
        return f"{self.get_colour_display()} {self.get_phenomenon_display()} {self.departement}"


class VigilanceTransition(models.Model):
    """One change of a vigilance: created, updated (colour/times), ended."""

    class Action(models.TextChoices):
        CREATE = "create", _("Création")
        UPDATE = "update", _("Mise à jour")
        END = "end", _("Fin")

    vigilance = models.ForeignKey(Vigilance, on_delete=models.PROTECT, related_name="transitions")
    action = models.CharField(max_length=8, choices=Action.choices)
    old = models.CharField(max_length=16, blank=True)
    new = models.CharField(max_length=16)
    reason = models.CharField(max_length=200)
    cap_identifier = models.CharField(max_length=200)
    at = models.DateTimeField()

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.vigilance_id} {self.action} {self.old}→{self.new}"


class ImportedCapAlert(models.Model):
    """Every MeteoAlarm CAP alert imported once: the idempotency key is (sender, identifier)."""

    sender = models.CharField(max_length=200)
    identifier = models.CharField(max_length=200)
    sent = models.DateTimeField()
    msg_type = models.CharField(max_length=16)
    source = models.CharField(max_length=32)
    imported_at = models.DateTimeField()
    notices = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["sender", "identifier"], name="imported_cap_alert_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.sender} {self.identifier}"


class VigilanceFeedState(models.Model):
    """What the poller knows of one configured MeteoAlarm feed (``ORSEC_METEOALARM_FEEDS``).

    Written only by :func:`orsec.alerts.actions.do_record_feed_poll`; shown on the vigilances
    page and in the admin (read-only) so that a silent feed is noticed.
    """

    url = models.URLField(_("adresse du flux"), max_length=500, unique=True)
    etag = models.CharField(max_length=300, blank=True)
    last_modified = models.CharField(max_length=300, blank=True)
    last_polled_at = models.DateTimeField(_("dernière lecture"), null=True, blank=True)
    last_success_at = models.DateTimeField(_("dernière lecture réussie"), null=True, blank=True)
    last_status = models.CharField(_("résultat"), max_length=300, blank=True)
    #: errors of the last poll: [{"url", "code", "message"}] (at most FEED_ERRORS_KEPT)
    last_errors = models.JSONField(_("erreurs de la dernière lecture"), default=list)
    polls = models.PositiveIntegerField(default=0)
    alerts_imported = models.PositiveIntegerField(_("alertes importées"), default=0)

    class Meta:
        verbose_name = _("flux de vigilance")
        verbose_name_plural = _("flux de vigilance")
        ordering = ["url"]

    def __str__(self) -> str:
        return self.url

    @property
    def has_errors(self) -> bool:
        return bool(self.last_errors)
