"""ORSEC plans: plans owned by a territory, their versions (draft → review → approved →
superseded), sections, fiches réflexes and their items, documents, exercises; and their
activation on an event as live checklists per actor organisation (``docs/plans.md``).

Pure rules live here with the clock passed in (:meth:`Plan.exercise_overdue`,
:meth:`Plan.review_is_due`); every write goes through :mod:`orsec.plans.actions`.
"""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

#: A PCS must be exercised at least every 5 years (code de la sécurité intérieure, R731-10)
#: and revised at least every 5 years (L731-3).
EXERCISE_EVERY_YEARS = 5
REVIEW_EVERY_YEARS = 5


def add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


class PlanLevel(models.TextChoices):
    COMMUNE = "commune", _("Communal (PCS)")
    EPCI = "epci", _("Intercommunal (PICS)")
    DEPARTEMENT = "departement", _("ORSEC départemental")
    ZONE = "zone", _("ORSEC zonal")


#: Levels whose plans must be exercised every 5 years (PCS, PICS).
EXERCISED_LEVELS = frozenset({PlanLevel.COMMUNE, PlanLevel.EPCI})


class SectionKind(models.TextChoices):
    GENERAL = "general", _("Dispositions générales")
    ACTION_MODE = "action_mode", _("Mode d'action")
    SPECIFIC = "specific", _("Dispositions spécifiques")


class Phase(models.TextChoices):
    WATCH = "veille", _("Veille")
    ALERT = "alerte", _("Alerte")
    CONDUCT = "conduite", _("Conduite")
    EXIT = "sortie", _("Sortie")


PHASE_ORDER = {value: index for index, value in enumerate(Phase.values)}


class VersionState(models.TextChoices):
    DRAFT = "draft", _("Brouillon")
    REVIEW = "review", _("En relecture")
    APPROVED = "approved", _("Approuvée")
    SUPERSEDED = "superseded", _("Remplacée")


class Plan(models.Model):
    title = models.CharField(_("intitulé"), max_length=200)
    level = models.CharField(_("niveau"), max_length=12, choices=PlanLevel.choices)
    territory = models.ForeignKey(
        "territories.Territory",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("territoire"),
    )
    territory_path = models.CharField(max_length=120, db_index=True, editable=False)
    owner = models.ForeignKey(
        "directory.Organisation",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("organisation propriétaire"),
    )
    template_key = models.CharField(_("modèle d'origine"), max_length=40, blank=True)
    review_due = models.DateField(_("révision avant le"), null=True, blank=True)
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )

    class Meta:
        verbose_name = _("plan")
        verbose_name_plural = _("plans")
        ordering = ["territory_path", "title", "pk"]

    def __str__(self) -> str:
        return self.title

    def last_exercise_date(self) -> date | None:
        dates = [e.held_on for e in self.exercises.all()]
        return max(dates) if dates else None

    def first_approval_date(self) -> date | None:
        dates = [
            v.decree_date
            for v in self.versions.all()
            if v.decree_date is not None
            and v.state in (VersionState.APPROVED, VersionState.SUPERSEDED)
        ]
        return min(dates) if dates else None

    def exercise_due(self) -> date | None:
        """The date by which the plan must next be exercised (PCS/PICS only)."""
        if self.level not in EXERCISED_LEVELS:
            return None
        start = self.last_exercise_date() or self.first_approval_date()
        return add_years(start, EXERCISE_EVERY_YEARS) if start else None

    def exercise_overdue(self, today: date) -> bool:
        due = self.exercise_due()
        return due is not None and due < today

    def review_is_due(self, today: date) -> bool:
        return self.review_due is not None and self.review_due <= today


class PlanVersion(models.Model):
    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField(_("numéro"))
    state = models.CharField(
        _("état"), max_length=12, choices=VersionState.choices, default=VersionState.DRAFT
    )
    summary = models.TextField(_("objet de la version"), blank=True)
    reviewers = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="+", verbose_name=_("relecteurs")
    )
    decree_number = models.CharField(_("numéro de l'arrêté"), max_length=60, blank=True)
    decree_date = models.DateField(_("date de l'arrêté"), null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    revision = models.PositiveIntegerField(default=0, editable=False)

    class Meta:
        verbose_name = _("version de plan")
        verbose_name_plural = _("versions de plan")
        ordering = ["plan", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "number"], name="plan_version_number_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.plan.title} — v{self.number}"

    @property
    def is_frozen(self) -> bool:
        return self.state in (VersionState.APPROVED, VersionState.SUPERSEDED)


class PlanVersionTransition(models.Model):
    version = models.ForeignKey(PlanVersion, on_delete=models.CASCADE, related_name="transitions")
    old = models.CharField(max_length=12, blank=True)
    new = models.CharField(max_length=12)
    reason = models.TextField(blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    at = models.DateTimeField()

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.version_id}: {self.old} → {self.new}"


class VersionComment(models.Model):
    version = models.ForeignKey(PlanVersion, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    text = models.TextField()
    at = models.DateTimeField()

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return self.text[:60]


class Section(models.Model):
    version = models.ForeignKey(PlanVersion, on_delete=models.CASCADE, related_name="sections")
    key = models.SlugField(max_length=60)
    kind = models.CharField(_("nature"), max_length=12, choices=SectionKind.choices)
    title = models.CharField(_("intitulé"), max_length=200)
    body = models.TextField(_("contenu"), blank=True)
    trigger = models.TextField(_("critères de déclenchement"), blank=True)
    order = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["version", "order", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["version", "key"], name="plan_section_key_unique"),
        ]

    def __str__(self) -> str:
        return self.title


class ReflexSheet(models.Model):
    """A fiche réflexe: what one actor does in one phase of a section."""

    version = models.ForeignKey(PlanVersion, on_delete=models.CASCADE, related_name="sheets")
    section = models.ForeignKey(Section, on_delete=models.CASCADE, related_name="sheets")
    key = models.SlugField(max_length=60)
    actor_kind = models.CharField(_("acteur"), max_length=16)
    phase = models.CharField(_("phase"), max_length=10, choices=Phase.choices)
    title = models.CharField(_("intitulé"), max_length=200)
    order = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["version", "section__order", "order", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["version", "key"], name="plan_sheet_key_unique"),
        ]

    def __str__(self) -> str:
        return self.title


