"""The only writers of dissemination. Each action, in one transaction: the rows, the transition,
the main courante entry of the event, the audit record and the live outbox messages.

Actions trust their caller for *access* (the event came through ``access_event_by_id`` and the
caller checked the ability ``disseminate``; the delivery came through ``access_delivery_by_id``
and the caller checked ``read`` / ``acknowledge``) but check the *rules* themselves and raise
:class:`DisseminationError` with a French message and a stable code.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.http import HttpRequest
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from orsec.accounts.models import Membership, Role
from orsec.audit.actions import record_audit
from orsec.directory.models import ContactKind, ContactPoint, Organisation
from orsec.dissemination.models import (
    Delivery,
    DeliveryState,
    DeliveryTransition,
    Dissemination,
    DisseminationMode,
    RoutingRule,
)
from orsec.dissemination.routing import route_entry
from orsec.events.actions import add_participant
from orsec.events.models import Event
from orsec.journal.chain import append_entry, chain_for_event
from orsec.journal.models import Channel, EntryKind, JournalEntry, QualificationState
from orsec.live.outbox import event_topic, organisation_topic, queue_live_message, user_topic

logger = logging.getLogger("orsec.dissemination")

#: Qualification states an entry may be disseminated in: confirmed information, or an entry
#: that needs no qualification (a decision, a point de situation).
DISSEMINABLE_STATES = frozenset({QualificationState.CONFIRMED, QualificationState.NOT_APPLICABLE})
#: Length of the entry's summary quoted in journal entries and e-mails.
SUMMARY_LENGTH = 140


class DisseminationError(ValueError):
    """A dissemination the rules forbid; ``str(error)`` is the French message for the user."""

    def __init__(self, message: str, code: str = "dissemination_rule") -> None:
        super().__init__(message)
        self.code = code


def entry_summary(entry: JournalEntry) -> str:
    text = " ".join((entry.text or "").split())
    return text if len(text) <= SUMMARY_LENGTH else text[: SUMMARY_LENGTH - 1].rstrip() + "…"


def organisation_label(organisation: Organisation) -> str:
    return organisation.short_name or organisation.name


def person_label(user: Any) -> str:
    return (user.get_full_name() or user.get_username()) if user is not None else ""


def _marker(event: Event) -> str:
    marker = event.mode_marker()
    return f"[{marker}] " if marker else ""


def _user_organisation(user: Any) -> Organisation:
    """The organisation a named recipient receives through (their first active membership)."""
    membership = (
        Membership.objects.filter(user=user, is_active=True, organisation__is_active=True)
        .select_related("organisation")
        .order_by("organisation_id")
        .first()
    )
    if membership is None or not user.is_active:
        raise DisseminationError(
            _("%(name)s n'est rattaché(e) à aucune organisation active.")
            % {"name": person_label(user)},
            "recipient_without_organisation",
        )
    return membership.organisation


def _transition(delivery: Delivery, old: str, new: str, actor: Any, now: datetime) -> None:
    DeliveryTransition.objects.create(
        delivery=delivery, old=old, new=new, actor=actor, at=now, reason=""
    )


@transaction.atomic
def do_disseminate_entry(
    actor: Any,
    entry: JournalEntry,
    *,
    event: Event,
    organisations: Iterable[Organisation] = (),
    users: Iterable[Any] = (),
    use_rules: bool = True,
    note: str = "",
    request: HttpRequest | None = None,
    now: datetime | None = None,
) -> Dissemination:
    """Send ``entry`` of ``event`` to the rules' recipients and/or the chosen ones.

    Organisations that already received this entry are skipped (listed in the journal entry and
    in ``dissemination.skipped``). Refused: an entry not yet confirmed (raw, being checked) or
    refuted, an entry of another event, a closed event, an empty set of recipients.
    """
    now = now or timezone.now()
    event = Event.objects.select_for_update().get(pk=event.pk)
    if not event.is_open:
        raise DisseminationError(
            _("L'événement est clos : plus aucune diffusion n'est possible."), "event_closed"
        )
    if entry.event_id != event.pk:
        raise DisseminationError(
            _("Cette entrée n'appartient pas à la main courante de l'événement."),
            "entry_not_in_event",
        )
    if entry.qualification not in DISSEMINABLE_STATES:
        raise DisseminationError(
            _(
                "Seule une information confirmée peut être diffusée : "
                "cette entrée est « %(state)s »."
            )
            % {"state": QualificationState(entry.qualification).label},
            "entry_not_qualified",
        )
    note = (note or "").strip()

    # Recipients: (organisation, named user or None), in a stable order, without duplicates.
    rules: list[RoutingRule] = []
    wanted: dict[tuple[int, int | None], tuple[Organisation, Any]] = {}
    if use_rules:
        routing = route_entry(event, entry)
        rules = routing.rules
        for organisation in routing.organisations:
            wanted.setdefault((organisation.pk, None), (organisation, None))
    manual = False
    for organisation in organisations:
        manual = True
        if not organisation.is_active:
            raise DisseminationError(
                _("%(name)s n'est plus active dans l'annuaire.")
                % {"name": organisation_label(organisation)},
                "organisation_inactive",
            )
        wanted.setdefault((organisation.pk, None), (organisation, None))
    for user in users:
        manual = True
        organisation = _user_organisation(user)
        wanted.setdefault((organisation.pk, user.pk), (organisation, user))
    if not wanted:
        raise DisseminationError(
            _(
                "Aucun destinataire : aucune règle de diffusion ne s'applique à cette entrée. "
                "Choisissez au moins une organisation."
            )
            if use_rules
            else _("Choisissez au moins une organisation destinataire."),
            "no_recipients",
        )

    # Never deliver the same entry twice to the same recipient.
    already = set(Delivery.objects.filter(entry=entry).values_list("organisation_id", "user_id"))
    skipped = [org for key, (org, _user) in wanted.items() if key in already]
    recipients = [(org, user) for key, (org, user) in wanted.items() if key not in already]
    if not recipients:
        raise DisseminationError(
            _("Cette entrée a déjà été diffusée à : %(names)s.")
            % {"names": ", ".join(organisation_label(o) for o in skipped)},
            "already_disseminated",
        )

    routing_mode = (
        DisseminationMode.MIXED
        if manual and rules
        else DisseminationMode.MANUAL
        if manual
        else DisseminationMode.RULES
    )
    dissemination = Dissemination.objects.create(
        event=event,
        entry=entry,
        mode=event.mode,
        disseminated_by=actor if getattr(actor, "is_authenticated", False) else None,
        disseminated_at=now,
        note=note,
        routing=routing_mode,
        rule_names=[r.name for r in rules],
    )
    if rules:
        dissemination.rules.set(rules)
    deliveries = Delivery.objects.bulk_create(
        [
            Delivery(
                dissemination=dissemination,
                event=event,
                entry=entry,
                mode=event.mode,
                organisation=org,
                user=user,
                sent_at=now,
            )
            for org, user in recipients
        ]
    )
    seen_orgs: dict[int, Organisation] = {}
    for org, _user in recipients:
        seen_orgs.setdefault(org.pk, org)
    for org in seen_orgs.values():
        add_participant(event, org, now=now)

    names = []
    for org, user in recipients:
        label = organisation_label(org)
        names.append(f"{label} ({person_label(user)})" if user is not None else label)
    text = _marker(event) + _("Diffusé à : %(names)s — %(summary)s") % {
        "names": ", ".join(names),
        "summary": entry_summary(entry),
    }
    if skipped:
        text += "\n" + _("Déjà destinataires, non renvoyé : %(names)s.") % {
            "names": ", ".join(organisation_label(o) for o in skipped)
        }
    if note:
        text += "\n" + _("Note : %(note)s") % {"note": note}
    dissemination.journal_entry = append_entry(
        chain_for_event(event),
        kind=EntryKind.OUTGOING,
        channel=Channel.PORTAL,
        author=actor,
        text=text,
        subject=dissemination,
        data={
            "entry": entry.pk,
            "organisations": [org.pk for org in seen_orgs.values()],
            "users": [user.pk for _org, user in recipients if user is not None],
            "skipped": [o.pk for o in skipped],
            "rules": [r.pk for r in rules],
        },
        now=now,
    )
    dissemination.save(update_fields=["journal_entry"])
    record_audit(
        "dissemination.sent",
        actor=actor,
        request=request,
        target=dissemination,
        data={
            "event": event.pk,
            "entry": entry.pk,
            "organisations": [org.pk for org in seen_orgs.values()],
            "skipped": [o.pk for o in skipped],
        },
    )
    for delivery in deliveries:
        topics = [organisation_topic(delivery.organisation_id)]
        if delivery.user_id:
            topics.append(user_topic(delivery.user_id))
        queue_live_message(
            topics,
            "delivery.sent",
            {"delivery": delivery.pk, "event": event.pk, "entry": entry.pk},
            mode=event.mode,
        )
    dissemination.skipped = skipped  # type: ignore[attr-defined]
    return dissemination


def _locked(delivery: Delivery) -> Delivery:
    return (
        Delivery.objects.select_for_update(of=("self",))
        .select_related("organisation", "event", "entry")
        .get(pk=delivery.pk)
    )


@transaction.atomic
def do_mark_delivery_read(
    user: Any,
    delivery: Delivery,
    *,
    request: HttpRequest | None = None,
    now: datetime | None = None,
) -> Delivery:
    """Mark the delivery read by ``user`` (idempotent: the first reader and time are kept)."""
    now = now or timezone.now()
    delivery = _locked(delivery)
    if delivery.state != DeliveryState.SENT:
        return delivery
    delivery.state = DeliveryState.READ
    delivery.read_at, delivery.read_by = now, user
    delivery.save(update_fields=["state", "read_at", "read_by"])
    _transition(delivery, DeliveryState.SENT, DeliveryState.READ, user, now)
    queue_live_message(
        [event_topic(delivery.event_id)],
        "delivery.read",
        {"delivery": delivery.pk, "event": delivery.event_id},
        mode=delivery.mode,
    )
    return delivery


@transaction.atomic
def do_acknowledge_delivery(
    user: Any,
    delivery: Delivery,
    *,
    comment: str = "",
    request: HttpRequest | None = None,
    now: datetime | None = None,
) -> Delivery:
    """Record that the recipient took the information into account ("pris en compte")."""
    now = now or timezone.now()
    delivery = _locked(delivery)
    if delivery.state == DeliveryState.ACKNOWLEDGED:
        raise DisseminationError(
            _("Déjà pris en compte par %(who)s le %(when)s.")
            % {
                "who": person_label(delivery.acknowledged_by),
                "when": formats.date_format(
                    timezone.localtime(delivery.acknowledged_at), "DATETIME_FORMAT"
                ),
            },
            "already_acknowledged",
        )
    comment = (comment or "").strip()
    old = delivery.state
    if delivery.read_at is None:
        delivery.read_at, delivery.read_by = now, user
    delivery.state = DeliveryState.ACKNOWLEDGED
    delivery.acknowledged_at, delivery.acknowledged_by = now, user
    delivery.ack_comment = comment
    delivery.save(
        update_fields=[
            "state",
            "read_at",
            "read_by",
            "acknowledged_at",
            "acknowledged_by",
            "ack_comment",
        ]
    )
    _transition(delivery, old, DeliveryState.ACKNOWLEDGED, user, now)
    event = delivery.event
    text = _marker(event) + _("Pris en compte par %(org)s (%(person)s) — %(summary)s") % {
        "org": organisation_label(delivery.organisation),
        "person": person_label(user),
        "summary": entry_summary(delivery.entry),
    }
    if comment:
        text += "\n" + _("Commentaire : %(comment)s") % {"comment": comment}
    append_entry(
        chain_for_event(event),
        kind=EntryKind.INFORMATION,
        channel=Channel.PORTAL,
        author=user,
        organisation=delivery.organisation,
        text=text,
        subject=delivery,
        data={"delivery": delivery.pk, "entry": delivery.entry_id, "acknowledged": True},
        now=now,
    )
    record_audit(
        "dissemination.acknowledged",
        actor=user,
        request=request,
        target=delivery,
        data={"event": event.pk, "organisation": delivery.organisation_id},
    )
    topics = [organisation_topic(delivery.organisation_id)]
    if delivery.user_id:
        topics.append(user_topic(delivery.user_id))
    queue_live_message(
        topics,
        "delivery.acknowledged",
        {"delivery": delivery.pk, "event": event.pk},
        mode=event.mode,
    )
    return delivery


# --- Reminders and escalation (called by the background task, see .reminders) ---------------


def organisation_emails(organisation_id: int) -> list[str]:
    return sorted(
        set(
            ContactPoint.objects.filter(
                organisation_id=organisation_id, kind=ContactKind.EMAIL
            ).values_list("value", flat=True)
        )
    )


def room_leads_for(event: Event) -> list[Any]:
    """Users with an active room-lead membership in an active organisation of the event's
    territory (the COD's chef de salle)."""
    memberships = (
        Membership.objects.filter(
            role=Role.ROOM_LEAD,
            is_active=True,
            user__is_active=True,
            organisation__is_active=True,
            organisation__territory__path=event.territory_path,
        )
        .select_related("user")
        .order_by("user_id")
    )
    return list({m.user_id: m.user for m in memberships}.values())


def _send_mail_after_commit(subject: str, body: str, recipients: Sequence[str]) -> None:
    recipients = [r for r in recipients if r]
    if not recipients:
        return

    def send() -> None:
        try:
            EmailMessage(subject, body, settings.DEFAULT_FROM_EMAIL, to=list(recipients)).send()
        except Exception:  # a mail server outage must not stop the other reminders
            logger.exception("dissemination_mail_failed", extra={"subject": subject[:80]})

    transaction.on_commit(send)


@transaction.atomic
def do_remind_delivery(delivery: Delivery, *, now: datetime | None = None) -> Delivery | None:
    """One reminder for an unacknowledged delivery (None when it was acknowledged meanwhile)."""
    now = now or timezone.now()
    delivery = _locked(delivery)
    if delivery.state == DeliveryState.ACKNOWLEDGED:
        return None
    delivery.reminder_count += 1
    delivery.last_reminded_at = now
    delivery.save(update_fields=["reminder_count", "last_reminded_at"])
    event = delivery.event
    org = organisation_label(delivery.organisation)
    summary = entry_summary(delivery.entry)
    text = _marker(event) + _(
        "Relance n° %(count)s : %(org)s n'a pas encore pris en compte — %(summary)s"
    ) % {"count": delivery.reminder_count, "org": org, "summary": summary}
    append_entry(
        chain_for_event(event),
        kind=EntryKind.OUTGOING,
        channel=Channel.SYSTEM,
        author_label=_("Portail ORSEC (relance automatique)"),
        text=text,
        subject=delivery,
        data={"delivery": delivery.pk, "reminder": delivery.reminder_count},
        now=now,
    )
    record_audit(
        "dissemination.reminded",
        actor_label="relance automatique",
        target=delivery,
        data={"event": event.pk, "count": delivery.reminder_count},
    )
    topics = [organisation_topic(delivery.organisation_id)]
    if delivery.user_id:
        topics.append(user_topic(delivery.user_id))
    queue_live_message(
        topics,
        "delivery.reminder",
        {"delivery": delivery.pk, "event": event.pk, "count": delivery.reminder_count},
        mode=event.mode,
    )
    emails = organisation_emails(delivery.organisation_id)
    if delivery.user_id and delivery.user is not None and delivery.user.email:
        emails.append(delivery.user.email)
    _send_mail_after_commit(
        _marker(event)
        + _("Relance : information à prendre en compte — %(event)s") % {"event": event.title},
        _(
            "%(org)s a reçu le %(sent)s une information de l'événement « %(event)s » "
            "qui n'a pas encore été prise en compte :\n\n%(summary)s\n\n"
            "Connectez-vous au Portail ORSEC, rubrique « À prendre en compte »."
        )
        % {
            "org": org,
            "sent": formats.date_format(timezone.localtime(delivery.sent_at), "DATETIME_FORMAT"),
            "event": event.title,
            "summary": summary,
        },
        emails,
    )
    return delivery


@transaction.atomic
def do_escalate_delivery(delivery: Delivery, *, now: datetime | None = None) -> Delivery | None:
    """Escalate (once) an unacknowledged delivery to the room leads of the event's territory."""
    now = now or timezone.now()
    delivery = _locked(delivery)
    if delivery.state == DeliveryState.ACKNOWLEDGED or delivery.escalated_at is not None:
        return None
    delivery.escalated_at = now
    delivery.save(update_fields=["escalated_at"])
    event = delivery.event
    org = organisation_label(delivery.organisation)
    summary = entry_summary(delivery.entry)
    leads = room_leads_for(event)
    text = _marker(event) + _(
        "Escalade au chef de salle : %(org)s n'a pas pris en compte depuis le %(sent)s — "
        "%(summary)s"
    ) % {
        "org": org,
        "sent": formats.date_format(timezone.localtime(delivery.sent_at), "DATETIME_FORMAT"),
        "summary": summary,
    }
    append_entry(
        chain_for_event(event),
        kind=EntryKind.STATE_CHANGE,
        channel=Channel.SYSTEM,
        author_label=_("Portail ORSEC (escalade automatique)"),
        text=text,
        subject=delivery,
        is_highlight=True,
        data={"delivery": delivery.pk, "escalated": True, "room_leads": [u.pk for u in leads]},
        now=now,
    )
    record_audit(
        "dissemination.escalated",
        actor_label="escalade automatique",
        target=delivery,
        data={"event": event.pk, "room_leads": [u.pk for u in leads]},
    )
    queue_live_message(
        [user_topic(u.pk) for u in leads] + [event_topic(event.pk)],
        "delivery.escalated",
        {"delivery": delivery.pk, "event": event.pk},
        mode=event.mode,
    )
    _send_mail_after_commit(
        _marker(event)
        + _("Escalade : %(org)s n'a pas pris en compte — %(event)s")
        % {"org": org, "event": event.title},
        _(
            "%(org)s n'a pas pris en compte l'information diffusée le %(sent)s pour "
            "l'événement « %(event)s » :\n\n%(summary)s\n\n"
            "Relances envoyées : %(count)s. Contactez le service ; la trace des diffusions "
            "est sur le Portail ORSEC."
        )
        % {
            "org": org,
            "sent": formats.date_format(timezone.localtime(delivery.sent_at), "DATETIME_FORMAT"),
            "event": event.title,
            "summary": summary,
            "count": delivery.reminder_count,
        },
        [u.email for u in leads if u.email],
    )
    return delivery


# --- Routing rules (admin) ---------------------------------------------------------------------


@transaction.atomic
def do_save_routing_rule(
    actor: Any,
    rule: RoutingRule,
    *,
    changed: Sequence[str] = (),
    request: HttpRequest | None = None,
) -> RoutingRule:
    created = rule.pk is None
    rule.save()
    record_audit(
        "dissemination.rule.created" if created else "dissemination.rule.changed",
        actor=actor,
        request=request,
        target=rule,
        data={"changed": list(changed)[:20]},
    )
    return rule


@transaction.atomic
def do_delete_routing_rule(
    actor: Any, rule: RoutingRule, *, request: HttpRequest | None = None
) -> None:
    """Delete a rule; past disseminations keep its name (``Dissemination.rule_names``)."""
    record_audit(
        "dissemination.rule.deleted",
        actor=actor,
        request=request,
        target=rule,
        data={"name": rule.name},
    )
    rule.delete()
