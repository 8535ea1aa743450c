"""Event pages through HTTP with the personas: list, opening, actions, sharing, modes, 404s."""

from __future__ import annotations

import threading

import pytest
from django.db import connection
from django.test import Client

from orsec.accounts.testing import log_in_verified
from orsec.events.actions import do_evaluate_escalation
from orsec.events.models import (
    Criterion,
    EscalationProposal,
    EscalationRule,
    Event,
    EventTransition,
)
from orsec.events.testing import open_test_event
from orsec.journal.models import JournalEntry

pytestmark = pytest.mark.django_db

TOURS = {"latitude": "47.3941", "longitude": "0.6890"}


def _open_form(personas, **overrides):
    data = {
        "title": "Crue de la Loire",
        "event_type": "flood",
        "mode": "real",
        "gravity": "3",
        "phase": "alert",
        "territory": str(personas.organisations["cod37"].territory_id),
        "director": "Préfet d'Indre-et-Loire",
        "description": "",
        **TOURS,
        "geojson": "",
    }
    data.update(overrides)
    return data


# --- Room lead: open, change phase, close -------------------------------------------------------


def test_room_lead37_opens_changes_phase_and_closes_with_a_final_bilan(personas):
    client = personas.client_for("room_lead37")
    assert client.get("/evenements/nouveau/").status_code == 200
    response = client.post("/evenements/nouveau/", _open_form(personas))
    assert response.status_code == 302
    event = Event.objects.get(title="Crue de la Loire")
    assert response["Location"] == f"/evenements/{event.pk}/"
    assert [c.commune.name for c in event.commune_links.select_related("commune")] == ["Tours"]
    page = client.get(f"/evenements/{event.pk}/")
    assert page.status_code == 200
    assert "Changer de phase" in page.content.decode()

    response = client.post(
        f"/evenements/{event.pk}/phase/", {"phase": "crisis", "reason": "Débordement à Tours"}
    )
    assert response.status_code == 302
    event.refresh_from_db()
    assert event.phase == "crisis"
    transition = EventTransition.objects.get(event=event, field="phase")
    assert (transition.old, transition.new, transition.reason) == (
        "alert",
        "crisis",
        "Débordement à Tours",
    )

    refused = client.post(f"/evenements/{event.pk}/cloture/", {"final_summary": ""})
    assert refused.status_code == 422
    assert "La clôture exige un bilan final" in refused.content.decode()
    event.refresh_from_db()
    assert event.is_open

    closed = client.post(
        f"/evenements/{event.pk}/cloture/",
        {"final_summary": "Décrue achevée ; 120 personnes relogées, aucun blessé."},
    )
    assert closed.status_code == 302
    event.refresh_from_db()
    assert not event.is_open
    assert "Décrue achevée" in client.get(f"/evenements/{event.pk}/").content.decode()


def test_phase_change_without_reason_or_backwards_two_steps_is_refused(personas, flood_event):
    client = personas.client_for("room_lead37")
    url = f"/evenements/{flood_event.pk}/phase/"
    no_reason = client.post(url, {"phase": "crisis", "reason": ""})
    assert no_reason.status_code == 400
    assert "Le motif est obligatoire." in no_reason.content.decode()
    backwards = client.post(url, {"phase": "watch", "reason": "Erreur"})
    assert backwards.status_code == 409
    assert "impossible" in backwards.content.decode()
    flood_event.refresh_from_db()
    assert flood_event.phase == "alert"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"longitude": ""}, "Indiquez la latitude et la longitude, ou aucune des deux."),
        ({"latitude": "91"}, "La latitude va de -90 à 90."),
        (
            {"latitude": "", "longitude": "", "geojson": "{not json"},
            "La géométrie GeoJSON n&#x27;est pas un JSON valide.",
        ),
        (
            {
                "latitude": "",
                "longitude": "",
                "geojson": '{"type": "Polygon", "coordinates": [[[0,0],[1,0],[1,1]]]}',
            },
            "au moins 4 positions",
        ),
        ({"title": ""}, "L&#x27;intitulé est obligatoire."),
        ({"territory": "999999999"}, "Ce territoire n&#x27;est pas l&#x27;un des vôtres."),
    ],
)
def test_open_form_bad_input_gets_a_precise_message_and_nothing_is_written(
    personas, overrides, message
):
    client = personas.client_for("room_lead37")
    response = client.post("/evenements/nouveau/", _open_form(personas, **overrides))
    assert response.status_code == 400
    assert message in response.content.decode()
    assert 'aria-invalid="true"' in response.content.decode() or "fr-alert--error" in (
        response.content.decode()
    )
    assert not Event.objects.exists()


