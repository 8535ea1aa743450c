"""Events and main courante API through HTTP with the personas."""

from __future__ import annotations

import pytest

from orsec.events.actions import do_evaluate_escalation, do_share_event
from orsec.events.models import Criterion, EscalationRule, Event, EventTransition
from orsec.journal.actions import log_information
from orsec.journal.chain import chain_for_event
from orsec.journal.models import JournalEntry

pytestmark = pytest.mark.django_db

JSON = {"Accept": "application/json"}


def post(client, url, payload):
    return client.post(url, payload, content_type="application/json", headers=JSON)


# --- Events -------------------------------------------------------------------------------------


def test_list_never_mixes_modes_and_each_item_carries_its_marker(
    personas, flood_event, exercise_event
):
    client = personas.client_for("operator37")
    real = client.get("/api/v1/events", headers=JSON).json()
    assert [item["id"] for item in real["items"]] == [flood_event.pk]
    assert real["items"][0]["mode"] == "real"
    assert real["items"][0]["mode_marker"] == ""
    assert real["next_cursor"] is None
    exercise = client.get("/api/v1/events?mode=exercise", headers=JSON).json()
    assert [item["id"] for item in exercise["items"]] == [exercise_event.pk]
    assert exercise["items"][0]["mode_marker"] == "EXERCICE"


def test_list_cursor_pagination_and_filters(personas, flood_event):
    from orsec.events.testing import open_test_event

    second = open_test_event(personas.room_lead37.user, title="Feu — Chinon", phase="watch")
    client = personas.client_for("operator37")
    first = client.get("/api/v1/events?limit=1", headers=JSON).json()
    assert [i["id"] for i in first["items"]] == [second.pk]
    rest = client.get(f"/api/v1/events?limit=1&cursor={first['next_cursor']}", headers=JSON).json()
    assert [i["id"] for i in rest["items"]] == [flood_event.pk]
    assert rest["next_cursor"] is None
    watch = client.get("/api/v1/events?phase=watch", headers=JSON).json()
    assert [i["id"] for i in watch["items"]] == [second.pk]
    assert client.get("/api/v1/events?open=false", headers=JSON).json()["items"] == []
    bad = client.get("/api/v1/events?cursor=%%%", headers=JSON)
    assert bad.status_code == 400
    assert bad.json()["code"] == "invalid_cursor"


def test_room_lead37_opens_an_event_through_the_api(personas):
    client = personas.client_for("room_lead37")
    response = post(
        client,
        "/api/v1/events",
        {
            "title": "Accident TMD — A10",
            "event_type": "hazmat",
            "gravity": 4,
            "phase": "alert",
            "territory_code": "37",
            "location": {"type": "Point", "coordinates": [0.6890, 47.3941]},
        },
    )
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["mode"] == "real"
    assert data["communes"] == [{"code": "37261", "name": "Tours"}]
    assert data["abilities"]["change_phase"] is True
    assert Event.objects.get(pk=data["id"]).territory.code == "37"


@pytest.mark.parametrize(
    ("payload", "status", "code"),
    [
        ({"title": "x", "event_type": "flood", "gravity": 9}, 422, "validation_error"),
        ({"title": "x", "event_type": "volcan"}, 422, "validation_error"),
        ({"title": "x", "event_type": "flood", "territory_code": "45"}, 422, "invalid_territory"),
        (
            {
                "title": "x",
                "event_type": "flood",
                "location": {"type": "Point", "coordinates": [500, 47]},
            },
            422,
            "invalid_location",
        ),
    ],
)
def test_bad_event_input_is_refused_and_nothing_is_written(personas, payload, status, code):
    response = post(personas.client_for("room_lead37"), "/api/v1/events", payload)
    assert response.status_code == status
    assert response.json()["code"] == code
    assert response.json()["message"]
    assert not Event.objects.exists()


