"""Live streams through HTTP: the real ASGI application on a loopback port, real sessions, the
real outbox. Personas of different territories and roles."""

from __future__ import annotations

import json

import httpx
import pytest

from orsec.accounts.actions import do_logout_everywhere
from orsec.events.testing import open_test_event
from orsec.journal.actions import log_information
from orsec.journal.chain import chain_for_event
from orsec.live import hub as hub_module
from orsec.live import protocol
from orsec.live.models import OutboxMessage
from orsec.live.testing import SSEEvent, SSEReader, session_cookie

pytestmark = pytest.mark.django_db(transaction=True)


def stream(http: httpx.Client, path: str, cookie: str, **headers: str) -> httpx.Response:
    request = http.build_request(
        "GET", path, headers={"Accept": "text/event-stream", "Cookie": cookie, **headers}
    )
    return http.send(request, stream=True)


def swaps_text(event: SSEEvent) -> str:
    return " ".join(s["html"] for s in json.loads(event.data)["swaps"])


def test_operator37_sees_a_new_entry_of_the_flood_without_reloading(live_personas, asgi_http):
    event = open_test_event(live_personas.room_lead37.user)
    cookie = session_cookie(live_personas.client_for("operator37"))
    response = stream(asgi_http, f"/live/evenement/{event.pk}/", cookie)
    try:
        assert response.status_code == 200
        assert response.headers["content-type"] == "text/event-stream; charset=utf-8"
        assert response.headers["cache-control"] == "no-store"
        assert "default-src" in response.headers["content-security-policy"]
        reader = SSEReader(response).start()
        log_information(
            live_personas.liaison_sdis37.user,
            chain_for_event(event),
            "Digue de Saint-Pierre surveillée par le SDIS",
            channel="radio",
        )
        found = reader.wait_for(
            lambda e: e.event == "swap" and "Digue de Saint-Pierre" in e.data, timeout=10
        )
        last = OutboxMessage.objects.filter(topic=f"event:{event.pk}").latest("id")
        assert int(found[0].id or 0) == last.id  # the id of the last outbox row it reflects
        assert '"target": "journal-tail-list"' in found[0].data
    finally:
        response.close()


def test_other_territory_anonymous_and_cross_site_are_refused(live_personas, asgi_http):
    event = open_test_event(live_personas.room_lead37.user)
    path = f"/live/evenement/{event.pk}/"
    # operator of Loiret: the same 404 as an event that does not exist
    foreign = stream(asgi_http, path, session_cookie(live_personas.client_for("operator45")))
    absent = stream(
        asgi_http, "/live/evenement/999999/", session_cookie(live_personas.client_for("operator45"))
    )
    assert foreign.status_code == absent.status_code == 404
    assert foreign.read() == absent.read()
    assert foreign.headers["content-type"] == "text/plain; charset=utf-8"
    # no session
    assert stream(asgi_http, path, "").status_code == 401
    # a page of another site opening the stream with the user's cookie
    cookie = session_cookie(live_personas.client_for("operator37"))
    assert stream(asgi_http, path, cookie, Origin="https://evil.example").status_code == 403
    # an unknown channel, a malformed id
    assert stream(asgi_http, "/live/inconnu/", cookie).status_code == 404
    assert stream(asgi_http, "/live/evenement/abc/", cookie).status_code == 404
    assert asgi_http.post(path, headers={"Cookie": cookie}).status_code == 405


