"""Outbound delivery to partner endpoints, end to end on loopback: a real HTTP receiver on
127.0.0.1 in a thread, signed webhooks re-verified with the script of docs/outbound.md, retries,
dead letters, the S27 network rules, the admin, the main courante and the database worker."""

from __future__ import annotations

import hashlib
import json
import re
import socket
from datetime import timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.utils import timezone
from django_tasks_db.management.commands import db_worker
from django_tasks_db.models import DBTaskResult

from orsec.audit.models import AuditRecord
from orsec.core.net import OutboundRefused, OutboundTarget, resolve_outbound
from orsec.dissemination.actions import do_disseminate_entry
from orsec.dissemination.models import Delivery
from orsec.journal.chain import append_entry, chain_for_event, verify_chain
from orsec.journal.models import JournalEntry
from orsec.partners import triggers
from orsec.partners.actions import OutboundError, do_queue_outbound, do_save_endpoint
from orsec.partners.models import (
    EndpointKind,
    OutboundMessage,
    OutboundState,
    PartnerEndpoint,
)
from orsec.partners.outbound import backoff_delay
from orsec.partners.tasks import (
    deliver_message,
    outbound_tick,
    pending_ticks,
    requeue_orphans,
    send_outbound_message,
)
from orsec.partners.tests.outbound_server import Reply, partner_receiver

pytestmark = pytest.mark.django_db

BILAN = "Bilan humain confirmé à Tours : 2 UA, 5 UR, 40 évacués."
#: a real Météo-France CAP 1.2 message (licence: orsec/interop/tests/fixtures/NOTICE.md)
CAP = (
    Path(__file__).parents[2] / "interop/tests/fixtures/meteoalarm/france_sample_detail.xml"
).read_bytes()


@pytest.fixture(autouse=True)
def outbound_settings(settings: Any) -> Any:
    settings.ORSEC_OUTBOUND_ALLOWED_HOSTS = ["127.0.0.1"]
    settings.ORSEC_OUTBOUND_ALLOW_HTTP_LOOPBACK = True
    settings.ORSEC_OUTBOUND_TIMEOUT_SECONDS = 1
    settings.ORSEC_OUTBOUND_MAX_ATTEMPTS = 3
    return settings


@pytest.fixture(scope="module")
def verifier() -> ModuleType:
    """The partner engineers' verification snippet, taken verbatim from docs/outbound.md."""
    doc = (Path(django_settings.BASE_DIR) / "docs" / "outbound.md").read_text(encoding="utf-8")
    block = doc.split("<!-- verifier:start -->")[1].split("<!-- verifier:end -->")[0]
    code = re.search(r"```python\n(.*?)```", block, re.S).group(1)  # type: ignore[union-attr]
    module = ModuleType("verify_orsec")
    exec(compile(code, "verify_orsec.py", "exec"), module.__dict__)  # noqa: S102
    return module


@pytest.fixture
def receiver() -> Any:
    with partner_receiver() as server:
        yield server


def verified(user: Any) -> Any:
    """As after the administrator's login with a second factor (OTPMiddleware sets it)."""
    user.is_verified = lambda: True
    return user


def make_endpoint(
    personas: Any,
    url: str,
    *,
    organisation: str = "sdis37",
    kind: str = EndpointKind.WEBHOOK,
    subscriptions: tuple[str, ...] = ("journal.entry", "cap.alert"),
    modes: tuple[str, ...] = ("real",),
) -> tuple[PartnerEndpoint, str]:
    actor = verified(personas.admin.user)
    endpoint, secret = do_save_endpoint(
        actor,
        PartnerEndpoint(
            organisation=personas.organisations[organisation],
            name="Passerelle SDIS",
            url=url,
            kind=kind,
            subscriptions=list(subscriptions),
            modes=list(modes),
        ),
    )
    assert secret is not None
    return endpoint, secret


def confirmed_entry(personas: Any, event: Any) -> JournalEntry:
    return append_entry(
        chain_for_event(event),
        kind="bilan",
        channel="portal",
        text=BILAN,
        author=personas.operator37.user,
        organisation=personas.organisations["cod37"],
        qualification="confirmed",
        data={"template": "casualties"},
    )


def disseminate_to(personas: Any, event: Any, entry: Any, *organisations: str) -> None:
    do_disseminate_entry(
        personas.operator37.user,
        entry,
        event=event,
        organisations=[personas.organisations[key] for key in organisations],
        use_rules=False,
    )


