"""Field reports (remontées d'information) and their qualification.

A report lands in state *brute* (raw), attached to an event or, before any event exists, to a
territory's watch log. An operator of the right level qualifies it (``docs/reports.md``):
brute → en vérification → confirmée | infirmée, grades the source (A to F) and the
information (1 to 6), sets the priority, may merge duplicates (marked as the same fact, never
deleted). Only confirmed, non-duplicate figures feed the event's key figures
(:mod:`orsec.reports.queries`).

Pure rules live here (figures per template, allowed transitions, date bounds with the clock
passed in); writes go through :mod:`orsec.reports.actions`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import models
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from orsec.journal.models import BEFORE_OPENING, FUTURE_SKEW, Channel

#: Upper bound of any count (a sane bound: no French event has a million victims).
MAX_COUNT = 1_000_000
#: Free text of a report.
MAX_TEXT = 5000
#: Roads listed as closed in a networks report.
MAX_ROADS = 50
MAX_ROAD_LABEL = 200
#: Photos per report (the journal accepts 10 attachments per entry).
MAX_PHOTOS = 5


class Template(models.TextChoices):
    GENERAL = "general", gettext_lazy("Situation générale")
    CASUALTIES = "casualties", gettext_lazy("Bilan humain")
    NETWORKS = "networks", gettext_lazy("Réseaux et infrastructures")
    EVACUATION = "evacuation", gettext_lazy("Évacuation / hébergement")
    RESOURCES = "resources", gettext_lazy("Moyens engagés")


class ReportState(models.TextChoices):
    RAW = "raw", gettext_lazy("Brute")
    CHECKING = "checking", gettext_lazy("En vérification")
    CONFIRMED = "confirmed", gettext_lazy("Confirmée")
    REFUTED = "refuted", gettext_lazy("Infirmée")


#: States still waiting for a qualification decision.
OPEN_STATES = (ReportState.RAW, ReportState.CHECKING)
#: Allowed transitions; confirmed and refuted are final (a correction is a new report).
TRANSITIONS: dict[str, frozenset[str]] = {
    ReportState.RAW: frozenset({ReportState.CHECKING, ReportState.CONFIRMED, ReportState.REFUTED}),
    ReportState.CHECKING: frozenset({ReportState.CONFIRMED, ReportState.REFUTED}),
    ReportState.CONFIRMED: frozenset(),
    ReportState.REFUTED: frozenset(),
}


def transition_allowed(old: str, new: str) -> bool:
    return new in TRANSITIONS.get(old, frozenset())


class Reliability(models.TextChoices):
    """Source reliability (Admiralty code)."""

    A = "A", gettext_lazy("A — totalement fiable")
    B = "B", gettext_lazy("B — habituellement fiable")
    C = "C", gettext_lazy("C — assez fiable")
    D = "D", gettext_lazy("D — habituellement peu fiable")
    E = "E", gettext_lazy("E — non fiable")
    F = "F", gettext_lazy("F — fiabilité inconnue")


class Credibility(models.IntegerChoices):
    """Information credibility (Admiralty code)."""

    CONFIRMED = 1, gettext_lazy("1 — confirmée par d'autres sources")
    PROBABLE = 2, gettext_lazy("2 — probablement vraie")
    POSSIBLE = 3, gettext_lazy("3 — possiblement vraie")
    DOUBTFUL = 4, gettext_lazy("4 — douteuse")
    IMPROBABLE = 5, gettext_lazy("5 — improbable")
    UNKNOWN = 6, gettext_lazy("6 — véracité impossible à évaluer")


class Priority(models.TextChoices):
    FLASH = "flash", gettext_lazy("Flash")
    URGENT = "urgent", gettext_lazy("Urgent")
    ROUTINE = "routine", gettext_lazy("Routine")


#: Queue order: flash, urgent, not yet graded (could be anything), routine.
PRIORITY_RANK: dict[str, int] = {"flash": 0, "urgent": 1, "": 2, "routine": 3}


# --- Figures per template -------------------------------------------------------------------

CASUALTY_FIELDS: dict[str, Any] = {
    "dead": gettext_lazy("Décédés (DCD)"),
    "absolute": gettext_lazy("Urgences absolues (UA)"),
    "relative": gettext_lazy("Urgences relatives (UR)"),
    "involved": gettext_lazy("Impliqués"),
    "missing": gettext_lazy("Disparus"),
    "evacuated": gettext_lazy("Évacués"),
    "sheltered": gettext_lazy("Hébergés"),
}
NETWORK_FIELDS: dict[str, Any] = {
    "homes_without_power": gettext_lazy("Foyers privés d'électricité"),
    "homes_without_water": gettext_lazy("Foyers privés d'eau"),
    "homes_without_phone": gettext_lazy("Foyers privés de téléphone"),
    "roads_closed": gettext_lazy("Routes coupées"),
}
EVACUATION_FIELDS: dict[str, Any] = {
    "evacuated": gettext_lazy("Évacués"),
    "sheltered": gettext_lazy("Hébergés"),
    "shelters_open": gettext_lazy("Centres d'hébergement ouverts"),
}
#: Services of a "moyens engagés" report; each holds ``{"personnel": n, "vehicles": n}``.
RESOURCE_SERVICES: dict[str, Any] = {
    "sdis": gettext_lazy("Sapeurs-pompiers (SDIS)"),
    "police": gettext_lazy("Police nationale"),
    "gendarmerie": gettext_lazy("Gendarmerie"),
    "samu": gettext_lazy("SAMU / SMUR"),
    "aasc": gettext_lazy("Associations agréées de sécurité civile"),
    "municipal": gettext_lazy("Services municipaux"),
    "military": gettext_lazy("Armées"),
    "other": gettext_lazy("Autres services"),
}
RESOURCE_FIELDS: dict[str, Any] = {
    "personnel": gettext_lazy("personnels"),
    "vehicles": gettext_lazy("véhicules"),
}
#: Integer fields of each template (``resources`` is nested, ``general`` has none).
TEMPLATE_FIELDS: dict[str, dict[str, Any]] = {
    Template.GENERAL: {},
    Template.CASUALTIES: CASUALTY_FIELDS,
    Template.NETWORKS: NETWORK_FIELDS,
    Template.EVACUATION: EVACUATION_FIELDS,
    Template.RESOURCES: {},
}
#: The key figures of an event, in display order (label of the category).
KEY_FIGURE_CATEGORIES: dict[str, Any] = {
    **CASUALTY_FIELDS,
    **NETWORK_FIELDS,
    "shelters_open": EVACUATION_FIELDS["shelters_open"],
}
#: Short labels used in journal texts.
SHORT_LABELS: dict[str, str] = {
    "dead": "DCD",
    "absolute": "UA",
    "relative": "UR",
}


class FiguresError(ValueError):
    """Figures that do not fit their template; the French message names the field."""

    def __init__(self, message: str, code: str, field: str = "") -> None:
        super().__init__(message)
        self.code = code
        self.field = field


def _count(value: Any, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise FiguresError(
            _("« %(field)s » : un nombre entier est attendu.") % {"field": field},
            "invalid_figure",
            field,
        )
    if value < 0:
        raise FiguresError(
            _("« %(field)s » : le nombre ne peut pas être négatif (%(value)s).")
            % {"field": field, "value": value},
            "negative_figure",
            field,
        )
    if value > MAX_COUNT:
        raise FiguresError(
            _("« %(field)s » : %(value)s dépasse le maximum admis (%(max)s).")
            % {"field": field, "value": value, "max": f"{MAX_COUNT:,}".replace(",", " ")},
            "figure_too_large",
            field,
        )
    return value


def _unknown(template: str, key: str) -> FiguresError:
    return FiguresError(
        _("Champ inconnu pour le modèle « %(template)s » : « %(field)s ».")
        % {"template": Template(template).label, "field": str(key)[:60]},
        "unknown_field",
        str(key)[:60],
    )


def validate_figures(template: str, figures: Any) -> dict[str, Any]:
    """The figures of a report, checked against its template (known keys, bounded counts).

    Returns a clean copy with the empty values dropped; raises :class:`FiguresError`.
    """
    if template not in Template.values:
        raise FiguresError(_("Modèle de remontée inconnu."), "unknown_template", "template")
    if figures is None:
        figures = {}
    if not isinstance(figures, dict):
        raise FiguresError(
            _("Les chiffres doivent être un objet (clé → nombre)."), "invalid_figures", "figures"
        )
    clean: dict[str, Any] = {}
    if template == Template.RESOURCES:
        for service, value in figures.items():
            if service not in RESOURCE_SERVICES:
                raise _unknown(template, service)
            if value is None:
                continue
            if not isinstance(value, dict):
                raise FiguresError(
                    _("« %(field)s » : un objet {personnel, vehicles} est attendu.")
                    % {"field": service},
                    "invalid_figure",
                    service,
                )
            entry: dict[str, int] = {}
            for key, count in value.items():
                if key not in RESOURCE_FIELDS:
                    raise _unknown(template, f"{service}.{key}")
                if count is not None:
                    entry[key] = _count(count, f"{service}.{key}")
            if entry:
                clean[service] = entry
        return clean
    fields = TEMPLATE_FIELDS[template]
    for key, value in figures.items():
        if key == "roads_closed_list" and template == Template.NETWORKS:
            if value is None:
                continue
            if not isinstance(value, list) or len(value) > MAX_ROADS:
                raise FiguresError(
                    _("« roads_closed_list » : une liste de %(max)s routes au plus est attendue.")
                    % {"max": MAX_ROADS},
                    "invalid_figure",
                    "roads_closed_list",
                )
            roads = []
            for road in value:
                if not isinstance(road, str) or len(road) > MAX_ROAD_LABEL:
                    raise FiguresError(
                        _(
                            "« roads_closed_list » : chaque route est un texte de %(max)s "
                            "caractères au plus."
                        )
                        % {"max": MAX_ROAD_LABEL},
                        "invalid_figure",
                        "roads_closed_list",
                    )
                if road.strip():
                    roads.append(road.strip())
            if roads:
                clean["roads_closed_list"] = roads
            continue
        if key not in fields:
            raise _unknown(template, key)
        if value is not None:
            clean[key] = _count(value, key)
    return clean


def figures_required(template: str) -> bool:
    return template != Template.GENERAL


def check_occurred_at(
    occurred_at: datetime, *, now: datetime, event_opened_at: datetime | None
) -> str | None:
    """The French reason why an observation time is impossible, or None."""

    def show(value: datetime) -> str:
        return formats.date_format(timezone.localtime(value), "j F Y à H:i")

    if timezone.is_naive(occurred_at):
        return _("La date de l'observation doit porter un fuseau horaire.")
    if occurred_at > now + FUTURE_SKEW:
        return _(
            "La date de l'observation (%(when)s) est dans le futur : "
            "5 minutes d'avance au plus sont tolérées (il est %(now)s)."
        ) % {"when": show(occurred_at), "now": show(now)}
    if event_opened_at is not None and occurred_at < event_opened_at - BEFORE_OPENING:
        return _(
            "La date de l'observation (%(when)s) précède de plus de 24 h l'ouverture de "
            "l'événement (%(opened)s)."
        ) % {"when": show(occurred_at), "opened": show(event_opened_at)}
    return None


def figures_summary(template: str, figures: dict[str, Any]) -> str:
    """A short French summary of the figures for the journal (``2 DCD, 5 UA, …``)."""
    parts: list[str] = []
    if template == Template.RESOURCES:
        for service, entry in figures.items():
            label = str(RESOURCE_SERVICES.get(service, service))
            detail = ", ".join(
                f"{count} {RESOURCE_FIELDS[key]}"
                for key, count in entry.items()
                if key in RESOURCE_FIELDS
            )
            parts.append(f"{label} : {detail}")
        return " ; ".join(parts)
    for key, value in figures.items():
        if key == "roads_closed_list":
            parts.append(_("routes : %(list)s") % {"list": ", ".join(value)})
            continue
        label = SHORT_LABELS.get(key) or str(TEMPLATE_FIELDS.get(template, {}).get(key, key))
        parts.append(f"{value} {label}" if key in SHORT_LABELS else f"{label} : {value}")
    return ", ".join(parts)


# --- Tables ---------------------------------------------------------------------------------


class FieldReport(models.Model):
    event = models.ForeignKey(
        "events.Event",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="reports",
        verbose_name=gettext_lazy("événement"),
    )
    territory = models.ForeignKey(
        "territories.Territory",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=gettext_lazy("territoire"),
    )
    #: the event's territory path (or the watched territory's): every access query filters on it
    territory_path = models.CharField(max_length=120, db_index=True, editable=False)
    mode = models.CharField(max_length=10, default="real", editable=False)
    template = models.CharField(gettext_lazy("modèle"), max_length=12, choices=Template.choices)
    figures = models.JSONField(gettext_lazy("chiffres"), default=dict, blank=True)
    text = models.TextField(gettext_lazy("texte"), blank=True)
    #: GeoJSON Point (WGS84)
    location = models.JSONField(gettext_lazy("localisation"), null=True, blank=True)
    occurred_at = models.DateTimeField(gettext_lazy("observé le"))
    author = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    author_label = models.CharField(gettext_lazy("auteur"), max_length=200)
    organisation = models.ForeignKey(
        "directory.Organisation",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=gettext_lazy("organisation"),
    )
    channel = models.CharField(gettext_lazy("canal"), max_length=10, choices=Channel.choices)
    state = models.CharField(
        gettext_lazy("état"), max_length=10, choices=ReportState.choices, default=ReportState.RAW
    )
    reliability = models.CharField(
        gettext_lazy("fiabilité de la source"),
        max_length=1,
        choices=Reliability.choices,
        blank=True,
    )
    credibility = models.PositiveSmallIntegerField(
        gettext_lazy("crédibilité de l'information"),
        choices=Credibility.choices,
        null=True,
        blank=True,
    )
    priority = models.CharField(
        gettext_lazy("priorité"), max_length=8, choices=Priority.choices, blank=True
    )
    assigned_to = models.ForeignKey(
        "accounts.User",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=gettext_lazy("attribuée à"),
    )
    duplicate_of = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="duplicates",
        verbose_name=gettext_lazy("doublon de"),
    )
    refute_reason = models.TextField(gettext_lazy("motif d'infirmation"), blank=True)
    #: bumped by every qualification action: optimistic concurrency for forms and the API
    revision = models.PositiveIntegerField(default=0, editable=False)
    #: the main courante entry written at submission (it carries the photos)
    entry = models.ForeignKey(
        "journal.JournalEntry", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(gettext_lazy("reçue le"))
    updated_at = models.DateTimeField()

    class Meta:
        verbose_name = gettext_lazy("remontée d'information")
        verbose_name_plural = gettext_lazy("remontées d'information")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(credibility__isnull=True)
                | models.Q(credibility__gte=1, credibility__lte=6),
                name="fieldreport_credibility_1_6",
            ),
            models.CheckConstraint(
                condition=~models.Q(state="refuted") | ~models.Q(refute_reason=""),
                name="fieldreport_refuted_has_reason",
            ),
        ]
        indexes = [
            models.Index(fields=["event", "state"], name="fieldreport_event_state"),
            models.Index(fields=["territory_path", "state"], name="fieldreport_path_state"),
        ]

    def __str__(self) -> str:
        return _("Remontée n° %(id)s") % {"id": self.pk}

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES

    @property
    def grading(self) -> str:
        """``B2`` once graded, ``""`` before."""
        if self.reliability and self.credibility:
            return f"{self.reliability}{self.credibility}"
        return ""

    def figure_rows(self) -> list[tuple[str, str]]:
        """(label, value) pairs for display, in the template's order."""
        rows: list[tuple[str, str]] = []
        if self.template == Template.RESOURCES:
            for service, label in RESOURCE_SERVICES.items():
                entry = (self.figures or {}).get(service)
                if entry:
                    detail = ", ".join(
                        f"{entry[k]} {v}" for k, v in RESOURCE_FIELDS.items() if k in entry
                    )
                    rows.append((str(label), detail))
            return rows
        for key, label in TEMPLATE_FIELDS.get(self.template, {}).items():
            if key in (self.figures or {}):
                rows.append((str(label), str(self.figures[key])))
        roads = (self.figures or {}).get("roads_closed_list")
        if roads:
            rows.append((_("Routes coupées (liste)"), ", ".join(roads)))
        return rows


