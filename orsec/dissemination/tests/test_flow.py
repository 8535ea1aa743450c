"""Dissemination through HTTP with the personas: routed by rule, read, acknowledged, traced."""

from __future__ import annotations

from typing import Any

import pytest

from orsec.dissemination.models import Delivery, DeliveryState, Dissemination
from orsec.dissemination.tests.conftest import CASUALTIES_TEXT, make_entry
from orsec.events.access import events_visible_to
from orsec.journal.models import JournalEntry
from orsec.live.models import OutboxMessage

pytestmark = pytest.mark.django_db

JSON = {"Accept": "application/json"}


def disseminate_page(client: Any, event: Any, entry: Any, **data: Any) -> Any:
    form = {"use_rules": "on", **data}
    return client.post(f"/diffusion/evenement/{event.pk}/diffuser/{entry.pk}/", form)


def journal_texts(event: Any) -> list[str]:
    return list(
        JournalEntry.objects.filter(event=event).order_by("seq").values_list("text", flat=True)
    )


def test_confirmed_casualties_routed_to_sdis37_and_ars_who_read_and_acknowledge(
    personas: Any, flood_event: Any, casualty_rule: Any, casualties_entry: Any
) -> None:
    ars_user = personas.liaison_ars.user
    assert not events_visible_to(ars_user).filter(pk=flood_event.pk).exists()

    # The COD operator disseminates the confirmed bilan: the rule picks SDIS 37 and ARS CVL.
    operator = personas.client_for("operator37")
    form = operator.get(f"/diffusion/evenement/{flood_event.pk}/diffuser/{casualties_entry.pk}/")
    assert form.status_code == 200
    assert "SDIS 37" in form.content.decode()
    assert "ARS CVL" in form.content.decode()
    response = disseminate_page(operator, flood_event, casualties_entry, note="Pour action")
    assert response.status_code == 302
    assert response["Location"] == f"/diffusion/evenement/{flood_event.pk}/"
    sdis, ars = personas.organisations["sdis37"], personas.organisations["ars_cvl"]
    deliveries = Delivery.objects.filter(entry=casualties_entry)
    assert {d.organisation_id for d in deliveries} == {sdis.pk, ars.pk}
    assert all(d.state == DeliveryState.SENT for d in deliveries)
    assert any(
        t.startswith("Diffusé à : SDIS 37, ARS CVL — Bilan humain confirmé")
        for t in journal_texts(flood_event)
    )
    topics = set(OutboxMessage.objects.filter(kind="delivery.sent").values_list("topic", flat=True))
    assert topics == {f"organisation:{sdis.pk}", f"organisation:{ars.pk}"}
    # the ARS now takes part in the event, so its people see it
    assert events_visible_to(ars_user).filter(pk=flood_event.pk).exists()

    # SDIS 37 through the pages: inbox, open (marks read), acknowledge.
    sdis_client = personas.client_for("liaison_sdis37")
    inbox = sdis_client.get("/diffusion/a-prendre-en-compte/")
    assert inbox.status_code == 200
    assert CASUALTIES_TEXT in inbox.content.decode()
    delivery = deliveries.get(organisation=sdis)
    opened = sdis_client.post(f"/diffusion/remise/{delivery.pk}/ouvrir/")
    assert opened.status_code == 302
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.READ
    assert delivery.read_by == personas.liaison_sdis37.user
    detail = sdis_client.get(f"/diffusion/remise/{delivery.pk}/")
    assert detail.status_code == 200
    assert CASUALTIES_TEXT in detail.content.decode()
    assert "Accuser prise en compte" in detail.content.decode()
    acked = sdis_client.post(
        f"/diffusion/remise/{delivery.pk}/prise-en-compte/", {"comment": "Moyens engagés"}
    )
    assert acked.status_code == 302
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.ACKNOWLEDGED
    assert delivery.acknowledged_by == personas.liaison_sdis37.user
    assert delivery.ack_comment == "Moyens engagés"

    # ARS CVL through the API: inbox, read, acknowledge.
    ars_client = personas.client_for("liaison_ars")
    listed = ars_client.get("/api/v1/inbox?state=pending", headers=JSON)
    assert listed.status_code == 200
    items = listed.json()["items"]
    assert [i["organisation"]["short_name"] for i in items] == ["ARS CVL"]
    ars_delivery_id = items[0]["id"]
    assert items[0]["entry"]["text"] == CASUALTIES_TEXT
    assert items[0]["abilities"]["acknowledge"] is True
    read = ars_client.post(f"/api/v1/deliveries/{ars_delivery_id}/read", headers=JSON)
    assert read.status_code == 200
    assert read.json()["state"] == "read"
    ack = ars_client.post(
        f"/api/v1/deliveries/{ars_delivery_id}/acknowledge",
        {"comment": ""},
        content_type="application/json",
        headers=JSON,
    )
    assert ack.status_code == 200, ack.content
    assert ack.json()["state"] == "acknowledged"
    assert ack.json()["acknowledged_by"] == "Inès Garcia"
    assert ars_client.get("/api/v1/inbox?state=pending", headers=JSON).json()["items"] == []

    texts = journal_texts(flood_event)
    assert any(t.startswith("Pris en compte par SDIS 37 (Marc Dubois)") for t in texts)
    assert any(t.startswith("Pris en compte par ARS CVL (Inès Garcia)") for t in texts)

    # The trace, page and API, shows both recipients and who acknowledged.
    trace = operator.get(f"/diffusion/evenement/{flood_event.pk}/")
    assert trace.status_code == 200
    page = trace.content.decode()
    assert "Marc Dubois" in page
    assert "Inès Garcia" in page
    api_trace = operator.get(f"/api/v1/events/{flood_event.pk}/deliveries", headers=JSON)
    assert api_trace.status_code == 200
    assert {i["acknowledged_by"] for i in api_trace.json()["items"]} == {
        "Marc Dubois",
        "Inès Garcia",
    }


