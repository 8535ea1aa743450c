"""The watch room and inbox live channels through HTTP: the real ASGI application on a loopback
port, real sessions and outbox (transactional: the set-up is slow, so checks are grouped)."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from orsec.dissemination.actions import do_disseminate_entry
from orsec.events.actions import do_share_event
from orsec.events.models import Visibility
from orsec.events.testing import open_test_event
from orsec.journal.actions import log_information
from orsec.journal.chain import append_entry, chain_for_event
from orsec.journal.models import Confidentiality, QualificationState
from orsec.live import hub as hub_module
from orsec.live.testing import SSEEvent, SSEReader, ThreadedServer, session_cookie

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


@pytest.fixture
def http(live_personas: object) -> Iterator[httpx.Client]:
    with ThreadedServer() as server:
        with httpx.Client(base_url=server.url, timeout=httpx.Timeout(10.0, read=30.0)) as client:
            yield client
        hub = hub_module._hub
        if hub is not None and hub.loop.is_running():
            # stop the hub's tasks in the server's loop before the loop goes away
            asyncio.run_coroutine_threadsafe(hub.stop(), hub.loop).result(10)
    hub_module._hub = None


def stream(http: httpx.Client, path: str, cookie: str) -> httpx.Response:
    request = http.build_request(
        "GET", path, headers={"Accept": "text/event-stream", "Cookie": cookie}
    )
    return http.send(request, stream=True)


def open_reader(http: httpx.Client, path: str, personas: Any, name: str) -> SSEReader:
    response = stream(http, path, session_cookie(personas.client_for(name)))
    assert response.status_code == 200, (name, path, response.status_code)
    return SSEReader(response).start()


def html_of(event: SSEEvent) -> str:
    return " ".join(s["html"] for s in json.loads(event.data)["swaps"])


def targets_of(event: SSEEvent) -> list[str]:
    return [s["target"] for s in json.loads(event.data)["swaps"]]


def test_watch_room_streams_follow_scope_sharing_and_never_mix_audiences(live_personas, http):
    event = open_test_event(live_personas.room_lead37.user)
    cod = open_reader(http, "/live/veille/", live_personas, "operator37")
    zone = open_reader(http, "/live/veille/", live_personas, "zone_ouest")
    loiret = open_reader(http, "/live/veille/", live_personas, "operator45")
    row = f"veille-evenement-{event.pk}"

    # a plain main courante entry of the 37 reaches the COD's watch room (unread totals)
    log_information(live_personas.operator37.user, chain_for_event(event), "Digue", channel="radio")
    found = cod.wait_for(lambda e: e.event == "swap" and row in e.data)
    assert "veille-liste-real" in targets_of(found[0])
    assert 'data-entries="' in html_of(found[0])
    # the zone does not see an event of the 37 that is not shared: a removal at most
    time.sleep(0.5)
    for message in zone.named("swap"):
        assert event.title not in html_of(message)

    # shared with the zone: it appears live in the zone's watch room
    do_share_event(live_personas.room_lead37.user, event, Visibility.ZONE, reason="Renforts")
    shared = zone.wait_for(lambda e: e.event == "swap" and event.title in e.data)
    assert "veille-liste-real" in targets_of(shared[0])

    # Loiret never hears of it
    time.sleep(0.5)
    assert all(event.title not in m.data for m in loiret.named("swap"))

    # refused streams: the same plain 404 for malformed paths; no session → 401
    cookie = session_cookie(live_personas.client_for("operator45"))
    assert stream(http, "/live/veille/42/", cookie).status_code == 404
    assert stream(http, "/live/veille/", "").status_code == 401
    assert stream(http, "/live/a-prendre-en-compte/autre/1/", cookie).status_code == 404
    assert stream(http, "/live/a-prendre-en-compte/en-attente/x/", cookie).status_code == 404
    # another territory on the event dashboard of the 37: 404
    assert stream(http, f"/live/evenement/{event.pk}/", cookie).status_code == 404

    # audience separation: a restricted entry reaches the room lead's dashboard, never the
    # observer's (each gets the rendering of its own audience)
    lead = open_reader(http, f"/live/evenement/{event.pk}/", live_personas, "room_lead37")
    observer = open_reader(http, f"/live/evenement/{event.pk}/", live_personas, "observer37")
    log_information(
        live_personas.room_lead37.user,
        chain_for_event(event),
        "Note restreinte du préfet",
        channel="portal",
        confidentiality=Confidentiality.RESTRICTED,
    )
    log_information(
        live_personas.operator37.user, chain_for_event(event), "Note publique", channel="radio"
    )
    lead.wait_for(lambda e: e.event == "swap" and "Note restreinte du préfet" in e.data)
    observer.wait_for(lambda e: e.event == "swap" and "Note publique" in e.data)
    assert all("Note restreinte" not in m.data for m in observer.named("swap"))
    for reader in (cod, zone, loiret, lead, observer):
        reader.response.close()


def test_inbox_stream_receives_a_new_delivery_for_the_organisation_only(live_personas, http):
    event = open_test_event(live_personas.room_lead37.user)
    sdis = open_reader(
        http, "/live/a-prendre-en-compte/en-attente/1/", live_personas, "liaison_sdis37"
    )
    loiret = open_reader(
        http, "/live/a-prendre-en-compte/en-attente/1/", live_personas, "operator45"
    )
    entry = append_entry(
        chain_for_event(event),
        kind="information",
        channel="radio",
        text="Évacuation du quai Paul-Bert : renfort SDIS demandé",
        author=live_personas.operator37.user,
        qualification=QualificationState.CONFIRMED,
    )
    do_disseminate_entry(
        live_personas.operator37.user,
        entry,
        event=event,
        organisations=[live_personas.organisations["sdis37"]],
        use_rules=False,
    )
    got = sdis.wait_for(lambda e: e.event == "swap" and "quai Paul-Bert" in e.data)
    assert set(targets_of(got[0])) == {"a-prendre-compte", "a-prendre-liste"}
    assert "1 information reçue attend" in html_of(got[0])
    time.sleep(0.5)
    assert not loiret.named("swap")
    sdis.response.close()
    loiret.response.close()