def queue_one(personas: Any, event: Any) -> OutboundMessage:
    """A confirmed entry disseminated to SDIS 37, picked up by the trigger."""
    entry = confirmed_entry(personas, event)
    disseminate_to(personas, event, entry, "sdis37")
    queued = triggers.queue_disseminated_entries(timezone.now())
    assert len(queued) == 1
    return OutboundMessage.objects.get(pk=queued[0])


def later(message: OutboundMessage) -> Any:
    message.refresh_from_db()
    assert message.next_attempt_at is not None
    return message.next_attempt_at + timedelta(seconds=1)


# --- delivery and signature ----------------------------------------------------------------------


def test_disseminated_entry_reaches_the_partner_signed_and_the_documented_snippet_verifies_it(
    personas: Any, flood_event: Any, receiver: Any, verifier: ModuleType
) -> None:
    endpoint, secret = make_endpoint(personas, receiver.url)
    message = queue_one(personas, flood_event)
    summary = deliver_message(message.pk)
    assert summary["state"] == OutboundState.DELIVERED, summary
    [request] = receiver.received
    assert request.path == "/hooks/orsec"
    assert request.headers["content-type"] == "application/json"
    assert request.headers["x-orsec-delivery-id"] == str(message.delivery_id)
    timestamp = request.headers["x-orsec-timestamp"]
    signature = request.headers["x-orsec-signature"]
    assert signature.startswith("sha256=")
    assert verifier.verify_orsec_signature(secret, timestamp, request.body, signature)
    assert not verifier.verify_orsec_signature(secret, timestamp, request.body + b" ", signature)
    assert not verifier.verify_orsec_signature("whsec_other", timestamp, request.body, signature)
    assert not verifier.verify_orsec_signature(
        secret, timestamp, request.body, signature, now=int(timestamp) + 3600
    )
    document = json.loads(request.body)
    assert document["id"] == str(message.delivery_id)
    assert document["kind"] == "journal.entry"
    assert document["event"]["id"] == flood_event.pk
    assert document["event"]["mode"] == "real"
    assert document["data"]["entry"]["text"] == BILAN
    message.refresh_from_db()
    assert message.state == OutboundState.DELIVERED
    assert message.attempts == 1
    assert message.response_status == 200
    assert message.delivered_at is not None
    assert bytes(message.body) == request.body  # the raw form kept is what was sent
    # the main courante says it, with the digest of the raw bytes; the chain still verifies
    logged = message.journal_entry
    assert logged is not None
    assert logged.event_id == flood_event.pk
    assert logged.kind == "outgoing"
    assert logged.channel == "partner"
    assert "Message journal.entry adressé à" in logged.text
    assert logged.data["sha256"] == hashlib.sha256(request.body).hexdigest()
    assert logged.data["delivery_id"] == str(message.delivery_id)
    assert verify_chain(chain_for_event(flood_event))[1] is None
    assert AuditRecord.objects.filter(
        action="partners.outbound.queued", target_id=str(message.pk)
    ).exists()
    # the trigger never queues the same entry twice for the endpoint
    assert triggers.queue_disseminated_entries(timezone.now()) == []
    assert endpoint.messages.count() == 1


def test_raw_cap_message_is_sent_as_is_with_its_content_type_and_the_same_signature(
    personas: Any, flood_event: Any, receiver: Any, verifier: ModuleType
) -> None:
    endpoint, secret = make_endpoint(personas, receiver.url, kind=EndpointKind.RAW)
    message = do_queue_outbound(
        endpoint,
        "cap.alert",
        CAP,
        "application/cap+xml",
        event=flood_event,
        standard="CAP 1.2",
        actor=personas.operator37.user,
    )
    assert deliver_message(message.pk)["state"] == OutboundState.DELIVERED
    [request] = receiver.received
    assert request.body == CAP
    assert request.headers["content-type"] == "application/cap+xml"
    assert verifier.verify_orsec_signature(
        secret, request.headers["x-orsec-timestamp"], CAP, request.headers["x-orsec-signature"]
    )
    assert message.journal_entry is not None
    assert message.journal_entry.data["sha256"] == hashlib.sha256(CAP).hexdigest()
    # a raw endpoint refuses structured data and a webhook refuses raw bytes
    with pytest.raises(OutboundError) as raw_refused:
        do_queue_outbound(endpoint, "cap.alert", {"a": 1}, "", event=flood_event)
    assert raw_refused.value.code == "bad_body"


