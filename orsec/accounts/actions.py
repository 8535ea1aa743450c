"""Every state change of the accounts domain: login steps, sessions, passwords, memberships.

Views, the admin and management commands call these functions; each one writes its rows and its
audit record (``record_audit``) in one transaction. Audit data never holds a password, a code,
a token or a session key. See ``docs/accounts.md`` for the list of audit actions.
"""

from __future__ import annotations

import functools
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import django_otp
from django.contrib.auth import authenticate, login, logout, update_session_auth_hash
from django.db import transaction
from django.db.models import F
from django_otp.middleware import is_verified
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from orsec.accounts import mfa, sessions, throttle
from orsec.accounts.models import Membership, User
from orsec.accounts.throttle import LockStatus, Step
from orsec.audit.actions import record_audit
from orsec.core.net import client_ip

if TYPE_CHECKING:
    from django.contrib.auth.forms import PasswordResetForm, SetPasswordForm
    from django.http import HttpRequest
    from django_otp.models import Device

#: User fields an administrator's form may write (never ``session_epoch`` nor the key).
_USER_EDITABLE_FIELDS = [
    f.name for f in User._meta.concrete_fields if not f.primary_key and f.name != "session_epoch"
]


class Outcome:
    """Result kinds of an authentication step, mapped to responses by the views."""

    LOCKED = "locked"
    FAILED = "failed"
    THROTTLED = "throttled"
    NEEDS_SECOND_FACTOR = "needs_second_factor"
    NEEDS_ENROLMENT = "needs_enrolment"
    LOGGED_IN = "logged_in"
    DONE = "done"


@dataclass(frozen=True)
class StepResult:
    outcome: str
    lock: LockStatus = throttle.NOT_LOCKED
    user: User | None = None
    recovery_codes: list[str] = field(default_factory=list)


# --- Helpers ------------------------------------------------------------------------------------


def _bump_session_epoch(user: User) -> None:
    """End every session of ``user``: their stored session hash no longer matches."""
    User.objects.filter(pk=user.pk).update(session_epoch=F("session_epoch") + 1)
    user.refresh_from_db(fields=["session_epoch"])


def _attempt_label(username: str) -> str:
    """How an attempt on a name that is no account is labelled: a short keyed digest.

    What was typed is never recorded: it may be a password typed in the wrong field (S29). The
    digest still groups the attempts made on one name (password spraying shows up).
    """
    return "inconnu#" + throttle.username_digest(username)[:12]


@transaction.atomic
def do_record_login_failure(
    request: HttpRequest, *, username: str, step: str, reason: str, user: User | None = None
) -> None:
    """Count one failed step for the throttle and audit it (never with the secret typed)."""
    throttle.add_failure(username, client_ip(request), step)
    action = (
        "auth.mfa.failure" if step in (Step.SECOND_FACTOR, Step.ENROLMENT) else "auth.login.failure"
    )
    record_audit(
        action,
        actor=user,
        actor_label="" if user is not None else _attempt_label(username),
        request=request,
        target=user,
        outcome="failure",
        data={"step": step, "reason": reason},
    )


@transaction.atomic
def do_record_lockout(
    request: HttpRequest, *, username: str, step: str, lock: LockStatus, user: User | None = None
) -> None:
    """Audit a refused attempt (the counters are not increased: nothing was verified)."""
    record_audit(
        "auth.lockout",
        actor=user,
        actor_label="" if user is not None else _attempt_label(username),
        request=request,
        target=user,
        outcome="denied",
        data={"step": step, "scope": lock.scope, "retry_after_seconds": lock.retry_after_seconds},
    )


def _refuse_if_locked(
    request: HttpRequest, *, username: str, step: str, user: User | None = None
) -> LockStatus:
    lock = throttle.check_lock(username, client_ip(request))
    if lock.locked:
        do_record_lockout(request, username=username, step=step, lock=lock, user=user)
    return lock


# --- Login, step 1: password --------------------------------------------------------------------


def do_authenticate_password(
    request: HttpRequest, *, username: str, password: str, next_url: str
) -> StepResult:
    """First step. The lock is read before the password is verified (no oracle when locked).

    On success nobody is logged in yet: the session (under a new key) holds a pending login
    for the second step, or the user is logged in at once when no second factor applies.
    """
    # The claimed account, for the audit only (the answer never depends on it).
    known = User.objects.filter(username=throttle.normalise_username(username)).first()
    lock = _refuse_if_locked(request, username=username, step=Step.PASSWORD, user=known)
    if lock.locked:
        return StepResult(Outcome.LOCKED, lock=lock)
    user = authenticate(request, username=username, password=password)
    if not isinstance(user, User):
        do_record_login_failure(
            request,
            username=username,
            step=Step.PASSWORD,
            reason="invalid_credentials" if known is not None else "unknown_user",
            user=known,
        )
        return StepResult(Outcome.FAILED)
    has_device = mfa.confirmed_totp_device(user) is not None
    if not has_device and not mfa.mfa_required(user):
        # Read-only account, second factor not required by the settings, no device enrolled.
        sessions.start_pending_login(request, user, next_url=next_url)
        do_complete_login(request, user, None, factor="password", username=username)
        return StepResult(Outcome.LOGGED_IN, user=user)
    sessions.start_pending_login(request, user, next_url=next_url)
    outcome = Outcome.NEEDS_SECOND_FACTOR if has_device else Outcome.NEEDS_ENROLMENT
    return StepResult(outcome, user=user)


