"""Interop rows: every message received from a partner, and the sender ids partners may use.

:class:`InboundMessage` keeps every message that reached the inbox or the import command (raw
bytes, SHA-256, verdict, errors, what it created, the answer sent back); a message refused for
security (DOCTYPE, entities, oversize) is *not* kept: only an audit record is written for it
(:func:`orsec.interop.actions.do_receive_message`). The ``(sender_id, distribution_id)`` pair of
an imported enveloped message is unique: a replay is answered with the stored answer and imports
nothing (EDXL-DE ``distributionID`` idempotency). CAP and EMSI messages (no envelope) are kept
with a blank distribution id; their own importers detect their replays.

:class:`PartnerSender` lists the sender identifiers (EDXL-DE ``senderID``, Hub Santé sender)
an organisation's systems may use: a message whose envelope names another sender than those of
the authenticated partner's organisation is refused.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class PartnerSender(models.Model):
    organisation = models.ForeignKey(
        "directory.Organisation",
        on_delete=models.CASCADE,
        related_name="interop_senders",
        verbose_name=_("organisation"),
    )
    sender_id = models.CharField(_("identifiant d'émetteur"), max_length=255, unique=True)
    description = models.CharField(_("description"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("émetteur partenaire (EDXL-DE, Hub Santé)")
        verbose_name_plural = _("émetteurs partenaires (EDXL-DE, Hub Santé)")
        ordering = ["sender_id"]

    def __str__(self) -> str:
        return self.sender_id


class Verdict(models.TextChoices):
    VALID = "valid", _("valide")
    INVALID = "invalid", _("invalide")


class InboundMessage(models.Model):
    organisation = models.ForeignKey(
        "directory.Organisation",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("organisation émettrice"),
    )
    received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("reçu par (compte)"),
    )
    partner_name = models.CharField(_("système partenaire"), max_length=100, blank=True)
    standard = models.CharField(_("format"), max_length=40)
    sender_id = models.CharField(_("émetteur déclaré"), max_length=255, blank=True)
    distribution_id = models.CharField(_("identifiant de distribution"), max_length=255, blank=True)
    case_id = models.CharField(_("identifiant d'affaire partagé"), max_length=255, blank=True)
    mode = models.CharField(_("mode"), max_length=10, blank=True)
    content_type = models.CharField(_("type de contenu"), max_length=100, blank=True)
    sha256 = models.CharField(max_length=64)
    size = models.PositiveIntegerField(_("taille (octets)"))
    raw = models.BinaryField(_("forme brute"))
    received_at = models.DateTimeField(_("reçu le"), db_index=True)
    verdict = models.CharField(_("verdict"), max_length=10, choices=Verdict.choices)
    errors = models.JSONField(_("erreurs"), default=list, blank=True)
    imported = models.BooleanField(_("importé"), default=False)
    replay_of = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="replays",
        verbose_name=_("rejeu de"),
    )
    event = models.ForeignKey(
        "events.Event",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("événement"),
    )
    entry_ids = models.JSONField(_("entrées de main courante"), default=list, blank=True)
    report_ids = models.JSONField(_("remontées"), default=list, blank=True)
    summary = models.TextField(_("résumé"), blank=True)
    response = models.BinaryField(_("réponse envoyée"), blank=True, default=b"")
    response_type = models.CharField(_("type de la réponse"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("message entrant")
        verbose_name_plural = _("messages entrants")
        ordering = ["-received_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["sender_id", "distribution_id"],
                condition=Q(imported=True) & ~Q(distribution_id=""),
                name="inbound_distribution_once",
            )
        ]

    def __str__(self) -> str:
        return f"{self.standard} {self.distribution_id or self.sha256[:12]}"
