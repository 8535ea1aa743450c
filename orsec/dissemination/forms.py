"""Forms of the dissemination pages: precise French errors, bounded input."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from orsec.directory.models import Organisation

MAX_COMMENT = 2000
MAX_RECIPIENTS = 100


class AcknowledgeForm(forms.Form):
    comment = forms.CharField(
        label=_("Commentaire (facultatif)"),
        required=False,
        max_length=MAX_COMMENT,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"max_length": _("Le commentaire fait au plus %(limit_value)d caractères.")},
    )


class OrganisationChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.short_name or obj.name} — {obj.territory}"


class DisseminateForm(forms.Form):
    organisations = OrganisationChoiceField(
        label=_("Organisations destinataires"),
        queryset=Organisation.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "invalid_choice": _("Organisation inconnue ou hors de votre annuaire."),
            "invalid_pk_value": _("Organisation inconnue ou hors de votre annuaire."),
        },
    )
    use_rules = forms.BooleanField(
        label=_("Appliquer aussi les règles de diffusion"), required=False, initial=True
    )
    note = forms.CharField(
        label=_("Note accompagnant la diffusion (facultatif)"),
        required=False,
        max_length=MAX_COMMENT,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"max_length": _("La note fait au plus %(limit_value)d caractères.")},
    )

    def __init__(self, *args: Any, organisations: QuerySet[Organisation], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = cast(forms.ModelMultipleChoiceField, self.fields["organisations"])
        field.queryset = organisations

    def clean_organisations(self) -> Any:
        chosen = self.cleaned_data.get("organisations")
        if chosen is not None and len(chosen) > MAX_RECIPIENTS:
            raise forms.ValidationError(
                _("Au plus %(n)d organisations par diffusion.") % {"n": MAX_RECIPIENTS}
            )
        return chosen

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if not cleaned.get("organisations") and not cleaned.get("use_rules"):
            raise forms.ValidationError(
                _("Choisissez au moins une organisation, ou appliquez les règles de diffusion.")
            )
        return cleaned
