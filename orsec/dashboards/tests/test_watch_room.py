"""The watch room (/salle-de-veille/), the "seen" marker, the wall mode and the EXERCICE banner
on every page of an exercise event (HTTP, personas)."""

from __future__ import annotations

import pytest

from orsec.dashboards.models import EventSeen
from orsec.events.actions import do_share_event
from orsec.events.models import Visibility
from orsec.journal.actions import log_information
from orsec.journal.chain import chain_for_event
from orsec.journal.models import Confidentiality

pytestmark = pytest.mark.django_db

WATCH = "/salle-de-veille/"


def row_of(html: str, event_id: int) -> str:
    start = html.index(f'id="veille-evenement-{event_id}"')
    return html[start : html.index("</tr>", start)]


def test_operator37_sees_the_flood_in_the_watch_room_with_its_state(personas, flood_event):
    response = personas.client_for("operator37").get(WATCH)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Salle de veille" in html
    row = row_of(html, flood_event.pk)
    assert flood_event.title in row
    assert "Inondation" in row
    assert "Indre-et-Loire" in row
    assert "3/5" in row
    assert "Alerte" in row
    assert 'data-live-url="/live/veille/"' in html
    assert 'id="veille-vus"' in html


def test_operator45_does_not_see_the_events_of_37_in_its_watch_room(personas, flood_event, event45):
    html = personas.client_for("operator45").get(WATCH).content.decode()
    assert f"veille-evenement-{flood_event.pk}" not in html
    assert f"veille-evenement-{event45.pk}" in html


def test_zone_ouest_sees_the_flood_only_once_shared_with_the_zone(personas, flood_event):
    client = personas.client_for("zone_ouest")
    assert f"veille-evenement-{flood_event.pk}" not in client.get(WATCH).content.decode()
    do_share_event(personas.room_lead37.user, flood_event, Visibility.ZONE, reason="Renforts")
    assert f"veille-evenement-{flood_event.pk}" in client.get(WATCH).content.decode()


def test_exercise_events_are_in_their_own_marked_table(personas, flood_event, exercise_event):
    html = personas.client_for("operator37").get(WATCH).content.decode()
    exercise_table = html.split('id="veille-liste-exercise"')[1].split("</tbody>")[0]
    real_table = html.split('id="veille-liste-real"')[1].split("</tbody>")[0]
    assert f"veille-evenement-{exercise_event.pk}" in exercise_table
    assert "EXERCICE" in row_of(html, exercise_event.pk)
    assert f"veille-evenement-{flood_event.pk}" in real_table
    assert f"veille-evenement-{exercise_event.pk}" not in real_table


def test_unread_counts_entries_since_the_user_last_had_the_event_page_open(personas, flood_event):
    client = personas.client_for("operator37")
    chain = chain_for_event(flood_event)
    log_information(personas.operator37.user, chain, "Première information", channel="radio")
    html = client.get(WATCH).content.decode()
    total = int(row_of(html, flood_event.pk).split('data-entries="')[1].split('"')[0])
    assert total >= 1
    assert f"{total} non lue" in row_of(html, flood_event.pk)  # never opened: all unread

    # the event page posts "seen"; the count drops to zero, then counts new entries
    assert client.post(f"/evenements/{flood_event.pk}/vu/").status_code == 204
    assert EventSeen.objects.get(user=personas.operator37.user, event=flood_event).seen_seq > 0
    html = client.get(WATCH).content.decode()
    assert "fr-badge--info" not in row_of(html, flood_event.pk)
    assert "Aucune entrée non lue" in row_of(html, flood_event.pk)
    log_information(personas.operator37.user, chain, "Deuxième information", channel="radio")
    log_information(personas.operator37.user, chain, "Troisième information", channel="radio")
    html = client.get(WATCH).content.decode()
    assert "2 non lues" in row_of(html, flood_event.pk)


def test_restricted_entries_are_not_counted_for_the_observer(personas, flood_event):
    chain = chain_for_event(flood_event)
    for client_name in ("observer37", "room_lead37"):
        personas.client_for(client_name).post(f"/evenements/{flood_event.pk}/vu/")
    log_information(
        personas.room_lead37.user,
        chain,
        "Note restreinte du préfet",
        channel="portal",
        confidentiality=Confidentiality.RESTRICTED,
    )
    lead = personas.client_for("room_lead37").get(WATCH).content.decode()
    observer = personas.client_for("observer37").get(WATCH).content.decode()
    assert "1 non lue" in row_of(lead, flood_event.pk)
    assert "Aucune entrée non lue" in row_of(observer, flood_event.pk)


def test_seen_marker_is_a_post_and_another_territory_gets_404(personas, flood_event):
    assert (
        personas.client_for("operator37").get(f"/evenements/{flood_event.pk}/vu/").status_code
        == 405
    )
    assert (
        personas.client_for("operator45").post(f"/evenements/{flood_event.pk}/vu/").status_code
        == 404
    )
    assert personas.client_for("operator37").post("/evenements/999999/vu/").status_code == 404
    assert not EventSeen.objects.filter(event=flood_event).exists()


def test_wall_mode_has_large_panels_no_navigation_and_a_clock(personas, flood_event):
    response = personas.client_for("operator37").get(f"/evenements/{flood_event.pk}/mur/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "orsec-wall" in html
    assert 'id="navigation"' not in html
    assert 'id="evenement-maj"' in html
    assert f'data-live-url="/live/evenement/{flood_event.pk}/"' in html
    for key in ("key_figures", "to_qualify", "pending_acks", "highlights", "journal_tail"):
        assert f'id="emplacement-{key}"' in html, key
        assert f'id="panneau-{key}"' in html, key
    assert (
        personas.client_for("operator45").get(f"/evenements/{flood_event.pk}/mur/").status_code
        == 404
    )


def test_every_page_of_an_exercise_event_carries_the_exercise_banner(personas, exercise_event):
    client = personas.client_for("room_lead37")
    pk = exercise_event.pk
    pages = [
        f"/evenements/{pk}/",
        f"/evenements/{pk}/mur/",
        f"/evenements/{pk}/main-courante/",
        f"/evenements/{pk}/main-courante/nouvelle/",
        f"/evenements/{pk}/phase/",
        f"/evenements/{pk}/gravite/",
        f"/evenements/{pk}/partage/",
        f"/evenements/{pk}/cloture/",
        f"/evenements/{pk}/localisation/",
        f"/remontees/evenement/{pk}/nouvelle/",
        f"/diffusion/evenement/{pk}/",
        f"/points-de-situation/evenement/{pk}/",
        f"/plans/evenement/{pk}/",
        f"/astreintes/evenement/{pk}/",
    ]
    missing = []
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        if "orsec-mode-banner" not in response.content.decode():
            missing.append(url)
    assert not missing, missing
