"""Forms of the on-call pages: precise French errors, bounded input."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from orsec.directory.models import Function, Organisation
from orsec.events.models import EventType
from orsec.oncall.actions import TICK_STATUSES
from orsec.oncall.models import CallStatus, Roster
from orsec.territories.models import Territory

_DATETIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%d/%m/%Y %H:%M"]
_DATETIME_ERRORS = {
    "required": _("Ce champ est obligatoire."),
    "invalid": _("Date et heure invalides (format attendu : JJ/MM/AAAA HH:MM)."),
}


def _datetime_field(label: Any) -> forms.DateTimeField:
    return forms.DateTimeField(
        label=label,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=_DATETIME_FORMATS,
        error_messages=_DATETIME_ERRORS,
    )


class ShiftForm(forms.Form):
    person_name = forms.CharField(
        label=_("Nom de la personne d'astreinte"),
        max_length=150,
        error_messages={
            "required": _("Le nom de la personne d'astreinte est obligatoire."),
            "max_length": _("Le nom fait au plus %(limit_value)d caractères."),
        },
    )
    phone = forms.CharField(
        label=_("Téléphone pendant l'astreinte"),
        max_length=32,
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "off"}),
        error_messages={
            "required": _("Le téléphone est obligatoire."),
            "max_length": _("Le téléphone fait au plus %(limit_value)d caractères."),
        },
    )
    start = _datetime_field(_("Début (heure de Paris)"))
    end = _datetime_field(_("Fin (heure de Paris)"))


class RosterForm(forms.Form):
    organisation = forms.ModelChoiceField(
        label=_("Organisation"),
        queryset=Organisation.objects.none(),
        error_messages={"invalid_choice": _("Organisation inconnue ou hors de vos droits.")},
    )
    label = forms.CharField(
        label=_("Intitulé de l'astreinte"),
        max_length=200,
        help_text=_("Par exemple « Officier CODIS » ou « Cadre d'astreinte SIDPC »."),
        error_messages={"required": _("L'intitulé est obligatoire.")},
    )
    function = forms.ModelChoiceField(
        label=_("Fonction de l'annuaire (facultatif)"),
        queryset=Function.objects.none(),
        required=False,
        error_messages={"invalid_choice": _("Fonction inconnue.")},
    )

    def __init__(self, *args: Any, organisations: QuerySet[Organisation], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["organisation"]).queryset = organisations
        cast(forms.ModelChoiceField, self.fields["function"]).queryset = Function.objects.filter(
            organisation__in=organisations
        ).select_related("organisation")


class TickForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Résultat de l'appel"),
        choices=[(s.value, s.label) for s in CallStatus if s in TICK_STATUSES],
        error_messages={"invalid_choice": _("Statut non admis : appelé, joint ou absent.")},
    )
    comment = forms.CharField(
        label=_("Commentaire (facultatif)"),
        required=False,
        max_length=500,
        error_messages={"max_length": _("Le commentaire fait au plus %(limit_value)d caractères.")},
    )
    revision = forms.IntegerField(min_value=0, required=False, widget=forms.HiddenInput)


class _Choice(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        if isinstance(obj, Organisation):
            return obj.short_name or obj.name
        return str(obj)


class SchemeForm(forms.Form):
    name = forms.CharField(
        label=_("Nom du schéma"),
        max_length=200,
        error_messages={"required": _("Le nom du schéma est obligatoire.")},
    )
    territory = forms.ModelChoiceField(
        label=_("Territoire"),
        queryset=Territory.objects.none(),
        error_messages={"invalid_choice": _("Territoire inconnu ou hors de vos droits.")},
    )
    event_types = forms.MultipleChoiceField(
        label=_("Types d'événement"),
        choices=EventType.choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "required": _("Choisissez au moins un type d'événement."),
            "invalid_choice": _("Type d'événement inconnu."),
        },
    )
    is_active = forms.BooleanField(label=_("Schéma actif"), required=False, initial=True)

    def __init__(self, *args: Any, territories: QuerySet[Territory], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["territory"]).queryset = territories


class StepForm(forms.Form):
    organisation = _Choice(
        label=_("Organisation"),
        queryset=Organisation.objects.none(),
        required=False,
        error_messages={"invalid_choice": _("Organisation inconnue ou hors de votre annuaire.")},
    )
    roster = _Choice(
        label=_("Astreinte"),
        queryset=Roster.objects.none(),
        required=False,
        error_messages={"invalid_choice": _("Astreinte inconnue.")},
    )
    function = _Choice(
        label=_("ou fonction"),
        queryset=Function.objects.none(),
        required=False,
        error_messages={"invalid_choice": _("Fonction inconnue.")},
    )
    instruction = forms.CharField(
        label=_("Consigne"),
        required=False,
        max_length=2000,
        error_messages={"max_length": _("La consigne fait au plus %(limit_value)d caractères.")},
    )

    def __init__(self, *args: Any, organisations: QuerySet[Organisation], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["organisation"]).queryset = organisations
        cast(forms.ModelChoiceField, self.fields["roster"]).queryset = Roster.objects.filter(
            organisation__in=organisations, is_active=True
        ).select_related("organisation")
        cast(forms.ModelChoiceField, self.fields["function"]).queryset = Function.objects.filter(
            organisation__in=organisations
        ).select_related("organisation")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        filled = data.get("roster") or data.get("function") or data.get("instruction")
        if filled and not data.get("organisation"):
            raise forms.ValidationError(_("Choisissez l'organisation de cette étape."))
        return data


#: Rows of steps shown on the scheme form (empty rows are ignored).
STEP_ROWS = 10
StepFormSet = forms.formset_factory(StepForm, extra=0, max_num=50, absolute_max=50)
