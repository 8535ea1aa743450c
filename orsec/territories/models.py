"""The territorial hierarchy: national → zones de défense → régions → départements → communes.

Each territory carries a materialised ``path`` (``FR/OUEST/R24/D37/C37261``) so that
"everything under X" is one indexed prefix query, and a bounding box so that point look-ups only
test the few candidate polygons.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class TerritoryKind(models.TextChoices):
    NATIONAL = "national", _("National")
    ZONE = "zone", _("Zone de défense et de sécurité")
    REGION = "region", _("Région")
    DEPARTEMENT = "departement", _("Département")
    COLLECTIVITE = "collectivite", _("Collectivité d'outre-mer")
    COMMUNE = "commune", _("Commune")
    ARRONDISSEMENT = "arrondissement", _("Arrondissement municipal")


#: Depth of each kind in the hierarchy (collectivités d'outre-mer sit where départements sit).
KIND_LEVEL = {
    TerritoryKind.NATIONAL: 0,
    TerritoryKind.ZONE: 1,
    TerritoryKind.REGION: 2,
    TerritoryKind.DEPARTEMENT: 3,
    TerritoryKind.COLLECTIVITE: 3,
    TerritoryKind.COMMUNE: 4,
    TerritoryKind.ARRONDISSEMENT: 5,
}

PATH_PREFIX = {
    TerritoryKind.NATIONAL: "",
    TerritoryKind.ZONE: "",
    TerritoryKind.REGION: "R",
    TerritoryKind.DEPARTEMENT: "D",
    TerritoryKind.COLLECTIVITE: "D",
    TerritoryKind.COMMUNE: "C",
    TerritoryKind.ARRONDISSEMENT: "C",
}


def path_covers(ancestor: str, path: str) -> bool:
    """True when the territory at ``path`` is the one at ``ancestor`` or lies below it."""
    return path == ancestor or path.startswith(ancestor + "/")


def path_ancestors(path: str) -> list[str]:
    """Paths above ``path``, from national down to its parent (``FR``, ``FR/OUEST``…)."""
    parts = path.split("/")
    return ["/".join(parts[:i]) for i in range(1, len(parts))]


def path_zone(path: str) -> str:
    """The zone's path for any territory below a zone (the national path for national)."""
    return "/".join(path.split("/")[:2])


class Territory(models.Model):
    kind = models.CharField(_("type"), max_length=16, choices=TerritoryKind.choices)
    code = models.CharField(_("code"), max_length=32, help_text=_("Code INSEE ou code de zone"))
    name = models.CharField(_("nom"), max_length=200)
    parent = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="children"
    )
    path = models.CharField(max_length=120, unique=True, editable=False)
    nuts3 = models.CharField(_("code NUTS3 (2013)"), max_length=8, blank=True)
    emma_id = models.CharField(_("identifiant MeteoAlarm (EMMA_ID)"), max_length=8, blank=True)
    population = models.PositiveIntegerField(_("population municipale"), null=True, blank=True)
    seat = models.CharField(_("chef-lieu ou siège"), max_length=200, blank=True)
    centroid_lat = models.FloatField(null=True, blank=True)
    centroid_lon = models.FloatField(null=True, blank=True)
    bbox_min_lon = models.FloatField(null=True, blank=True)
    bbox_min_lat = models.FloatField(null=True, blank=True)
    bbox_max_lon = models.FloatField(null=True, blank=True)
    bbox_max_lat = models.FloatField(null=True, blank=True)
    boundary = models.JSONField(
        _("contour simplifié (GeoJSON)"), null=True, blank=True, help_text=_("WGS84, RFC 7946")
    )

    class Meta:
        verbose_name = _("territoire")
        verbose_name_plural = _("territoires")
        ordering = ["path"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "code"], name="territory_kind_code_unique"),
        ]
        indexes = [
            models.Index(
                fields=["kind", "bbox_min_lon", "bbox_max_lon"], name="territory_bbox_lon"
            ),
            models.Index(fields=["parent", "kind"], name="territory_parent_kind"),
        ]

    def __str__(self) -> str:
        if self.kind in (TerritoryKind.DEPARTEMENT, TerritoryKind.COMMUNE):
            return f"{self.name} ({self.code})"
        return self.name

    @property
    def level(self) -> int:
        return KIND_LEVEL[TerritoryKind(self.kind)]


class ReferenceDataset(models.Model):
    """Which version of the bundled reference data has been loaded (idempotent loading)."""

    name = models.CharField(max_length=64, unique=True)
    digest = models.CharField(max_length=64)
    loaded_at = models.DateTimeField()
    rows = models.PositiveIntegerField()

    class Meta:
        verbose_name = _("jeu de référence chargé")
        verbose_name_plural = _("jeux de référence chargés")

    def __str__(self) -> str:
        return f"{self.name} ({self.digest[:12]})"
