"""Login in two steps, second-factor enrolment, account security pages, password reset.

Views parse the request, call one action of :mod:`orsec.accounts.actions` and render. See
``docs/accounts.md`` for the flow.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import (
    INTERNAL_RESET_SESSION_TOKEN,
    PasswordResetCompleteView,
    PasswordResetConfirmView,
    PasswordResetDoneView,
    PasswordResetView,
)
from django.core.exceptions import PermissionDenied
from django.forms import Form
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.decorators import method_decorator
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from orsec.accounts import actions, mfa, sessions
from orsec.accounts.access import get_account_abilities
from orsec.accounts.actions import Outcome, StepResult
from orsec.accounts.forms import (
    AccountPasswordChangeForm,
    AccountSetPasswordForm,
    LoginForm,
    ReauthenticationForm,
    RecoveryCodeForm,
    ResetRequestForm,
    TotpCodeForm,
)
from orsec.accounts.models import User
from orsec.accounts.throttle import LockStatus, pad_anonymous_response
from orsec.accounts.tokens import reset_token_generator

INVALID_CREDENTIALS = gettext_lazy("Identifiant ou mot de passe incorrect.")


def _notice_text(code: str) -> str:
    return {
        sessions.Notice.EXPIRED: _(
            "Votre session a expiré (inactivité prolongée ou durée maximale atteinte). "
            "Reconnectez-vous pour continuer."
        ),
        sessions.Notice.UNVERIFIED: _(
            "Votre session n'était pas validée par un second facteur. Reconnectez-vous."
        ),
        sessions.Notice.PENDING_EXPIRED: _(
            "Votre tentative de connexion a expiré. Saisissez à nouveau vos identifiants."
        ),
    }.get(code, "")


def _current_user(request: HttpRequest) -> User:
    user = request.user
    if not isinstance(user, User):  # behind login_required: cannot happen, fail closed anyway
        raise PermissionDenied
    return user


def _safe_next(request: HttpRequest) -> str:
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return ""


def _after_login_url(next_url: str) -> str:
    return next_url or reverse(settings.LOGIN_REDIRECT_URL)


def _locked(request: HttpRequest, lock: LockStatus) -> HttpResponse:
    minutes = lock.retry_after_minutes
    text = ngettext(
        "Trop de tentatives infructueuses. Par sécurité, la connexion est bloquée : "
        "réessayez dans %(n)d minute.",
        "Trop de tentatives infructueuses. Par sécurité, la connexion est bloquée : "
        "réessayez dans %(n)d minutes.",
        minutes,
    ) % {"n": minutes}
    response = render(
        request,
        "accounts/locked.html",
        {"title": _("Trop de tentatives"), "nav": "", "text": text},
        status=429,
    )
    response.headers["Retry-After"] = str(lock.retry_after_seconds)
    return response


def _pending_or_restart(request: HttpRequest) -> sessions.PendingLogin | HttpResponse:
    pending = sessions.get_pending_login(request)
    if pending is None:
        sessions.set_notice(request, sessions.Notice.PENDING_EXPIRED)
        return redirect("accounts:login")
    return pending


# --- Login ----------------------------------------------------------------------------------


@require_http_methods(["GET", "HEAD", "POST"])
@sensitive_post_parameters("password")
@never_cache
@pad_anonymous_response
def login_view(request: HttpRequest) -> HttpResponse:
    """Step 1: username and password. Nobody is logged in here (see ``second_factor_view``)."""
    if request.user.is_authenticated:
        return redirect(settings.LOGIN_REDIRECT_URL)
    next_url = _safe_next(request)
    form = LoginForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        result = actions.do_authenticate_password(
            request,
            username=form.cleaned_data["username"],
            password=form.cleaned_data["password"],
            next_url=next_url,
        )
        if result.outcome == Outcome.LOCKED:
            return _locked(request, result.lock)
        if result.outcome == Outcome.NEEDS_SECOND_FACTOR:
            return redirect("accounts:login_second_factor")
        if result.outcome == Outcome.NEEDS_ENROLMENT:
            return redirect("accounts:login_enrolment")
        if result.outcome == Outcome.LOGGED_IN:
            return redirect(_after_login_url(next_url))
        form.add_error(None, str(INVALID_CREDENTIALS))
    return render(
        request,
        "accounts/login.html",
        {
            "title": _("Connexion"),
            "nav": "",
            "form": form,
            "next": next_url,
            "notice": _notice_text(sessions.pop_notice(request)),
        },
    )


def _second_factor_error(result: StepResult) -> str:
    if result.outcome == Outcome.THROTTLED:
        return _("Trop d'essais rapprochés : patientez quelques secondes avant de réessayer.")
    return _("Code incorrect ou déjà utilisé.")


@require_http_methods(["GET", "HEAD", "POST"])
@sensitive_post_parameters("code", "recovery_code")
@never_cache
def second_factor_view(request: HttpRequest) -> HttpResponse:
    """Step 2: a TOTP code, or one of the recovery codes."""
    if request.user.is_authenticated:
        return redirect(settings.LOGIN_REDIRECT_URL)
    pending = _pending_or_restart(request)
    if isinstance(pending, HttpResponse):
        return pending
    if mfa.confirmed_totp_device(pending.user) is None:
        return redirect("accounts:login_enrolment")
    posted = request.POST if request.method == "POST" else None
    use_recovery = posted is not None and "recovery_code" in posted
    totp_form = TotpCodeForm(None if use_recovery else posted)
    recovery_form = RecoveryCodeForm(posted if use_recovery else None)
    active_form: Form = recovery_form if use_recovery else totp_form
    if posted is not None and active_form.is_valid():
        result = actions.do_verify_second_factor(
            request,
            pending,
            code=totp_form.cleaned_data.get("code", "") if not use_recovery else "",
            recovery_code=recovery_form.cleaned_data.get("recovery_code", "")
            if use_recovery
            else "",
        )
        if result.outcome == Outcome.LOCKED:
            return _locked(request, result.lock)
        if result.outcome == Outcome.LOGGED_IN:
            if use_recovery:
                left = mfa.remaining_recovery_codes(pending.user)
                messages.warning(
                    request,
                    ngettext(
                        "Code de secours utilisé : il vous en reste %(n)d. Pensez à en générer "
                        "de nouveaux depuis « Mon compte ».",
                        "Code de secours utilisé : il vous en reste %(n)d. Pensez à en générer "
                        "de nouveaux depuis « Mon compte ».",
                        left,
                    )
                    % {"n": left},
                )
            return redirect(_after_login_url(pending.next_url))
        field = "recovery_code" if use_recovery else "code"
        active_form.add_error(field, _second_factor_error(result))
    return render(
        request,
        "accounts/second_factor.html",
        {
            "title": _("Second facteur"),
            "nav": "",
            "form": totp_form,
            "recovery_form": recovery_form,
            "recovery_open": use_recovery,
        },
    )


@require_http_methods(["GET", "HEAD", "POST"])
@sensitive_post_parameters("code")
@never_cache
def enrolment_view(request: HttpRequest) -> HttpResponse:
    """First login without a second factor: show a new secret, confirm it with a code."""
    if request.user.is_authenticated:
        return redirect(settings.LOGIN_REDIRECT_URL)
    pending = _pending_or_restart(request)
    if isinstance(pending, HttpResponse):
        return pending
    if mfa.confirmed_totp_device(pending.user) is not None:
        return redirect("accounts:login_second_factor")
    if not pending.totp_key:
        # The candidate secret lives in the server session only until it is confirmed.
        sessions.set_pending_totp_key(request, mfa.new_totp_key())
        pending = _pending_or_restart(request)
        if isinstance(pending, HttpResponse):
            return pending
    form = TotpCodeForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        result = actions.do_enrol_totp_device(request, pending, code=form.cleaned_data["code"])
        if result.outcome == Outcome.LOCKED:
            return _locked(request, result.lock)
        if result.outcome == Outcome.LOGGED_IN:
            return _show_recovery_codes(
                request, result.recovery_codes, continue_url=_after_login_url(pending.next_url)
            )
        form.add_error("code", _("Code incorrect : vérifiez l'heure de votre téléphone."))
    uri = mfa.provisioning_uri(pending.user, pending.totp_key)
    return render(
        request,
        "accounts/enrolment.html",
        {
            "title": _("Activer le second facteur"),
            "nav": "",
            "form": form,
            "secret": mfa.base32_secret(pending.totp_key),
            "qr_code": mfa.qr_code_data_uri(uri),
            "issuer": settings.OTP_TOTP_ISSUER,
            "account_name": pending.user.get_username(),
        },
    )


def _show_recovery_codes(request: HttpRequest, codes: list[str], *, continue_url: str) -> Any:
    return render(
        request,
        "accounts/recovery_codes.html",
        {
            "title": _("Vos codes de secours"),
            "nav": "account",
            "codes": [mfa.format_recovery_code(code) for code in codes],
            "continue_url": continue_url,
        },
    )


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    """POST only (a link or an image cannot log anyone out); flushes the server session."""
    actions.do_logout(request)
    messages.success(request, _("Vous êtes déconnecté."))
    return redirect("accounts:login")


# --- Pages of a logged-in user ---------------------------------------------------------------


@require_safe
@login_required
def home_view(request: HttpRequest) -> HttpResponse:
    user = _current_user(request)
    memberships = (
        user.memberships.filter(is_active=True, organisation__is_active=True)
        .select_related("organisation__territory")
        .order_by("organisation__territory__path", "organisation__name", "role")
    )
    return render(
        request,
        "accounts/home.html",
        {
            "title": _("Accueil"),
            "nav": "home",
            "memberships": memberships,
            "abilities": get_account_abilities(user),
        },
    )


def _security_context(request: HttpRequest, **extra: Any) -> dict[str, Any]:
    user = _current_user(request)
    return {
        "title": _("Mon compte — sécurité"),
        "nav": "account",
        "totp_device": mfa.confirmed_totp_device(user),
        "recovery_left": mfa.remaining_recovery_codes(user),
        "recovery_total": mfa.RECOVERY_CODE_COUNT,
        "mfa_required": mfa.mfa_required(user),
        "reauth_form": ReauthenticationForm(),
        **extra,
    }


@require_safe
@login_required
def security_view(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/security.html", _security_context(request))


@require_POST
@login_required
@sensitive_post_parameters("password")
def recovery_codes_view(request: HttpRequest) -> HttpResponse:
    """New recovery codes (the old ones stop working), after the current password."""
    user = _current_user(request)
    form = ReauthenticationForm(request.POST)
    if form.is_valid():
        result = actions.do_reauthenticate(request, user, password=form.cleaned_data["password"])
        if result.outcome == Outcome.LOCKED:
            return _locked(request, result.lock)
        if result.outcome == Outcome.LOGGED_IN:
            codes = actions.do_regenerate_recovery_codes(request, user)
            return _show_recovery_codes(request, codes, continue_url=reverse("accounts:security"))
        form.add_error("password", _("Le mot de passe actuel est incorrect."))
    return render(request, "accounts/security.html", _security_context(request, reauth_form=form))


@require_POST
@login_required
def logout_everywhere_view(request: HttpRequest) -> HttpResponse:
    actions.do_logout_everywhere(_current_user(request), request=request)
    messages.success(
        request, _("Toutes vos sessions ont été fermées, y compris celle-ci. Reconnectez-vous.")
    )
    return redirect("accounts:login")


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
@sensitive_post_parameters("old_password", "new_password1", "new_password2")
def password_change_view(request: HttpRequest) -> HttpResponse:
    """Change one's password; the other sessions end, this one continues (new key)."""
    user = _current_user(request)
    form = AccountPasswordChangeForm(user, request.POST if request.method == "POST" else None)
    if request.method == "POST":
        result = actions.do_attempt_password_change(request, user, form)
        if result.outcome == Outcome.LOCKED:
            return _locked(request, result.lock)
        if result.outcome == Outcome.DONE:
            messages.success(
                request,
                _("Votre mot de passe a été changé. Vos autres sessions ont été fermées."),
            )
            return redirect("accounts:security")
    return render(
        request,
        "accounts/password_change.html",
        {"title": _("Changer de mot de passe"), "nav": "account", "form": form},
    )


