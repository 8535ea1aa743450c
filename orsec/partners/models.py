"""Partner systems: API tokens (S22) and the idempotency records of API POSTs.

A :class:`PartnerToken` lets a partner system (SDIS dispatch, a NexSIS bridge…) call the API as
a service account of one organisation, restricted to one territory inside the organisation's
scope and to a set of verbs (``orsec.core.api.VERBS``). Only a hash of the secret is stored; the
token is shown once, at creation (``docs/api.md``, ADR 0004).
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

TOKEN_SCHEME = "orsec"  # noqa: S105  # nosec B105
PREFIX_LENGTH = 8


class TokenStatus(models.TextChoices):
    ACTIVE = "active", _("actif")
    EXPIRED = "expired", _("expiré")
    REVOKED = "revoked", _("révoqué")


class PartnerToken(models.Model):
    name = models.CharField(_("nom du système partenaire"), max_length=100)
    organisation = models.ForeignKey(
        "directory.Organisation",
        on_delete=models.PROTECT,
        related_name="partner_tokens",
        verbose_name=_("organisation"),
    )
    territory = models.ForeignKey(
        "territories.Territory",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("territoire"),
    )
    verbs = models.JSONField(_("droits"), default=list)
    service_user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="partner_token",
        verbose_name=_("compte de service"),
    )
    prefix = models.CharField(_("préfixe public"), max_length=PREFIX_LENGTH, unique=True)
    secret_hash = models.CharField(max_length=64)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("créé par"),
    )
    created_at = models.DateTimeField(_("créé le"))
    expires_at = models.DateTimeField(_("expire le"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("révoqué le"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("révoqué par"),
    )
    last_used_at = models.DateTimeField(_("dernière utilisation"), null=True, blank=True)

    class Meta:
        verbose_name = _("jeton d'API partenaire")
        verbose_name_plural = _("jetons d'API partenaires")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.name} ({TOKEN_SCHEME}_{self.prefix}_…)"

    def status(self, now: datetime) -> TokenStatus:
        """Pure rule, clock passed in: revoked wins over expired."""
        if self.revoked_at is not None:
            return TokenStatus.REVOKED
        if self.expires_at is not None and self.expires_at <= now:
            return TokenStatus.EXPIRED
        return TokenStatus.ACTIVE

    def is_usable(self, now: datetime) -> bool:
        return self.status(now) == TokenStatus.ACTIVE

    @property
    def display_prefix(self) -> str:
        return f"{TOKEN_SCHEME}_{self.prefix}_…"


class IdempotencyRecord(models.Model):
    """The stored outcome of one POST under ``/api/v1/`` sent with an ``Idempotency-Key``.

    Written in the same transaction as the request's own writes: a committed request always has
    its record, a rolled-back one has none. Kept 24 hours (``purge_idempotency_records``).
    """

    principal = models.CharField(max_length=40)  # "token:<id>" or "user:<id>"
    key = models.CharField(max_length=200)
    request_hash = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField()
    content_type = models.CharField(max_length=100)
    location = models.CharField(max_length=500, blank=True)
    body = models.BinaryField()
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        verbose_name = _("clé d'idempotence")
        verbose_name_plural = _("clés d'idempotence")
        constraints = [
            models.UniqueConstraint(fields=["principal", "key"], name="idempotency_unique_key"),
        ]

    def __str__(self) -> str:
        return f"{self.principal} {self.key[:40]}"