def test_phase_close_and_reopen_through_the_api(personas, flood_event):
    client = personas.client_for("room_lead37")
    base = f"/api/v1/events/{flood_event.pk}"
    response = post(client, f"{base}/phase", {"phase": "crisis", "reason": "Débordement"})
    assert response.status_code == 200
    assert response.json()["phase"] == "crisis"
    backwards = post(client, f"{base}/phase", {"phase": "watch", "reason": "x"})
    assert backwards.status_code == 409
    assert backwards.json()["code"] == "invalid_phase_change"
    assert post(client, f"{base}/gravity", {"gravity": 5}).json()["gravity"] == 5
    no_bilan = post(client, f"{base}/close", {"final_summary": ""})
    assert no_bilan.status_code == 422
    assert no_bilan.json() == {
        "code": "final_summary_required",
        "message": "La clôture exige un bilan final (au moins 10 caractères).",
    }
    closed = post(client, f"{base}/close", {"final_summary": "Décrue achevée, aucun blessé."})
    assert closed.json()["is_open"] is False
    # closed: closing is no longer among the abilities
    assert (
        post(client, f"{base}/close", {"final_summary": "Encore un bilan final."}).status_code
        == 403
    )
    reopened = post(client, f"{base}/reopen", {"reason": "Nouvelle crue"})
    assert reopened.status_code == 200
    assert reopened.json()["is_open"] is True
    fields = list(EventTransition.objects.filter(event=flood_event).values_list("field", flat=True))
    assert fields == ["opened", "phase", "gravity", "closed", "reopened"]


def test_share_through_the_api_lets_the_zone_read_the_event(personas, flood_event):
    zone = personas.client_for("zone_ouest")
    assert zone.get(f"/api/v1/events/{flood_event.pk}", headers=JSON).status_code == 404
    lead = personas.client_for("room_lead37")
    shared = post(
        lead, f"/api/v1/events/{flood_event.pk}/share", {"visibility": "zone", "reason": "Crue"}
    )
    assert shared.status_code == 200
    assert zone.get(f"/api/v1/events/{flood_event.pk}", headers=JSON).status_code == 200


def test_observer37_reads_but_every_api_write_is_403(personas, flood_event):
    client = personas.client_for("observer37")
    assert client.get(f"/api/v1/events/{flood_event.pk}", headers=JSON).status_code == 200
    base = f"/api/v1/events/{flood_event.pk}"
    for url, payload in (
        (f"{base}/phase", {"phase": "crisis", "reason": "x"}),
        (f"{base}/gravity", {"gravity": 2}),
        (f"{base}/share", {"visibility": "zone", "reason": "x"}),
        (f"{base}/close", {"final_summary": "Bilan final suffisant."}),
        (f"{base}/journal", {"text": "x"}),
        ("/api/v1/events", {"title": "x", "event_type": "flood"}),
    ):
        response = post(client, url, payload)
        assert response.status_code == 403, url
        assert response.json()["code"] == "permission_denied"
    assert JournalEntry.objects.filter(event=flood_event).count() == 1


def test_mayor_tours_writes_an_entry_but_cannot_change_phase(personas, flood_event):
    client = personas.client_for("mayor_tours")
    response = post(client, f"/api/v1/events/{flood_event.pk}/journal", {"text": "Quai inondé"})
    assert response.status_code == 201
    assert response.json()["organisation"] == "Mairie de Tours"
    assert response.json()["channel"] == "api"
    phase = post(
        client, f"/api/v1/events/{flood_event.pk}/phase", {"phase": "crisis", "reason": "x"}
    )
    assert phase.status_code == 403


# --- Journal ----------------------------------------------------------------------------------


def test_journal_list_cursor_filters_and_corrections(personas, flood_event):
    chain = chain_for_event(flood_event)
    user = personas.operator37.user
    for n in range(3):
        log_information(user, chain, f"Information {n}", channel="radio")
    client = personas.client_for("operator37")
    url = f"/api/v1/events/{flood_event.pk}/journal"
    first = client.get(f"{url}?limit=2", headers=JSON).json()
    assert [i["seq"] for i in first["items"]] == [4, 3]
    second = client.get(f"{url}?limit=2&cursor={first['next_cursor']}", headers=JSON).json()
    assert [i["seq"] for i in second["items"]] == [2, 1]
    assert second["next_cursor"] is None
    radio = client.get(f"{url}?channel=radio&q=Information%201", headers=JSON).json()
    assert [i["text"] for i in radio["items"]] == ["Information 1"]
    item = first["items"][0]
    assert len(item["hash"]) == 64
    assert item["prev_hash"] == first["items"][1]["hash"]


