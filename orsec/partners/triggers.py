"""What makes the portal write to partners: entries disseminated to their organisation.

Dissemination sits below partners in the layers and cannot call them, so partners read its
result: :func:`queue_disseminated_entries` scans new ``Delivery`` rows (a stored cursor on their
id, plus a look-back window for rows committed late) for organisations that have an active
endpoint subscribed to ``journal.entry``, and queues one signed webhook per entry and endpoint
(``source_key`` makes it once only). See ADR 0008.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Max, Q

from orsec.dissemination.models import Delivery
from orsec.partners import actions
from orsec.partners.models import (
    MessageKind,
    OutboundCursor,
    OutboundMessage,
    PartnerEndpoint,
)
from orsec.partners.webhooks import journal_entry_data

logger = logging.getLogger(__name__)

CURSOR_NAME = "delivery"
#: deliveries committed after a later id was read are still found within this window
LOOKBACK = timedelta(minutes=10)
BATCH = 500


def _subscribed_endpoints() -> dict[int, list[PartnerEndpoint]]:
    by_organisation: dict[int, list[PartnerEndpoint]] = defaultdict(list)
    endpoints = (
        PartnerEndpoint.objects.filter(is_active=True)
        .select_related("organisation", "organisation__territory")
        .defer("organisation__territory__boundary")
    )
    for endpoint in endpoints:
        if MessageKind.JOURNAL_ENTRY in endpoint.subscriptions:
            by_organisation[endpoint.organisation_id].append(endpoint)
    return by_organisation


def queue_disseminated_entries(now: datetime) -> list[int]:
    """Queue webhooks for new deliveries; return the ids of the messages queued."""
    queued: list[int] = []
    with transaction.atomic():
        cursor, _created = OutboundCursor.objects.select_for_update().get_or_create(
            name=CURSOR_NAME
        )
        top = Delivery.objects.aggregate(top=Max("pk"))["top"] or 0
        endpoints = _subscribed_endpoints()
        if not endpoints:
            cursor.last_id = max(cursor.last_id, top)
            cursor.save(update_fields=["last_id"])
            return queued
        deliveries = list(
            Delivery.objects.filter(organisation_id__in=sorted(endpoints))
            .filter(Q(pk__gt=cursor.last_id) | Q(sent_at__gte=now - LOOKBACK))
            .filter(pk__lte=top)
            .select_related("event", "entry")
            .order_by("pk")[:BATCH]
        )
        for delivery in deliveries:
            for endpoint in endpoints[delivery.organisation_id]:
                message_id = _queue_one(endpoint, delivery, now)
                if message_id is not None:
                    queued.append(message_id)
        full = len(deliveries) == BATCH
        cursor.last_id = max(cursor.last_id, deliveries[-1].pk if full else top)
        cursor.save(update_fields=["last_id"])
    return queued


def _queue_one(endpoint: PartnerEndpoint, delivery: Delivery, now: datetime) -> int | None:
    # A new endpoint gets no history, and a delivery refused before a change of the endpoint
    # (mode, subscriptions) is not sent after it because it is still in the look-back window.
    if endpoint.updated_at > delivery.sent_at:
        return None
    if not endpoint.accepts(MessageKind.JOURNAL_ENTRY, delivery.mode):
        return None
    key = f"{MessageKind.JOURNAL_ENTRY}:{delivery.entry_id}"
    if OutboundMessage.objects.filter(endpoint=endpoint, source_key=key).exists():
        return None
    try:
        message = actions.do_queue_outbound(
            endpoint,
            MessageKind.JOURNAL_ENTRY,
            journal_entry_data(delivery.entry, delivery_pk=delivery.pk),
            event=delivery.event,
            entry=delivery.entry,
            source_key=key,
            now=now,
        )
    except actions.OutboundError as error:
        logger.warning(
            "outbound: delivery %s not sent to endpoint %s: %s",
            delivery.pk,
            endpoint.pk,
            error.code,
        )
        return None
    except IntegrityError:  # queued concurrently by another tick
        return None
    return message.pk
