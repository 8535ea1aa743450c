"""Events (événements): the file every crisis is handled in, and its recorded transitions.

Pure rules live here with the clock passed in; writes go through :mod:`orsec.events.actions`.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _


class EventType(models.TextChoices):
    WEATHER = "weather", _("Météo")
    FLOOD = "flood", _("Inondation")
    FOREST_FIRE = "forest_fire", _("Feu de forêt")
    URBAN_FIRE = "urban_fire", _("Feu urbain ou industriel")
    TRANSPORT_ACCIDENT = "transport_accident", _("Accident de transport")
    HAZMAT = "hazmat", _("Transport de matières dangereuses (TMD)")
    INDUSTRIAL = "industrial", _("ICPE / accident industriel")
    NUCLEAR = "nuclear", _("Nucléaire / radiologique")
    HEALTH = "health", _("Sanitaire")
    PUBLIC_ORDER = "public_order", _("Ordre public / attentat")
    NETWORK_POWER = "network_power", _("Réseaux : électricité")
    NETWORK_WATER = "network_water", _("Réseaux : eau")
    NETWORK_TELECOM = "network_telecom", _("Réseaux : télécommunications")
    MASS_CASUALTY = "mass_casualty", _("Nombreuses victimes")
    MISSING_PERSONS = "missing_persons", _("Recherche de personnes")
    OTHER = "other", _("Autre")


class Mode(models.TextChoices):
    REAL = "real", _("Réel")
    EXERCISE = "exercise", _("Exercice")
    TEST = "test", _("Test technique")


class Phase(models.TextChoices):
    WATCH = "watch", _("Veille")
    VIGILANCE = "vigilance", _("Vigilance")
    ALERT = "alert", _("Alerte")
    CRISIS = "crisis", _("Conduite de crise")
    EXIT = "exit", _("Sortie de crise")
    RETEX = "retex", _("RETEX")


#: Phases in their order; a phase may move forward to any later one, or back one step.
PHASE_ORDER: tuple[str, ...] = tuple(p.value for p in Phase)


class Visibility(models.TextChoices):
    """How far up the chain the event is shared (always visible to its own territory)."""

    LOCAL = "local", _("Territoire de l'événement")
    ZONE = "zone", _("Partagé avec la zone")
    NATIONAL = "national", _("Partagé au niveau national")


VISIBILITY_ORDER: tuple[str, ...] = tuple(v.value for v in Visibility)


def shares_further(target: str, current: str) -> bool:
    """True when sharing at ``target`` reaches beyond the ``current`` level (never narrows)."""
    return VISIBILITY_ORDER.index(target) > VISIBILITY_ORDER.index(current)


def phase_change_allowed(old: str, new: str) -> bool:
    """Forward to any later phase; back one step only (a false start, a new flood peak)."""
    if old == new:
        return False
    i, j = PHASE_ORDER.index(old), PHASE_ORDER.index(new)
    return j > i or j == i - 1


class Event(models.Model):
    title = models.CharField(_("intitulé"), max_length=200)
    event_type = models.CharField(_("type"), max_length=24, choices=EventType.choices)
    mode = models.CharField(_("mode"), max_length=10, choices=Mode.choices, default=Mode.REAL)
    gravity = models.PositiveSmallIntegerField(_("gravité (1 à 5)"), default=1)
    phase = models.CharField(_("phase"), max_length=12, choices=Phase.choices, default=Phase.WATCH)
    description = models.TextField(_("description"), blank=True)
    territory = models.ForeignKey(
        "territories.Territory",
        on_delete=models.PROTECT,
        related_name="events",
        verbose_name=_("territoire responsable"),
    )
    #: copy of ``territory.path``: every access query filters on it
    territory_path = models.CharField(max_length=120, db_index=True, editable=False)
    visibility = models.CharField(
        _("partage"), max_length=10, choices=Visibility.choices, default=Visibility.LOCAL
    )
    #: GeoJSON geometry (Point or Polygon, WGS84) and its bounding box for map queries
    location = models.JSONField(_("localisation (GeoJSON)"), null=True, blank=True)
    bbox_min_lon = models.FloatField(null=True, blank=True)
    bbox_min_lat = models.FloatField(null=True, blank=True)
    bbox_max_lon = models.FloatField(null=True, blank=True)
    bbox_max_lat = models.FloatField(null=True, blank=True)
    departement = models.ForeignKey(
        "territories.Territory",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("département"),
    )
    communes = models.ManyToManyField(
        "territories.Territory",
        through="EventCommune",
        related_name="+",
        blank=True,
        verbose_name=_("communes concernées"),
    )
    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
        verbose_name=_("événement parent"),
    )
    director = models.CharField(_("directeur des opérations (DOS)"), max_length=200, blank=True)
    director_organisation = models.ForeignKey(
        "directory.Organisation",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("organisation du DOS"),
    )
    #: facts read by the escalation rules (SYNERGI national opening criteria)
    major_road_blocked_since = models.DateTimeField(
        _("trafic interrompu sur un axe majeur depuis"), null=True, blank=True
    )
    at_icpe_site = models.BooleanField(_("sur un site ICPE chimique"), default=False)
    opened_at = models.DateTimeField(_("ouvert le"))
    opened_by = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, null=True, related_name="+"
    )
    closed_at = models.DateTimeField(_("clos le"), null=True, blank=True)
    closed_by = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    final_summary = models.TextField(_("bilan final"), blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    #: bumped on every change: optimistic concurrency for forms and cache keys
    revision = models.PositiveIntegerField(default=0, editable=False)

    class Meta:
        verbose_name = _("événement")
        verbose_name_plural = _("événements")
        ordering = ["-opened_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(gravity__gte=1, gravity__lte=5), name="event_gravity_1_5"
            ),
            models.CheckConstraint(
                condition=models.Q(closed_at__isnull=True) | ~models.Q(final_summary=""),
                name="event_closed_has_final_summary",
            ),
        ]
        indexes = [
            models.Index(fields=["mode", "territory_path"], name="event_mode_path"),
            models.Index(fields=["bbox_min_lon", "bbox_max_lon"], name="event_bbox_lon"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_open(self) -> bool:
        return self.closed_at is None

    @property
    def is_exercise(self) -> bool:
        return self.mode != Mode.REAL

    def mode_marker(self) -> str:
        """The marker shown on every page and export of a non-real event ("" for real ones)."""
        if self.mode == Mode.EXERCISE:
            return str(_("EXERCICE"))
        if self.mode == Mode.TEST:
            return str(_("TEST"))
        return ""


class EventCommune(models.Model):
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="commune_links")
    commune = models.ForeignKey("territories.Territory", on_delete=models.PROTECT, related_name="+")
    #: copy of the commune's path, for the mayor's access query
    commune_path = models.CharField(max_length=120, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["event", "commune"], name="eventcommune_unique"),
        ]

    def __str__(self) -> str:
        return self.commune_path


class EventParticipant(models.Model):
    """An organisation taking part in the event (engaged, or a recipient of its information).

    Participants see the event even outside their territory (an ARS of the region, an operator).
    Added by the dissemination of an item to them, or by hand.
    """

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="participants")
    organisation = models.ForeignKey(
        "directory.Organisation", on_delete=models.PROTECT, related_name="event_participations"
    )
    added_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["event", "organisation"], name="eventparticipant_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event_id}:{self.organisation_id}"


class EventTransition(models.Model):
    """A recorded change of phase, gravity, visibility, director or open/closed state."""

    class Field(models.TextChoices):
        OPENED = "opened", _("Ouverture")
        PHASE = "phase", _("Phase")
        GRAVITY = "gravity", _("Gravité")
        VISIBILITY = "visibility", _("Partage")
        DIRECTOR = "director", _("Directeur des opérations")
        CLOSED = "closed", _("Clôture")
        REOPENED = "reopened", _("Réouverture")

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="transitions")
    field = models.CharField(max_length=12, choices=Field.choices)
    old = models.CharField(max_length=200, blank=True)
    new = models.CharField(max_length=200, blank=True)
    reason = models.TextField(blank=True)
    actor = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, null=True, related_name="+"
    )
    at = models.DateTimeField()

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.field}: {self.old} → {self.new}"


class Criterion(models.TextChoices):
    """SYNERGI national opening criteria, each read from the event's facts."""

    EVENT_TYPE_IN = "event_type_in", _("Type d'événement parmi une liste")
    ROAD_BLOCKED_HOURS = "road_blocked_hours", _("Trafic interrompu sur un axe majeur depuis N h")
    ICPE_SITE = "icpe_site", _("Événement sur un site ICPE chimique")
    VICTIMS_AT_LEAST = "victims_at_least", _("Au moins N victimes (DCD + UA + UR)")
    DEAD_AT_LEAST = "dead_at_least", _("Au moins N décédés")
    GRAVITY_AT_LEAST = "gravity_at_least", _("Gravité au moins N")


