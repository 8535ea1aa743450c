"""Forms of the accounts pages. They parse input only: credentials are checked by the actions."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib.auth.forms import PasswordChangeForm, PasswordResetForm, SetPasswordForm
from django.core.validators import MaxLengthValidator
from django.utils.translation import gettext_lazy as _

from orsec.accounts import mfa
from orsec.accounts.throttle import normalise_username
from orsec.accounts.validators import PASSWORD_MAX_LENGTH

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

_TOTP_RE = re.compile(r"^[0-9]{6}$")


def _password_field(label: StrOrPromise, *, required_message: StrOrPromise) -> forms.CharField:
    return forms.CharField(
        label=label,
        strip=False,
        max_length=PASSWORD_MAX_LENGTH,
        error_messages={
            "required": required_message,
            "max_length": _("Ce mot de passe est trop long."),
        },
    )


class LoginForm(forms.Form):
    username = forms.CharField(
        label=_("Identifiant"),
        max_length=150,
        error_messages={
            "required": _("Saisissez votre identifiant."),
            "max_length": _("Identifiant ou mot de passe incorrect."),
        },
    )
    password = _password_field(
        _("Mot de passe"), required_message=_("Saisissez votre mot de passe.")
    )

    def clean_username(self) -> str:
        return normalise_username(self.cleaned_data["username"])


class TotpCodeForm(forms.Form):
    code = forms.CharField(
        label=_("Code à 6 chiffres"),
        max_length=16,
        error_messages={"required": _("Saisissez le code affiché par votre application.")},
    )

    def clean_code(self) -> str:
        code = "".join(self.cleaned_data["code"].split())
        if not _TOTP_RE.match(code):
            raise forms.ValidationError(_("Le code comporte exactement 6 chiffres."), code="format")
        return code


class RecoveryCodeForm(forms.Form):
    recovery_code = forms.CharField(
        label=_("Code de secours"),
        max_length=32,
        error_messages={"required": _("Saisissez l'un de vos codes de secours.")},
    )

    def clean_recovery_code(self) -> str:
        code = mfa.normalise_recovery_code(self.cleaned_data["recovery_code"])
        if len(code) != mfa.RECOVERY_CODE_LENGTH:
            raise forms.ValidationError(
                _("Un code de secours comporte %(n)d lettres ou chiffres.")
                % {"n": mfa.RECOVERY_CODE_LENGTH},
                code="format",
            )
        return code


class ReauthenticationForm(forms.Form):
    password = _password_field(
        _("Mot de passe actuel"), required_message=_("Saisissez votre mot de passe actuel.")
    )


class AccountPasswordChangeForm(PasswordChangeForm):
    """Django's form (current password checked, validators run) with the portal's wording."""

    error_messages = {
        **PasswordChangeForm.error_messages,
        "password_incorrect": _("Le mot de passe actuel est incorrect."),
        "password_mismatch": _("Les deux nouveaux mots de passe ne sont pas identiques."),
    }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["old_password"].label = _("Mot de passe actuel")
        self.fields["new_password1"].label = _("Nouveau mot de passe")
        self.fields["new_password2"].label = _("Confirmation du nouveau mot de passe")
        for name in ("old_password", "new_password1", "new_password2"):
            field = self.fields[name]
            field.validators.append(MaxLengthValidator(PASSWORD_MAX_LENGTH))
            field.error_messages["required"] = _("Ce champ est obligatoire.")


class AccountSetPasswordForm(SetPasswordForm):
    """New password from a reset link."""

    error_messages = {
        **SetPasswordForm.error_messages,
        "password_mismatch": _("Les deux nouveaux mots de passe ne sont pas identiques."),
    }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["new_password1"].label = _("Nouveau mot de passe")
        self.fields["new_password2"].label = _("Confirmation du nouveau mot de passe")
        for name in ("new_password1", "new_password2"):
            self.fields[name].error_messages["required"] = _("Ce champ est obligatoire.")


class ResetRequestForm(PasswordResetForm):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["email"]
        field.label = _("Adresse électronique")
        field.error_messages["required"] = _("Saisissez votre adresse électronique.")
        field.error_messages["invalid"] = _(
            "Saisissez une adresse électronique valide, par exemple nom@interieur.gouv.fr."
        )