def test_disseminating_by_api_returns_the_deliveries_and_refuses_a_second_time(
    personas: Any, flood_event: Any, casualty_rule: Any, casualties_entry: Any
) -> None:
    operator = personas.client_for("operator37")
    url = f"/api/v1/events/{flood_event.pk}/disseminations"
    body = {"entry_id": casualties_entry.pk, "use_rules": True, "note": ""}
    created = operator.post(url, body, content_type="application/json", headers=JSON)
    assert created.status_code == 201, created.content
    assert [d["organisation"]["short_name"] for d in created.json()["deliveries"]] == [
        "SDIS 37",
        "ARS CVL",
    ]
    assert created.json()["rule_names"] == ["Bilan humain — 37"]
    again = operator.post(url, body, content_type="application/json", headers=JSON)
    assert again.status_code == 409
    assert again.json()["code"] == "already_disseminated"
    assert "SDIS 37" in again.json()["message"]
    # adding the SAMU: only the SAMU gets it, the others are skipped and said so
    samu = personas.organisations["samu37"]
    more = operator.post(
        url, {**body, "organisation_ids": [samu.pk]}, content_type="application/json", headers=JSON
    )
    assert more.status_code == 201
    assert [d["organisation"]["id"] for d in more.json()["deliveries"]] == [samu.pk]
    assert len(more.json()["skipped_organisation_ids"]) == 2
    assert Delivery.objects.filter(entry=casualties_entry).count() == 3
    assert "Déjà destinataires, non renvoyé : SDIS 37, ARS CVL." in journal_texts(flood_event)[-1]


def test_raw_entry_cannot_be_disseminated_and_nothing_is_written(
    personas: Any, flood_event: Any, casualty_rule: Any
) -> None:
    raw = make_entry(flood_event, personas, qualification="raw")
    before = JournalEntry.objects.filter(event=flood_event).count()
    operator = personas.client_for("operator37")
    page = disseminate_page(operator, flood_event, raw)
    assert page.status_code == 400
    assert "Seule une information confirmée peut être diffusée" in page.content.decode()
    api = operator.post(
        f"/api/v1/events/{flood_event.pk}/disseminations",
        {"entry_id": raw.pk},
        content_type="application/json",
        headers=JSON,
    )
    assert api.status_code == 422
    assert api.json()["code"] == "entry_not_qualified"
    assert "Brute" in api.json()["message"]
    assert not Dissemination.objects.exists()
    assert not Delivery.objects.exists()
    assert JournalEntry.objects.filter(event=flood_event).count() == before


def test_acknowledging_twice_gives_409_with_who_and_when(
    personas: Any, flood_event: Any, casualty_rule: Any, casualties_entry: Any
) -> None:
    disseminate_page(personas.client_for("operator37"), flood_event, casualties_entry)
    delivery = Delivery.objects.get(organisation=personas.organisations["sdis37"])
    client = personas.client_for("liaison_sdis37")
    url = f"/api/v1/deliveries/{delivery.pk}/acknowledge"
    first = client.post(url, {}, content_type="application/json", headers=JSON)
    assert first.status_code == 200
    second = client.post(url, {}, content_type="application/json", headers=JSON)
    assert second.status_code == 409
    assert second.json()["code"] == "already_acknowledged"
    assert "Déjà pris en compte par Marc Dubois le" in second.json()["message"]
    page = client.post(f"/diffusion/remise/{delivery.pk}/prise-en-compte/", {"comment": ""})
    assert page.status_code == 409
    assert "Déjà pris en compte par Marc Dubois" in page.content.decode()
    acks = [t for t in journal_texts(flood_event) if t.startswith("Pris en compte")]
    assert len(acks) == 1


