"""The only writers of partner tokens; every write is audited in the same transaction.

The plaintext token is returned once by :func:`do_issue_token` and never stored, logged or
audited (S22, S29): the audit record carries the token's id, public prefix and scope only.
"""

from __future__ import annotations

import hashlib
import json
import logging
import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from orsec.accounts.access import Scope
from orsec.accounts.actions import do_disable_user, do_save_membership, do_save_user
from orsec.accounts.models import Membership, Role, User
from orsec.audit.actions import record_audit
from orsec.core.api import VERBS
from orsec.core.net import OutboundRefused
from orsec.directory.access import organisations_administered_by
from orsec.directory.models import Organisation
from orsec.events.access import event_visible
from orsec.events.models import Event
from orsec.interop.actions import our_sender_id
from orsec.interop.edxlde.serialize import build_distribution
from orsec.interop.emsi.serialize import emsi_json, emsi_xml, situation_of_event
from orsec.interop.errors import InteropError
from orsec.journal.actions import acting_organisation
from orsec.journal.chain import append_entry, chain_for_event
from orsec.journal.models import Channel, EntryKind, JournalEntry
from orsec.partners import tasks as partner_tasks
from orsec.partners.access import territory_fits_organisation
from orsec.partners.models import (
    EndpointKind,
    EventModeChoice,
    MessageKind,
    OutboundMessage,
    OutboundState,
    PartnerEndpoint,
    PartnerToken,
)
from orsec.partners.outbound import (
    Outcome,
    backoff_delay,
    check_endpoint_url,
    max_attempts,
    outcome_summary,
)
from orsec.partners.tokens import new_prefix, new_secret
from orsec.partners.webhooks import WEBHOOK_CONTENT_TYPE, new_endpoint_secret, webhook_body
from orsec.territories.models import Territory

logger = logging.getLogger(__name__)

EDXL_CONTENT_TYPE = "application/xml; charset=utf-8"
EMSI_CONTENT_TYPE = "application/xml; charset=utf-8"

#: The role of a token's service account in its organisation: a partner system acts like the
#: service's liaison officer (reads what the service takes part in, files reports, acknowledges
#: deliveries) — never like a COD operator who qualifies or directs.
SERVICE_ROLE = Role.LIAISON_OFFICER
SERVICE_EMAIL_DOMAIN = "partenaires.invalid"


def validate_token_request(
    *,
    organisation: Organisation,
    territory: Territory,
    verbs: list[str],
    name: str,
    expires_at: datetime | None,
    now: datetime,
) -> None:
    """Raise ValidationError (French messages, keyed by field) when the request is not sound."""
    errors: dict[str, str] = {}
    if not name.strip():
        errors["name"] = _("Donnez un nom au système partenaire.")
    if not verbs:
        errors["verbs"] = _("Choisissez au moins un droit.")
    elif unknown := sorted(set(verbs) - set(VERBS)):
        errors["verbs"] = _("Droits inconnus : %(verbs)s.") % {"verbs": ", ".join(unknown)}
    if not territory_fits_organisation(territory, organisation):
        errors["territory"] = _(
            "Le territoire doit être celui de l'organisation (%(name)s) ou l'un de ses territoires."
        ) % {"name": organisation.territory.name}
    if expires_at is not None and expires_at <= now:
        errors["expires_at"] = _("La date d'expiration doit être dans le futur.")
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def do_issue_token(
    actor: Any,
    *,
    organisation: Organisation,
    territory: Territory,
    verbs: list[str],
    name: str,
    expires_at: datetime | None = None,
    request: HttpRequest | None = None,
) -> tuple[PartnerToken, str]:
    """Create a token and its service account; return it with the plaintext, shown once."""
    if not organisations_administered_by(actor).filter(pk=organisation.pk).exists():
        raise PermissionDenied
    now = timezone.now()
    verbs = sorted(set(verbs))
    validate_token_request(
        organisation=organisation,
        territory=territory,
        verbs=verbs,
        name=name,
        expires_at=expires_at,
        now=now,
    )
    prefix = new_prefix()
    while PartnerToken.objects.filter(prefix=prefix).exists():  # 32 bits: rare, but possible
        prefix = new_prefix()
    secret = new_secret(prefix)
    username = f"partenaire-{prefix}"
    service_user = User(
        username=username,
        email=f"{username}@{SERVICE_EMAIL_DOMAIN}",
        first_name=name.strip()[:150],
        last_name=_("(système partenaire)"),
        password=make_password(None),  # unusable: no password login, no reset
        is_active=True,
        is_staff=False,
        is_superuser=False,
    )
    do_save_user(service_user, actor=actor, request=request, created=True)
    do_save_membership(
        Membership(user=service_user, organisation=organisation, role=SERVICE_ROLE),
        actor=actor,
        request=request,
    )
    token = PartnerToken.objects.create(
        name=name.strip(),
        organisation=organisation,
        territory=territory,
        verbs=verbs,
        service_user=service_user,
        prefix=prefix,
        secret_hash=secret.digest,
        created_by=actor,
        created_at=now,
        expires_at=expires_at,
    )
    record_audit(
        "partners.token.issued",
        actor=actor,
        request=request,
        target=token,
        data={
            "prefix": prefix,
            "organisation_id": organisation.pk,
            "territory": territory.path,
            "verbs": verbs,
            "expires_at": expires_at.isoformat() if expires_at else None,
        },
    )
    return token, secret.plaintext