class EscalationRule(models.Model):
    """A configurable rule that *proposes* sharing an event to the next level."""

    name = models.CharField(_("nom"), max_length=200, unique=True)
    criterion = models.CharField(_("critère"), max_length=24, choices=Criterion.choices)
    #: the threshold (hours, victims, gravity) — unused by the list and flag criteria
    threshold = models.PositiveIntegerField(_("seuil"), null=True, blank=True)
    #: for ``event_type_in``: the list of event types
    event_types = models.JSONField(_("types d'événements"), default=list, blank=True)
    target = models.CharField(
        _("niveau proposé"),
        max_length=10,
        choices=[(Visibility.ZONE, _("Zone")), (Visibility.NATIONAL, _("National"))],
        default=Visibility.NATIONAL,
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("règle de remontée")
        verbose_name_plural = _("règles de remontée")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def matches(self, event: Event, facts: dict[str, Any], now: datetime) -> bool:
        """True when the rule's criterion holds. ``facts`` holds confirmed key figures."""
        threshold = self.threshold or 0
        if self.criterion == Criterion.EVENT_TYPE_IN:
            return event.event_type in (self.event_types or [])
        if self.criterion == Criterion.ROAD_BLOCKED_HOURS:
            since = event.major_road_blocked_since
            return since is not None and now - since >= timedelta(hours=threshold)
        if self.criterion == Criterion.ICPE_SITE:
            return event.at_icpe_site
        if self.criterion == Criterion.VICTIMS_AT_LEAST:
            victims = sum(int(facts.get(k) or 0) for k in ("dead", "absolute", "relative"))
            return threshold > 0 and victims >= threshold
        if self.criterion == Criterion.DEAD_AT_LEAST:
            return threshold > 0 and int(facts.get("dead") or 0) >= threshold
        if self.criterion == Criterion.GRAVITY_AT_LEAST:
            return threshold > 0 and event.gravity >= threshold
        return False


class EscalationProposal(models.Model):
    class State(models.TextChoices):
        PROPOSED = "proposed", _("Proposée")
        ACCEPTED = "accepted", _("Acceptée")
        REFUSED = "refused", _("Refusée")

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="escalations")
    rule = models.ForeignKey(EscalationRule, on_delete=models.PROTECT, related_name="+")
    target = models.CharField(max_length=10, choices=Visibility.choices)
    state = models.CharField(max_length=10, choices=State.choices, default=State.PROPOSED)
    proposed_at = models.DateTimeField()
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reason = models.TextField(blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["event", "rule", "target"], name="escalation_once_per_rule_target"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.rule_id} → {self.target} ({self.state})"