# --- retries and dead letters --------------------------------------------------------------------


def test_a_500_then_a_200_is_retried_after_backoff_and_delivered_once_with_the_same_id(
    personas: Any, flood_event: Any, receiver: Any
) -> None:
    make_endpoint(personas, receiver.url)
    receiver.script = [Reply(status=500), Reply(status=200)]
    message = queue_one(personas, flood_event)
    start = timezone.now()
    assert deliver_message(message.pk, now=start)["state"] == OutboundState.RETRYING
    message.refresh_from_db()
    assert message.last_error.startswith("Le partenaire a répondu HTTP 500")
    assert message.next_attempt_at is not None
    assert timedelta(seconds=23) <= message.next_attempt_at - start <= timedelta(seconds=37)
    # not due yet: nothing is sent
    assert deliver_message(message.pk, now=start + timedelta(seconds=5))["attempted"] is False
    assert deliver_message(message.pk, now=later(message))["state"] == OutboundState.DELIVERED
    assert len(receiver.received) == 2
    ids = {r.headers["x-orsec-delivery-id"] for r in receiver.received}
    assert ids == {str(message.delivery_id)}
    assert receiver.received[0].body == receiver.received[1].body
    message.refresh_from_db()
    assert message.attempts == 2
    assert message.last_error == ""
    # delivered: another attempt does nothing
    assert deliver_message(message.pk, now=later_than_all())["attempted"] is False
    assert len(receiver.received) == 2


def later_than_all() -> Any:
    return timezone.now() + timedelta(days=1)


def test_a_400_is_a_permanent_refusal_dead_at_once_and_logged_in_the_main_courante(
    personas: Any, flood_event: Any, receiver: Any
) -> None:
    make_endpoint(personas, receiver.url)
    receiver.script = [Reply(status=400, body=b'{"error": "schema"}')]
    message = queue_one(personas, flood_event)
    assert deliver_message(message.pk)["state"] == OutboundState.DEAD
    message.refresh_from_db()
    assert message.attempts == 1
    assert message.response_status == 400
    assert "HTTP 400" in message.last_error
    assert JournalEntry.objects.filter(
        event=flood_event, text__startswith="Échec définitif de l'envoi du message journal.entry"
    ).exists()
    assert AuditRecord.objects.filter(
        action="partners.outbound.dead", target_id=str(message.pk)
    ).exists()
    assert deliver_message(message.pk, now=later_than_all())["attempted"] is False
    assert len(receiver.received) == 1


@pytest.mark.parametrize("status", [408, 429, 503])
def test_408_429_and_5xx_are_retried(
    personas: Any, flood_event: Any, receiver: Any, status: int
) -> None:
    make_endpoint(personas, receiver.url)
    receiver.script = [Reply(status=status)]
    message = queue_one(personas, flood_event)
    assert deliver_message(message.pk)["state"] == OutboundState.RETRYING


def test_a_timeout_is_retried_and_the_maximum_of_attempts_makes_it_dead(
    personas: Any, flood_event: Any, receiver: Any
) -> None:
    make_endpoint(personas, receiver.url)
    receiver.script = [Reply(delay=2.5), Reply(status=502), Reply(status=502)]
    message = queue_one(personas, flood_event)
    first = deliver_message(message.pk)
    assert first["state"] == OutboundState.RETRYING
    assert first["code"] == "timeout"
    message.refresh_from_db()
    assert message.last_error.startswith("Délai dépassé")
    assert deliver_message(message.pk, now=later(message))["state"] == OutboundState.RETRYING
    third = deliver_message(message.pk, now=later(message))  # ORSEC_OUTBOUND_MAX_ATTEMPTS = 3
    assert third["state"] == OutboundState.DEAD
    assert third["attempts"] == 3


def test_a_connection_refused_is_retried(personas: Any, flood_event: Any) -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    make_endpoint(personas, f"http://127.0.0.1:{port}/hook")
    message = queue_one(personas, flood_event)
    summary = deliver_message(message.pk)
    assert summary["state"] == OutboundState.RETRYING
    assert summary["code"] == "connection_error"