def test_observer37_sees_a_delivery_to_the_prefecture_but_cannot_acknowledge_or_mark_read(
    personas: Any, flood_event: Any, casualties_entry: Any
) -> None:
    pref = personas.organisations["pref37"]
    created = personas.client_for("operator37").post(
        f"/api/v1/events/{flood_event.pk}/disseminations",
        {"entry_id": casualties_entry.pk, "organisation_ids": [pref.pk], "use_rules": False},
        content_type="application/json",
        headers=JSON,
    )
    assert created.status_code == 201
    delivery = Delivery.objects.get(organisation=pref)
    observer = personas.client_for("observer37")
    assert CASUALTIES_TEXT in observer.get("/diffusion/a-prendre-en-compte/").content.decode()
    observer.post(f"/diffusion/remise/{delivery.pk}/ouvrir/")
    detail = observer.get(f"/diffusion/remise/{delivery.pk}/")
    assert detail.status_code == 200
    assert "Accuser prise en compte" not in detail.content.decode()
    assert observer.post(f"/diffusion/remise/{delivery.pk}/prise-en-compte/").status_code == 403
    api = observer.post(
        f"/api/v1/deliveries/{delivery.pk}/acknowledge", {}, content_type="application/json"
    )
    assert api.status_code == 403
    assert api.json()["code"] == "not_recipient"
    assert observer.post(f"/api/v1/deliveries/{delivery.pk}/read").status_code == 403
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.SENT
    assert delivery.read_at is None
    # The director's staff of the same préfecture acknowledges it.
    director = personas.client_for("director37")
    ok = director.post(
        f"/api/v1/deliveries/{delivery.pk}/acknowledge", {}, content_type="application/json"
    )
    assert ok.status_code == 200


def test_operator45_gets_404_on_deliveries_trace_and_form_of_an_event_of_37(
    personas: Any, flood_event: Any, casualty_rule: Any, casualties_entry: Any
) -> None:
    disseminate_page(personas.client_for("operator37"), flood_event, casualties_entry)
    delivery = Delivery.objects.filter(entry=casualties_entry).first()
    assert delivery is not None
    other = personas.client_for("operator45")
    assert other.get("/diffusion/a-prendre-en-compte/").content.decode().count(CASUALTIES_TEXT) == 0
    assert other.get(f"/diffusion/remise/{delivery.pk}/").status_code == 404
    assert other.post(f"/diffusion/remise/{delivery.pk}/ouvrir/").status_code == 404
    assert other.post(f"/diffusion/remise/{delivery.pk}/prise-en-compte/").status_code == 404
    assert other.get(f"/diffusion/evenement/{flood_event.pk}/").status_code == 404
    form_url = f"/diffusion/evenement/{flood_event.pk}/diffuser/{casualties_entry.pk}/"
    assert other.get(form_url).status_code == 404
    assert other.post(form_url, {"use_rules": "on"}).status_code == 404
    assert other.get("/api/v1/inbox", headers=JSON).json()["items"] == []
    for method, url in (
        ("get", f"/api/v1/deliveries/{delivery.pk}"),
        ("post", f"/api/v1/deliveries/{delivery.pk}/read"),
        ("post", f"/api/v1/deliveries/{delivery.pk}/acknowledge"),
        ("get", f"/api/v1/events/{flood_event.pk}/deliveries"),
        ("post", f"/api/v1/events/{flood_event.pk}/disseminations"),
    ):
        kwargs: dict[str, Any] = {"headers": JSON}
        if method == "post":
            kwargs.update(data={"entry_id": casualties_entry.pk}, content_type="application/json")
        response = getattr(other, method)(url, **kwargs)
        assert response.status_code == 404, url
        assert response.json()["code"] == "not_found"
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.SENT


def test_recipient_liaison_cannot_read_the_trace_nor_disseminate(
    personas: Any, flood_event: Any, casualty_rule: Any, casualties_entry: Any
) -> None:
    disseminate_page(personas.client_for("operator37"), flood_event, casualties_entry)
    ars = personas.client_for("liaison_ars")
    # a participant sees the event, not the whole trace (who else was sent what)
    assert ars.get(f"/diffusion/evenement/{flood_event.pk}/").status_code == 404
    assert ars.get(f"/api/v1/events/{flood_event.pk}/deliveries").status_code == 404
    sdis_delivery = Delivery.objects.get(organisation=personas.organisations["sdis37"])
    assert ars.get(f"/api/v1/deliveries/{sdis_delivery.pk}").status_code == 404
    form_url = f"/diffusion/evenement/{flood_event.pk}/diffuser/{casualties_entry.pk}/"
    assert ars.get(form_url).status_code == 403


