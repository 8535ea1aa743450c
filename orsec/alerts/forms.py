"""The population-alert (FR-Alert) draft form: the texts the préfecture writes."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from orsec.interop.cap.serialize import HEADLINE_MAX, RESPONSE_TYPES

DESCRIPTION_MAX = 2000
INSTRUCTION_MAX = 2000


class PopulationAlertForm(forms.Form):
    headline = forms.CharField(
        label=_("Titre de l'alerte"),
        max_length=HEADLINE_MAX,
        help_text=_("%(max)s caractères au plus : c'est ce que l'écran du téléphone affiche.")
        % {"max": HEADLINE_MAX},
        error_messages={
            "required": _("Donnez un titre à l'alerte."),
            "max_length": _("Le titre ne doit pas dépasser %(limit_value)s caractères."),
        },
    )
    description = forms.CharField(
        label=_("Description de la situation"),
        max_length=DESCRIPTION_MAX,
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={
            "required": _("Décrivez la situation."),
            "max_length": _("La description ne doit pas dépasser %(limit_value)s caractères."),
        },
    )
    instruction = forms.CharField(
        label=_("Consignes à la population"),
        max_length=INSTRUCTION_MAX,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={
            "max_length": _("Les consignes ne doivent pas dépasser %(limit_value)s caractères."),
        },
    )
    response_type = forms.ChoiceField(
        label=_("Conduite à tenir principale"),
        choices=[("", _("Non précisée")), *RESPONSE_TYPES.items()],
        required=False,
        error_messages={"invalid_choice": _("Choisissez une conduite à tenir de la liste.")},
    )
    validity_hours = forms.IntegerField(
        label=_("Durée de validité (heures)"),
        min_value=1,
        max_value=72,
        initial=6,
        error_messages={
            "required": _("Indiquez la durée de validité de l'alerte, en heures."),
            "invalid": _("La durée de validité est un nombre entier d'heures."),
            "min_value": _("La durée de validité est d'au moins 1 heure."),
            "max_value": _("La durée de validité est de 72 heures au plus."),
        },
    )
    radius_km = forms.DecimalField(
        label=_("Rayon autour du point de l'événement (km)"),
        min_value=0.1,
        max_value=50,
        max_digits=4,
        decimal_places=1,
        initial=1,
        help_text=_(
            "Utilisé quand l'événement est localisé par un point ; ignoré pour un polygone."
        ),
        error_messages={
            "required": _("Indiquez le rayon de la zone d'alerte, en kilomètres."),
            "invalid": _("Le rayon est un nombre de kilomètres (par exemple 1,5)."),
            "min_value": _("Le rayon est d'au moins 0,1 km."),
            "max_value": _("Le rayon est de 50 km au plus."),
            "max_digits": _("Le rayon s'écrit avec au plus une décimale (par exemple 1,5)."),
            "max_decimal_places": _(
                "Le rayon s'écrit avec au plus une décimale (par exemple 1,5)."
            ),
        },
    )

    def clean_headline(self) -> str:
        return _single_line(_xml_text(self.cleaned_data["headline"]))

    def clean_description(self) -> str:
        return _xml_text(self.cleaned_data["description"])

    def clean_instruction(self) -> str:
        return _xml_text(self.cleaned_data["instruction"])

    def draft_arguments(self) -> dict[str, Any]:
        """Keyword arguments of :func:`orsec.interop.cap.serialize.population_alert_draft`."""
        data = self.cleaned_data
        return {
            "headline": data["headline"],
            "description": data["description"].strip(),
            "instruction": data["instruction"].strip(),
            "response_type": data["response_type"],
            "validity_hours": data["validity_hours"],
            "circle_radius_km": float(data["radius_km"]),
        }


# Characters XML 1.0 cannot carry (controls other than tab/newline/return, surrogates,
# U+FFFE/U+FFFF): refused with a clear message rather than failing at serialization.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _xml_text(text: str) -> str:
    if _NOT_XML.search(text):
        raise forms.ValidationError(
            _("Le texte contient un caractère de contrôle invisible : retirez-le."),
            code="control_character",
        )
    return text


def _single_line(text: str) -> str:
    return " ".join(text.split())


def initial_for(event: Any) -> dict[str, Any]:
    """Starting texts from the event (the user rewrites them for the population)."""
    return {
        "headline": str(event.title)[:HEADLINE_MAX],
        "description": event.description or event.title,
        "validity_hours": 6,
        "radius_km": 1,
    }
