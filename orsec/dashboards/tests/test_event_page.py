"""The event page (/evenements/<id>/): header, actions from abilities, panels, query count."""

from __future__ import annotations

import pytest

from orsec.dashboards import panels
from orsec.journal.actions import log_information
from orsec.journal.chain import chain_for_event

pytestmark = pytest.mark.django_db


def test_room_lead37_sees_header_actions_and_every_panel(personas, flood_event):
    html = personas.client_for("room_lead37").get(f"/evenements/{flood_event.pk}/").content.decode()
    for text in (
        flood_event.title,
        "Inondation",
        "Alerte",
        "Gravité 3/5",
        "Préfet d&#x27;Indre-et-Loire",
        "Tours",
        "Territoire de l&#x27;événement",
        "Changer de phase",
        "Clore",
        "Partager",
    ):
        assert text in html, text
    for key in ("key_figures", "to_qualify", "pending_acks", "highlights", "journal_tail"):
        assert f'id="panneau-{key}"' in html, key
    assert "Chiffres clés" in html
    assert "À qualifier" in html
    assert "Prises en compte en attente" in html
    assert 'id="panneau-escalations"' not in html  # nothing pending


def test_journal_tail_shows_the_last_20_visible_entries(personas, flood_event):
    chain = chain_for_event(flood_event)
    for n in range(25):
        log_information(
            personas.operator37.user, chain, f"Information numéro {n:02d}.", channel="radio"
        )
    html = personas.client_for("operator37").get(f"/evenements/{flood_event.pk}/").content.decode()
    tail = html.split('id="panneau-journal_tail"')[1]
    assert "Information numéro 24." in tail
    assert "Information numéro 05." in tail
    assert "Information numéro 04." not in tail


def test_a_registered_panel_is_rendered_and_a_provider_returning_none_is_skipped(
    personas, flood_event
):
    saved = list(panels.PANELS)
    try:

        @panels.register_panel(key="key_figures", replace="key_figures")
        def figures(user, event, abilities):
            return {
                "title": "Chiffres DCD 0, UA 2",
                "template": "dashboards/panels/highlights.html",
                "data": {"entries": []},
            }

        panels.register_panel(lambda user, event, abilities: None, key="nothing")
        html = personas.client_for("operator37").get(f"/evenements/{flood_event.pk}/").content
        assert "DCD 0, UA 2" in html.decode()
        assert b'id="panneau-nothing"' not in html
        assert [p.key for p in panels.PANELS].count("key_figures") == 1
    finally:
        panels.PANELS[:] = saved


def test_event_page_query_count_is_pinned(personas, flood_event, django_assert_max_num_queries):
    chain = chain_for_event(flood_event)
    for n in range(30):
        log_information(personas.operator37.user, chain, f"Information {n}", channel="radio")
    client = personas.client_for("room_lead37")
    client.get(f"/evenements/{flood_event.pk}/")  # warm caches (content types, …)
    # session + user + OTP device + scope = 4; event 1; communes 1; escalations 1;
    # highlights 3 and journal tail 3 (entries, attachments, corrections); key figures 1;
    # to qualify 2 (count, first items); pending acknowledgements 2 (count, first items)
    # — independent of the journal's size
    # parent and child events 1; the live cursor 1 (last outbox id, no hub in tests);
    # activated plans' progress 1 (none active here); map 3 (counts per state, located
    # reports, reference data digest for the outline URL)
    with django_assert_max_num_queries(4 + 9 + 5 + 1 + 1 + 1 + 3):
        assert client.get(f"/evenements/{flood_event.pk}/").status_code == 200


def test_operator45_gets_404_and_observer_sees_no_action(personas, flood_event):
    assert (
        personas.client_for("operator45").get(f"/evenements/{flood_event.pk}/").status_code == 404
    )
    html = personas.client_for("observer37").get(f"/evenements/{flood_event.pk}/").content.decode()
    assert "Changer de phase" not in html
    assert "Clore" not in html
