"""SITREP life cycle through HTTP with personas: compile, edit, approve, freeze, PDF, send up."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from orsec.dissemination.models import Delivery, DeliveryState
from orsec.events.actions import do_close_event
from orsec.journal.chain import verify_chain
from orsec.live.models import OutboxMessage
from orsec.sitreps.models import Sitrep, SitrepState
from orsec.sitreps.tests.helpers import (
    add_entry,
    approve_via_http,
    compile_via_http,
    confirmed_casualties,
    download,
    pdf_pages_text,
)

pytestmark = pytest.mark.django_db


def _edit(client: Any, sitrep: Sitrep, **overrides: str) -> Any:
    data = {name: text for name, _title, text in sitrep.sections()}
    data["expected_revision"] = str(sitrep.revision)
    data["next_point_at"] = ""
    data.update(overrides)
    return client.post(reverse("sitreps:edit", args=[sitrep.pk]), data)


def test_room_lead_compiles_edits_director_approves_and_zone_acknowledges(
    personas: Any, flood_event: Any
) -> None:
    add_entry(personas.operator37, flood_event, "decision", "Évacuation du quartier Saint-Pierre.")
    add_entry(personas.operator37, flood_event, "request", "Renfort de 2 colonnes de secours.")
    add_entry(
        personas.operator37,
        flood_event,
        "information",
        "Point police confidentiel sur les digues.",
        confidentiality="restricted",
    )
    confirmed_casualties(personas, flood_event, {"absolute": 2, "relative": 5}, "Deux UA quai.")
    lead = personas.client_for("room_lead37")

    sitrep = compile_via_http(personas, flood_event)
    assert sitrep.number == 1
    assert sitrep.state == SitrepState.DRAFT
    assert "Évacuation du quartier Saint-Pierre" in sitrep.actions_decisions
    assert "Renfort de 2 colonnes" in sitrep.pending_requests
    assert "Urgences absolues (UA) : 2" in sitrep.casualties
    assert "confidentiel" not in " ".join(t for _n, _t, t in sitrep.sections())
    page = lead.get(reverse("sitreps:detail", args=[sitrep.pk]))
    assert page.status_code == 200
    assert "Enregistrer le projet" in page.content.decode()

    response = _edit(lead, sitrep, outlook="Pic de crue attendu à 3 h à Tours.")
    assert response.status_code == 302
    sitrep.refresh_from_db()
    assert sitrep.outlook == "Pic de crue attendu à 3 h à Tours."
    assert sitrep.revision == 1

    # the room lead cannot approve; the director's staff can
    assert approve_via_http(personas, sitrep, "room_lead37").status_code == 403
    response = approve_via_http(personas, sitrep)
    assert response.status_code == 302
    sitrep.refresh_from_db()
    assert sitrep.state == SitrepState.FROZEN
    assert sitrep.approved_by == personas.director37.user
    assert list(sitrep.transitions.values_list("old", "new")) == [
        ("", "draft"),
        ("draft", "approved"),
        ("approved", "frozen"),
    ]

    # the main courante carries the number and the hash, which a recomputation matches
    entry = sitrep.freeze_entry
    assert entry is not None
    assert f"n° {sitrep.number}" in entry.text
    assert sitrep.frozen_hash in entry.text
    assert entry.data["sitrep_hash"] == sitrep.compute_hash() == sitrep.frozen_hash
    assert sitrep.pdf is not None
    assert entry.attachment_digests == [sitrep.pdf.sha256]
    assert verify_chain(flood_event.chain)[1] is None

    # the PDF: number, event, section texts, hash
    pages = pdf_pages_text(download(lead, sitrep))
    text = "\n".join(pages)
    assert "Point de situation n° 1" in text
    assert flood_event.title in text
    assert "Pic de crue attendu à 3 h à Tours." in text
    assert "Évacuation du quartier Saint-Pierre" in text
    assert sitrep.frozen_hash[:32] in text.replace("\n", "")
    assert "EXERCICE" not in text

    # sent up to COZ Ouest, which acknowledges it
    delivery = Delivery.objects.get(entry=entry)
    assert delivery.organisation == personas.organisations["coz_ouest"]
    zone = personas.client_for("zone_ouest")
    assert zone.get(reverse("sitreps:detail", args=[sitrep.pk])).status_code == 200
    assert zone.get(reverse("sitreps:pdf", args=[sitrep.pk])).status_code == 200
    response = zone.post(reverse("dissemination:acknowledge", args=[delivery.pk]), {"comment": ""})
    assert response.status_code == 302
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.ACKNOWLEDGED
    assert delivery.acknowledged_by == personas.zone_ouest.user


def test_second_sitrep_compiles_only_what_changed_since_the_first(
    personas: Any, flood_event: Any
) -> None:
    add_entry(personas.operator37, flood_event, "decision", "Fermeture du pont Wilson.")
    confirmed_casualties(personas, flood_event, {"absolute": 1}, "Un UA.")
    first = compile_via_http(personas, flood_event)
    assert approve_via_http(personas, first).status_code == 302
    add_entry(personas.operator37, flood_event, "decision", "Ouverture d'un centre d'hébergement.")
    confirmed_casualties(personas, flood_event, {"absolute": 3}, "Trois UA.")

    second = compile_via_http(personas, flood_event)
    first.refresh_from_db()
    assert second.number == 2
    assert second.period_start == first.period_end
    assert "Ouverture d'un centre d'hébergement" in second.actions_decisions
    assert "Fermeture du pont Wilson" not in second.actions_decisions
    assert "Urgences absolues (UA) : 3 (+2 depuis le point précédent)" in second.casualties
    assert approve_via_http(personas, second).status_code == 302
    second.refresh_from_db()
    assert second.state == SitrepState.FROZEN
    numbers = list(Sitrep.objects.filter(event=flood_event).values_list("number", flat=True))
    assert numbers == [1, 2]


def test_compiling_while_a_draft_is_open_is_refused_with_409(
    personas: Any, flood_event: Any
) -> None:
    first = compile_via_http(personas, flood_event)
    response = personas.client_for("room_lead37").post(
        reverse("sitreps:compile", args=[flood_event.pk])
    )
    assert response.status_code == 409
    assert f"n° {first.number} est encore en projet" in response.content.decode()
    assert Sitrep.objects.filter(event=flood_event).count() == 1


def test_editing_a_frozen_sitrep_is_refused_and_changes_nothing(
    personas: Any, flood_event: Any
) -> None:
    sitrep = compile_via_http(personas, flood_event)
    assert approve_via_http(personas, sitrep).status_code == 302
    sitrep.refresh_from_db()
    before = sitrep.compute_hash()
    lead = personas.client_for("room_lead37")
    response = _edit(lead, sitrep, outlook="Texte réécrit après coup.")
    assert response.status_code == 409
    assert "figé" in response.content.decode()
    sitrep.refresh_from_db()
    assert sitrep.outlook != "Texte réécrit après coup."
    assert sitrep.compute_hash() == before == sitrep.frozen_hash


def test_edit_with_a_stale_revision_gets_409_and_keeps_the_other_text(
    personas: Any, flood_event: Any
) -> None:
    sitrep = compile_via_http(personas, flood_event)
    lead = personas.client_for("room_lead37")
    operator = personas.client_for("operator37")
    assert _edit(lead, sitrep, outlook="Version du chef de salle.").status_code == 302
    response = _edit(operator, sitrep, outlook="Version de l'opérateur.")  # revision 0: stale
    assert response.status_code == 409
    assert "modifié entre-temps" in response.content.decode()
    sitrep.refresh_from_db()
    assert sitrep.outlook == "Version du chef de salle."


def test_edit_with_bad_input_gets_a_form_error_not_a_500(personas: Any, flood_event: Any) -> None:
    sitrep = compile_via_http(personas, flood_event)
    lead = personas.client_for("room_lead37")
    response = _edit(lead, sitrep, next_point_at="pas une date", outlook="x" * 20_001)
    assert response.status_code == 400
    body = response.content.decode()
    assert "Saisissez une date" in body
    assert "20000 caractères au plus" in body
    response = _edit(lead, sitrep, next_point_at="2001-01-01T10:00")
    assert response.status_code == 422
    assert "déjà passée" in response.content.decode()


def test_director_approving_twice_gets_a_clear_409(personas: Any, flood_event: Any) -> None:
    sitrep = compile_via_http(personas, flood_event)
    assert approve_via_http(personas, sitrep).status_code == 302
    client = personas.client_for("director37")
    response = client.post(reverse("sitreps:approve", args=[sitrep.pk]), {"expected_revision": "0"})
    assert response.status_code == 409
    assert "déjà été approuvé par Sophie Leroy" in response.content.decode()
    sitrep.refresh_from_db()
    assert sitrep.transitions.count() == 3
    assert Delivery.objects.filter(entry_id=sitrep.freeze_entry_id).count() == 1


def test_every_state_change_queues_a_live_message_with_ids_only(
    personas: Any, flood_event: Any
) -> None:
    sitrep = compile_via_http(personas, flood_event)
    assert approve_via_http(personas, sitrep).status_code == 302
    messages = OutboxMessage.objects.filter(
        topic=f"event:{flood_event.pk}", kind="sitrep.state"
    ).order_by("id")
    assert [m.payload["state"] for m in messages] == ["draft", "frozen"]
    assert set(messages[0].payload) == {"sitrep", "event", "number", "state"}


def test_room_lead_cannot_compile_nor_edit_once_the_event_is_closed(
    personas: Any, flood_event: Any
) -> None:
    sitrep = compile_via_http(personas, flood_event)
    do_close_event(personas.room_lead37.user, flood_event, "Fin de la crue.")
    lead = personas.client_for("room_lead37")
    assert lead.post(reverse("sitreps:compile", args=[flood_event.pk])).status_code == 403
    sitrep.refresh_from_db()
    assert _edit(lead, sitrep, outlook="Après clôture.").status_code == 403
    assert approve_via_http(personas, sitrep).status_code == 403
