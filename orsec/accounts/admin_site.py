"""Lock Django's admin behind the portal's login: staff *and* a verified second factor (S13).

``config/urls.py`` calls :func:`protect_admin_site` on ``admin.site`` before its URLs are built.
The admin's own login and password pages are replaced by redirects to the portal's, so there is
one login flow (throttled, two steps, audited) and not two.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.admin import AdminSite
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _

from orsec.accounts.views import logout_view


def admin_has_permission(request: HttpRequest) -> bool:
    """Active staff whose session was verified with a second factor."""
    user = request.user
    is_verified = getattr(user, "is_verified", None)
    return bool(user.is_active and user.is_staff and callable(is_verified) and is_verified())


def _admin_login(request: HttpRequest, extra_context: Any = None) -> HttpResponse:
    candidate = request.GET.get("next", "")
    if not url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        candidate = reverse("admin:index")
    if request.user.is_authenticated:
        # Logged in but not an administrator: the portal's home, not a login loop.
        return redirect(settings.LOGIN_REDIRECT_URL)
    return redirect_to_login(candidate, settings.LOGIN_URL)


def _admin_logout(request: HttpRequest, extra_context: Any = None) -> HttpResponse:
    return logout_view(request)


def _admin_password_change(request: HttpRequest, extra_context: Any = None) -> HttpResponse:
    return redirect("accounts:password_change")


def protect_admin_site(site: AdminSite) -> AdminSite:
    site.site_header = _("Administration du Portail ORSEC")
    site.site_title = _("Administration du Portail ORSEC")
    site.index_title = _("Tableau de bord d'administration")
    site.has_permission = admin_has_permission  # type: ignore[method-assign]
    site.login = _admin_login  # type: ignore[method-assign]
    site.logout = _admin_logout  # type: ignore[method-assign,assignment]
    site.password_change = _admin_password_change  # type: ignore[method-assign,assignment]
    site.enable_nav_sidebar = False
    return site
