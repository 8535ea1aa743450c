"""Forms of the report pages: parse and give precise French errors; the actions decide."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from orsec.journal.models import Channel
from orsec.reports.models import (
    MAX_COUNT,
    MAX_PHOTOS,
    MAX_ROAD_LABEL,
    MAX_ROADS,
    MAX_TEXT,
    RESOURCE_FIELDS,
    RESOURCE_SERVICES,
    TEMPLATE_FIELDS,
    Credibility,
    Priority,
    Reliability,
    Template,
)

#: Channels a person picks on the form (API and automatic ones are set by the system).
FORM_CHANNELS = [
    (c.value, c.label)
    for c in (Channel.FIELD, Channel.PHONE, Channel.RADIO, Channel.EMAIL, Channel.PORTAL)
]


def dsfr_decorate(form: forms.Form) -> None:
    """DSFR classes and an ``aria-describedby`` pointing at each field's messages block."""
    for name, field in form.fields.items():
        widget = field.widget
        if isinstance(widget, forms.HiddenInput):
            continue
        if isinstance(widget, forms.RadioSelect | forms.CheckboxSelectMultiple):
            continue
        if isinstance(widget, forms.Select):
            css = "fr-select"
        elif isinstance(widget, forms.ClearableFileInput):
            css = "fr-upload"
        else:
            css = "fr-input"
        widget.attrs["class"] = css
        widget.attrs["aria-describedby"] = f"id_{name}-messages"


class TemplateChoiceForm(forms.Form):
    modele = forms.ChoiceField(
        label=gettext_lazy("Modèle de remontée"),
        choices=Template.choices,
        widget=forms.RadioSelect,
    )


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleImageField(forms.FileField):
    """Several photos; their type is checked from their content by the action."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault(
            "widget",
            MultipleFileInput(attrs={"accept": "image/jpeg,image/png,image/webp,image/gif"}),
        )
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[Any]:
        files = data if isinstance(data, list | tuple) else ([data] if data else [])
        if len(files) > MAX_PHOTOS:
            raise forms.ValidationError(
                _("%(max)s photos au plus par remontée.") % {"max": MAX_PHOTOS}
            )
        return [super(MultipleImageField, self).clean(f, initial) for f in files]


def figure_field_name(key: str) -> str:
    return f"fig_{key}"


def resource_field_name(service: str, key: str) -> str:
    return f"res_{service}_{key}"


def _count_field(label: Any) -> forms.IntegerField:
    return forms.IntegerField(
        label=label,
        required=False,
        min_value=0,
        max_value=MAX_COUNT,
        widget=forms.NumberInput(attrs={"inputmode": "numeric", "min": 0, "max": MAX_COUNT}),
    )


class ReportForm(forms.Form):
    """The phone-sized report form of one template."""

    text = forms.CharField(
        label=gettext_lazy("Description"),
        required=False,
        max_length=MAX_TEXT,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    occurred_at = forms.DateTimeField(
        label=gettext_lazy("Heure de l'observation"),
        help_text=gettext_lazy("Laissez vide pour « maintenant »."),
        required=False,
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%d/%m/%Y %H:%M"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    channel = forms.ChoiceField(
        label=gettext_lazy("Source de l'information"), choices=FORM_CHANNELS, initial="field"
    )
    latitude = forms.FloatField(
        label=gettext_lazy("Latitude"),
        required=False,
        min_value=-90,
        max_value=90,
        widget=forms.NumberInput(attrs={"step": "any", "inputmode": "decimal"}),
    )
    longitude = forms.FloatField(
        label=gettext_lazy("Longitude"),
        required=False,
        min_value=-180,
        max_value=180,
        widget=forms.NumberInput(attrs={"step": "any", "inputmode": "decimal"}),
    )
    photos = MultipleImageField(
        label=gettext_lazy("Photos"),
        help_text=gettext_lazy("JPEG, PNG, WebP ou GIF ; 5 photos au plus."),
        required=False,
    )

    def __init__(self, *args: Any, template: str, organisations: list[Any], **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.template = template
        self.figure_fields: list[str] = []
        self.resource_rows: list[tuple[str, list[str]]] = []
        for key, label in TEMPLATE_FIELDS[template].items():
            name = figure_field_name(key)
            self.fields[name] = _count_field(label)
            self.figure_fields.append(name)
        if template == Template.NETWORKS:
            self.fields["roads_closed_list"] = forms.CharField(
                label=_("Routes coupées (une par ligne)"),
                required=False,
                max_length=MAX_ROADS * (MAX_ROAD_LABEL + 1),
                widget=forms.Textarea(attrs={"rows": 3}),
            )
        if template == Template.RESOURCES:
            for service, service_label in RESOURCE_SERVICES.items():
                names = []
                for key, key_label in RESOURCE_FIELDS.items():
                    name = resource_field_name(service, key)
                    self.fields[name] = _count_field(f"{service_label} : {key_label}")
                    names.append(name)
                self.resource_rows.append((str(service_label), names))
        if template == Template.GENERAL:
            self.fields["text"].required = True
        self.fields["organisation"] = forms.TypedChoiceField(
            label=_("Au titre de"),
            choices=[(o.pk, o.name) for o in organisations],
            coerce=int,
            required=len(organisations) > 1,
            empty_value=None,
        )
        self._organisations = {o.pk: o for o in organisations}
        dsfr_decorate(self)

    def clean_roads_closed_list(self) -> list[str]:
        lines = [
            line.strip() for line in (self.cleaned_data.get("roads_closed_list") or "").splitlines()
        ]
        roads = [line for line in lines if line]
        if len(roads) > MAX_ROADS:
            raise forms.ValidationError(_("%(max)s routes au plus.") % {"max": MAX_ROADS})
        for road in roads:
            if len(road) > MAX_ROAD_LABEL:
                raise forms.ValidationError(
                    _("Chaque route tient en %(max)s caractères au plus.") % {"max": MAX_ROAD_LABEL}
                )
        return roads

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        latitude, longitude = data.get("latitude"), data.get("longitude")
        if (latitude is None) != (longitude is None) and not self.errors.get("latitude"):
            self.add_error(
                "latitude", _("Indiquez la latitude et la longitude, ou aucune des deux.")
            )
        return data

    def figures(self) -> dict[str, Any]:
        figures: dict[str, Any] = {}
        for key in TEMPLATE_FIELDS[self.template]:
            value = self.cleaned_data.get(figure_field_name(key))
            if value is not None:
                figures[key] = value
        if self.template == Template.NETWORKS and self.cleaned_data.get("roads_closed_list"):
            figures["roads_closed_list"] = self.cleaned_data["roads_closed_list"]
        if self.template == Template.RESOURCES:
            for service in RESOURCE_SERVICES:
                entry = {
                    key: self.cleaned_data[resource_field_name(service, key)]
                    for key in RESOURCE_FIELDS
                    if self.cleaned_data.get(resource_field_name(service, key)) is not None
                }
                if entry:
                    figures[service] = entry
        return figures

    def location(self) -> dict[str, Any] | None:
        latitude, longitude = self.cleaned_data.get("latitude"), self.cleaned_data.get("longitude")
        if latitude is None or longitude is None:
            return None
        return {"type": "Point", "coordinates": [longitude, latitude]}

    def organisation(self) -> Any:
        """The chosen organisation; the only one when the user has a single one."""
        chosen = self.cleaned_data.get("organisation")
        if chosen is None and len(self._organisations) == 1:
            return next(iter(self._organisations.values()))
        return self._organisations.get(chosen or 0)

    def field_for_error(self, field: str) -> str | None:
        """The form field that an action's error names (``dead`` → ``fig_dead``)."""
        if field in self.fields:
            return field
        if figure_field_name(field) in self.fields:
            return figure_field_name(field)
        if "." in field:
            service, key = field.split(".", 1)
            name = resource_field_name(service, key)
            return name if name in self.fields else None
        return {"location": "latitude", "figures": None}.get(field)


