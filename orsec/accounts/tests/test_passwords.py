"""Password policy (S14), Argon2id storage (S15), password change and reset."""

from __future__ import annotations

import importlib
import re

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core import mail
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from orsec.accounts.models import Membership, Role, User
from orsec.accounts.tests.helpers import (
    Personas,
    audit_actions,
    log_in,
    post_password,
)
from orsec.accounts.validators import ContextWordsValidator, RoleAwareMinimumLengthValidator

pytestmark = pytest.mark.django_db

STRONG = "Girafe-Violon-Orage-Kayak"  # 25 characters, no context word


def codes_of(password: str, user: User | None) -> set[str]:
    try:
        validate_password(password, user)
    except ValidationError as error:
        return {e.code for e in error.error_list if e.code}
    return set()


def test_user_password_needs_at_least_12_characters(personas: Personas) -> None:
    user = personas.operator37.user
    assert "password_too_short" in codes_of("Kayak-Orage", user)  # 11
    assert codes_of("Kayak-Orage!", user) == set()  # 12


def test_administrator_password_needs_at_least_16_characters(personas: Personas) -> None:
    staff = personas.admin.user
    assert "password_too_short" in codes_of("Kayak-Orage-Vif", staff)  # 15
    assert codes_of("Kayak-Orage-Vif!", staff) == set()  # 16


def test_administrator_membership_without_staff_flag_also_needs_16(personas: Personas) -> None:
    user = personas.observer37.user
    Membership.objects.create(
        user=user, organisation=personas.organisations["pref37"], role=Role.ADMINISTRATOR
    )
    assert "password_too_short" in codes_of("Kayak-Orage-Vif", user)


def test_long_passwords_of_64_and_128_characters_are_accepted(personas: Personas) -> None:
    user = personas.admin.user
    for length in (64, 128):
        password = ("Kayak-Girafe-Violon-" * 10)[:length]
        assert len(password) == length
        assert codes_of(password, user) == set()


def test_common_password_is_refused(personas: Personas) -> None:
    # Django's list (20 000 leaked passwords) holds few of 12 characters or more; these are in it.
    assert "password_too_common" in codes_of("qwerty123456", personas.operator37.user)
    assert "password_too_common" in codes_of("Telechargement", None)


@pytest.mark.parametrize(
    "password",
    [
        "Orsec2026!Orsec2026!",
        "MonSDIS-quarante-deux",
        "Prefecture-du-Centre-42",
        "Préfecture-du-Centre-42",
        "pr3f3ctur3-du-centre-42",
        "COD37-la-nuit-des-crues",
        "Ministere-de-l-Interieur",
        "Ministère-de-l'Intérieur",
        "0rs3c-sur-la-Loire-vite",
    ],
)
def test_password_built_on_a_portal_word_is_refused(password: str) -> None:
    with pytest.raises(ValidationError) as error:
        ContextWordsValidator().validate(password)
    assert error.value.error_list[0].code == "password_context_word"


def test_password_with_the_username_names_or_organisation_is_refused(personas: Personas) -> None:
    user = personas.mayor_tours.user  # maire.tours, Hélène Moreau, Mairie de Tours
    validator = ContextWordsValidator()
    for password in (
        "Helene-aime-les-crues",
        "moreau-la-riviere-42",
        "Maire.Tours-2031-quai",
        "Vive-Tours-sous-la-pluie",
    ):
        with pytest.raises(ValidationError):
            validator.validate(password, user)
    validator.validate(STRONG, user)


def test_short_context_word_is_refused_alone_but_not_inside_another_word() -> None:
    validator = ContextWordsValidator()
    with pytest.raises(ValidationError):
        validator.validate("le cod de la nuit 42")
    validator.validate("Un-code-secret-pour-Kayak")


def test_validator_messages_are_in_french() -> None:
    with pytest.raises(ValidationError) as error:
        RoleAwareMinimumLengthValidator().validate("court", None)
    assert "au moins 12 caractères" in error.value.messages[0]
    assert "Au moins 12 caractères" in RoleAwareMinimumLengthValidator().get_help_text()


def test_configured_first_hasher_is_argon2_and_stored_hash_is_argon2id(
    personas: Personas,
) -> None:
    production = importlib.import_module("config.settings")
    assert production.PASSWORD_HASHERS[0] == "django.contrib.auth.hashers.Argon2PasswordHasher"
    stored = User.objects.get(pk=personas.operator37.user.pk).password
    assert stored.startswith("argon2$argon2id$")


def test_password_change_requires_the_current_password(personas: Personas) -> None:
    persona = personas.operator37
    client = Client()
    log_in(client, persona)
    response = client.post(
        reverse("accounts:password_change"),
        {"old_password": "pas-le-bon", "new_password1": STRONG, "new_password2": STRONG},
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "Le mot de passe actuel est incorrect." in body
    assert 'class="fr-error-text"' in body
    assert 'aria-describedby="id_old_password-error' in body
    assert User.objects.get(pk=persona.user.pk).check_password(persona.password)
    assert "auth.login.failure" in audit_actions()


def test_password_change_applies_the_policy(personas: Personas) -> None:
    persona = personas.operator37
    client = Client()
    log_in(client, persona)
    response = client.post(
        reverse("accounts:password_change"),
        {
            "old_password": persona.password,
            "new_password1": "Orsec-Orsec-Orsec",
            "new_password2": "Orsec-Orsec-Orsec",
        },
    )
    assert response.status_code == 200
    assert "trop facile à deviner" in response.content.decode()


def test_password_reset_sets_a_new_password_and_ends_every_session(personas: Personas) -> None:
    persona = personas.operator37
    logged_in = Client()
    log_in(logged_in, persona)

    client = Client()
    response = client.post(reverse("accounts:password_reset"), {"email": persona.user.email})
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:password_reset_done")
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert "réinitialisation" in message.subject
    link = re.search(r"https?://[^/\s]+(/mot-de-passe/nouveau/\S+/)", str(message.body))
    assert link is not None
    response = client.get(link.group(1))
    assert response.status_code == 302  # token moved from the URL into the session
    form_url = response["Location"]
    response = client.post(form_url, {"new_password1": STRONG, "new_password2": STRONG})
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:password_reset_complete")

    assert User.objects.get(pk=persona.user.pk).check_password(STRONG)
    assert logged_in.get(reverse("accounts:home")).status_code == 302
    assert "auth.password_changed" in audit_actions()
    # The link is single use.
    assert "Lien invalide ou expiré" in Client().get(link.group(1)).content.decode()
    # The second factor is still required afterwards.
    again = post_password(Client(), persona.username, STRONG)
    assert again["Location"] == reverse("accounts:login_second_factor")


def test_reset_link_dies_with_logout_everywhere(personas: Personas) -> None:
    persona = personas.operator37
    Client().post(reverse("accounts:password_reset"), {"email": persona.user.email})
    link = re.search(r"https?://[^/\s]+(/mot-de-passe/nouveau/\S+/)", str(mail.outbox[0].body))
    assert link is not None
    client = Client()
    log_in(client, persona)
    client.post(reverse("accounts:logout_everywhere"))
    response = Client().get(link.group(1))
    assert response.status_code == 200
    assert "Lien invalide ou expiré" in response.content.decode()