@transaction.atomic
def do_revoke_token(actor: Any, token: PartnerToken, request: HttpRequest | None = None) -> None:
    """Revoke at once: the next request with the token gets 401; the service account is disabled.

    Revoking a revoked token changes nothing (a double click, a retried form).
    """
    locked = PartnerToken.objects.select_for_update().get(pk=token.pk)
    if locked.revoked_at is not None:
        token.revoked_at, token.revoked_by_id = locked.revoked_at, locked.revoked_by_id
        return
    now = timezone.now()
    PartnerToken.objects.filter(pk=token.pk).update(revoked_at=now, revoked_by=actor)
    token.revoked_at, token.revoked_by = now, actor
    do_disable_user(token.service_user, actor=actor, request=request)
    record_audit(
        "partners.token.revoked",
        actor=actor,
        request=request,
        target=token,
        data={"prefix": token.prefix, "organisation_id": token.organisation_id},
    )


# --- Outbound delivery (docs/outbound.md, ADR 0008) ---------------------------------------------


class OutboundError(ValueError):
    """A message that may not be queued; French message, stable ``code``."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.code = code


def validate_endpoint(endpoint: PartnerEndpoint) -> None:
    """Raise ValidationError (French, keyed by field) when the endpoint may not be saved."""
    errors: dict[str, str] = {}
    if not (endpoint.name or "").strip():
        errors["name"] = _("Donnez un nom au système partenaire.")
    try:
        check_endpoint_url(endpoint.url or "")
    except OutboundRefused as error:
        errors["url"] = str(error)
    if not endpoint.subscriptions:
        errors["subscriptions"] = _("Choisissez au moins un type de message.")
    elif unknown := sorted(set(endpoint.subscriptions) - set(MessageKind.values)):
        errors["subscriptions"] = _("Types de message inconnus : %(kinds)s.") % {
            "kinds": ", ".join(unknown)
        }
    if not endpoint.modes:
        errors["modes"] = _("Choisissez au moins un mode (réel, exercice, test).")
    elif unknown := sorted(set(endpoint.modes) - set(EventModeChoice.values)):
        errors["modes"] = _("Modes inconnus : %(modes)s.") % {"modes": ", ".join(unknown)}
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def do_save_endpoint(
    actor: Any,
    endpoint: PartnerEndpoint,
    *,
    changed: list[str] | None = None,
    request: HttpRequest | None = None,
) -> tuple[PartnerEndpoint, str | None]:
    """Create or change an endpoint; on creation return its signing secret (shown once)."""
    if not organisations_administered_by(actor).filter(pk=endpoint.organisation_id).exists():
        raise PermissionDenied
    validate_endpoint(endpoint)
    now = timezone.now()
    created = endpoint.pk is None
    secret: str | None = None
    endpoint.subscriptions = sorted(set(endpoint.subscriptions))
    endpoint.modes = sorted(set(endpoint.modes))
    endpoint.updated_at = now
    if created:
        secret = new_endpoint_secret()
        endpoint.secret = secret
        endpoint.created_at = now
        endpoint.created_by = actor
    endpoint.save()
    record_audit(
        "partners.endpoint.created" if created else "partners.endpoint.changed",
        actor=actor,
        request=request,
        target=endpoint,
        data={
            "organisation_id": endpoint.organisation_id,
            "url": endpoint.url,
            "kind": endpoint.kind,
            "is_active": endpoint.is_active,
            "modes": endpoint.modes,
            "subscriptions": endpoint.subscriptions,
            "changed": sorted(changed or []),
        },
    )
    return endpoint, secret


def endpoint_may_receive(endpoint: PartnerEndpoint, event: Event) -> bool:
    """The event is one the endpoint's organisation may see (territory, communes, participation)."""
    organisation = endpoint.organisation
    scope = Scope(
        paths=(organisation.territory.path,),
        organisation_ids=frozenset({organisation.pk}),
    )
    return event_visible(scope, event)