def test_backoff_grows_30s_2min_8min_30min_2h_with_jitter() -> None:
    expected = [30, 120, 480, 1800, 7200, 7200]
    for failures, base in enumerate(expected, start=1):
        assert backoff_delay(failures, jitter=False) == timedelta(seconds=base)
        delay = backoff_delay(failures).total_seconds()
        assert base * 0.8 <= delay <= base * 1.2


# --- network rules (S27) -------------------------------------------------------------------------


def test_a_redirect_is_not_followed_and_the_message_is_dead(
    personas: Any, flood_event: Any, receiver: Any
) -> None:
    make_endpoint(personas, receiver.url)
    receiver.script = [
        Reply(status=302, headers={"Location": receiver.url.replace("/hooks/", "/elsewhere/")})
    ]
    message = queue_one(personas, flood_event)
    summary = deliver_message(message.pk)
    assert summary["state"] == OutboundState.DEAD
    assert summary["code"] == "redirect_refused"
    assert [r.path for r in receiver.received] == ["/hooks/orsec"]  # one request, no follow-up


def test_an_endpoint_whose_host_is_not_allow_listed_cannot_be_saved(personas: Any) -> None:
    with pytest.raises(ValidationError) as refused:
        make_endpoint(personas, "https://partenaire.example.org/hook")
    assert "n'est pas dans la liste des partenaires autorisés" in str(refused.value)
    with pytest.raises(ValidationError) as plain_http:
        make_endpoint(personas, "http://partenaire.example.org/hook")
    assert "https://" in str(plain_http.value)
    assert not PartnerEndpoint.objects.exists()


def test_a_stored_endpoint_moved_to_a_forbidden_host_is_refused_at_send_time(
    personas: Any, flood_event: Any, receiver: Any, settings: Any
) -> None:
    endpoint, _secret = make_endpoint(personas, receiver.url)
    message = queue_one(personas, flood_event)
    # changed behind the admin's back (database edit), or the allow-list shrank since
    PartnerEndpoint.objects.filter(pk=endpoint.pk).update(url="https://intranet.example.org/x")
    summary = deliver_message(message.pk)
    assert summary["state"] == OutboundState.DEAD
    assert summary["code"] == "host_not_allowed"
    PartnerEndpoint.objects.filter(pk=endpoint.pk).update(url=receiver.url)
    other = do_queue_outbound(endpoint, "cap.alert", {"x": 1}, event=flood_event)
    settings.ORSEC_OUTBOUND_ALLOWED_HOSTS = ["partenaire.example.org"]
    assert deliver_message(other.pk)["code"] == "host_not_allowed"
    assert receiver.received == []


def test_a_name_resolving_to_a_loopback_or_private_address_is_refused(
    personas: Any, flood_event: Any, settings: Any, monkeypatch: Any
) -> None:
    # "localhost" is allow-listed by name, but resolves to 127.0.0.1 which is not listed itself
    settings.ORSEC_OUTBOUND_ALLOWED_HOSTS = ["localhost", "*.partenaires.example.fr"]
    endpoint, _secret = make_endpoint(personas, "https://localhost:9/hook")
    message = do_queue_outbound(endpoint, "cap.alert", {"x": 1}, event=flood_event)
    summary = deliver_message(message.pk)
    assert summary["state"] == OutboundState.DEAD
    assert summary["code"] == "private_address"
    # a public-looking name that a hostile DNS answer points inside the network
    for address in ("10.1.2.3", "169.254.169.254", "192.168.0.10", "fd00::1"):
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        monkeypatch.setattr(
            socket,
            "getaddrinfo",
            lambda *args, a=address, f=family, **kw: [(f, socket.SOCK_STREAM, 6, "", (a, 443))],
        )
        target = OutboundTarget("https", "sdis.partenaires.example.fr", 443, "/")
        with pytest.raises(OutboundRefused) as refused:
            resolve_outbound(target, allowed_hosts=settings.ORSEC_OUTBOUND_ALLOWED_HOSTS)
        assert refused.value.code == "private_address"
        # …unless the network is listed explicitly
        assert resolve_outbound(target, allowed_hosts=[address]) == address


# --- who receives what ---------------------------------------------------------------------------


