"""Users, their memberships (organisation + role) and the login throttle."""

from __future__ import annotations

from collections.abc import Iterator

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    COD_OPERATOR = "cod_operator", _("Opérateur COD")
    ROOM_LEAD = "room_lead", _("Chef de salle COD")
    DIRECTOR_STAFF = "director_staff", _("Autorité / cabinet du préfet")
    LIAISON_OFFICER = "liaison_officer", _("Officier de liaison d'un service")
    MAYOR = "mayor", _("Maire / cellule de crise communale")
    ZONE_OFFICER = "zone_officer", _("Officier de zone (COZ)")
    NATIONAL_OFFICER = "national_officer", _("Officier de veille nationale (COGIC)")
    OBSERVER = "observer", _("Observateur (lecture seule)")
    ADMINISTRATOR = "administrator", _("Administrateur")


#: Roles that may only read. Every other role writes and therefore needs a second factor.
READ_ONLY_ROLES = frozenset({Role.OBSERVER})
#: Roles that qualify information (verify, grade, confirm or refute field reports).
QUALIFYING_ROLES = frozenset(
    {
        Role.COD_OPERATOR,
        Role.ROOM_LEAD,
        Role.DIRECTOR_STAFF,
        Role.ZONE_OFFICER,
        Role.NATIONAL_OFFICER,
    }
)


class User(AbstractUser):
    """A portal user. ``session_epoch`` is bumped to end every session of the user at once."""

    email = models.EmailField(_("adresse électronique"), unique=True)
    phone = models.CharField(_("téléphone"), max_length=32, blank=True)
    session_epoch = models.PositiveIntegerField(default=0, editable=False)
    is_demo = models.BooleanField(_("compte de démonstration"), default=False)

    class Meta:
        verbose_name = _("utilisateur")
        verbose_name_plural = _("utilisateurs")

    def __str__(self) -> str:
        return self.get_full_name() or self.username

    def get_session_auth_hash(self) -> str:
        """Sessions are bound to the password *and* the epoch: bumping it kills them all."""
        return salted_hmac(
            "orsec.accounts.User.get_session_auth_hash",
            f"{self.password}:{self.session_epoch}",
            algorithm="sha256",
        ).hexdigest()

    def get_session_auth_fallback_hash(self) -> Iterator[str]:
        # Rotated SECRET_KEY_FALLBACKS keep working, still bound to the epoch.
        from django.conf import settings

        for fallback_secret in settings.SECRET_KEY_FALLBACKS:
            yield salted_hmac(
                "orsec.accounts.User.get_session_auth_hash",
                f"{self.password}:{self.session_epoch}",
                secret=fallback_secret,
                algorithm="sha256",
            ).hexdigest()


class Membership(models.Model):
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    organisation = models.ForeignKey(
        "directory.Organisation",
        on_delete=models.PROTECT,
        related_name="memberships",
        verbose_name=_("organisation"),
    )
    role = models.CharField(_("rôle"), max_length=32, choices=Role.choices)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("affectation")
        verbose_name_plural = _("affectations")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "organisation", "role"], name="membership_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} — {self.get_role_display()} — {self.organisation}"


class LoginFailure(models.Model):
    """One failed authentication step (password or second factor), for throttling.

    The username is stored as a keyed hash: the table never holds what an attacker typed.
    """

    username_digest = models.CharField(max_length=64, db_index=True)
    ip = models.GenericIPAddressField(null=True)
    at = models.DateTimeField(db_index=True)
    step = models.CharField(max_length=16)

    class Meta:
        indexes = [models.Index(fields=["ip", "at"], name="loginfailure_ip_at")]

    def __str__(self) -> str:
        return f"{self.step} {self.at:%Y-%m-%d %H:%M:%S}"