def _partner_label(endpoint: PartnerEndpoint) -> str:
    organisation = endpoint.organisation
    return f"{organisation.short_name or organisation.name} ({endpoint.name})"


@transaction.atomic
def do_queue_outbound(
    endpoint: PartnerEndpoint,
    kind: str,
    body: bytes | dict[str, Any],
    content_type: str = WEBHOOK_CONTENT_TYPE,
    *,
    event: Event | None = None,
    entry: JournalEntry | None = None,
    standard: str = "",
    source_key: str = "",
    actor: Any = None,
    request: HttpRequest | None = None,
    now: datetime | None = None,
) -> OutboundMessage:
    """Queue one message for ``endpoint``: the row with its raw bytes, a main courante entry on
    the event (with the bytes' SHA-256), an audit record; the send is enqueued after commit.

    ``body`` is the ``data`` of a JSON webhook (a dict, wrapped in the signed envelope) or the
    raw bytes of a standard message (CAP, EDXL-DE, EMSI) for a ``raw`` endpoint.
    """
    now = now or timezone.now()
    mode = event.mode if event is not None else ""
    if kind not in MessageKind.values:
        raise OutboundError(_("Type de message inconnu : %(kind)s.") % {"kind": kind}, "bad_kind")
    if not endpoint.accepts(kind, mode):
        raise OutboundError(
            _("%(partner)s n'est pas abonné à ce message (%(kind)s, mode %(mode)s) ou est inactif.")
            % {"partner": _partner_label(endpoint), "kind": kind, "mode": mode or "-"},
            "not_subscribed",
        )
    if event is not None and not endpoint_may_receive(endpoint, event):
        raise OutboundError(
            _("%(partner)s n'a pas accès à cet événement : message refusé.")
            % {"partner": _partner_label(endpoint)},
            "event_out_of_scope",
        )
    try:
        check_endpoint_url(endpoint.url)
    except OutboundRefused as error:
        raise OutboundError(str(error), error.code) from error
    delivery_id = uuid.uuid4()
    if endpoint.kind == EndpointKind.WEBHOOK:
        if not isinstance(body, dict):
            raise OutboundError(
                _("Un webhook JSON attend des données structurées, pas un message brut."),
                "bad_body",
            )
        raw = webhook_body(
            delivery_id=str(delivery_id), kind=kind, created_at=now, event=event, data=body
        )
        content_type = WEBHOOK_CONTENT_TYPE
    else:
        if isinstance(body, dict) and endpoint.kind == EndpointKind.EDXL_DE:
            # an EDXL-DE endpoint may carry the JSON of a webhook as its payload
            body = webhook_body(
                delivery_id=str(delivery_id), kind=kind, created_at=now, event=event, data=body
            )
            content_type = WEBHOOK_CONTENT_TYPE
        if not isinstance(body, bytes | bytearray) or not content_type:
            raise OutboundError(
                _("Un point de réception brut attend un message normalisé et son type de contenu."),
                "bad_body",
            )
        raw = bytes(body)
        if endpoint.kind == EndpointKind.EDXL_DE:
            raw, content_type, standard = _in_edxlde(
                raw, content_type, standard, mode=mode, delivery_id=delivery_id, kind=kind, now=now
            )
    digest = hashlib.sha256(raw).hexdigest()
    message = OutboundMessage.objects.create(
        delivery_id=delivery_id,
        endpoint=endpoint,
        kind=kind,
        standard=standard,
        content_type=content_type,
        body=raw,
        body_sha256=digest,
        mode=mode,
        event=event,
        entry=entry,
        source_key=source_key,
        created_at=now,
        state=OutboundState.QUEUED,
        next_attempt_at=now,
    )
    if event is not None:
        message.journal_entry = append_entry(
            chain_for_event(event),
            kind=EntryKind.OUTGOING,
            channel=Channel.PARTNER,
            author=actor,
            text=_("Message %(kind)s adressé à %(partner)s.")
            % {"kind": kind, "partner": _partner_label(endpoint)},
            subject=message,
            data={
                "outbound_message": message.pk,
                "delivery_id": str(delivery_id),
                "endpoint": endpoint.pk,
                "organisation": endpoint.organisation_id,
                "kind": kind,
                "standard": standard,
                "content_type": content_type,
                "size": len(raw),
                "sha256": digest,
                "entry": entry.pk if entry is not None else None,
            },
            now=now,
        )
        message.save(update_fields=["journal_entry"])
    record_audit(
        "partners.outbound.queued",
        actor=actor,
        request=request,
        target=message,
        data={
            "endpoint": endpoint.pk,
            "kind": kind,
            "event": event.pk if event is not None else None,
            "entry": entry.pk if entry is not None else None,
            "sha256": digest,
        },
    )
    message_pk = message.pk
    transaction.on_commit(lambda: partner_tasks.enqueue_send(message_pk))
    return message


