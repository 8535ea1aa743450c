"""Read-only admin of the vigilance feeds' state (written only by the poller's action)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin

from orsec.alerts.models import VigilanceFeedState


@admin.register(VigilanceFeedState)
class VigilanceFeedStateAdmin(admin.ModelAdmin):
    list_display = ["url", "last_polled_at", "last_success_at", "last_status", "alerts_imported"]
    readonly_fields = [
        "url",
        "etag",
        "last_modified",
        "last_polled_at",
        "last_success_at",
        "last_status",
        "last_errors",
        "polls",
        "alerts_imported",
    ]

    def has_add_permission(self, request: Any) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return False
