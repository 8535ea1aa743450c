"""Partner tokens in the Django admin: read only (issuing goes through the audited action)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from orsec.partners.access import tokens_administered_by
from orsec.partners.models import PartnerToken


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