# --- Login, step 2: second factor ---------------------------------------------------------------


@transaction.atomic
def do_complete_login(
    request: HttpRequest,
    user: User,
    device: Device | None,
    *,
    factor: str,
    username: str | None = None,
) -> None:
    """Log the user in (new session key, S8), bind the verified device, start the clock."""
    pending = request.session.get(sessions.PENDING_KEY) or {}
    backend = pending.get("backend") or None
    login(request, user, backend=backend)
    if device is not None:
        django_otp.login(request, device)
        # ``login()`` replaced request.user by the bare model: give it OTPMiddleware's accessor.
        request.user.is_verified = functools.partial(is_verified, request.user)  # type: ignore[union-attr]
    sessions.clear_pending_login(request)
    sessions.start_session_clock(request)
    throttle.clear_failures(username or user.get_username(), client_ip(request))
    record_audit(
        "auth.login.success", actor=user, request=request, target=user, data={"factor": factor}
    )


def do_verify_second_factor(
    request: HttpRequest,
    pending: sessions.PendingLogin,
    *,
    code: str = "",
    recovery_code: str = "",
) -> StepResult:
    """Second step: a TOTP code (replay refused by ``last_t``) or a single-use recovery code."""
    user = pending.user
    username = user.get_username()
    lock = _refuse_if_locked(request, username=username, step=Step.SECOND_FACTOR, user=user)
    if lock.locked:
        sessions.clear_pending_login(request)
        return StepResult(Outcome.LOCKED, lock=lock, user=user)
    device: Device | None
    if recovery_code:
        device = mfa.recovery_device(user)
        token = mfa.recovery_code_digest(recovery_code)
        factor = "recovery_code"
    else:
        device = mfa.confirmed_totp_device(user)
        token = code
        factor = "totp"
    if device is None:
        do_record_login_failure(
            request, username=username, step=Step.SECOND_FACTOR, reason="no_device", user=user
        )
        return StepResult(Outcome.FAILED, user=user)
    allowed, _ = device.verify_is_allowed()
    if not allowed:
        # django-otp's own exponential back-off (1 s, 2 s, 4 s… after each wrong code).
        do_record_login_failure(
            request, username=username, step=Step.SECOND_FACTOR, reason="throttled", user=user
        )
        return StepResult(Outcome.THROTTLED, user=user)
    verified = django_otp.verify_token(user, device.persistent_id, token)
    if verified is None:
        do_record_login_failure(
            request,
            username=username,
            step=Step.SECOND_FACTOR,
            reason=f"invalid_{factor}",
            user=user,
        )
        return StepResult(Outcome.FAILED, user=user)
    do_complete_login(request, user, verified, factor=factor)
    return StepResult(Outcome.LOGGED_IN, user=user)


def _create_recovery_codes(user: User) -> list[str]:
    """Replace the user's recovery codes by ten new ones; return them in clear (shown once)."""
    device, _ = StaticDevice.objects.get_or_create(
        user=user, defaults={"name": mfa.RECOVERY_DEVICE_NAME, "confirmed": True}
    )
    StaticDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
    if not device.confirmed:
        device.confirmed = True
        device.save(update_fields=["confirmed"])
    device.token_set.all().delete()
    codes = mfa.new_recovery_codes()
    StaticToken.objects.bulk_create(
        StaticToken(device=device, token=mfa.recovery_code_digest(code)) for code in codes
    )
    return codes


def do_enrol_totp_device(
    request: HttpRequest, pending: sessions.PendingLogin, *, code: str
) -> StepResult:
    """First second-factor enrolment: confirm the secret shown, create the recovery codes, log in.

    The secret lives in the pending session until a correct code proves the user's app holds it.
    """
    user = pending.user
    username = user.get_username()
    lock = _refuse_if_locked(request, username=username, step=Step.ENROLMENT, user=user)
    if lock.locked:
        sessions.clear_pending_login(request)
        return StepResult(Outcome.LOCKED, lock=lock, user=user)
    matched_t = (
        mfa.verify_candidate_totp(pending.totp_key, code, at=time.time())
        if pending.totp_key
        else None
    )
    if matched_t is None:
        do_record_login_failure(
            request, username=username, step=Step.ENROLMENT, reason="invalid_totp", user=user
        )
        return StepResult(Outcome.FAILED, user=user)
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user).delete()
        device = TOTPDevice.objects.create(
            user=user,
            name=mfa.TOTP_DEVICE_NAME,
            key=pending.totp_key,
            confirmed=True,
            last_t=matched_t,
        )
        codes = _create_recovery_codes(user)
        record_audit(
            "auth.mfa.enrolled", actor=user, request=request, target=user, data={"kind": "totp"}
        )
        do_complete_login(request, user, device, factor="totp_enrolment")
    return StepResult(Outcome.LOGGED_IN, user=user, recovery_codes=codes)


