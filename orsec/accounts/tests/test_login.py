"""Login in two steps (password, then TOTP or a recovery code), enrolment, S13."""

from __future__ import annotations

import base64
import re

import pytest
from django.contrib.auth import SESSION_KEY
from django.test import Client, override_settings
from django.urls import reverse
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from orsec.accounts import sessions
from orsec.accounts.models import Membership, Role, User
from orsec.accounts.testing import log_in_verified
from orsec.accounts.tests.helpers import (
    Clock,
    Personas,
    audit_actions,
    fresh_code,
    log_in,
    post_code,
    post_password,
    totp_code,
    wrong_code,
)

pytestmark = pytest.mark.django_db

HOME = reverse("accounts:home")
LOGIN = reverse("accounts:login")
SECOND = reverse("accounts:login_second_factor")
ENROL = reverse("accounts:login_enrolment")
NEW_USER_PASSWORD = "Vif-Hibou-Canal-2031"  # noqa: S105 - a test account's password


def test_operator_with_password_and_totp_reaches_home(personas: Personas) -> None:
    client = Client()
    log_in(client, personas.operator37)
    response = client.get(HOME)
    assert response.status_code == 200
    assert "Bonjour Claire Martin" in response.content.decode()
    assert audit_actions(action="auth.login.success") == ["auth.login.success"]


def test_operator_with_wrong_password_sees_login_again_with_french_message(
    personas: Personas,
) -> None:
    client = Client()
    response = post_password(client, personas.operator37.username, "mauvais-mot-de-passe")
    assert response.status_code == 200
    body = response.content.decode()
    assert "Identifiant ou mot de passe incorrect." in body
    assert 'class="fr-alert fr-alert--error' in body
    assert "mauvais-mot-de-passe" not in body
    assert client.get(HOME).status_code == 302


def test_operator_after_password_only_is_not_logged_in(personas: Personas) -> None:
    client = Client()
    response = post_password(client, personas.operator37.username, personas.operator37.password)
    assert response.status_code == 302
    assert response["Location"] == SECOND
    assert SESSION_KEY not in client.session
    home = client.get(HOME)
    assert home.status_code == 302
    assert home["Location"].startswith(LOGIN)


def test_operator_with_wrong_totp_code_is_refused_and_audited(personas: Personas) -> None:
    client = Client()
    persona = personas.operator37
    post_password(client, persona.username, persona.password)
    good = fresh_code(persona)
    wrong = wrong_code(good)
    response = post_code(client, wrong)
    assert response.status_code == 200
    assert "Code incorrect ou déjà utilisé." in response.content.decode()
    assert SESSION_KEY not in client.session
    assert "auth.mfa.failure" in audit_actions()


def test_operator_replaying_a_used_totp_code_is_refused(personas: Personas) -> None:
    persona = personas.operator37
    first = Client()
    post_password(first, persona.username, persona.password)
    code = fresh_code(persona)
    assert post_code(first, code)["Location"] == HOME
    last_t = TOTPDevice.objects.get(user=persona.user).last_t
    assert last_t >= 0  # django-otp remembers the step of the last accepted code

    second = Client()
    post_password(second, persona.username, persona.password)
    response = post_code(second, code)
    assert response.status_code == 200
    assert "Code incorrect ou déjà utilisé." in response.content.decode()
    assert second.get(HOME).status_code == 302


def test_operator_is_slowed_down_by_django_otp_throttling_after_a_wrong_code(
    personas: Personas,
) -> None:
    persona = personas.operator37
    client = Client()
    post_password(client, persona.username, persona.password)
    good = fresh_code(persona)
    post_code(client, wrong_code(good))
    response = post_code(client, good)  # right code, but within the back-off delay
    assert response.status_code == 200
    assert "patientez quelques secondes" in response.content.decode()
    device = TOTPDevice.objects.get(user=persona.user)
    assert device.throttling_failure_count == 1


