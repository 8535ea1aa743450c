"""Form of the token creation page: parses input; the action re-checks every rule."""

from __future__ import annotations

from datetime import datetime, time
from typing import Any, cast

from django import forms
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from orsec.core.api import VERBS
from orsec.directory.models import Organisation
from orsec.partners.access import territory_fits_organisation
from orsec.territories.models import Territory


class IssueTokenForm(forms.Form):
    name = forms.CharField(
        label=_("Nom du système partenaire"),
        max_length=100,
        error_messages={"required": _("Donnez un nom au système partenaire.")},
    )
    organisation = forms.ModelChoiceField(
        label=_("Organisation"),
        queryset=Organisation.objects.none(),
        error_messages={
            "required": _("Choisissez l'organisation du système partenaire."),
            "invalid_choice": _("Choisissez une organisation que vous administrez."),
        },
    )
    territory_code = forms.CharField(
        label=_("Code du territoire"),
        max_length=32,
        required=False,
        help_text=_(
            "Code INSEE du département ou de la commune ; vide : le territoire de l'organisation."
        ),
    )
    verbs = forms.MultipleChoiceField(
        label=_("Droits"),
        choices=sorted(VERBS.items()),
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "required": _("Choisissez au moins un droit."),
            "invalid_choice": _("Droit inconnu."),
        },
    )
    expires_on = forms.DateField(
        label=_("Expire le"),
        required=False,
        help_text=_("Format : JJ/MM/AAAA ; vide : pas d'expiration (à révoquer à la main)."),
        input_formats=["%d/%m/%Y", "%Y-%m-%d"],
        error_messages={"invalid": _("Saisissez une date au format JJ/MM/AAAA.")},
    )

    def __init__(self, *args: Any, organisations: QuerySet[Organisation], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = cast(forms.ModelChoiceField, self.fields["organisation"])
        field.queryset = organisations.order_by("territory__path", "name")

    def clean_expires_on(self) -> Any:
        value = self.cleaned_data.get("expires_on")
        if value is not None and value <= timezone.localdate():
            raise forms.ValidationError(_("La date d'expiration doit être dans le futur."))
        return value

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        organisation = data.get("organisation")
        if organisation is None:
            return data
        code = (data.get("territory_code") or "").strip().upper()
        if not code:
            data["territory"] = organisation.territory
            return data
        candidates = Territory.objects.filter(code__iexact=code).defer("boundary")
        fitting = [t for t in candidates if territory_fits_organisation(t, organisation)]
        if not fitting:
            self.add_error(
                "territory_code",
                _("Aucun territoire de code « %(code)s » dans le territoire de %(org)s.")
                % {"code": code[:32], "org": organisation.territory.name},
            )
        else:
            data["territory"] = min(fitting, key=lambda t: len(t.path))
        return data

    def expires_at(self) -> datetime | None:
        """End of the chosen day, local time."""
        day = self.cleaned_data.get("expires_on")
        if day is None:
            return None
        return timezone.make_aware(datetime.combine(day, time(23, 59, 59)))
