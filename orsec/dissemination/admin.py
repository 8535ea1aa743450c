"""Admin screens of dissemination: routing rules (every save through the audited actions), and
read-only views of disseminations and deliveries."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from orsec.accounts.access import scope_of
from orsec.directory.models import OrganisationKind
from orsec.dissemination.actions import do_delete_routing_rule, do_save_routing_rule
from orsec.dissemination.models import Delivery, Dissemination, RoutingRule
from orsec.journal.models import EntryKind

MAX_TEMPLATES = 20


class RoutingRuleForm(forms.ModelForm):
    entry_kinds = forms.MultipleChoiceField(
        label=_("Natures d'entrées"),
        choices=EntryKind.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Aucune case cochée : toutes les natures."),
    )
    organisation_kinds = forms.MultipleChoiceField(
        label=_("Types d'organisations destinataires"),
        choices=OrganisationKind.choices,
        widget=forms.CheckboxSelectMultiple,
    )
    report_templates = forms.CharField(
        label=_("Modèles de remontée"),
        required=False,
        max_length=400,
        help_text=_("Séparés par des virgules (casualties, networks…) ; vide : tous."),
    )

    class Meta:
        model = RoutingRule
        fields = [
            "name",
            "entry_kinds",
            "report_templates",
            "territory",
            "organisation_kinds",
            "is_active",
        ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial["report_templates"] = ", ".join(self.instance.report_templates or [])

    def clean_report_templates(self) -> list[str]:
        raw = self.cleaned_data.get("report_templates") or ""
        names = [n.strip() for n in raw.split(",") if n.strip()]
        if len(names) > MAX_TEMPLATES or any(len(n) > 40 for n in names):
            raise forms.ValidationError(_("Au plus 20 modèles de 40 caractères chacun."))
        return list(dict.fromkeys(names))


@admin.register(RoutingRule)
class RoutingRuleAdmin(admin.ModelAdmin):
    form = RoutingRuleForm
    list_display = ["name", "territory", "is_active"]
    list_filter = ["is_active"]
    search_fields = ["name", "territory__name", "territory__code"]
    autocomplete_fields = ["territory"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[RoutingRule]:
        queryset = super().get_queryset(request).select_related("territory")
        if request.user.is_superuser:
            return queryset
        return queryset.filter(scope_of(request.user).q("territory_path"))

    def formfield_for_foreignkey(
        self, db_field: Any, request: HttpRequest, **kwargs: Any
    ) -> forms.ModelChoiceField | None:
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if (
            db_field.name == "territory"
            and field is not None
            and field.queryset is not None
            and not request.user.is_superuser
        ):
            # a local administrator writes rules for their own territory and below only
            field.queryset = field.queryset.filter(scope_of(request.user).q("path"))
        return field

    def save_model(self, request: HttpRequest, obj: RoutingRule, form: Any, change: bool) -> None:
        do_save_routing_rule(request.user, obj, changed=list(form.changed_data), request=request)

    def delete_model(self, request: HttpRequest, obj: RoutingRule) -> None:
        do_delete_routing_rule(request.user, obj, request=request)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[RoutingRule]) -> None:
        for rule in queryset:
            do_delete_routing_rule(request.user, rule, request=request)


class ReadOnlyAdmin(admin.ModelAdmin):
    """The trace is written by the actions only."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Dissemination)
class DisseminationAdmin(ReadOnlyAdmin):
    list_display = ["id", "event", "entry", "routing", "disseminated_at", "disseminated_by"]
    list_filter = ["mode", "routing"]
    list_select_related = ["event", "entry", "disseminated_by"]


@admin.register(Delivery)
class DeliveryAdmin(ReadOnlyAdmin):
    list_display = ["id", "event", "organisation", "user", "state", "sent_at", "acknowledged_at"]
    list_filter = ["state", "mode"]
    list_select_related = ["event", "organisation", "user"]