class ReflexItem(models.Model):
    sheet = models.ForeignKey(ReflexSheet, on_delete=models.CASCADE, related_name="items")
    key = models.SlugField(max_length=60)
    text = models.TextField(_("action"))
    order = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["sheet", "order", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["sheet", "key"], name="plan_item_key_unique"),
        ]

    def __str__(self) -> str:
        return self.text[:60]


class PlanDocument(models.Model):
    """An annex (carte, annuaire, arrêté…) of a version; content sniffed, size-limited, stored
    in the database (a few MB) so that it follows the version's immutability."""

    version = models.ForeignKey(PlanVersion, on_delete=models.CASCADE, related_name="documents")
    filename = models.CharField(max_length=200)
    content_type = models.CharField(max_length=60)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    content = models.BinaryField()
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    uploaded_at = models.DateTimeField()

    class Meta:
        ordering = ["version", "uploaded_at", "pk"]

    def __str__(self) -> str:
        return self.filename


class PlanExercise(models.Model):
    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="exercises")
    held_on = models.DateField(_("date de l'exercice"))
    title = models.CharField(_("intitulé"), max_length=200)
    notes = models.TextField(_("retour d'expérience"), blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["-held_on", "-pk"]

    def __str__(self) -> str:
        return f"{self.held_on} — {self.title}"


class ActivationState(models.TextChoices):
    ACTIVE = "active", _("Activé")
    ENDED = "ended", _("Désactivé")


class Activation(models.Model):
    """Sections of an approved version activated on an event."""

    event = models.ForeignKey("events.Event", on_delete=models.CASCADE, related_name="+")
    version = models.ForeignKey(PlanVersion, on_delete=models.PROTECT, related_name="activations")
    sections = models.ManyToManyField(Section, related_name="+")
    state = models.CharField(
        max_length=8, choices=ActivationState.choices, default=ActivationState.ACTIVE
    )
    activated_at = models.DateTimeField()
    activated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    ended_at = models.DateTimeField(null=True, blank=True)
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    journal_entry = models.ForeignKey(
        "journal.JournalEntry", on_delete=models.PROTECT, null=True, related_name="+"
    )

    class Meta:
        ordering = ["-activated_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.version} @ {self.event_id}"

    @property
    def is_active(self) -> bool:
        return self.state == ActivationState.ACTIVE


class ActivationTransition(models.Model):
    activation = models.ForeignKey(Activation, on_delete=models.CASCADE, related_name="transitions")
    old = models.CharField(max_length=8, blank=True)
    new = models.CharField(max_length=8)
    reason = models.TextField(blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    at = models.DateTimeField()

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.activation_id}: {self.old} → {self.new}"


class ChecklistItem(models.Model):
    """One item of a fiche réflexe, copied at activation and assigned to an organisation."""

    activation = models.ForeignKey(Activation, on_delete=models.CASCADE, related_name="items")
    event = models.ForeignKey("events.Event", on_delete=models.CASCADE, related_name="+")
    organisation = models.ForeignKey(
        "directory.Organisation", on_delete=models.PROTECT, null=True, related_name="+"
    )
    actor_kind = models.CharField(max_length=16)
    phase = models.CharField(max_length=10, choices=Phase.choices)
    section_title = models.CharField(max_length=200)
    sheet_title = models.CharField(max_length=200)
    text = models.TextField()
    order = models.PositiveIntegerField(default=0)
    done = models.BooleanField(default=False)
    done_at = models.DateTimeField(null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    last_comment = models.TextField(blank=True)
    revision = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["activation", "organisation", "order", "pk"]
        indexes = [models.Index(fields=["event", "organisation"], name="plan_item_event_org")]

    def __str__(self) -> str:
        return self.text[:60]
