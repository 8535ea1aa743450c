"""Partner tokens (read only: issuing goes through the audited action), partner endpoints and
the outbound messages with their dead-letter list (filter « abandonné ») and audited retry."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from orsec.directory.access import organisations_administered_by
from orsec.partners.access import tokens_administered_by
from orsec.partners.actions import do_retry_outbound, do_save_endpoint, validate_endpoint
from orsec.partners.models import (
    EventModeChoice,
    MessageKind,
    OutboundMessage,
    PartnerEndpoint,
    PartnerToken,
)


@admin.register(PartnerToken)
class PartnerTokenAdmin(admin.ModelAdmin):
    list_display = ["name", "prefix", "organisation", "territory", "created_at", "revoked_at"]
    list_filter = ["revoked_at"]
    search_fields = ["name", "prefix", "organisation__name"]
    exclude = ["secret_hash"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[PartnerToken]:
        return tokens_administered_by(request.user)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # the pages issue tokens (shown once, audited)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


# --- Outbound delivery ---------------------------------------------------------------------------


class PartnerEndpointForm(forms.ModelForm):
    subscriptions = forms.MultipleChoiceField(
        label=_("Messages reçus"),
        choices=MessageKind.choices,
        widget=forms.CheckboxSelectMultiple,
    )
    modes = forms.MultipleChoiceField(
        label=_("Modes acceptés"),
        choices=EventModeChoice.choices,
        widget=forms.CheckboxSelectMultiple,
        initial=[EventModeChoice.REAL],
        help_text=_("Un partenaire peut refuser le trafic d'exercice ou de test."),
    )

    class Meta:
        model = PartnerEndpoint
        fields = ["organisation", "name", "url", "kind", "subscriptions", "modes", "is_active"]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        candidate = self.instance
        for field in ("name", "url", "kind", "subscriptions", "modes"):
            if field in cleaned:
                setattr(candidate, field, cleaned[field])
        try:
            validate_endpoint(candidate)
        except ValidationError as error:
            for field, messages in error.message_dict.items():
                if field in self.fields and field not in self.errors:
                    self.add_error(field, messages)
        return cleaned


@admin.register(PartnerEndpoint)
class PartnerEndpointAdmin(admin.ModelAdmin):
    form = PartnerEndpointForm
    list_display = ["name", "organisation", "url", "kind", "is_active", "created_at"]
    list_filter = ["is_active", "kind"]
    search_fields = ["name", "url", "organisation__name"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[PartnerEndpoint]:
        organisations = organisations_administered_by(request.user)
        return PartnerEndpoint.objects.filter(
            organisation__in=organisations.values("pk")
        ).select_related("organisation")

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "organisation":
            kwargs["queryset"] = organisations_administered_by(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return organisations_administered_by(request.user).exists()

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.has_module_permission(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return self.has_module_permission(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.has_module_permission(request)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # deactivate instead: the messages sent keep their recipient

    def save_model(
        self, request: HttpRequest, obj: PartnerEndpoint, form: Any, change: bool
    ) -> None:
        _endpoint, secret = do_save_endpoint(
            request.user, obj, changed=list(form.changed_data), request=request
        )
        request._orsec_endpoint_secret = secret  # type: ignore[attr-defined]

    def response_add(
        self, request: HttpRequest, obj: PartnerEndpoint, post_url_continue: Any = None
    ) -> HttpResponse:
        secret = getattr(request, "_orsec_endpoint_secret", None)
        response = TemplateResponse(
            request,
            "partners/endpoint_secret.html",
            {
                **self.admin_site.each_context(request),
                "endpoint": obj,
                "secret": secret,
                "changelist_url": reverse("admin:partners_partnerendpoint_changelist"),
            },
        )
        response["Cache-Control"] = "no-store"
        return response


@admin.action(description=_("Renvoyer maintenant (nouvelle série d'essais)"))
def retry_now(modeladmin: Any, request: HttpRequest, queryset: QuerySet[OutboundMessage]) -> None:
    retried = sum(do_retry_outbound(request.user, m, request=request) for m in queryset)
    skipped = queryset.count() - retried
    modeladmin.message_user(
        request,
        _("%(retried)s message(s) remis en file ; %(skipped)s ignoré(s) (non abandonnés).")
        % {"retried": retried, "skipped": skipped},
        messages.SUCCESS if retried else messages.WARNING,
    )


@admin.register(OutboundMessage)
class OutboundMessageAdmin(admin.ModelAdmin):
    list_display = [
        "created_at",
        "kind",
        "endpoint",
        "state",
        "attempts",
        "response_status",
        "last_error",
        "next_attempt_at",
    ]
    list_filter = ["state", "kind", "endpoint"]
    search_fields = ["delivery_id", "endpoint__name", "endpoint__organisation__name"]
    actions = [retry_now]
    exclude = ["body"]
    readonly_fields = [
        "delivery_id",
        "endpoint",
        "kind",
        "standard",
        "content_type",
        "raw_body",
        "body_sha256",
        "mode",
        "event",
        "entry",
        "journal_entry",
        "created_at",
        "state",
        "attempts",
        "next_attempt_at",
        "last_attempt_at",
        "last_error",
        "response_status",
        "delivered_at",
    ]

    @admin.display(description=_("message brut"))
    def raw_body(self, obj: OutboundMessage) -> str:
        return bytes(obj.body).decode("utf-8", errors="replace")

    def get_queryset(self, request: HttpRequest) -> QuerySet[OutboundMessage]:
        organisations = organisations_administered_by(request.user)
        return OutboundMessage.objects.filter(
            endpoint__organisation__in=organisations.values("pk")
        ).select_related("endpoint", "endpoint__organisation")

    def has_module_permission(self, request: HttpRequest) -> bool:
        return organisations_administered_by(request.user).exists()

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.has_module_permission(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # read only; the retry action is the one write

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