def test_a_partner_of_loiret_never_receives_indre_et_loire_traffic(
    personas: Any, flood_event: Any, event45: Any, receiver: Any
) -> None:
    endpoint45, _secret = make_endpoint(personas, receiver.url, organisation="cod45")
    entry = confirmed_entry(personas, flood_event)
    disseminate_to(personas, flood_event, entry, "sdis37")
    assert triggers.queue_disseminated_entries(timezone.now()) == []
    with pytest.raises(OutboundError) as refused:
        do_queue_outbound(endpoint45, "cap.alert", {"x": 1}, event=flood_event)
    assert refused.value.code == "event_out_of_scope"
    assert not OutboundMessage.objects.exists()
    # its own territory's traffic is accepted
    assert do_queue_outbound(endpoint45, "cap.alert", {"x": 1}, event=event45).pk


def test_exercise_traffic_goes_only_to_endpoints_that_accept_it(
    personas: Any, exercise_event: Any, receiver: Any
) -> None:
    real_only, _s = make_endpoint(personas, receiver.url)
    entry = confirmed_entry(personas, exercise_event)
    disseminate_to(personas, exercise_event, entry, "sdis37")
    assert triggers.queue_disseminated_entries(timezone.now()) == []
    real_only.modes = ["real", "exercise"]
    do_save_endpoint(verified(personas.admin.user), real_only)
    other = confirmed_entry(personas, exercise_event)
    disseminate_to(personas, exercise_event, other, "sdis37")
    [queued] = triggers.queue_disseminated_entries(timezone.now())
    message = OutboundMessage.objects.get(pk=queued)
    assert message.mode == "exercise"
    assert json.loads(bytes(message.body))["event"]["mode"] == "exercise"


def test_a_new_endpoint_does_not_receive_earlier_deliveries_nor_an_inactive_one(
    personas: Any, flood_event: Any, receiver: Any
) -> None:
    entry = confirmed_entry(personas, flood_event)
    disseminate_to(personas, flood_event, entry, "sdis37")
    endpoint, _s = make_endpoint(personas, receiver.url)
    assert triggers.queue_disseminated_entries(timezone.now()) == []
    endpoint.is_active = False
    do_save_endpoint(verified(personas.admin.user), endpoint)
    disseminate_to(personas, flood_event, confirmed_entry(personas, flood_event), "sdis37")
    assert triggers.queue_disseminated_entries(timezone.now()) == []
    assert Delivery.objects.filter(organisation=personas.organisations["sdis37"]).count() == 2


# --- the real worker -----------------------------------------------------------------------------


def test_the_database_worker_sends_a_queued_message(
    personas: Any,
    flood_event: Any,
    receiver: Any,
    django_capture_on_commit_callbacks: Any,
    monkeypatch: Any,
) -> None:
    # The worker recycles its database connection between tasks; inside the test's transaction
    # (PostgreSQL) that would close it. Everything else is the real worker.
    monkeypatch.setattr(db_worker, "close_old_connections", lambda: None)
    make_endpoint(personas, receiver.url)
    with django_capture_on_commit_callbacks(execute=True):
        message = queue_one(personas, flood_event)
    row = DBTaskResult.objects.get(task_path=send_outbound_message.module_path)
    assert row.args_kwargs["args"] == [message.pk]
    with django_capture_on_commit_callbacks(execute=True):
        call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", verbosity=0)
    row.refresh_from_db()
    assert row.status == "SUCCESSFUL", row.traceback
    assert row.return_value is not None
    assert row.return_value["state"] == OutboundState.DELIVERED
    message.refresh_from_db()
    assert message.state == OutboundState.DELIVERED
    assert len(receiver.received) == 1


def test_schedule_outbound_queues_one_tick_and_the_tick_queues_and_requeues(
    personas: Any, flood_event: Any, receiver: Any, django_capture_on_commit_callbacks: Any
) -> None:
    call_command("schedule_outbound", verbosity=0)
    call_command("schedule_outbound", verbosity=0)
    assert pending_ticks().count() == 1
    make_endpoint(personas, receiver.url)
    entry = confirmed_entry(personas, flood_event)
    disseminate_to(personas, flood_event, entry, "sdis37")
    result = outbound_tick.call()
    assert result is not None
    [queued] = result["queued"]
    assert pending_ticks().count() == 1  # still one: the tick re-schedules only when none pending
    # a due message whose task was lost is enqueued again by a later tick
    assert requeue_orphans(timezone.now() + timedelta(minutes=5)) == [queued]
