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


# --- Outbound delivery (docs/outbound.md, ADR 0008) ---------------------------------------------


class EndpointKind(models.TextChoices):
    """The format an endpoint receives (docs/outbound.md)."""

    WEBHOOK = "webhook", _("Webhook JSON signé")
    RAW = "raw", _("Message normalisé brut (CAP, EMSI, PDF du SITREP)")
    EDXL_DE = "edxl-de", _("Message normalisé dans une enveloppe EDXL-DE 2.0")


class MessageKind(models.TextChoices):
    JOURNAL_ENTRY = "journal.entry", _("Entrée de main courante diffusée")
    SITREP = "sitrep", _("Point de situation (SITREP)")
    CAP_ALERT = "cap.alert", _("Alerte CAP")
    EMSI = "emsi", _("Situation EMSI")


class EventModeChoice(models.TextChoices):
    REAL = "real", _("Réel")
    EXERCISE = "exercise", _("Exercice")
    TEST = "test", _("Test")


class PartnerEndpoint(models.Model):
    """Where a partner system receives what the portal sends it (one URL, one signing secret).

    The signing secret must be usable to sign every message, so it is stored (not hashed) and
    never displayed again after creation (ADR 0008).
    """

    organisation = models.ForeignKey(
        "directory.Organisation",
        on_delete=models.PROTECT,
        related_name="partner_endpoints",
        verbose_name=_("organisation"),
    )
    name = models.CharField(_("nom du système partenaire"), max_length=100)
    url = models.URLField(_("adresse de réception (https)"), max_length=500)
    kind = models.CharField(
        _("format"), max_length=10, choices=EndpointKind.choices, default=EndpointKind.WEBHOOK
    )
    secret = models.CharField(max_length=100, editable=False)
    is_active = models.BooleanField(_("actif"), default=True)
    modes = models.JSONField(
        _("modes acceptés"),
        default=list,
        help_text=_("Un partenaire peut refuser le trafic d'exercice ou de test."),
    )
    subscriptions = models.JSONField(_("messages reçus"), default=list)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(_("créé le"))
    updated_at = models.DateTimeField(_("modifié le"))

    class Meta:
        verbose_name = _("point de réception partenaire")
        verbose_name_plural = _("points de réception partenaires")
        ordering = ["organisation__name", "name", "pk"]

    def __str__(self) -> str:
        return f"{self.name} — {self.organisation}"

    def accepts(self, kind: str, mode: str) -> bool:
        return self.is_active and kind in self.subscriptions and (not mode or mode in self.modes)


class OutboundState(models.TextChoices):
    QUEUED = "queued", _("en file")
    SENDING = "sending", _("envoi en cours")
    RETRYING = "retrying", _("nouvel essai prévu")
    DELIVERED = "delivered", _("remis")
    DEAD = "dead", _("abandonné (lettre morte)")


class OutboundMessage(models.Model):
    """One message to one partner endpoint, its raw bytes as sent, and its delivery state."""

    #: ``X-Orsec-Delivery-Id``: the same on every attempt, so the receiver can deduplicate
    delivery_id = models.UUIDField(_("identifiant de remise"), unique=True, editable=False)
    endpoint = models.ForeignKey(
        PartnerEndpoint,
        on_delete=models.PROTECT,
        related_name="messages",
        verbose_name=_("destinataire"),
    )
    kind = models.CharField(_("nature"), max_length=20, choices=MessageKind.choices)
    standard = models.CharField(_("norme"), max_length=20, blank=True)
    content_type = models.CharField(_("type de contenu"), max_length=100)
    body = models.BinaryField(_("message brut"))
    body_sha256 = models.CharField(max_length=64)
    mode = models.CharField(_("mode"), max_length=10, blank=True)
    event = models.ForeignKey(
        "events.Event", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    entry = models.ForeignKey(
        "journal.JournalEntry",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("entrée concernée"),
    )
    journal_entry = models.ForeignKey(
        "journal.JournalEntry",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("entrée de main courante de l'envoi"),
    )
    #: what caused it (``journal.entry:<id>``): one message per cause and endpoint
    source_key = models.CharField(max_length=80, blank=True)
    created_at = models.DateTimeField(_("créé le"))
    state = models.CharField(
        _("état"), max_length=10, choices=OutboundState.choices, default=OutboundState.QUEUED
    )
    attempts = models.PositiveSmallIntegerField(_("essais"), default=0)
    next_attempt_at = models.DateTimeField(_("prochain essai"), null=True, blank=True)
    last_attempt_at = models.DateTimeField(_("dernier essai"), null=True, blank=True)
    last_error = models.CharField(_("dernière erreur"), max_length=300, blank=True)
    response_status = models.PositiveSmallIntegerField(_("statut HTTP"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("remis le"), null=True, blank=True)

    class Meta:
        verbose_name = _("message sortant")
        verbose_name_plural = _("messages sortants")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["endpoint", "source_key"],
                condition=~models.Q(source_key=""),
                name="outbound_unique_source",
            ),
        ]
        indexes = [models.Index(fields=["state", "next_attempt_at"], name="outbound_state_due")]

    def __str__(self) -> str:
        return f"{self.kind} → {self.endpoint.name} ({self.delivery_id})"


class OutboundCursor(models.Model):
    """How far a trigger has read its source table (``Delivery`` ids for ``journal.entry``)."""

    name = models.CharField(max_length=40, unique=True)
    last_id = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.name} @ {self.last_id}"