@pytest.mark.parametrize(
    ("payload", "code", "fragment"),
    [
        ({"text": "   "}, "text_required", "obligatoire"),
        ({"text": "x", "occurred_at": "2999-01-01T00:00:00+00:00"}, "occurred_at_future", "futur"),
        (
            {"text": "x", "occurred_at": "2001-01-01T00:00:00+00:00"},
            "occurred_at_before_event",
            "24 heures",
        ),
        ({"text": "x", "occurred_at": "2026-01-01T00:00:00"}, "occurred_at_naive", "fuseau"),
        ({"text": "x", "kind": "state_change"}, "validation_error", ""),
        ({"text": "x" * 10_001}, "validation_error", ""),
    ],
)
def test_bad_journal_input_is_refused_with_its_code(personas, flood_event, payload, code, fragment):
    client = personas.client_for("operator37")
    response = post(client, f"/api/v1/events/{flood_event.pk}/journal", payload)
    assert response.status_code == 422
    assert response.json()["code"] == code
    assert fragment in response.json()["message"]
    assert JournalEntry.objects.filter(event=flood_event).count() == 1


def test_restricted_writing_through_the_api_needs_the_ability(personas, flood_event):
    payload = {"text": "Nom de la victime", "confidentiality": "restricted"}
    url = f"/api/v1/events/{flood_event.pk}/journal"
    assert post(personas.client_for("operator37"), url, payload).status_code == 403
    assert post(personas.client_for("room_lead37"), url, payload).status_code == 201
    mayor = personas.client_for("mayor_tours").get(url, headers=JSON).json()
    assert all(i["confidentiality"] != "restricted" for i in mayor["items"])
    lead = personas.client_for("room_lead37").get(url, headers=JSON).json()
    assert any(i["confidentiality"] == "restricted" for i in lead["items"])


def test_verify_and_export_through_the_api(personas, exercise_event):
    client = personas.client_for("operator37")
    base = f"/api/v1/events/{exercise_event.pk}/journal"
    assert client.get(f"{base}/verify", headers=JSON).json() == {
        "ok": True,
        "checked": 1,
        "problem": None,
    }
    export = client.get(f"{base}/export", headers=JSON).json()
    assert export["marker"] == "EXERCICE"
    assert export["head"]["last_seq"] == 1
    assert export["entries"][0]["hash"] == export["head"]["last_hash"]
    JournalEntry.objects.filter(event=exercise_event).update(text="x")
    broken = client.get(f"{base}/verify", headers=JSON).json()
    assert broken["ok"] is False
    assert broken["problem"]["seq"] == 1


def test_escalations_list_and_decision(personas, flood_event):
    EscalationRule.objects.create(
        name="Inondation", criterion=Criterion.EVENT_TYPE_IN, event_types=["flood"], target="zone"
    )
    (proposal,) = do_evaluate_escalation(flood_event)
    lead = personas.client_for("room_lead37")
    listing = lead.get(f"/api/v1/events/{flood_event.pk}/escalations", headers=JSON).json()
    assert [(p["id"], p["state"], p["rule"]) for p in listing] == [
        (proposal.pk, "proposed", "Inondation")
    ]
    url = f"/api/v1/escalations/{proposal.pk}/decision"
    assert post(personas.client_for("observer37"), url, {"accept": True}).status_code == 403
    refused = post(lead, url, {"accept": False, "reason": ""})
    assert refused.status_code == 422
    assert refused.json()["code"] == "reason_required"
    accepted = post(lead, url, {"accept": True})
    assert accepted.status_code == 200
    assert accepted.json()["state"] == "accepted"
    assert post(lead, url, {"accept": True}).json()["code"] == "already_decided"
    flood_event.refresh_from_db()
    assert flood_event.visibility == "zone"


# --- Other territory: 404 on every operation ----------------------------------------------------

API_OPERATIONS = [
    ("get", "/api/v1/events/{e}", None),
    ("post", "/api/v1/events/{e}/phase", {"phase": "crisis", "reason": "x"}),
    ("post", "/api/v1/events/{e}/gravity", {"gravity": 2}),
    ("post", "/api/v1/events/{e}/share", {"visibility": "zone", "reason": "x"}),
    ("post", "/api/v1/events/{e}/close", {"final_summary": "Bilan final suffisant."}),
    ("post", "/api/v1/events/{e}/reopen", {"reason": "x"}),
    ("get", "/api/v1/events/{e}/journal", None),
    ("post", "/api/v1/events/{e}/journal", {"text": "x"}),
    ("get", "/api/v1/events/{e}/journal/verify", None),
    ("get", "/api/v1/events/{e}/journal/export", None),
    ("get", "/api/v1/events/{e}/escalations", None),
    ("post", "/api/v1/escalations/{p}/decision", {"accept": True}),
]