@override_settings(OTP_STATIC_THROTTLE_FACTOR=0)
def test_recovery_code_logs_in_once_and_never_again(personas: Personas) -> None:
    persona = personas.operator37
    client = Client()
    log_in(client, persona)
    response = client.post(reverse("accounts:recovery_codes"), {"password": persona.password})
    assert response.status_code == 200
    codes = re.findall(r"<code>([a-z0-9]{5}-[a-z0-9]{5})</code>", response.content.decode())
    assert len(codes) == 10
    client.post(reverse("accounts:logout"))

    first = Client()
    post_password(first, persona.username, persona.password)
    response = first.post(SECOND, {"recovery_code": codes[0].upper()})
    assert response.status_code == 302
    assert response["Location"] == HOME
    page = first.get(HOME)
    assert "il vous en reste 9" in page.content.decode()

    second = Client()
    post_password(second, persona.username, persona.password)
    response = second.post(SECOND, {"recovery_code": codes[0]})
    assert response.status_code == 200
    assert "Code incorrect ou déjà utilisé." in response.content.decode()
    assert StaticDevice.objects.get(user=persona.user).token_set.count() == 9


def test_recovery_codes_are_not_stored_in_clear(personas: Personas) -> None:
    persona = personas.operator37
    client = Client()
    log_in(client, persona)
    response = client.post(reverse("accounts:recovery_codes"), {"password": persona.password})
    codes = re.findall(r"<code>([a-z0-9]{5})-([a-z0-9]{5})</code>", response.content.decode())
    stored = set(
        StaticDevice.objects.get(user=persona.user).token_set.values_list("token", flat=True)
    )
    assert len(stored) == 10
    assert not stored & {a + b for a, b in codes}


def test_pending_login_expires_after_five_minutes(personas: Personas, clock: Clock) -> None:
    persona = personas.operator37
    client = Client()
    post_password(client, persona.username, persona.password)
    clock.advance(sessions.PENDING_TTL_SECONDS + 1)
    response = post_code(client, fresh_code(persona))
    assert response.status_code == 302
    assert response["Location"] == LOGIN
    assert "Votre tentative de connexion a expiré" in client.get(LOGIN).content.decode()


def test_login_post_without_csrf_token_is_refused() -> None:
    client = Client(enforce_csrf_checks=True)
    response = client.post(LOGIN, {"username": "x", "password": "y"})
    assert response.status_code == 403


def test_anonymous_visitor_is_sent_to_the_login_page() -> None:
    for url in (HOME, reverse("accounts:security"), reverse("accounts:password_change")):
        response = Client().get(url)
        assert response.status_code == 302
        assert response["Location"] == f"{LOGIN}?next={url}"


def test_second_factor_page_without_a_password_step_sends_back_to_login() -> None:
    response = Client().get(SECOND)
    assert response.status_code == 302
    assert response["Location"] == LOGIN


@pytest.mark.parametrize(
    "url", [HOME, reverse("accounts:security"), reverse("directory:list"), "/admin/"]
)
def test_session_logged_in_without_second_factor_never_reaches_a_page(
    personas: Personas, url: str
) -> None:
    client = Client()
    log_in_verified(client, personas.operator37.user, verified=False)
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN)
    assert SESSION_KEY not in client.session
    assert audit_actions() == ["auth.session.unverified"]
    assert "second facteur" in client.get(LOGIN).content.decode()


def test_staff_session_without_second_factor_is_ended_even_when_mfa_setting_is_off(
    personas: Personas,
) -> None:
    with override_settings(ORSEC_MFA_REQUIRED=False):
        client = Client()
        log_in_verified(client, personas.admin.user, verified=False)
        assert client.get(HOME).status_code == 302
        assert SESSION_KEY not in client.session