def test_reconnect_with_last_event_id_replays_exactly_what_was_missed(live_personas, asgi_http):
    event = open_test_event(live_personas.room_lead37.user)
    chain = chain_for_event(event)
    cookie = session_cookie(live_personas.client_for("room_lead37"))
    first = stream(asgi_http, f"/live/evenement/{event.pk}/", cookie)
    reader = SSEReader(first).start()
    log_information(live_personas.operator37.user, chain, "Message un", channel="radio")
    seen = reader.wait_for(lambda e: e.event == "swap" and "Message un" in e.data)
    cursor = seen[-1].id or ""
    first.close()
    # while disconnected
    log_information(live_personas.operator37.user, chain, "Message deux", channel="radio")
    log_information(live_personas.operator37.user, chain, "Message trois", channel="radio")
    again = stream(asgi_http, f"/live/evenement/{event.pk}/", cookie, **{"Last-Event-ID": cursor})
    replay = SSEReader(again).start()
    expected_last = OutboxMessage.objects.filter(topic=f"event:{event.pk}").latest("id").id
    # the replay (and any live message after it) ends on the last row of the event
    replay.wait_for(lambda e: e.event == "swap" and int(e.id or 0) == expected_last)
    got = replay.named("swap")
    ids = [int(e.id or 0) for e in got]
    assert ids == sorted(set(ids))  # increasing, none twice
    assert ids[0] > int(cursor)  # nothing the page already reflected
    received = " ".join(swaps_text(e) for e in got)
    detail = [
        (e.id, swaps_text(e).count("Message deux"), swaps_text(e).count("Message trois"))
        for e in got
    ]
    assert received.count("Message deux") == 1, detail  # each missed entry once
    assert received.count("Message trois") == 1
    assert "Message un" not in received  # nothing the page already had
    again.close()
    # the query parameter works too; after the last id there is nothing to replay
    third = stream(asgi_http, f"/live/evenement/{event.pk}/?after={expected_last}", cookie)
    quiet = SSEReader(third).start()
    log_information(live_personas.operator37.user, chain, "Message quatre", channel="radio")
    fresh = quiet.wait_for(lambda e: e.event == "swap")
    assert len(fresh) == 1
    assert "Message quatre" in swaps_text(fresh[0])
    assert int(fresh[0].id or 0) > expected_last
    third.close()


def test_a_page_too_far_behind_is_told_to_reload(live_personas, asgi_http):
    event = open_test_event(live_personas.room_lead37.user)
    cookie = session_cookie(live_personas.client_for("operator37"))
    chain = chain_for_event(event)
    log_information(live_personas.operator37.user, chain, "Ancien", channel="radio")
    old = OutboxMessage.objects.latest("id").id
    log_information(live_personas.operator37.user, chain, "Récent", channel="radio")
    OutboxMessage.objects.filter(id__lte=old).delete()  # pruned
    response = stream(asgi_http, f"/live/evenement/{event.pk}/?after={old - 1}", cookie)
    reader = SSEReader(response).start()
    reload = reader.wait_for(lambda e: e.event == "reload")
    assert json.loads(reload[0].data) == {"reason": "too_old"}
    reader.wait_ended()


def test_logging_out_everywhere_ends_the_stream_within_seconds(
    live_personas, asgi_http, monkeypatch
):
    monkeypatch.setattr(hub_module, "SWEEP_SECONDS", 0.3)
    event = open_test_event(live_personas.room_lead37.user)
    user = live_personas.operator37.user
    response = stream(
        asgi_http,
        f"/live/evenement/{event.pk}/",
        session_cookie(live_personas.client_for("operator37")),
    )
    reader = SSEReader(response).start()
    do_logout_everywhere(user)
    denied = reader.wait_for(lambda e: e.event == "denied", timeout=10)
    assert json.loads(denied[0].data)["reason"] == "session"
    reader.wait_ended()


def test_heartbeat_and_retry_hint(live_personas, asgi_http, monkeypatch):
    monkeypatch.setattr("orsec.live.stream.HEARTBEAT_SECONDS", 0.2)
    event = open_test_event(live_personas.room_lead37.user)
    response = stream(
        asgi_http,
        f"/live/evenement/{event.pk}/",
        session_cookie(live_personas.client_for("operator37")),
    )
    reader = SSEReader(response).start()
    reader.wait_for(lambda e: e.event == "ping", timeout=5)
    assert reader.comments >= 2  # the opening comment and at least one heartbeat
    response.close()


def test_parse_cursor_takes_the_larger_and_ignores_garbage():
    assert protocol.parse_cursor("12", {"after": ["7"]}) == 12
    assert protocol.parse_cursor(None, {"after": ["40"]}) == 40
    assert protocol.parse_cursor("abc", {"after": ["-3", "1e9"]}) == 0
    assert protocol.parse_cursor("9" * 30, {}) == 0