def _in_edxlde(
    payload: bytes,
    content_type: str,
    standard: str,
    *,
    mode: str,
    delivery_id: uuid.UUID,
    kind: str,
    now: datetime,
) -> tuple[bytes, str, str]:
    """``payload`` in an EDXL-DE 2.0 distribution: ``distributionStatus`` from the event's mode
    (no event: real, as the watch logs), ``distributionID`` = our sender id and the delivery id
    (stable across retries)."""
    sender = our_sender_id()
    try:
        envelope = build_distribution(
            [(payload, content_type)],
            sender_id=sender,
            mode=mode or "real",
            description=str(MessageKind(kind).label),
            distribution_id=f"{sender}_{delivery_id}",
            now=now,
        )
    except (InteropError, ValueError) as error:
        raise OutboundError(
            _("Message impossible à mettre sous enveloppe EDXL-DE : %(reason)s")
            % {"reason": error},
            "bad_body",
        ) from error
    label = f"EDXL-DE/{standard}" if standard else "EDXL-DE 2.0"
    return envelope, EDXL_CONTENT_TYPE, label[:20]


def queue_to_subscribers(
    kind: str,
    organisations: Iterable[Organisation],
    *,
    data: dict[str, Any],
    raw: tuple[bytes, str] | None = None,
    standard: str = "",
    event: Event | None = None,
    source_key: str = "",
    actor: Any = None,
    request: HttpRequest | None = None,
    now: datetime | None = None,
) -> list[OutboundMessage]:
    """Queue ``kind`` for every active endpoint of ``organisations`` subscribed to it, in the
    caller's transaction: webhook endpoints get ``data`` (signed JSON), raw and EDXL-DE endpoints
    get ``raw`` (``(bytes, content type)``; EDXL-DE wraps it, or wraps the JSON when ``raw`` is
    None). An endpoint that refuses (mode, territory, allow-list) is skipped and logged; one
    already sent this ``source_key`` too."""
    queued = []
    endpoints = (
        PartnerEndpoint.objects.filter(
            organisation__in=[o.pk for o in organisations], is_active=True
        )
        .select_related("organisation", "organisation__territory")
        .order_by("pk")
    )
    for endpoint in endpoints:
        if kind not in endpoint.subscriptions:
            continue
        if source_key and endpoint.messages.filter(source_key=source_key).exists():
            continue
        body: bytes | dict[str, Any] = data
        content_type = WEBHOOK_CONTENT_TYPE
        if endpoint.kind != EndpointKind.WEBHOOK and raw is not None:
            body, content_type = raw
        try:
            with transaction.atomic():
                queued.append(
                    do_queue_outbound(
                        endpoint,
                        kind,
                        body,
                        content_type,
                        event=event,
                        standard=standard,
                        source_key=source_key,
                        actor=actor,
                        request=request,
                        now=now,
                    )
                )
        except OutboundError as error:
            logger.warning(
                "outbound: %s not sent to endpoint %s: %s", kind, endpoint.pk, error.code
            )
    return queued


