"""The administration: staff with a verified second factor only; its changes are audited and a
removed role or a disabled account loses its sessions at once (S11, S13)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse

from orsec.accounts.models import Membership, Role, User
from orsec.accounts.testing import log_in_verified
from orsec.accounts.tests.helpers import (
    Personas,
    audit_actions,
    log_in,
)

pytestmark = pytest.mark.django_db

HOME = reverse("accounts:home")
LOGIN = reverse("accounts:login")


def lands_on_login(client: Client) -> bool:
    response = client.get(HOME)
    return response.status_code == 302 and response["Location"].startswith(LOGIN)


def admin_client(personas: Personas) -> Client:
    client = Client()
    log_in(client, personas.admin)
    return client


def test_administrator_with_second_factor_reaches_the_french_admin(personas: Personas) -> None:
    response = admin_client(personas).get(reverse("admin:index"))
    assert response.status_code == 200
    assert "Administration du Portail ORSEC" in response.content.decode()


def test_anonymous_admin_login_is_the_portal_login(personas: Personas) -> None:
    response = Client().get(reverse("admin:index"))
    assert response.status_code == 302
    follow = Client().get(response["Location"])
    assert follow.status_code == 302
    assert follow["Location"] == f"{LOGIN}?next=/admin/"
    foreign = Client().get(reverse("admin:login") + "?next=https://evil.example/")
    assert foreign["Location"] == f"{LOGIN}?next=/admin/"


def test_verified_operator_without_staff_status_is_sent_home(personas: Personas) -> None:
    client = Client()
    log_in(client, personas.operator37)
    response = client.get(reverse("admin:index"), follow=True)
    assert response.redirect_chain[-1][0] == HOME
    assert response.status_code == 200


def test_staff_without_verified_second_factor_never_sees_the_admin(personas: Personas) -> None:
    client = log_in_verified(Client(), personas.admin.user, verified=False)
    response = client.get(reverse("admin:index"))
    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN)


def test_admin_password_page_is_the_portal_one(personas: Personas) -> None:
    response = admin_client(personas).get(reverse("admin:password_change"))
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:password_change")


def test_admin_logout_is_the_portal_logout(personas: Personas) -> None:
    client = admin_client(personas)
    response = client.post(reverse("admin:logout"))
    assert response.status_code == 302
    assert response["Location"] == LOGIN
    assert "auth.logout" in audit_actions()
    assert lands_on_login(client)


def _user_form(user: User, membership: Membership, **overrides: str) -> dict[str, object]:
    data: dict[str, object] = {
        "username": user.username,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "phone": user.phone,
        "is_active": "on",
        "date_joined_0": user.date_joined.strftime("%d/%m/%Y"),
        "date_joined_1": user.date_joined.strftime("%H:%M:%S"),
        "last_login_0": "",
        "last_login_1": "",
        "memberships-TOTAL_FORMS": "1",
        "memberships-INITIAL_FORMS": "1",
        "memberships-MIN_NUM_FORMS": "0",
        "memberships-MAX_NUM_FORMS": "1000",
        "memberships-0-id": str(membership.pk),
        "memberships-0-user": str(user.pk),
        "memberships-0-organisation": str(membership.organisation_id),
        "memberships-0-role": membership.role,
        "memberships-0-is_active": "on",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def test_admin_removing_a_membership_inline_ends_both_sessions_and_is_audited(
    personas: Personas,
) -> None:
    operator = personas.operator37
    first, second = Client(), Client()
    log_in(first, operator)
    log_in(second, operator)
    membership = Membership.objects.get(user=operator.user)
    url = reverse("admin:accounts_user_change", args=[operator.user.pk])
    response = admin_client(personas).post(
        url, _user_form(operator.user, membership, **{"memberships-0-DELETE": "on"})
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    assert not Membership.objects.filter(pk=membership.pk).exists()
    assert lands_on_login(first)
    assert lands_on_login(second)
    assert "membership.removed" in audit_actions()


def test_admin_changing_a_role_inline_ends_the_sessions_and_is_audited(
    personas: Personas,
) -> None:
    operator = personas.operator37
    session = Client()
    log_in(session, operator)
    membership = Membership.objects.get(user=operator.user)
    url = reverse("admin:accounts_user_change", args=[operator.user.pk])
    response = admin_client(personas).post(
        url, _user_form(operator.user, membership, **{"memberships-0-role": Role.OBSERVER})
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    assert Membership.objects.get(pk=membership.pk).role == Role.OBSERVER
    assert lands_on_login(session)
    assert "membership.changed" in audit_actions()


def test_admin_disabling_an_account_ends_its_sessions_and_is_audited(personas: Personas) -> None:
    operator = personas.operator37
    session = Client()
    log_in(session, operator)
    membership = Membership.objects.get(user=operator.user)
    url = reverse("admin:accounts_user_change", args=[operator.user.pk])
    response = admin_client(personas).post(
        url,
        _user_form(operator.user, membership, is_active=None),  # type: ignore[arg-type]
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    assert User.objects.get(pk=operator.user.pk).is_active is False
    assert lands_on_login(session)
    assert "account.disabled" in audit_actions()


def test_admin_deleting_a_membership_ends_the_sessions(personas: Personas) -> None:
    operator = personas.operator37
    session = Client()
    log_in(session, operator)
    membership = Membership.objects.get(user=operator.user)
    url = reverse("admin:accounts_membership_delete", args=[membership.pk])
    response = admin_client(personas).post(url, {"post": "yes"})
    assert response.status_code == 302
    assert lands_on_login(session)
    assert "membership.removed" in audit_actions()


def test_admin_setting_a_password_ends_the_target_sessions(personas: Personas) -> None:
    operator = personas.operator37
    session = Client()
    log_in(session, operator)
    url = reverse("admin:auth_user_password_change", args=[operator.user.pk])
    new = "Heron-Cendre-Pivoine-2031"
    response = admin_client(personas).post(url, {"password1": new, "password2": new})
    assert response.status_code == 302, response.content.decode()[:3000]
    assert lands_on_login(session)
    assert User.objects.get(pk=operator.user.pk).check_password(new)
    assert "auth.password_changed" in audit_actions()


def test_staff_without_superuser_status_cannot_edit_a_superuser_or_raise_rights(
    personas: Personas,
) -> None:
    staff = User.objects.create_user(
        "gestionnaire", email="gestionnaire@demo-orsec.example", is_staff=True
    )
    staff.user_permissions.set(Permission.objects.filter(codename__in=["view_user", "change_user"]))
    client = log_in_verified(Client(), staff)
    superuser_page = reverse("admin:accounts_user_change", args=[personas.admin.user.pk])
    # At most a read-only view of the superuser: no field to edit, and a change is refused.
    page = client.get(superuser_page).content.decode()
    assert 'name="email"' not in page
    response = client.post(superuser_page, {"email": "pirate@evil.example"})
    assert response.status_code == 403
    assert User.objects.get(pk=personas.admin.user.pk).email != "pirate@evil.example"
    own_page = client.get(reverse("admin:accounts_user_change", args=[staff.pk]))
    assert own_page.status_code == 200
    assert 'name="is_superuser"' not in own_page.content.decode()