def test_exercise_deliveries_carry_the_exercise_marker_in_the_inbox(
    personas: Any, flood_event: Any, exercise_event: Any, casualty_rule: Any
) -> None:
    operator = personas.client_for("operator37")
    real = make_entry(flood_event, personas, text="Bilan réel confirmé : 1 UR.")
    drill = make_entry(exercise_event, personas, text="Bilan d'exercice : 12 UA simulées.")
    assert disseminate_page(operator, flood_event, real).status_code == 302
    assert disseminate_page(operator, exercise_event, drill).status_code == 302
    inbox = personas.client_for("liaison_sdis37").get("/diffusion/a-prendre-en-compte/")
    html = inbox.content.decode()
    drill_card = html[
        html.index(f"remise-{Delivery.objects.get(entry=drill, organisation__kind='sdis').pk}") :
    ]
    drill_card = drill_card[: drill_card.index("</li>")]
    real_card = html[
        html.index(f"remise-{Delivery.objects.get(entry=real, organisation__kind='sdis').pk}") :
    ]
    real_card = real_card[: real_card.index("</li>")]
    assert "EXERCICE" in drill_card
    assert "EXERCICE" not in real_card
    api = personas.client_for("liaison_sdis37").get("/api/v1/inbox", headers=JSON).json()
    markers = {i["entry"]["text"]: i["mode_marker"] for i in api["items"]}
    assert markers == {
        "Bilan réel confirmé : 1 UR.": "",
        "Bilan d'exercice : 12 UA simulées.": "EXERCICE",
    }
    assert any(t.startswith("[EXERCICE] Diffusé à") for t in journal_texts(exercise_event))


def test_bad_dissemination_inputs_get_precise_errors_and_write_nothing(
    personas: Any, flood_event: Any, event45: Any, casualties_entry: Any
) -> None:
    operator = personas.client_for("operator37")
    url = f"/api/v1/events/{flood_event.pk}/disseminations"

    def post(body: dict[str, Any]) -> Any:
        return operator.post(url, body, content_type="application/json", headers=JSON)

    # no rule applies and no organisation chosen
    empty = post({"entry_id": casualties_entry.pk, "use_rules": True})
    assert empty.status_code == 422
    assert empty.json()["code"] == "no_recipients"
    # an organisation of Loiret is not in the operator's directory
    cod45 = personas.organisations["cod45"]
    foreign = post({"entry_id": casualties_entry.pk, "organisation_ids": [cod45.pk]})
    assert foreign.status_code == 422
    assert foreign.json()["code"] == "unknown_organisation"
    # an entry of another event
    entry45 = make_entry(event45, personas)
    other = post(
        {"entry_id": entry45.pk, "organisation_ids": [personas.organisations["sdis37"].pk]}
    )
    assert other.status_code == 422
    assert other.json()["code"] == "unknown_entry"
    too_long = post({"entry_id": casualties_entry.pk, "note": "x" * 2001})
    assert too_long.status_code == 422
    negative = post({"entry_id": -1})
    assert negative.status_code == 422
    # the page: nothing chosen and rules off
    page = disseminate_page(operator, flood_event, casualties_entry, use_rules="")
    assert page.status_code == 400
    assert "Choisissez au moins une organisation" in page.content.decode()
    assert not Dissemination.objects.exists()


def test_inbox_api_filters_by_state_and_paginates_with_a_cursor(
    personas: Any, flood_event: Any, casualty_rule: Any
) -> None:
    operator = personas.client_for("operator37")
    for n in range(3):
        entry = make_entry(flood_event, personas, text=f"Bilan n° {n}")
        assert disseminate_page(operator, flood_event, entry).status_code == 302
    client = personas.client_for("liaison_sdis37")
    first = client.get("/api/v1/inbox?limit=2", headers=JSON).json()
    assert len(first["items"]) == 2
    assert first["next_cursor"]
    rest = client.get(f"/api/v1/inbox?limit=2&cursor={first['next_cursor']}", headers=JSON).json()
    assert len(rest["items"]) == 1
    assert rest["next_cursor"] is None
    assert client.get("/api/v1/inbox?state=acknowledged", headers=JSON).json()["items"] == []
    assert client.get("/api/v1/inbox?state=bogus", headers=JSON).status_code == 422
    assert client.get("/api/v1/inbox?cursor=%%%", headers=JSON).status_code == 400


def test_absurd_ids_answer_404_not_500(personas: Any, flood_event: Any) -> None:
    client = personas.client_for("operator37")
    huge = 10**30
    assert client.get(f"/api/v1/deliveries/{huge}", headers=JSON).status_code in (404, 422)
    assert client.get(f"/api/v1/events/{huge}/deliveries", headers=JSON).status_code in (404, 422)
    assert client.get(f"/diffusion/remise/{huge}/").status_code == 404
    assert client.get(f"/diffusion/evenement/{flood_event.pk}/diffuser/{huge}/").status_code == 404