def emsi_recipients(event: Event) -> list[PartnerEndpoint]:
    """Active endpoints subscribed to ``emsi`` that may receive ``event`` (mode, territory)."""
    endpoints = PartnerEndpoint.objects.filter(is_active=True).select_related(
        "organisation", "organisation__territory"
    )
    return [
        endpoint
        for endpoint in endpoints.order_by("organisation__name", "name", "pk")
        if endpoint.accepts(MessageKind.EMSI, event.mode) and endpoint_may_receive(endpoint, event)
    ]


@transaction.atomic
def do_send_event_emsi(
    actor: Any,
    event: Event,
    *,
    request: HttpRequest | None = None,
    now: datetime | None = None,
) -> list[OutboundMessage]:
    """« Envoyer en EMSI »: the event's situation and confirmed bilan as one EMSI message
    (:func:`orsec.interop.emsi.serialize.situation_of_event`, CONTEXT.MODE from the event's
    mode) queued for every endpoint subscribed to ``emsi`` that may see the event: Hub Santé
    XML for raw and EDXL-DE endpoints, its JSON form in a signed webhook. Each message is a main
    courante entry (by :func:`do_queue_outbound`); the sending is audited once more as a whole.
    The caller checked the ``disseminate`` ability."""
    now = now or timezone.now()
    if event.closed_at is not None:
        raise OutboundError(_("L'événement est clos : plus d'envoi EMSI."), "event_closed")
    recipients = emsi_recipients(event)
    if not recipients:
        raise OutboundError(
            _(
                "Aucun système partenaire abonné aux messages EMSI ne peut recevoir cet "
                "événement (abonnement, mode %(mode)s, territoire)."
            )
            % {"mode": event.mode},
            "no_recipient",
        )
    organisation = acting_organisation(actor)
    message = situation_of_event(
        event,
        origin_id=our_sender_id(),
        origin_name=str(organisation or _("Portail ORSEC"))[:80],
        now=now,
    )
    xml = emsi_xml(message)
    data = json.loads(emsi_json(message))
    queued = []
    for endpoint in recipients:
        webhook = endpoint.kind == EndpointKind.WEBHOOK
        queued.append(
            do_queue_outbound(
                endpoint,
                MessageKind.EMSI,
                data if webhook else xml,
                WEBHOOK_CONTENT_TYPE if webhook else EMSI_CONTENT_TYPE,
                event=event,
                standard="EMSI",
                actor=actor,
                request=request,
                now=now,
            )
        )
    record_audit(
        "partners.emsi.sent",
        actor=actor,
        request=request,
        target=event,
        data={"emsi_id": message.id, "messages": [m.pk for m in queued]},
    )
    return queued


def stale_sending_seconds() -> int:
    """After this long, a message left ``sending`` (worker stopped mid-way) may be claimed again."""
    return int(getattr(settings, "ORSEC_OUTBOUND_TIMEOUT_SECONDS", 10)) * 3 + 60