# --- Logged-in account actions ------------------------------------------------------------------


def do_reauthenticate(request: HttpRequest, user: User, *, password: str) -> StepResult:
    """Confirm the current password before a sensitive change; throttled like the login."""
    username = user.get_username()
    lock = _refuse_if_locked(request, username=username, step=Step.REAUTH, user=user)
    if lock.locked:
        return StepResult(Outcome.LOCKED, lock=lock, user=user)
    if not user.check_password(password):
        do_record_login_failure(
            request, username=username, step=Step.REAUTH, reason="invalid_password", user=user
        )
        return StepResult(Outcome.FAILED, user=user)
    # Re-authentication gets a new session key as well (S8).
    request.session.cycle_key()
    return StepResult(Outcome.LOGGED_IN, user=user)


@transaction.atomic
def do_regenerate_recovery_codes(request: HttpRequest, user: User) -> list[str]:
    codes = _create_recovery_codes(user)
    record_audit(
        "auth.recovery_codes_regenerated",
        actor=user,
        request=request,
        target=user,
        data={"count": len(codes)},
    )
    return codes


@transaction.atomic
def do_logout(request: HttpRequest) -> None:
    """Audit, then flush the server session (the old cookie is worthless afterwards, S10)."""
    user = request.user if request.user.is_authenticated else None
    if user is not None:
        record_audit("auth.logout", actor=user, request=request, target=user)
    logout(request)


@transaction.atomic
def do_logout_everywhere(user: User, *, request: HttpRequest | None = None) -> None:
    """End every session of the user, the requesting one included (S11)."""
    _bump_session_epoch(user)
    record_audit("auth.logout_everywhere", actor=user, request=request, target=user)
    if request is not None and request.user.pk == user.pk:
        logout(request)


@transaction.atomic
def do_end_session(request: HttpRequest, *, reason: str) -> None:
    """The server ends a session: idle/absolute timeout, or logged in without a second factor."""
    user = request.user
    action = "auth.session.unverified" if reason == "unverified" else "auth.session.expired"
    record_audit(
        action,
        actor=user,
        request=request,
        target=user if user.is_authenticated else None,
        outcome="denied" if reason == "unverified" else "success",
        data={"reason": reason},
    )
    logout(request)


@transaction.atomic
def do_change_password(request: HttpRequest, form: SetPasswordForm[Any]) -> User:
    """Change one's own password (current password already checked by the form).

    Every *other* session ends (epoch bump); this one survives under a new key
    (``update_session_auth_hash`` cycles it) and keeps its verified second factor.
    """
    user = form.save()
    _bump_session_epoch(user)
    update_session_auth_hash(request, user)
    throttle.clear_failures(user.get_username(), client_ip(request))
    record_audit(
        "auth.password_changed", actor=user, request=request, target=user, data={"via": "account"}
    )
    return user


def do_attempt_password_change(
    request: HttpRequest, user: User, form: SetPasswordForm[Any]
) -> StepResult:
    """Lock read first, then the form (which checks the current password), then the change."""
    username = user.get_username()
    lock = _refuse_if_locked(request, username=username, step=Step.REAUTH, user=user)
    if lock.locked:
        return StepResult(Outcome.LOCKED, lock=lock, user=user)
    if not form.is_valid():
        if form.has_error("old_password", "password_incorrect"):
            do_record_login_failure(
                request, username=username, step=Step.REAUTH, reason="invalid_password", user=user
            )
        return StepResult(Outcome.FAILED, user=user)
    do_change_password(request, form)
    return StepResult(Outcome.DONE, user=user)


@transaction.atomic
def do_reset_password(request: HttpRequest, form: SetPasswordForm[Any]) -> User:
    """Set a new password from a reset link: every session of the user ends, no login."""
    user = form.save()
    _bump_session_epoch(user)
    record_audit(
        "auth.password_changed",
        actor_label=user.get_username(),
        request=request,
        target=user,
        data={"via": "reset"},
    )
    return user