@pytest.mark.parametrize(("method", "template", "payload"), API_OPERATIONS)
def test_operator45_gets_the_same_404_on_every_api_operation_of_a_37_event(
    personas, flood_event, method, template, payload
):
    rule = EscalationRule.objects.create(
        name="Gravité", criterion=Criterion.GRAVITY_AT_LEAST, threshold=1, target="zone"
    )
    (proposal,) = do_evaluate_escalation(flood_event)
    assert proposal.rule == rule
    client = personas.client_for("operator45")
    url = template.format(e=flood_event.pk, p=proposal.pk)
    absent_url = template.format(e=999_999_999, p=999_999_999)
    count = JournalEntry.objects.count()
    if method == "get":
        forbidden, absent = client.get(url, headers=JSON), client.get(absent_url, headers=JSON)
    else:
        forbidden, absent = post(client, url, payload), post(client, absent_url, payload)
    assert forbidden.status_code == absent.status_code == 404
    assert forbidden.content == absent.content
    assert JournalEntry.objects.count() == count


def test_operator45_does_not_list_the_37_event(personas, flood_event, event45):
    items = personas.client_for("operator45").get("/api/v1/events", headers=JSON).json()["items"]
    assert [i["id"] for i in items] == [event45.pk]


def test_zone_sees_a_shared_event_in_the_list(personas, flood_event):
    do_share_event(personas.room_lead37.user, flood_event, "zone")
    items = personas.client_for("zone_ouest").get("/api/v1/events", headers=JSON).json()["items"]
    assert [i["id"] for i in items] == [flood_event.pk]


def test_openapi_describes_the_events_operations():
    from django.test import Client

    schema = Client().get("/api/v1/openapi.json").json()
    paths = schema["paths"]
    for path in (
        "/api/v1/events",
        "/api/v1/events/{event_id}",
        "/api/v1/events/{event_id}/phase",
        "/api/v1/events/{event_id}/journal",
        "/api/v1/events/{event_id}/journal/verify",
        "/api/v1/events/{event_id}/journal/export",
        "/api/v1/escalations/{proposal_id}/decision",
    ):
        assert path in paths, path
    assert "201" in paths["/api/v1/events/{event_id}/journal"]["post"]["responses"]


@pytest.mark.parametrize(
    "when", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-12:00", "0001-01-01T00:00:00Z"]
)
def test_extreme_dates_are_422_not_500(personas, flood_event, when):
    client = personas.client_for("operator37")
    response = post(
        client, f"/api/v1/events/{flood_event.pk}/journal", {"text": "x", "occurred_at": when}
    )
    assert response.status_code == 422
    assert response.json()["code"].startswith("occurred_at_")


@pytest.mark.parametrize(
    ("url", "payload"),
    [
        ("/api/v1/events/{e}/journal", {"text": "nul \u0000 ici"}),
        ("/api/v1/events/{e}/phase", {"phase": "crisis", "reason": "\u0000"}),
        ("/api/v1/events", {"title": "a\u0000b", "event_type": "flood"}),
    ],
)
def test_nul_characters_are_422_not_500(personas, flood_event, url, payload):
    client = personas.client_for("room_lead37")
    response = post(client, url.format(e=flood_event.pk), payload)
    assert response.status_code == 422
    assert (
        personas.client_for("room_lead37")
        .get(f"/api/v1/events/{flood_event.pk}/journal?q=%00", headers=JSON)
        .status_code
        == 422
    )


def test_api_opens_a_child_event_only_under_a_visible_parent(personas, flood_event, event45):
    client = personas.client_for("room_lead37")
    body = {"title": "Glissement — Rochecorbon", "event_type": "other", "territory_code": "37"}
    foreign = client.post(
        "/api/v1/events", {**body, "parent_id": event45.pk}, content_type="application/json"
    )
    assert foreign.status_code == 422
    assert foreign.json()["code"] == "invalid_parent"
    created = client.post(
        "/api/v1/events", {**body, "parent_id": flood_event.pk}, content_type="application/json"
    )
    assert created.status_code == 201, created.content
    assert created.json()["parent_id"] == flood_event.pk
