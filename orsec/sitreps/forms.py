"""The draft edit form (the room lead's text) and the approval form."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from orsec.sitreps.models import MAX_SECTION_LENGTH, SECTIONS


class SitrepEditForm(forms.Form):
    expected_revision = forms.IntegerField(min_value=0, widget=forms.HiddenInput)
    next_point_at = forms.DateTimeField(
        label=_("Heure du prochain point"),
        required=False,
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%d/%m/%Y %H:%M"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        error_messages={"invalid": _("Saisissez une date et une heure (jj/mm/aaaa hh:mm).")},
    )

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        for name, title in SECTIONS:
            self.fields[name] = forms.CharField(
                label=title,
                required=False,
                max_length=MAX_SECTION_LENGTH,
                strip=True,
                widget=forms.Textarea(attrs={"rows": 6}),
                error_messages={
                    "max_length": _("%(limit_value)s caractères au plus (%(show_value)s saisis).")
                },
            )

    def section_values(self) -> dict[str, str]:
        return {name: self.cleaned_data.get(name) or "" for name, _title in SECTIONS}


class ApproveForm(forms.Form):
    expected_revision = forms.IntegerField(min_value=0, widget=forms.HiddenInput, required=False)