def _new_operator_without_device(personas: Personas, username: str = "nouvel.operateur") -> User:
    user = User.objects.create_user(
        username, email=f"{username}@demo-orsec.example", password=NEW_USER_PASSWORD
    )
    Membership.objects.create(
        user=user, organisation=personas.organisations["cod37"], role=Role.COD_OPERATOR
    )
    return user


def test_operator_without_device_enrols_then_gets_ten_recovery_codes_and_home(
    personas: Personas,
) -> None:
    user = _new_operator_without_device(personas)
    client = Client()
    response = post_password(client, user.username, NEW_USER_PASSWORD)
    assert response.status_code == 302
    assert response["Location"] == ENROL
    assert client.get(HOME).status_code == 302  # not logged in before the enrolment

    page = client.get(ENROL)
    assert page.status_code == 200
    body = page.content.decode()
    assert '<img src="data:image/svg+xml' in body
    secret = re.search(r'id="totp-secret">([A-Z2-7 ]+)</code>', body)
    assert secret is not None
    key = client.session[sessions.PENDING_KEY]["totp_key"]
    assert secret.group(1).replace(" ", "") == base64.b32encode(bytes.fromhex(key)).decode().rstrip(
        "="
    )
    assert not TOTPDevice.objects.filter(user=user).exists()  # nothing saved on GET

    wrong = client.post(ENROL, {"code": "000000" if totp_code(key) != "000000" else "111111"})
    assert wrong.status_code == 200
    assert "Code incorrect" in wrong.content.decode()

    code = totp_code(key)
    done = client.post(ENROL, {"code": code})
    assert done.status_code == 200
    codes = re.findall(r"<code>([a-z0-9]{5}-[a-z0-9]{5})</code>", done.content.decode())
    assert len(set(codes)) == 10
    assert client.get(HOME).status_code == 200
    device = TOTPDevice.objects.get(user=user)
    assert device.confirmed
    assert "auth.mfa.enrolled" in audit_actions()

    # The enrolment code cannot be used again for a login.
    other = Client()
    post_password(other, user.username, NEW_USER_PASSWORD)
    assert post_code(other, code).status_code == 200


@override_settings(ORSEC_MFA_REQUIRED=False)
def test_observer_without_device_logs_in_with_password_when_mfa_setting_is_off(
    personas: Personas,
) -> None:
    observer = personas.observer37
    TOTPDevice.objects.filter(user=observer.user).delete()
    client = Client()
    response = post_password(client, observer.username, observer.password)
    assert response.status_code == 302
    assert response["Location"] == HOME
    assert client.get(HOME).status_code == 200


@override_settings(ORSEC_MFA_REQUIRED=False)
def test_operator_without_device_must_enrol_even_when_mfa_setting_is_off(
    personas: Personas,
) -> None:
    user = _new_operator_without_device(personas)
    response = post_password(Client(), user.username, NEW_USER_PASSWORD)
    assert response["Location"] == ENROL


def test_disabled_user_with_right_password_gets_the_same_answer_as_a_wrong_password(
    personas: Personas,
) -> None:
    persona = personas.operator37
    User.objects.filter(pk=persona.user.pk).update(is_active=False)
    response = post_password(Client(), persona.username, persona.password)
    assert response.status_code == 200
    assert "Identifiant ou mot de passe incorrect." in response.content.decode()


def test_next_parameter_is_followed_when_local_and_ignored_when_foreign(
    personas: Personas,
) -> None:
    persona = personas.operator37
    client = Client()
    post_password(client, persona.username, persona.password, next_url="/compte/securite/")
    assert post_code(client, fresh_code(persona))["Location"] == "/compte/securite/"

    other = Client()
    post_password(other, persona.username, persona.password, next_url="https://evil.example/")
    assert post_code(other, fresh_code(persona))["Location"] == HOME


def test_logged_in_user_visiting_login_page_goes_home(personas: Personas) -> None:
    client = Client()
    log_in(client, personas.operator37)
    response = client.get(LOGIN)
    assert response.status_code == 302
    assert response["Location"] == HOME
