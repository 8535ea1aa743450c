"""Alert schemes resolved into call lists: snapshot, idempotent start, ticks, conflicts, access."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from orsec.audit.models import AuditRecord
from orsec.events.models import EventType
from orsec.events.testing import open_test_event
from orsec.journal.models import JournalEntry
from orsec.live.models import OutboxMessage
from orsec.oncall.actions import (
    OncallError,
    StepSpec,
    do_add_shift,
    do_remove_shift,
    do_save_alert_scheme,
    do_start_call_list,
    do_tick_call_item,
    start_call_lists_for_event,
)
from orsec.oncall.models import CallList, CallListItem, CallStatus, Shift

pytestmark = pytest.mark.django_db

JSON = {"Accept": "application/json"}


def started(personas: Any, event: Any) -> CallList:
    [call_list] = start_call_lists_for_event(personas.room_lead37.user, event)
    return call_list


def test_scheme_resolves_against_rosters_at_activation_into_a_snapshot(
    personas: Any, oncall: Any, flood_event: Any
) -> None:
    call_list = started(personas, flood_event)
    items = list(call_list.items.order_by("order"))
    assert [i.organisation_label for i in items] == ["Préfecture 37", "SDIS 37", "Mairie de Tours"]
    pref, codis, mairie = items
    assert pref.is_gap
    assert pref.person_name == ""
    assert pref.phone == ""
    assert (codis.person_name, codis.phone) == ("Cdt Eric Vasseur", "06 99 00 37 21")
    assert not codis.is_gap
    assert mairie.phone == "02 99 00 37 61"
    assert not mairie.is_gap
    assert codis.instruction == "Point sur les moyens engagés."
    # a later roster change does not rewrite the call list
    actor = personas.room_lead37.user
    do_remove_shift(actor, Shift.objects.get(person_name="Cdt Eric Vasseur"))
    do_add_shift(
        actor,
        oncall.codis,
        person_name="Cdt Luc Renard",
        phone="06 99 00 37 23",
        start=oncall.now - timedelta(hours=1),
        end=oncall.now + timedelta(hours=14),
    )
    codis.refresh_from_db()
    assert (codis.person_name, codis.phone) == ("Cdt Eric Vasseur", "06 99 00 37 21")
    text = JournalEntry.objects.filter(event=flood_event).latest("seq").text
    assert "Liste d'appel « Inondation — Indre-et-Loire » lancée : 3 appel(s)" in text
    assert "1 étape(s) sans personne d'astreinte" in text
    assert AuditRecord.objects.filter(action="oncall.call_list.started").exists()
    assert OutboxMessage.objects.filter(
        kind="oncall.call_list", topic=f"event:{flood_event.pk}"
    ).exists()


def test_start_call_lists_for_event_is_idempotent(
    personas: Any, oncall: Any, flood_event: Any
) -> None:
    actor = personas.room_lead37.user
    first = start_call_lists_for_event(actor, flood_event)
    assert len(first) == 1
    assert start_call_lists_for_event(actor, flood_event) == []
    assert CallList.objects.filter(event=flood_event).count() == 1
    with pytest.raises(OncallError) as raised:
        do_start_call_list(actor, flood_event, oncall.scheme)
    assert raised.value.code == "already_started"
    assert raised.value.status == 409


def test_only_schemes_of_the_event_type_and_covering_territory_start(
    personas: Any, oncall: Any, event45: Any
) -> None:
    actor = personas.room_lead37.user
    do_save_alert_scheme(
        actor,
        territory=personas.organisations["pref37"].territory,
        name="Feu de forêt — Indre-et-Loire",
        event_types=[EventType.FOREST_FIRE],
        steps=[StepSpec(personas.organisations["sdis37"], roster=oncall.codis)],
    )
    fire = open_test_event(actor, title="Feu — Chinon", event_type=EventType.FOREST_FIRE)
    [call_list] = start_call_lists_for_event(actor, fire)
    assert call_list.scheme_name == "Feu de forêt — Indre-et-Loire"
    # the Loiret flood is outside the Indre-et-Loire scheme's territory
    assert start_call_lists_for_event(personas.operator45.user, event45) == []
    with pytest.raises(OncallError) as raised:
        do_start_call_list(actor, event45, oncall.scheme)
    assert raised.value.code == "scheme_not_applicable"


@pytest.mark.parametrize(
    ("event_types", "steps", "code"),
    [
        ([], True, "event_types_required"),
        (["volcano"], True, "event_type_invalid"),
        (["flood"], False, "steps_required"),
    ],
)
def test_bad_scheme_input_is_refused(
    personas: Any, oncall: Any, event_types: list[str], steps: bool, code: str
) -> None:
    with pytest.raises(OncallError) as raised:
        do_save_alert_scheme(
            personas.room_lead37.user,
            territory=personas.organisations["pref37"].territory,
            name="Autre",
            event_types=event_types,
            steps=[StepSpec(personas.organisations["sdis37"])] if steps else [],
        )
    assert raised.value.code == code


def test_step_roster_of_another_organisation_is_refused(personas: Any, oncall: Any) -> None:
    with pytest.raises(OncallError) as raised:
        do_save_alert_scheme(
            personas.room_lead37.user,
            territory=personas.organisations["pref37"].territory,
            name="Autre",
            event_types=["flood"],
            steps=[StepSpec(personas.organisations["pref37"], roster=oncall.codis)],
        )
    assert raised.value.code == "roster_mismatch"


def test_operator37_ticks_reached_through_page_writes_journal_audit_and_live_message(
    personas: Any, oncall: Any, flood_event: Any
) -> None:
    call_list = started(personas, flood_event)
    item = call_list.items.get(order=2)
    client = personas.client_for("operator37")
    page = client.get(f"/astreintes/evenement/{flood_event.pk}/")
    assert page.status_code == 200
    assert "06 99 00 37 21" in page.content.decode()
    response = client.post(
        f"/astreintes/appel/{item.pk}/pointer/",
        {"status": "reached", "comment": "Point dans 30 min", "revision": "0"},
    )
    assert response.status_code == 302
    item.refresh_from_db()
    assert item.status == CallStatus.REACHED
    assert item.ticked_by == personas.operator37.user
    assert item.revision == 1
    entry = JournalEntry.objects.filter(event=flood_event).latest("seq")
    assert entry.text == (
        "Liste d'appel « Inondation — Indre-et-Loire », étape 2 — SDIS 37 "
        "(Officier CODIS, Cdt Eric Vasseur) : joint.\nCommentaire : Point dans 30 min"
    )
    assert entry.author == personas.operator37.user
    assert AuditRecord.objects.filter(
        action="oncall.call_item.ticked", target_id=str(item.pk)
    ).exists()
    message = OutboxMessage.objects.get(kind="oncall.call")
    assert message.topic == f"event:{flood_event.pk}"
    assert message.payload == {"event": flood_event.pk, "call_list": call_list.pk, "item": item.pk}


def test_tick_on_a_stale_revision_is_a_conflict_and_writes_nothing(
    personas: Any, oncall: Any, flood_event: Any
) -> None:
    item = started(personas, flood_event).items.get(order=2)
    do_tick_call_item(personas.operator37.user, item, "called", "", expected_revision=0)
    entries = JournalEntry.objects.filter(event=flood_event).count()
    with pytest.raises(OncallError) as raised:
        do_tick_call_item(personas.room_lead37.user, item, "absent", "", expected_revision=0)
    assert raised.value.code == "tick_conflict"
    assert "Claire Martin" in str(raised.value)
    item.refresh_from_db()
    assert item.status == CallStatus.CALLED
    assert JournalEntry.objects.filter(event=flood_event).count() == entries
    # through the API: 409 with the stable code
    client = personas.client_for("room_lead37")
    response = client.post(
        f"/api/v1/call-items/{item.pk}/tick",
        {"status": "absent", "expected_revision": 0},
        content_type="application/json",
        headers=JSON,
    )
    assert response.status_code == 409
    assert response.json()["code"] == "tick_conflict"
    # and through the page: 409 with the message
    page = client.post(
        f"/astreintes/appel/{item.pk}/pointer/", {"status": "absent", "revision": "0"}
    )
    assert page.status_code == 409
    assert "pointée entre-temps" in page.content.decode()


def test_bad_tick_status_is_refused(personas: Any, oncall: Any, flood_event: Any) -> None:
    item = started(personas, flood_event).items.get(order=2)
    client = personas.client_for("operator37")
    api = client.post(
        f"/api/v1/call-items/{item.pk}/tick",
        {"status": "to_call"},
        content_type="application/json",
        headers=JSON,
    )
    assert api.status_code == 422
    page = client.post(f"/astreintes/appel/{item.pk}/pointer/", {"status": "bogus"})
    assert page.status_code == 400
    with pytest.raises(OncallError):
        do_tick_call_item(personas.operator37.user, item, "to_call", "")
    assert CallListItem.objects.get(pk=item.pk).revision == 0


def test_api_lists_call_lists_and_ticks(personas: Any, oncall: Any, flood_event: Any) -> None:
    call_list = started(personas, flood_event)
    client = personas.client_for("liaison_sdis37")
    listed = client.get(f"/api/v1/events/{flood_event.pk}/call-lists", headers=JSON)
    assert listed.status_code == 200
    body = listed.json()
    assert body["can_tick"] is True
    [payload] = body["call_lists"]
    assert payload["id"] == call_list.pk
    item = payload["items"][1]
    assert item["phone"] == "06 99 00 37 21"
    ticked = client.post(
        f"/api/v1/call-items/{item['id']}/tick",
        {"status": "called", "comment": "Messagerie", "expected_revision": 0},
        content_type="application/json",
        headers=JSON,
    )
    assert ticked.status_code == 200
    assert ticked.json()["status"] == "called"
    assert ticked.json()["revision"] == 1


def test_observer_sees_call_list_without_phones_and_cannot_tick(
    personas: Any, oncall: Any, flood_event: Any
) -> None:
    item = started(personas, flood_event).items.get(order=2)
    client = personas.client_for("observer37")
    page = client.get(f"/astreintes/evenement/{flood_event.pk}/")
    assert page.status_code == 200
    assert "Cdt Eric Vasseur" in page.content.decode()
    assert "06 99 00 37 21" not in page.content.decode()
    api = client.get(f"/api/v1/events/{flood_event.pk}/call-lists", headers=JSON).json()
    assert api["can_tick"] is False
    assert api["call_lists"][0]["items"][1]["phone"] is None
    assert (
        client.post(f"/astreintes/appel/{item.pk}/pointer/", {"status": "called"}).status_code
        == 403
    )
    denied = client.post(
        f"/api/v1/call-items/{item.pk}/tick",
        {"status": "called"},
        content_type="application/json",
        headers=JSON,
    )
    assert denied.status_code == 403
    item.refresh_from_db()
    assert item.status == CallStatus.TO_CALL


def test_operator45_gets_404_on_call_list_pages_and_api(
    personas: Any, oncall: Any, flood_event: Any
) -> None:
    item = started(personas, flood_event).items.get(order=2)
    client = personas.client_for("operator45")
    assert client.get(f"/astreintes/evenement/{flood_event.pk}/").status_code == 404
    assert client.post(f"/astreintes/evenement/{flood_event.pk}/lancer/").status_code == 404
    assert (
        client.post(f"/astreintes/appel/{item.pk}/pointer/", {"status": "called"}).status_code
        == 404
    )
    api = client.get(f"/api/v1/events/{flood_event.pk}/call-lists", headers=JSON)
    assert api.status_code == 404
    tick = client.post(
        f"/api/v1/call-items/{item.pk}/tick",
        {"status": "called"},
        content_type="application/json",
        headers=JSON,
    )
    assert tick.status_code == 404
    assert tick.json()["code"] == "not_found"
    item.refresh_from_db()
    assert item.status == CallStatus.TO_CALL


def test_room_lead_starts_scheme_from_event_page(
    personas: Any, oncall: Any, flood_event: Any
) -> None:
    client = personas.client_for("room_lead37")
    page = client.get(f"/astreintes/evenement/{flood_event.pk}/").content.decode()
    assert "Lancer le schéma « Inondation — Indre-et-Loire »" in page
    response = client.post(
        f"/astreintes/evenement/{flood_event.pk}/lancer/", {"scheme": oncall.scheme.pk}
    )
    assert response.status_code == 302
    assert CallList.objects.filter(event=flood_event).count() == 1
    again = client.post(
        f"/astreintes/evenement/{flood_event.pk}/lancer/", {"scheme": oncall.scheme.pk}
    )
    assert again.status_code == 302
    assert CallList.objects.filter(event=flood_event).count() == 1
    # a mayor sees the event but may not start schemes
    mayor = personas.client_for("mayor_tours")
    denied = mayor.post(
        f"/astreintes/evenement/{flood_event.pk}/lancer/", {"scheme": oncall.scheme.pk}
    )
    assert denied.status_code in (403, 404)


def test_scheme_pages_for_cod_and_not_for_mayor(personas: Any, oncall: Any) -> None:
    operator = personas.client_for("operator37")
    listing = operator.get("/astreintes/schemas/").content.decode()
    assert "Inondation — Indre-et-Loire" in listing
    detail = operator.get(f"/astreintes/schemas/{oncall.scheme.pk}/")
    assert detail.status_code == 200
    assert "Inondation" in detail.content.decode()
    mayor = personas.client_for("mayor_tours")
    assert mayor.get(f"/astreintes/schemas/{oncall.scheme.pk}/").status_code == 404
