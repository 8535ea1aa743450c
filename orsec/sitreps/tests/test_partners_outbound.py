"""A frozen SITREP goes to the partner endpoints of its recipients (COZ…) subscribed to
``sitrep``: the canonical JSON and its hash in a webhook, the canonical bytes themselves (whose
SHA-256 is the frozen hash) to a raw endpoint; other organisations' endpoints get nothing."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest

from orsec.partners.models import EndpointKind, OutboundMessage
from orsec.partners.tests.test_outbound import make_endpoint
from orsec.sitreps.models import SitrepState
from orsec.sitreps.tests.helpers import approve_via_http, compile_via_http

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def outbound_settings(settings: Any) -> Any:
    settings.ORSEC_OUTBOUND_ALLOWED_HOSTS = ["127.0.0.1"]
    settings.ORSEC_OUTBOUND_ALLOW_HTTP_LOOPBACK = True
    return settings


def test_frozen_sitrep_is_queued_for_the_zone_endpoints_subscribed_to_sitrep(
    personas: Any, flood_event: Any
) -> None:
    url = "http://127.0.0.1:9/"
    hook, _s = make_endpoint(personas, url, organisation="coz_ouest", subscriptions=("sitrep",))
    raw, _s = make_endpoint(
        personas, url, organisation="coz_ouest", kind=EndpointKind.RAW, subscriptions=("sitrep",)
    )
    elsewhere, _s = make_endpoint(personas, url, organisation="sdis37", subscriptions=("sitrep",))
    sitrep = compile_via_http(personas, flood_event)
    assert approve_via_http(personas, sitrep).status_code == 302
    sitrep.refresh_from_db()
    assert sitrep.state == SitrepState.FROZEN
    webhook = OutboundMessage.objects.get(endpoint=hook)
    data = json.loads(bytes(webhook.body))["data"]
    assert data["hash"] == sitrep.frozen_hash
    assert data["sitrep"] == json.loads(json.dumps(sitrep.canonical()))
    assert webhook.source_key == f"sitrep:{sitrep.pk}"
    body = bytes(OutboundMessage.objects.get(endpoint=raw).body)
    assert hashlib.sha256(body).hexdigest() == sitrep.frozen_hash
    assert not OutboundMessage.objects.filter(endpoint=elsewhere).exists()
    assert webhook.journal_entry is not None
    assert webhook.journal_entry.chain.event_id == flood_event.pk
