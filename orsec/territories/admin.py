"""Territories are reference data loaded from official files: read-only in the admin."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from orsec.territories.models import Territory


@admin.register(Territory)
class TerritoryAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "kind", "path"]
    list_filter = ["kind"]
    search_fields = ["name", "code"]
    readonly_fields = [f.name for f in Territory._meta.fields if f.name != "boundary"]
    exclude = ["boundary"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
