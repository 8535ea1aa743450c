"""The audit log is readable by administrators and writable by nobody through the admin."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from orsec.audit.models import AuditRecord


@admin.register(AuditRecord)
class AuditRecordAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "at",
        "action",
        "outcome",
        "actor_label",
        "target_type",
        "target_id",
        "ip",
    ]
    list_filter = ["outcome", "action"]
    search_fields = ["actor_label", "action", "target_id"]
    readonly_fields = [f.name for f in AuditRecord._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
