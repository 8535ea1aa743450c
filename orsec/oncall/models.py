"""On-call rosters (astreintes), alert schemes (schémas d'alerte) and call lists.

* A :class:`Roster` is one on-call duty of an organisation ("Officier CODIS", "Astreinte
  préfecture — membre du corps préfectoral"); its :class:`Shift` rows say who holds it when.
  Shifts of one roster never overlap: checked by the action (a clear error), and by the
  database (a PostgreSQL exclusion constraint, SQLite triggers; see migration 0002).
* An :class:`AlertScheme` is an ordered call tree for some event types on a territory; each
  :class:`AlertSchemeStep` names an organisation and the roster (or function) to call.
* A :class:`CallList` is a scheme resolved against the rosters at activation time: its
  :class:`CallListItem` rows are a *snapshot* (name and phone copied), ticked one by one.

Writes go through :mod:`orsec.oncall.actions`; personal data is minimal (a name and one phone).
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Roster(models.Model):
    organisation = models.ForeignKey(
        "directory.Organisation",
        on_delete=models.PROTECT,
        related_name="rosters",
        verbose_name=_("organisation"),
    )
    function = models.ForeignKey(
        "directory.Function",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="rosters",
        verbose_name=_("fonction"),
    )
    label = models.CharField(_("intitulé de l'astreinte"), max_length=200)
    is_active = models.BooleanField(_("active"), default=True)
    is_demo = models.BooleanField(default=False, editable=False)
    revision = models.PositiveIntegerField(default=0, editable=False)

    class Meta:
        verbose_name = _("astreinte")
        verbose_name_plural = _("astreintes")
        ordering = ["organisation__name", "label"]
        constraints = [
            models.UniqueConstraint(fields=["organisation", "label"], name="roster_label_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.label} — {self.organisation}"


class Shift(models.Model):
    """One period of duty: ``[start, end)`` (a shift ending at 08:00 and one starting at 08:00
    are adjacent, not overlapping)."""

    roster = models.ForeignKey(Roster, on_delete=models.CASCADE, related_name="shifts")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("utilisateur du portail"),
    )
    person_name = models.CharField(_("nom de la personne d'astreinte"), max_length=150)
    phone = models.CharField(_("téléphone pendant l'astreinte"), max_length=32)
    start = models.DateTimeField(_("début"))
    end = models.DateTimeField(_("fin"))
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )

    class Meta:
        verbose_name = _("créneau d'astreinte")
        verbose_name_plural = _("créneaux d'astreinte")
        ordering = ["roster", "start"]
        indexes = [models.Index(fields=["roster", "start", "end"], name="shift_roster_period")]
        constraints = [
            models.CheckConstraint(condition=Q(end__gt=models.F("start")), name="shift_end_after"),
        ]

    def __str__(self) -> str:
        return f"{self.person_name} ({self.start:%Y-%m-%d %H:%M} → {self.end:%Y-%m-%d %H:%M})"

    def covers(self, at: datetime) -> bool:
        return self.start <= at < self.end


class AlertScheme(models.Model):
    territory = models.ForeignKey(
        "territories.Territory",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("territoire"),
    )
    name = models.CharField(_("nom du schéma"), max_length=200)
    #: values of :class:`orsec.events.models.EventType`
    event_types = models.JSONField(_("types d'événement"), default=list)
    is_active = models.BooleanField(_("actif"), default=True)
    is_demo = models.BooleanField(default=False, editable=False)
    revision = models.PositiveIntegerField(default=0, editable=False)

    class Meta:
        verbose_name = _("schéma d'alerte")
        verbose_name_plural = _("schémas d'alerte")
        ordering = ["territory__path", "name"]
        constraints = [
            models.UniqueConstraint(fields=["territory", "name"], name="alert_scheme_unique"),
        ]

    def __str__(self) -> str:
        return self.name


class AlertSchemeStep(models.Model):
    scheme = models.ForeignKey(AlertScheme, on_delete=models.CASCADE, related_name="steps")
    order = models.PositiveSmallIntegerField(_("ordre"))
    organisation = models.ForeignKey(
        "directory.Organisation", on_delete=models.PROTECT, related_name="+"
    )
    roster = models.ForeignKey(
        Roster, on_delete=models.PROTECT, null=True, blank=True, related_name="scheme_steps"
    )
    function = models.ForeignKey(
        "directory.Function", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    instruction = models.TextField(_("consigne"), blank=True)

    class Meta:
        ordering = ["scheme", "order"]
        constraints = [
            models.UniqueConstraint(fields=["scheme", "order"], name="alert_step_order_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.order}. {self.organisation}"


class CallStatus(models.TextChoices):
    TO_CALL = "to_call", _("À appeler")
    CALLED = "called", _("Appelé")
    REACHED = "reached", _("Joint")
    ABSENT = "absent", _("Absent")


class CallList(models.Model):
    event = models.ForeignKey("events.Event", on_delete=models.PROTECT, related_name="call_lists")
    scheme = models.ForeignKey(AlertScheme, on_delete=models.PROTECT, related_name="call_lists")
    scheme_name = models.CharField(max_length=200)
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )

    class Meta:
        verbose_name = _("liste d'appel")
        verbose_name_plural = _("listes d'appel")
        ordering = ["event", "created_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["event", "scheme"], name="call_list_once_per_event"),
        ]

    def __str__(self) -> str:
        return self.scheme_name


class CallListItem(models.Model):
    """One line of a call list: a snapshot taken at activation (never rewritten by a later
    change of the roster)."""

    call_list = models.ForeignKey(CallList, on_delete=models.CASCADE, related_name="items")
    order = models.PositiveSmallIntegerField()
    organisation = models.ForeignKey(
        "directory.Organisation", on_delete=models.PROTECT, related_name="+"
    )
    organisation_label = models.CharField(max_length=200)
    duty_label = models.CharField(max_length=200, blank=True)
    person_name = models.CharField(max_length=150, blank=True)
    phone = models.CharField(max_length=32, blank=True)
    instruction = models.TextField(blank=True)
    #: no one was on call (or no phone known) at activation
    is_gap = models.BooleanField(default=False)
    status = models.CharField(max_length=10, choices=CallStatus.choices, default=CallStatus.TO_CALL)
    ticked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    ticked_at = models.DateTimeField(null=True, blank=True)
    comment = models.CharField(max_length=500, blank=True)
    revision = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["call_list", "order"]
        constraints = [
            models.UniqueConstraint(fields=["call_list", "order"], name="call_item_order_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.order}. {self.organisation_label} — {self.get_status_display()}"
