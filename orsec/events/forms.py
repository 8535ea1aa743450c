"""Forms of the event and main courante pages. They parse input; the actions check the rules."""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from orsec.events.geo import LocationError, validate_geometry
from orsec.events.models import Event, EventType, Mode, Phase, Visibility
from orsec.journal.actions import MAX_REASON_LENGTH, MAX_TEXT_LENGTH, USER_CHANNELS, USER_KINDS
from orsec.journal.files import MAX_ATTACHMENTS_PER_ENTRY
from orsec.journal.models import Channel, Confidentiality, EntryKind, QualificationState
from orsec.territories.models import Territory

MAX_GEOJSON_CHARS = 200_000

_REASON = {
    "max_length": _("Le motif dépasse 1 000 caractères."),
}


class DsfrForm(forms.Form):
    """DSFR classes on widgets; after validation, errors linked with ``aria-describedby``."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, forms.CheckboxInput):
                continue
            if isinstance(widget, forms.Select):
                widget.attrs.setdefault("class", "fr-select")
            elif isinstance(widget, forms.FileInput):
                widget.attrs.setdefault("class", "fr-upload")
            else:
                widget.attrs.setdefault("class", "fr-input")

    def full_clean(self) -> None:
        super().full_clean()
        for name in self.errors:
            self._link_error(name)

    def add_error(self, field: str | None, error: Any) -> None:
        super().add_error(field, error)
        if field is not None:
            self._link_error(field)

    def _link_error(self, name: str) -> None:
        if name in self.fields:
            widget = self.fields[name].widget
            widget.attrs["aria-invalid"] = "true"
            widget.attrs["aria-describedby"] = f"{self[name].auto_id}-error"


def _reason_field(required: bool = True) -> forms.CharField:
    return forms.CharField(
        label=_("Motif"),
        max_length=MAX_REASON_LENGTH,
        required=required,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": _("Le motif est obligatoire."), **_REASON},
    )


class LocationFields(DsfrForm):
    """A point (latitude/longitude, e.g. from the phone's GPS) or a GeoJSON geometry."""

    latitude = forms.FloatField(
        label=_("Latitude (WGS84)"),
        required=False,
        min_value=-90,
        max_value=90,
        error_messages={
            "invalid": _("La latitude est un nombre décimal (ex. 47.394)."),
            "min_value": _("La latitude va de -90 à 90."),
            "max_value": _("La latitude va de -90 à 90."),
        },
    )
    longitude = forms.FloatField(
        label=_("Longitude (WGS84)"),
        required=False,
        min_value=-180,
        max_value=180,
        error_messages={
            "invalid": _("La longitude est un nombre décimal (ex. 0.689)."),
            "min_value": _("La longitude va de -180 à 180."),
            "max_value": _("La longitude va de -180 à 180."),
        },
    )
    geojson = forms.CharField(
        label=_("Ou géométrie GeoJSON (Point ou Polygon)"),
        required=False,
        max_length=MAX_GEOJSON_CHARS,
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={"max_length": _("La géométrie GeoJSON est trop longue.")},
    )

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        lat, lon, raw = data.get("latitude"), data.get("longitude"), data.get("geojson") or ""
        geometry: dict[str, Any] | None = None
        if raw.strip():
            if lat is not None or lon is not None:
                raise forms.ValidationError(
                    _("Indiquez soit une latitude et une longitude, soit une géométrie GeoJSON.")
                )
            try:
                parsed = json.loads(raw)
            except (ValueError, RecursionError):
                self.add_error("geojson", _("La géométrie GeoJSON n'est pas un JSON valide."))
                return data
            if isinstance(parsed, dict) and parsed.get("type") == "Feature":
                parsed = parsed.get("geometry")
            try:
                geometry = validate_geometry(parsed)
            except LocationError as error:
                self.add_error("geojson", str(error))
                return data
        elif lat is not None or lon is not None:
            if lat is None or lon is None:
                raise forms.ValidationError(
                    _("Indiquez la latitude et la longitude, ou aucune des deux.")
                )
            geometry = {"type": "Point", "coordinates": [lon, lat]}
        data["geometry"] = geometry
        return data


class EventOpenForm(LocationFields):
    title = forms.CharField(
        label=_("Intitulé"),
        max_length=200,
        error_messages={
            "required": _("L'intitulé est obligatoire."),
            "max_length": _("L'intitulé dépasse 200 caractères."),
        },
    )
    event_type = forms.ChoiceField(
        label=_("Type d'événement"),
        choices=EventType.choices,
        error_messages={"required": _("Choisissez le type d'événement.")},
    )
    mode = forms.ChoiceField(label=_("Mode"), choices=Mode.choices, initial=Mode.REAL)
    gravity = forms.TypedChoiceField(
        label=_("Gravité"),
        choices=[(n, str(n)) for n in range(1, 6)],
        coerce=int,
        initial=1,
    )
    phase = forms.ChoiceField(label=_("Phase"), choices=Phase.choices, initial=Phase.WATCH)
    territory = forms.ModelChoiceField(
        label=_("Territoire responsable"),
        queryset=Territory.objects.none(),
        error_messages={
            "required": _("Choisissez le territoire responsable."),
            "invalid_choice": _("Ce territoire n'est pas l'un des vôtres."),
        },
    )
    director = forms.CharField(
        label=_("Directeur des opérations (DOS)"), max_length=200, required=False
    )
    parent = forms.ModelChoiceField(
        label=_("Événement parent (facultatif)"),
        help_text=_("Pour un événement rattaché à un autre (une commune sinistrée d'une crue)."),
        queryset=Event.objects.none(),
        required=False,
        error_messages={"invalid_choice": _("Cet événement parent n'est pas accessible.")},
    )
    description = forms.CharField(
        label=_("Description"),
        max_length=MAX_TEXT_LENGTH,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
    )

    field_order = [
        "title",
        "event_type",
        "mode",
        "gravity",
        "phase",
        "territory",
        "director",
        "parent",
        "description",
        "latitude",
        "longitude",
        "geojson",
    ]

    def __init__(self, *args: Any, territories: Any, parents: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        parent_field = self.fields["parent"]
        if isinstance(parent_field, forms.ModelChoiceField) and parents is not None:
            parent_field.queryset = parents  # open events the user may see
        territory_field = self.fields["territory"]
        if isinstance(territory_field, forms.ModelChoiceField):
            territory_field.queryset = territories
        if territories.count() == 1:
            territory_field.initial = territories.first()


class PhaseForm(DsfrForm):
    phase = forms.ChoiceField(
        label=_("Nouvelle phase"),
        choices=Phase.choices,
        error_messages={"invalid_choice": _("Phase inconnue.")},
    )
    reason = _reason_field()


class GravityForm(DsfrForm):
    gravity = forms.TypedChoiceField(
        label=_("Nouvelle gravité"),
        choices=[(n, str(n)) for n in range(1, 6)],
        coerce=int,
        error_messages={"invalid_choice": _("La gravité va de 1 à 5.")},
    )
    reason = _reason_field(required=False)


class ShareForm(DsfrForm):
    visibility = forms.ChoiceField(
        label=_("Partager avec"),
        choices=[(Visibility.ZONE, _("la zone")), (Visibility.NATIONAL, _("le niveau national"))],
        error_messages={"invalid_choice": _("Niveau de partage inconnu.")},
    )
    reason = _reason_field()


class CloseForm(DsfrForm):
    final_summary = forms.CharField(
        label=_("Bilan final"),
        max_length=MAX_TEXT_LENGTH,
        required=False,  # the action gives the precise message
        widget=forms.Textarea(attrs={"rows": 6}),
    )


class ReopenForm(DsfrForm):
    reason = _reason_field()


class EscalationDecisionForm(DsfrForm):
    decision = forms.ChoiceField(
        label=_("Décision"),
        choices=[("accept", _("Accepter le partage")), ("refuse", _("Refuser"))],
        error_messages={"invalid_choice": _("Décision inconnue.")},
    )
    reason = _reason_field(required=False)


class MultipleFileInput(forms.FileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[Any]:
        files = data if isinstance(data, list | tuple) else ([data] if data else [])
        if len(files) > MAX_ATTACHMENTS_PER_ENTRY:
            raise forms.ValidationError(
                _("%(max)s pièces jointes au plus par entrée.") % {"max": MAX_ATTACHMENTS_PER_ENTRY}
            )
        return [super(MultipleFileField, self).clean(f, initial) for f in files]


class EntryForm(DsfrForm):
    kind = forms.ChoiceField(
        label=_("Nature"),
        choices=[(k, EntryKind(k).label) for k in USER_KINDS],
        initial=EntryKind.INFORMATION,
    )
    channel = forms.ChoiceField(
        label=_("Canal"),
        choices=[(c, Channel(c).label) for c in USER_CHANNELS],
        initial=Channel.PHONE,
    )
    text = forms.CharField(
        label=_("Texte"),
        max_length=MAX_TEXT_LENGTH,
        widget=forms.Textarea(attrs={"rows": 5}),
        error_messages={
            "required": _("Le texte de l'entrée est obligatoire."),
            "max_length": _("Le texte dépasse 10 000 caractères."),
        },
    )
    occurred_at = forms.DateTimeField(
        label=_("Survenu le (heure de Paris ; vide = maintenant)"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%d/%m/%Y %H:%M"],
        error_messages={
            "invalid": _("Date et heure invalides (format attendu : JJ/MM/AAAA HH:MM).")
        },
    )
    confidentiality = forms.ChoiceField(
        label=_("Confidentialité"),
        choices=Confidentiality.choices,
        initial=Confidentiality.INTERNAL,
    )
    is_highlight = forms.BooleanField(label=_("Fait marquant"), required=False)
    attachments = MultipleFileField(label=_("Pièces jointes (photos, PDF, texte)"), required=False)


class CorrectionForm(DsfrForm):
    text = forms.CharField(
        label=_("Texte corrigé"),
        max_length=MAX_TEXT_LENGTH,
        widget=forms.Textarea(attrs={"rows": 5}),
        error_messages={
            "required": _("Le texte corrigé est obligatoire."),
            "max_length": _("Le texte dépasse 10 000 caractères."),
        },
    )
    reason = _reason_field()


class JournalFilterForm(DsfrForm):
    kind = forms.ChoiceField(
        label=_("Nature"), required=False, choices=[("", _("Toutes")), *EntryKind.choices]
    )
    channel = forms.ChoiceField(
        label=_("Canal"), required=False, choices=[("", _("Tous")), *Channel.choices]
    )
    qualification = forms.ChoiceField(
        label=_("Qualification"),
        required=False,
        choices=[("", _("Toutes")), *QualificationState.choices],
    )
    highlights = forms.BooleanField(label=_("Faits marquants seulement"), required=False)
    q = forms.CharField(label=_("Texte cherché"), required=False, max_length=100)
    start = forms.DateField(
        label=_("Du"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": _("Date de début invalide.")},
    )
    end = forms.DateField(
        label=_("Au"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": _("Date de fin invalide.")},
    )

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        start, end = data.get("start"), data.get("end")
        if start and end and start > end:
            self.add_error("end", _("La date de fin précède la date de début."))
        return data


class EventFilterForm(DsfrForm):
    mode = forms.ChoiceField(required=False, choices=Mode.choices)
    phase = forms.ChoiceField(required=False, choices=[("", _("Toutes")), *Phase.choices])
    state = forms.ChoiceField(
        required=False,
        choices=[("open", _("En cours")), ("closed", _("Clos")), ("all", _("Tous"))],
    )
    territory = forms.CharField(required=False, max_length=120)