class ReportTransition(models.Model):
    """A recorded qualification step: a change of state, grading, assignment or merge."""

    class Action(models.TextChoices):
        SUBMIT = "submit", gettext_lazy("Dépôt")
        STATE = "state", gettext_lazy("Changement d'état")
        GRADE = "grade", gettext_lazy("Cotation")
        ASSIGN = "assign", gettext_lazy("Attribution")
        MERGE = "merge", gettext_lazy("Fusion de doublon")

    report = models.ForeignKey(FieldReport, on_delete=models.CASCADE, related_name="transitions")
    action = models.CharField(max_length=8, choices=Action.choices, default=Action.STATE)
    old = models.CharField(max_length=200, blank=True)
    new = models.CharField(max_length=200, blank=True)
    reason = models.TextField(blank=True)
    reliability = models.CharField(max_length=1, blank=True)
    credibility = models.PositiveSmallIntegerField(null=True, blank=True)
    priority = models.CharField(max_length=8, blank=True)
    actor = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, null=True, related_name="+"
    )
    actor_label = models.CharField(max_length=200, blank=True)
    at = models.DateTimeField()

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.report_id} {self.action}: {self.old} → {self.new}"


@dataclass(frozen=True)
class KeyFigure:
    """One consolidated figure of an event: the latest confirmed value of its category."""

    key: str
    label: str
    value: int
    report_id: int
    organisation: str
    occurred_at: datetime