def test_operator37_cannot_open_an_event_on_loiret(personas):
    client = personas.client_for("operator37")
    territory_45 = personas.organisations["cod45"].territory_id
    response = client.post("/evenements/nouveau/", _open_form(personas, territory=territory_45))
    assert response.status_code == 400
    assert not Event.objects.exists()


# --- Observer, mayor, zone ----------------------------------------------------------------------


def test_observer37_reads_but_every_write_is_refused(personas, flood_event):
    client = personas.client_for("observer37")
    page = client.get(f"/evenements/{flood_event.pk}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Changer de phase" not in html
    assert "Nouvelle entrée" not in html
    base = f"/evenements/{flood_event.pk}"
    posts = {
        f"{base}/phase/": {"phase": "crisis", "reason": "x"},
        f"{base}/gravite/": {"gravity": "4"},
        f"{base}/partage/": {"visibility": "zone", "reason": "x"},
        f"{base}/cloture/": {"final_summary": "Bilan final suffisant."},
        f"{base}/localisation/": TOURS,
        f"{base}/main-courante/nouvelle/": {"kind": "information", "channel": "phone", "text": "x"},
        "/evenements/nouveau/": _open_form(personas),
    }
    for url, data in posts.items():
        assert client.post(url, data).status_code == 403, url
    assert JournalEntry.objects.filter(event=flood_event).count() == 1
    assert Event.objects.count() == 1


def test_mayor_tours_sees_the_flood_event_adds_an_entry_but_cannot_change_phase(
    personas, flood_event
):
    client = personas.client_for("mayor_tours")
    assert client.get(f"/evenements/{flood_event.pk}/").status_code == 200
    assert flood_event.title in client.get("/evenements/").content.decode()
    response = client.post(
        f"/evenements/{flood_event.pk}/main-courante/nouvelle/",
        {
            "kind": "information",
            "channel": "phone",
            "text": "Quai du Pont Neuf inondé.",
            "confidentiality": "internal",
        },
    )
    assert response.status_code == 302
    entry = JournalEntry.objects.get(event=flood_event, seq=2)
    assert entry.organisation_label == "Mairie de Tours"
    phase = client.post(f"/evenements/{flood_event.pk}/phase/", {"phase": "crisis", "reason": "x"})
    assert phase.status_code == 403
    assert client.get(f"/evenements/{flood_event.pk}/phase/").status_code == 403


def test_zone_ouest_sees_the_event_only_after_sharing(personas, flood_event):
    zone = personas.client_for("zone_ouest")
    assert zone.get(f"/evenements/{flood_event.pk}/").status_code == 404
    assert flood_event.title not in zone.get("/evenements/").content.decode()
    lead = personas.client_for("room_lead37")
    response = lead.post(
        f"/evenements/{flood_event.pk}/partage/", {"visibility": "zone", "reason": "Crue majeure"}
    )
    assert response.status_code == 302
    assert zone.get(f"/evenements/{flood_event.pk}/").status_code == 200
    assert flood_event.title in zone.get("/evenements/").content.decode()


def test_room_lead37_accepts_an_escalation_proposal_from_the_event_page(personas, flood_event):
    EscalationRule.objects.create(
        name="Inondation", criterion=Criterion.EVENT_TYPE_IN, event_types=["flood"], target="zone"
    )
    (proposal,) = do_evaluate_escalation(flood_event)
    client = personas.client_for("room_lead37")
    page = client.get(f"/evenements/{flood_event.pk}/").content.decode()
    assert "Propositions de remontée en attente" in page
    assert "Accepter le partage" in page
    url = f"/evenements/{flood_event.pk}/remontees/{proposal.pk}/decision/"
    refused = client.post(url, {"decision": "refuse", "reason": ""})
    assert refused.status_code == 422
    assert "Un refus doit être motivé." in refused.content.decode()
    assert client.post(url, {"decision": "accept"}).status_code == 302
    proposal.refresh_from_db()
    flood_event.refresh_from_db()
    assert proposal.state == EscalationProposal.State.ACCEPTED
    assert flood_event.visibility == "zone"
    again = client.post(url, {"decision": "accept"})
    assert again.status_code == 409


# --- Other territory: 404 everywhere ------------------------------------------------------------

GET_URLS = [
    "/evenements/{e}/",
    "/evenements/{e}/phase/",
    "/evenements/{e}/gravite/",
    "/evenements/{e}/partage/",
    "/evenements/{e}/cloture/",
    "/evenements/{e}/reouverture/",
    "/evenements/{e}/localisation/",
    "/evenements/{e}/main-courante/",
    "/evenements/{e}/main-courante/nouvelle/",
    "/evenements/{e}/main-courante/{n}/correction/",
    "/evenements/{e}/main-courante/export.csv",
    "/evenements/{e}/main-courante/export.json",
    "/evenements/{e}/main-courante/verification/",
    "/evenements/{e}/pieces-jointes/{a}/",
]
POST_URLS = [
    "/evenements/{e}/phase/",
    "/evenements/{e}/gravite/",
    "/evenements/{e}/partage/",
    "/evenements/{e}/cloture/",
    "/evenements/{e}/localisation/",
    "/evenements/{e}/remontees/{p}/decision/",
    "/evenements/{e}/main-courante/nouvelle/",
    "/evenements/{e}/main-courante/{n}/correction/",
    "/evenements/{e}/main-courante/{n}/epingler/",
    "/evenements/{e}/main-courante/{n}/desepingler/",
]


@pytest.fixture
def event37_with_everything(personas, flood_event, settings, tmp_path):
    """The flood event with an entry carrying a PNG attachment and an escalation proposal."""
    settings.ORSEC_ATTACHMENTS_ROOT = tmp_path
    client = personas.client_for("operator37")
    from django.core.files.uploadedfile import SimpleUploadedFile

    png = SimpleUploadedFile("photo.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 32)
    client.post(
        f"/evenements/{flood_event.pk}/main-courante/nouvelle/",
        {
            "kind": "information",
            "channel": "field",
            "text": "Photo",
            "attachments": [png],
            "confidentiality": "internal",
        },
    )
    entry = JournalEntry.objects.get(event=flood_event, seq=2)
    rule = EscalationRule.objects.create(
        name="Gravité", criterion=Criterion.GRAVITY_AT_LEAST, threshold=1, target="zone"
    )
    proposal = EscalationProposal.objects.create(
        event=flood_event, rule=rule, target="zone", proposed_at=flood_event.opened_at
    )
    return {
        "e": flood_event.pk,
        "n": entry.pk,
        "a": entry.attachments.get().pk,
        "p": proposal.pk,
    }


@pytest.mark.parametrize("template", GET_URLS)
def test_operator45_gets_404_on_every_event_page_of_37(personas, event37_with_everything, template):
    client = personas.client_for("operator45")
    assert client.get(template.format(**event37_with_everything)).status_code == 404


@pytest.mark.parametrize("template", POST_URLS)
def test_operator45_gets_404_on_every_event_write_of_37(
    personas, event37_with_everything, template
):
    client = personas.client_for("operator45")
    count = JournalEntry.objects.count()
    response = client.post(
        template.format(**event37_with_everything),
        {"phase": "crisis", "reason": "x", "text": "x", "kind": "information", "channel": "phone"},
    )
    assert response.status_code == 404
    assert JournalEntry.objects.count() == count


def test_operator37_gets_404_on_the_loiret_event(personas, event45):
    client = personas.client_for("operator37")
    assert client.get(f"/evenements/{event45.pk}/").status_code == 404
    assert client.get(f"/evenements/{event45.pk}/main-courante/").status_code == 404


def test_anonymous_is_sent_to_the_login_page(flood_event):
    response = Client().get(f"/evenements/{flood_event.pk}/")
    assert response.status_code == 302
    assert "connexion" in response["Location"] or "login" in response["Location"]


# --- Modes: never mixed, always marked ----------------------------------------------------------


def test_exercise_pages_show_exercice_and_the_list_never_mixes_modes(
    personas, flood_event, exercise_event
):
    client = personas.client_for("operator37")
    for url in (
        f"/evenements/{exercise_event.pk}/",
        f"/evenements/{exercise_event.pk}/main-courante/",
        f"/evenements/{exercise_event.pk}/main-courante/nouvelle/",
        f"/evenements/{exercise_event.pk}/main-courante/verification/",
    ):
        html = client.get(url).content.decode()
        assert "orsec-mode-banner" in html, url
        assert "EXERCICE" in html, url
    assert "orsec-mode-banner" not in client.get(f"/evenements/{flood_event.pk}/").content.decode()

    real = client.get("/evenements/").content.decode()
    assert flood_event.title in real
    assert exercise_event.title not in real
    assert "Réel (1)" in real
    assert "EXERCICE (1)" in real
    exercise = client.get("/evenements/?mode=exercise").content.decode()
    assert exercise_event.title in exercise
    assert flood_event.title not in exercise
    assert 'fr-badge--warning fr-badge--sm">EXERCICE' in exercise


def test_the_list_filters_by_phase_and_state(personas, flood_event):
    open_test_event(personas.room_lead37.user, title="Feu de forêt — Chinon", phase="watch")
    client = personas.client_for("operator37")
    html = client.get("/evenements/?phase=watch").content.decode()
    assert "Chinon" in html
    assert flood_event.title not in html
    assert "Chinon" not in client.get("/evenements/?state=closed").content.decode()


# --- Concurrency ----------------------------------------------------------------------------


def test_a_stale_second_phase_change_gets_409_and_history_stays_consistent(personas, flood_event):
    """Two directors submit "crise" from the same page state: one wins, the other gets 409."""
    lead, director = personas.client_for("room_lead37"), personas.client_for("director37")
    url = f"/evenements/{flood_event.pk}/phase/"
    assert lead.post(url, {"phase": "crisis", "reason": "Pic de crue"}).status_code == 302
    second = director.post(url, {"phase": "crisis", "reason": "Pic de crue"})
    assert second.status_code == 409
    assert "Passage de la phase" in second.content.decode()
    assert list(
        EventTransition.objects.filter(event=flood_event, field="phase").values_list("old", "new")
    ) == [("alert", "crisis")]


@pytest.mark.django_db(transaction=True)
def test_two_room_leads_changing_phase_at_once_leave_a_consistent_history(live_personas):
    """Real concurrency (threads, select_for_update on the event row): PostgreSQL only — the
    in-memory SQLite test database uses table locks across threads."""
    if connection.vendor == "sqlite":
        pytest.skip("concurrence réelle : PostgreSQL seulement")
    event = open_test_event(live_personas.room_lead37.user)
    clients = [
        log_in_verified(Client(), live_personas.room_lead37.user),
        log_in_verified(Client(), live_personas.director37.user),
    ]
    barrier = threading.Barrier(2)
    statuses: list[int] = []

    def change(client):
        try:
            barrier.wait(timeout=10)
            response = client.post(
                f"/evenements/{event.pk}/phase/", {"phase": "crisis", "reason": "Pic de crue"}
            )
            statuses.append(response.status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=change, args=(c,)) for c in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(statuses) == [302, 409]
    event.refresh_from_db()
    assert event.phase == "crisis"
    phases = list(
        EventTransition.objects.filter(event=event, field="phase").values_list("old", "new")
    )
    assert phases == [("alert", "crisis")]
    assert JournalEntry.objects.filter(event=event, kind="state_change").count() == 2


def test_room_lead_opens_a_child_event_under_a_visible_parent_and_not_a_foreign_one(
    personas, flood_event, event45
):
    client = personas.client_for("room_lead37")
    d37 = flood_event.territory
    base = {
        "title": "Glissement de terrain — Rochecorbon",
        "event_type": "other",
        "mode": "real",
        "gravity": "2",
        "phase": "alert",
        "territory": str(d37.pk),
        "director": "",
        "description": "",
        "latitude": "",
        "longitude": "",
        "geojson": "",
    }
    refused = client.post("/evenements/nouveau/", {**base, "parent": str(event45.pk)})
    assert refused.status_code == 400
    assert "Cet événement parent n&#x27;est pas accessible." in refused.content.decode()
    response = client.post("/evenements/nouveau/", {**base, "parent": str(flood_event.pk)})
    assert response.status_code == 302
    child = flood_event.children.get()
    assert child.title == "Glissement de terrain — Rochecorbon"


def test_event_page_links_parent_and_children_the_user_may_see(personas, flood_event):
    child = open_test_event(
        personas.room_lead37.user, title="Crue — quartier des Fontaines", gravity=2
    )
    child.parent = flood_event
    child.save(update_fields=["parent"])
    page = personas.client_for("operator37").get(f"/evenements/{flood_event.pk}/")
    assert "Crue — quartier des Fontaines" in page.content.decode()
    child_page = personas.client_for("operator37").get(f"/evenements/{child.pk}/")
    assert "Événement parent" in child_page.content.decode()