def do_request_password_reset(
    request: HttpRequest, form: PasswordResetForm, **send_options: Any
) -> None:
    """Send the reset e-mail if the address is known; audit the request either way.

    The audit names the account when there is one; the answer to the client never does.
    """
    email = form.cleaned_data["email"]
    users = list(form.get_users(email))
    with transaction.atomic():
        record_audit(
            "auth.password_reset_requested",
            request=request,
            target=users[0] if len(users) == 1 else None,
            data={"matched": len(users)},
        )
    form.save(request=request, **send_options)


@transaction.atomic
def do_record_admin_password_set(user: User, *, actor: Any, request: HttpRequest) -> None:
    """An administrator set a user's password: that user's sessions end (S11).

    When administrators change their own password there, their current session survives.
    """
    _bump_session_epoch(user)
    if request.user.pk == user.pk:
        update_session_auth_hash(request, user)
    record_audit(
        "auth.password_changed", actor=actor, request=request, target=user, data={"via": "admin"}
    )


# --- Accounts and memberships (administration) --------------------------------------------------


@transaction.atomic
def do_disable_user(user: User, *, actor: Any = None, request: HttpRequest | None = None) -> None:
    """Disable an account: every session ends at once (S11)."""
    User.objects.filter(pk=user.pk).update(is_active=False)
    user.is_active = False
    _bump_session_epoch(user)
    record_audit("account.disabled", actor=actor, request=request, target=user)


@transaction.atomic
def do_save_user(
    user: User, *, actor: Any, request: HttpRequest | None = None, created: bool
) -> None:
    """Save an account edited in the administration, auditing what matters for security.

    Disabling goes through :func:`do_disable_user`; a privilege change (staff, superuser) ends
    the user's sessions so that the new rights — and their second-factor rule — apply at once.
    """
    previous = None if created else User.objects.filter(pk=user.pk).first()
    if previous is None:
        user.save()
        record_audit(
            "account.created",
            actor=actor,
            request=request,
            target=user,
            data={"is_staff": user.is_staff, "is_superuser": user.is_superuser},
        )
        return
    # Everything but the epoch, which a concurrent "log out everywhere" may have moved.
    user.save(update_fields=_USER_EDITABLE_FIELDS)
    if previous.is_active and not user.is_active:
        do_disable_user(user, actor=actor, request=request)
    elif not previous.is_active and user.is_active:
        record_audit("account.enabled", actor=actor, request=request, target=user)
    if (previous.is_staff, previous.is_superuser) != (user.is_staff, user.is_superuser):
        _bump_session_epoch(user)
        record_audit(
            "account.privileges_changed",
            actor=actor,
            request=request,
            target=user,
            data={
                "old": {"is_staff": previous.is_staff, "is_superuser": previous.is_superuser},
                "new": {"is_staff": user.is_staff, "is_superuser": user.is_superuser},
            },
        )


@transaction.atomic
def do_delete_user(user: User, *, actor: Any, request: HttpRequest | None = None) -> None:
    record_audit(
        "account.deleted",
        actor=actor,
        request=request,
        target=user,
        data={"username": user.get_username()},
    )
    user.delete()


def _membership_data(membership: Membership) -> dict[str, Any]:
    return {
        "user_id": membership.user_id,
        "organisation_id": membership.organisation_id,
        "role": membership.role,
        "is_active": membership.is_active,
    }


@transaction.atomic
def do_save_membership(
    membership: Membership, *, actor: Any, request: HttpRequest | None = None
) -> None:
    """Create or change a membership; losing a role or an organisation ends the sessions."""
    previous = (
        Membership.objects.filter(pk=membership.pk).first() if membership.pk is not None else None
    )
    membership.save()
    if previous is None:
        record_audit(
            "membership.added",
            actor=actor,
            request=request,
            target=membership,
            data=_membership_data(membership),
        )
        return
    old, new = _membership_data(previous), _membership_data(membership)
    if old == new:
        return
    if previous.is_active and not membership.is_active:
        action = "membership.removed"
    else:
        action = "membership.changed"
    lost_rights = previous.is_active and (
        not membership.is_active
        or previous.role != membership.role
        or previous.organisation_id != membership.organisation_id
        or previous.user_id != membership.user_id
    )
    if lost_rights:
        _bump_session_epoch(previous.user)
    record_audit(
        action,
        actor=actor,
        request=request,
        target=membership,
        data={"old": old, "new": new, "mode": "deactivated" if action.endswith("removed") else ""},
    )


@transaction.atomic
def do_remove_membership(
    membership: Membership, *, actor: Any = None, request: HttpRequest | None = None
) -> None:
    """Delete a membership: the user's sessions end so the lost rights go at once (S11)."""
    data = _membership_data(membership)
    user = membership.user
    record_audit(
        "membership.removed",
        actor=actor,
        request=request,
        target=membership,
        data={"old": data, "mode": "deleted"},
    )
    membership.delete()
    _bump_session_epoch(user)
