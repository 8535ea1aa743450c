"""Admin screens of the directory; every save goes through the audited actions."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from orsec.directory.access import organisations_administered_by
from orsec.directory.actions import (
    do_delete_organisation,
    do_save_contact_item,
    do_save_organisation,
)
from orsec.directory.models import ContactPoint, Function, Organisation


class FunctionInline(admin.TabularInline):
    model = Function
    extra = 0


class ContactPointInline(admin.TabularInline):
    model = ContactPoint
    extra = 0
    autocomplete_fields = ["function"]


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ["name", "short_name", "kind", "territory", "is_active"]
    list_filter = ["kind", "is_active", "is_demo"]
    search_fields = ["name", "short_name", "territory__name", "territory__code"]
    autocomplete_fields = ["territory", "parent"]
    inlines = [FunctionInline, ContactPointInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Organisation]:
        # Administrators manage the organisations of their own scope (national: all), not the
        # chain above it that the directory pages show them.
        return organisations_administered_by(request.user)

    def save_model(self, request: HttpRequest, obj: Organisation, form: Any, change: bool) -> None:
        do_save_organisation(request.user, obj, changed=list(form.changed_data), request=request)

    def delete_model(self, request: HttpRequest, obj: Organisation) -> None:
        do_delete_organisation(request.user, obj, request=request)

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        for item in formset.save(commit=False):
            do_save_contact_item(request.user, item, request=request)
        for item in formset.deleted_objects:
            do_save_contact_item(request.user, item, request=request, delete=True)


@admin.register(Function)
class FunctionAdmin(admin.ModelAdmin):
    search_fields = ["title", "organisation__name"]
    list_display = ["title", "organisation"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Function]:
        return Function.objects.filter(organisation__in=organisations_administered_by(request.user))

    def save_model(self, request: HttpRequest, obj: Function, form: Any, change: bool) -> None:
        do_save_contact_item(request.user, obj, request=request)

    def delete_model(self, request: HttpRequest, obj: Function) -> None:
        do_save_contact_item(request.user, obj, request=request, delete=True)
