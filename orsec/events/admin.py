"""Admin: the escalation rules (SYNERGI opening criteria) are configuration, written through
the audited actions; events themselves change only through the portal's pages and API."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from orsec.events.actions import do_deactivate_escalation_rule, do_save_escalation_rule
from orsec.events.models import Criterion, EscalationRule, EventType

_NEEDS_THRESHOLD = {
    Criterion.ROAD_BLOCKED_HOURS,
    Criterion.VICTIMS_AT_LEAST,
    Criterion.DEAD_AT_LEAST,
    Criterion.GRAVITY_AT_LEAST,
}


class EscalationRuleForm(forms.ModelForm):
    event_types = forms.MultipleChoiceField(
        label=_("Types d'événements (critère « type parmi une liste »)"),
        choices=EventType.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = EscalationRule
        fields = ["name", "criterion", "threshold", "event_types", "target", "is_active"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        criterion = data.get("criterion")
        if criterion in _NEEDS_THRESHOLD and not data.get("threshold"):
            self.add_error("threshold", _("Ce critère demande un seuil (nombre entier positif)."))
        if criterion == Criterion.GRAVITY_AT_LEAST and (data.get("threshold") or 0) > 5:
            self.add_error("threshold", _("La gravité va de 1 à 5."))
        if criterion == Criterion.EVENT_TYPE_IN and not data.get("event_types"):
            self.add_error("event_types", _("Choisissez au moins un type d'événement."))
        return data


@admin.register(EscalationRule)
class EscalationRuleAdmin(admin.ModelAdmin):
    form = EscalationRuleForm
    list_display = ["name", "criterion", "threshold", "target", "is_active"]
    list_filter = ["is_active", "criterion", "target"]
    search_fields = ["name"]
    actions = ["deactivate"]

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # proposals keep pointing to their rule: deactivate instead

    def save_model(
        self, request: HttpRequest, obj: EscalationRule, form: Any, change: bool
    ) -> None:
        do_save_escalation_rule(request.user, obj, changed=list(form.changed_data), request=request)

    @admin.action(description=_("Désactiver les règles sélectionnées"))
    def deactivate(self, request: HttpRequest, queryset: QuerySet[EscalationRule]) -> None:
        for rule in queryset:
            do_deactivate_escalation_rule(request.user, rule, request=request)
