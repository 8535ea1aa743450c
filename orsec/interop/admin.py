"""Admin of interop: the sender ids of partner organisations (written through audited actions)
and the messages received (read only: raw form, verdict, errors, the answer sent back).

Both are limited to the organisations the administrator administers
(:func:`orsec.directory.access.organisations_administered_by`); other staff see nothing.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from orsec.directory.access import organisations_administered_by

from .actions import do_delete_partner_sender, do_save_partner_sender
from .models import InboundMessage, PartnerSender


class _AdministeredOnly(admin.ModelAdmin):
    def has_module_permission(self, request: HttpRequest) -> bool:
        return bool(organisations_administered_by(request.user).exists())

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.has_module_permission(request)


@admin.register(PartnerSender)
class PartnerSenderAdmin(_AdministeredOnly):
    list_display = ["sender_id", "organisation", "description"]
    list_filter = ["organisation"]
    search_fields = ["sender_id", "organisation__name", "description"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[PartnerSender]:
        organisations = organisations_administered_by(request.user)
        return PartnerSender.objects.filter(
            organisation__in=organisations.values("pk")
        ).select_related("organisation")

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "organisation":
            kwargs["queryset"] = organisations_administered_by(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return self.has_module_permission(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.has_module_permission(request)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.has_module_permission(request)

    def save_model(self, request: HttpRequest, obj: PartnerSender, form: Any, change: bool) -> None:
        do_save_partner_sender(request.user, obj, changed=list(form.changed_data), request=request)

    def delete_model(self, request: HttpRequest, obj: PartnerSender) -> None:
        do_delete_partner_sender(request.user, obj, request=request)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[PartnerSender]) -> None:
        for sender in queryset:
            do_delete_partner_sender(request.user, sender, request=request)


@admin.register(InboundMessage)
class InboundMessageAdmin(_AdministeredOnly):
    list_display = [
        "received_at",
        "standard",
        "verdict",
        "imported",
        "partner_name",
        "sender_id",
        "distribution_id",
        "mode",
        "event",
    ]
    list_filter = ["standard", "verdict", "imported", "mode", "organisation"]
    search_fields = ["distribution_id", "sender_id", "case_id", "sha256", "partner_name"]
    date_hierarchy = "received_at"
    exclude = ["raw", "response"]
    readonly_fields = [
        "received_at",
        "organisation",
        "received_by",
        "partner_name",
        "standard",
        "sender_id",
        "distribution_id",
        "case_id",
        "mode",
        "content_type",
        "size",
        "sha256",
        "verdict",
        "errors",
        "imported",
        "replay_of",
        "event",
        "entry_ids",
        "report_ids",
        "summary",
        "raw_text",
        "response_type",
        "response_text",
    ]

    @admin.display(description=_("forme brute"))
    def raw_text(self, obj: InboundMessage) -> str:
        return bytes(obj.raw).decode("utf-8", errors="replace")

    @admin.display(description=_("réponse envoyée"))
    def response_text(self, obj: InboundMessage) -> str:
        return bytes(obj.response).decode("utf-8", errors="replace")

    def get_queryset(self, request: HttpRequest) -> QuerySet[InboundMessage]:
        organisations = organisations_administered_by(request.user)
        administered = Q(organisation__in=organisations.values("pk"))
        if getattr(request.user, "is_superuser", False):
            administered |= Q(organisation__isnull=True)  # command-line imports without one
        return (
            InboundMessage.objects.filter(administered)
            .select_related("organisation", "event")
            .defer("raw", "response")
        )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # kept as received: the record of what partners sent

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
