"""Administration of accounts and memberships. Every change goes through the actions (audit,
session end on lost rights); only superusers may grant staff or superuser status."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db.models import QuerySet
from django.forms import BaseInlineFormSet, ModelForm
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from orsec.accounts import actions
from orsec.accounts.models import Membership, User

_PRIVILEGE_FIELDS = ("is_staff", "is_superuser", "groups", "user_permissions")


class MembershipInline(admin.TabularInline):
    model = Membership
    fields = ("organisation", "role", "is_active", "created_at")
    readonly_fields = ("created_at",)
    extra = 0


@admin.action(description=_("Désactiver les comptes sélectionnés (ferme leurs sessions)"))
def disable_users(modeladmin: Any, request: HttpRequest, queryset: QuerySet[User]) -> None:
    count = 0
    for user in queryset.filter(is_active=True):
        actions.do_disable_user(user, actor=request.user, request=request)
        count += 1
    modeladmin.message_user(
        request,
        ngettext("%(n)d compte désactivé.", "%(n)d comptes désactivés.", count) % {"n": count},
        messages.SUCCESS,
    )


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    inlines = (MembershipInline,)
    actions = (disable_users,)
    list_display = ("username", "first_name", "last_name", "email", "is_active", "is_staff")
    list_filter = ("is_active", "is_staff", "is_superuser", "is_demo")
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        (_("Identité"), {"fields": ("first_name", "last_name", "email", "phone")}),
        (
            _("Droits"),
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        (_("Dates"), {"fields": ("last_login", "date_joined")}),
        (_("Démonstration"), {"fields": ("is_demo",)}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": (
                    "username",
                    "email",
                    "first_name",
                    "last_name",
                    "password1",
                    "password2",
                ),
            },
        ),
    )

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        readonly = tuple(super().get_readonly_fields(request, obj))
        if not getattr(request.user, "is_superuser", False):
            # A staff member cannot raise anyone's rights, their own included.
            readonly += _PRIVILEGE_FIELDS
        return readonly

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Only a superuser may edit a superuser (e-mail, password: the keys to the account).
        if (
            obj is not None
            and obj.is_superuser
            and not getattr(request.user, "is_superuser", False)
        ):
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if (
            obj is not None
            and obj.is_superuser
            and not getattr(request.user, "is_superuser", False)
        ):
            return False
        return super().has_delete_permission(request, obj)

    def save_model(self, request: HttpRequest, obj: User, form: Any, change: bool) -> None:
        actions.do_save_user(obj, actor=request.user, request=request, created=not change)

    def delete_model(self, request: HttpRequest, obj: User) -> None:
        actions.do_delete_user(obj, actor=request.user, request=request)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        for user in queryset:
            actions.do_delete_user(user, actor=request.user, request=request)

    def save_formset(
        self,
        request: HttpRequest,
        form: ModelForm[Any],
        formset: BaseInlineFormSet[Any, Any, Any],
        change: bool,
    ) -> None:
        if formset.model is not Membership:
            super().save_formset(request, form, formset, change)
            return
        instances = formset.save(commit=False)
        for removed in formset.deleted_objects:
            actions.do_remove_membership(removed, actor=request.user, request=request)
        for membership in instances:
            actions.do_save_membership(membership, actor=request.user, request=request)
        formset.save_m2m()

    def user_change_password(
        self, request: HttpRequest, id: str, form_url: str = ""
    ) -> HttpResponse:
        response = super().user_change_password(request, id, form_url)
        if request.method == "POST" and response.status_code == 302:
            target = self.get_object(request, id)
            if target is not None and response.headers.get("Location", "").endswith(
                f"/{target.pk}/change/"
            ):
                actions.do_record_admin_password_set(target, actor=request.user, request=request)
        return response


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ("user", "organisation", "role", "is_active", "created_at")
    list_filter = ("role", "is_active")
    search_fields = (
        "user__username",
        "user__last_name",
        "organisation__name",
        "organisation__short_name",
    )
    list_select_related = ("user", "organisation")
    raw_id_fields = ("user",)

    def save_model(self, request: HttpRequest, obj: Membership, form: Any, change: bool) -> None:
        actions.do_save_membership(obj, actor=request.user, request=request)

    def delete_model(self, request: HttpRequest, obj: Membership) -> None:
        actions.do_remove_membership(obj, actor=request.user, request=request)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Membership]) -> None:
        for membership in queryset.select_related("user"):
            actions.do_remove_membership(membership, actor=request.user, request=request)