# --- Password reset (Django's views, the portal's templates and actions) ----------------------


@method_decorator(pad_anonymous_response, name="dispatch")
class ResetRequestView(PasswordResetView):
    """Same answer whether the address is known or not (S17), in the same time."""

    form_class = ResetRequestForm
    template_name = "accounts/password_reset_form.html"
    email_template_name = "accounts/email/password_reset.txt"
    subject_template_name = "accounts/email/password_reset_subject.txt"
    success_url = reverse_lazy("accounts:password_reset_done")
    token_generator = reset_token_generator
    title = gettext_lazy("Mot de passe oublié")
    extra_context = {"nav": ""}

    def form_valid(self, form: Any) -> HttpResponse:
        actions.do_request_password_reset(
            self.request,
            form,
            use_https=self.request.is_secure(),
            token_generator=self.token_generator,
            from_email=self.from_email,
            email_template_name=self.email_template_name,
            subject_template_name=self.subject_template_name,
            html_email_template_name=self.html_email_template_name,
            extra_email_context=self.extra_email_context,
        )
        return HttpResponseRedirect(self.get_success_url())


class ResetDoneView(PasswordResetDoneView):
    template_name = "accounts/password_reset_done.html"
    title = gettext_lazy("Demande envoyée")
    extra_context = {"nav": ""}


@method_decorator(sensitive_post_parameters("new_password1", "new_password2"), name="dispatch")
class ResetConfirmView(PasswordResetConfirmView):
    form_class = AccountSetPasswordForm
    template_name = "accounts/password_reset_confirm.html"
    success_url = reverse_lazy("accounts:password_reset_complete")
    token_generator = reset_token_generator
    title = gettext_lazy("Choisir un nouveau mot de passe")
    extra_context = {"nav": ""}

    def form_valid(self, form: Any) -> HttpResponse:
        actions.do_reset_password(self.request, form)
        self.request.session.pop(INTERNAL_RESET_SESSION_TOKEN, None)
        return HttpResponseRedirect(self.get_success_url())

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        if not context.get("validlink"):
            context["title"] = _("Lien invalide ou expiré")
        return context


class ResetCompleteView(PasswordResetCompleteView):
    template_name = "accounts/password_reset_complete.html"
    title = gettext_lazy("Mot de passe modifié")
    extra_context = {"nav": ""}
