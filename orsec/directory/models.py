"""The ORSEC directory (annuaire): organisations, their functions and contact points."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class OrganisationKind(models.TextChoices):
    PREFECTURE = "prefecture", _("Préfecture / SIDPC")
    COD = "cod", _("Centre opérationnel départemental (COD)")
    SDIS = "sdis", _("SDIS")
    POLICE = "police", _("Police nationale")
    GENDARMERIE = "gendarmerie", _("Gendarmerie nationale")
    SAMU = "samu", _("SAMU")
    ARS = "ars", _("Agence régionale de santé (ARS)")
    MAIRIE = "mairie", _("Mairie")
    EPCI = "epci", _("EPCI")
    OPERATOR = "operator", _("Opérateur de réseau")
    ASSOCIATION = "association", _("Association agréée de sécurité civile")
    COZ = "coz", _("COZ / EMIZ")
    COGIC = "cogic", _("COGIC")
    OTHER = "other", _("Autre")


class Organisation(models.Model):
    name = models.CharField(_("nom"), max_length=200)
    short_name = models.CharField(_("sigle"), max_length=60, blank=True)
    kind = models.CharField(_("type"), max_length=16, choices=OrganisationKind.choices)
    territory = models.ForeignKey(
        "territories.Territory",
        on_delete=models.PROTECT,
        related_name="organisations",
        verbose_name=_("territoire de compétence"),
    )
    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
        verbose_name=_("organisation de rattachement"),
    )
    address = models.TextField(_("adresse"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    is_demo = models.BooleanField(
        _("donnée de démonstration"), default=False, help_text=_("Créée par le scénario de démo")
    )
    revision = models.PositiveIntegerField(
        default=0,
        editable=False,
        help_text=_("Incrémentée à chaque modification de la fiche, de ses fonctions ou contacts"),
    )

    class Meta:
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")
        ordering = ["territory__path", "kind", "name"]
        constraints = [
            models.UniqueConstraint(fields=["territory", "name"], name="organisation_name_unique"),
        ]

    def __str__(self) -> str:
        return self.short_name or self.name


class Function(models.Model):
    """A function held within an organisation (chef du SIDPC, officier CODIS, directeur…)."""

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="functions"
    )
    title = models.CharField(_("intitulé"), max_length=200)
    description = models.TextField(_("missions"), blank=True)

    class Meta:
        verbose_name = _("fonction")
        verbose_name_plural = _("fonctions")
        ordering = ["organisation", "title"]
        constraints = [
            models.UniqueConstraint(fields=["organisation", "title"], name="function_title_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.title} — {self.organisation}"


class ContactKind(models.TextChoices):
    PHONE = "phone", _("Téléphone")
    EMAIL = "email", _("Courriel")
    RADIO = "radio", _("Radio (INPT / RUBIS)")
    FAX = "fax", _("Télécopie")
    OTHER = "other", _("Autre")


class ContactPoint(models.Model):
    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="contact_points"
    )
    function = models.ForeignKey(
        Function,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="contact_points",
        verbose_name=_("fonction"),
    )
    kind = models.CharField(_("moyen"), max_length=8, choices=ContactKind.choices)
    label = models.CharField(_("libellé"), max_length=200, blank=True)
    value = models.CharField(_("valeur"), max_length=254)
    available_24_7 = models.BooleanField(_("joignable 24h/24"), default=False)

    class Meta:
        verbose_name = _("point de contact")
        verbose_name_plural = _("points de contact")
        ordering = ["organisation", "kind", "label"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.value}"