class QualificationForm(forms.Form):
    """One qualification decision from the report page (or a bulk action from the queue)."""

    action = forms.ChoiceField(
        choices=[
            ("start_check", gettext_lazy("Passer en vérification")),
            ("confirm", gettext_lazy("Confirmer")),
            ("refute", gettext_lazy("Infirmer")),
            ("grade", gettext_lazy("Coter")),
            ("assign", gettext_lazy("Attribuer")),
            ("merge", gettext_lazy("Marquer comme doublon")),
        ]
    )
    expected_revision = forms.IntegerField(min_value=0, max_value=2**31, widget=forms.HiddenInput)
    reliability = forms.ChoiceField(
        label=gettext_lazy("Fiabilité de la source"),
        choices=[("", "—"), *Reliability.choices],
        required=False,
    )
    credibility = forms.TypedChoiceField(
        label=gettext_lazy("Crédibilité de l'information"),
        choices=[("", "—"), *Credibility.choices],
        coerce=int,
        empty_value=None,
        required=False,
    )
    priority = forms.ChoiceField(
        label=gettext_lazy("Priorité"), choices=[("", "—"), *Priority.choices], required=False
    )
    reason = forms.CharField(
        label=gettext_lazy("Motif"),
        max_length=1000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    assignee = forms.IntegerField(required=False, min_value=0, max_value=2**53)
    duplicate_of = forms.IntegerField(required=False, min_value=1, max_value=2**53)


class BulkForm(forms.Form):
    ids = forms.TypedMultipleChoiceField(coerce=int, choices=[], required=True)
    action = forms.ChoiceField(
        label=gettext_lazy("Action sur la sélection"),
        choices=[
            ("start_check", gettext_lazy("Passer en vérification")),
            ("assign_me", gettext_lazy("Me l'attribuer")),
            ("grade", gettext_lazy("Coter (fiabilité, crédibilité, priorité)")),
            ("confirm", gettext_lazy("Confirmer (avec la cotation ci-dessous)")),
            ("refute", gettext_lazy("Infirmer (avec le motif ci-dessous)")),
        ],
    )
    reliability = QualificationForm.base_fields["reliability"]
    credibility = QualificationForm.base_fields["credibility"]
    priority = QualificationForm.base_fields["priority"]
    reason = forms.CharField(label=gettext_lazy("Motif"), max_length=1000, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        raw = self.data.getlist("ids") if hasattr(self.data, "getlist") else []
        # any integer id is a valid choice here: access is checked per report by the view
        choices = []
        for value in raw[:100]:
            if str(value).isdigit() and len(str(value)) < 16:
                choices.append((value, value))
        ids_field = self.fields["ids"]
        if isinstance(ids_field, forms.TypedMultipleChoiceField):
            ids_field.choices = choices