@transaction.atomic
def do_start_attempt(message_id: int, now: datetime) -> OutboundMessage | None:
    """Claim a due message for one attempt (state ``sending``); None when not due or taken.

    A message left ``sending`` longer than :func:`stale_sending_seconds` (its worker died) is
    claimed again: the receiver deduplicates with ``X-Orsec-Delivery-Id``.
    """
    message = (
        OutboundMessage.objects.select_for_update(of=("self",))
        .select_related("endpoint", "endpoint__organisation")
        .filter(pk=message_id)
        .first()
    )
    if message is None:
        return None
    stale = (
        message.state == OutboundState.SENDING
        and message.last_attempt_at is not None
        and message.last_attempt_at < now - timedelta(seconds=stale_sending_seconds())
    )
    if message.state not in (OutboundState.QUEUED, OutboundState.RETRYING) and not stale:
        return None
    if message.next_attempt_at is not None and message.next_attempt_at > now:
        return None
    message.state = OutboundState.SENDING
    message.attempts += 1
    message.last_attempt_at = now
    message.save(update_fields=["state", "attempts", "last_attempt_at"])
    return message


@transaction.atomic
def do_finish_attempt(message: OutboundMessage, outcome: Outcome, now: datetime) -> OutboundMessage:
    """Record an attempt's outcome: delivered, retrying (backoff) or dead (journal + audit)."""
    message = (
        OutboundMessage.objects.select_for_update(of=("self",))
        .select_related("endpoint", "endpoint__organisation", "event")
        .get(pk=message.pk)
    )
    old = message.state
    message.response_status = outcome.status
    message.last_error = outcome.error[:300]
    if outcome.delivered:
        message.state = OutboundState.DELIVERED
        message.delivered_at = now
        message.next_attempt_at = None
        message.last_error = ""
    elif outcome.permanent or message.attempts >= max_attempts():
        message.state = OutboundState.DEAD
        message.next_attempt_at = None
    else:
        message.state = OutboundState.RETRYING
        message.next_attempt_at = now + backoff_delay(message.attempts)
    message.save(
        update_fields=[
            "state",
            "response_status",
            "last_error",
            "delivered_at",
            "next_attempt_at",
        ]
    )
    if message.state == OutboundState.DEAD:
        if message.event is not None:
            append_entry(
                chain_for_event(message.event),
                kind=EntryKind.OUTGOING,
                channel=Channel.PARTNER,
                text=_(
                    "Échec définitif de l'envoi du message %(kind)s à %(partner)s après "
                    "%(attempts)s essai(s) : %(error)s"
                )
                % {
                    "kind": message.kind,
                    "partner": _partner_label(message.endpoint),
                    "attempts": message.attempts,
                    "error": message.last_error,
                },
                subject=message,
                data={"outbound_message": message.pk, "state": message.state},
                now=now,
            )
        record_audit(
            "partners.outbound.dead",
            target=message,
            outcome="failure",
            data={"from": old, "attempts": message.attempts, **outcome_summary(outcome)},
        )
    elif message.state == OutboundState.RETRYING:
        due = message.next_attempt_at
        message_pk = message.pk
        transaction.on_commit(lambda: partner_tasks.enqueue_send(message_pk, run_after=due))
    return message


@transaction.atomic
def do_retry_outbound(
    actor: Any, message: OutboundMessage, *, request: HttpRequest | None = None
) -> bool:
    """Put a dead message back in the queue now, with a fresh set of attempts (audited).

    Only a dead message can be retried; anything else is left alone (False).
    """
    locked = OutboundMessage.objects.select_for_update(of=("self",)).get(pk=message.pk)
    if locked.state != OutboundState.DEAD:
        return False
    now = timezone.now()
    previous = locked.attempts
    locked.state = OutboundState.QUEUED
    locked.attempts = 0
    locked.next_attempt_at = now
    locked.save(update_fields=["state", "attempts", "next_attempt_at"])
    record_audit(
        "partners.outbound.retried",
        actor=actor,
        request=request,
        target=locked,
        data={"previous_attempts": previous, "endpoint": locked.endpoint_id},
    )
    message_pk = locked.pk
    transaction.on_commit(lambda: partner_tasks.enqueue_send(message_pk))
    return True
