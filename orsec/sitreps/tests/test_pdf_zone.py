"""The exercise PDF (EXERCICE on every page), the zone overview and the zonal synthesis."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from orsec.sitreps.models import Sitrep, SitrepState
from orsec.sitreps.pdf import _local_only, css_string
from orsec.sitreps.tests.helpers import (
    add_entry,
    approve_via_http,
    compile_via_http,
    confirmed_casualties,
    download,
    pdf_pages_text,
)
from orsec.territories.models import Territory, path_zone

pytestmark = pytest.mark.django_db


def test_exercise_sitrep_pdf_carries_exercice_on_every_page(
    personas: Any, exercise_event: Any
) -> None:
    for n in range(40):  # enough decisions to need several pages
        add_entry(
            personas.operator37,
            exercise_event,
            "decision",
            f"Décision d'exercice n° {n} : mise en place d'un barrage de déviation sur la RD 751 "
            "et information des communes riveraines par le SIDPC.",
        )
    sitrep = compile_via_http(personas, exercise_event)
    assert approve_via_http(personas, sitrep).status_code == 302
    sitrep.refresh_from_db()
    pages = pdf_pages_text(download(personas.client_for("room_lead37"), sitrep))
    assert len(pages) >= 2
    for number, text in enumerate(pages, start=1):
        assert "EXERCICE" in text, f"page {number} sans EXERCICE"
        assert f"Page {number} / {len(pages)}" in text
        assert "SHA-256" in text
    assert "EXERCICE \N{EN DASH} EXERCICE \N{EN DASH} EXERCICE" in pages[0]
    assert "Décision d'exercice n° 39" in "\n".join(pages)
    entry = sitrep.freeze_entry
    assert entry is not None
    assert entry.text.startswith("[EXERCICE]")


def test_pdf_rendering_never_fetches_from_the_network() -> None:
    for url in ("https://example.org/x.css", "http://169.254.169.254/", "file:///etc/passwd"):
        with pytest.raises(ValueError, match="URL refusée"):
            _local_only(url)


def test_zone_officer_sees_departement_sitreps_and_compiles_a_synthesis(
    personas: Any, flood_event: Any
) -> None:
    confirmed_casualties(personas, flood_event, {"absolute": 4, "dead": 1}, "Bilan SDIS.")
    add_entry(personas.operator37, flood_event, "decision", "Évacuation de l'île Simon.")
    sitrep = compile_via_http(personas, flood_event)
    zone = personas.client_for("zone_ouest")
    # nothing frozen yet: nothing to synthesise (clear error)
    zone_id = Territory.objects.get(path=path_zone(sitrep.emitting_path)).pk
    page = zone.get(reverse("sitreps:zone", args=[zone_id]))
    assert page.status_code == 200
    assert flood_event.title not in page.content.decode()
    response = zone.post(reverse("sitreps:zone_compile", args=[zone_id]))
    assert response.status_code == 422
    assert "rien à synthétiser" in response.content.decode()

    assert approve_via_http(personas, sitrep).status_code == 302
    page = zone.get(reverse("sitreps:zones"), follow=True).content.decode()
    assert flood_event.title in page
    assert "COD 37" in page
    response = zone.post(reverse("sitreps:zone_compile", args=[zone_id]))
    assert response.status_code == 302
    synthesis = Sitrep.objects.get(event__isnull=True)
    assert synthesis.number == 1
    assert synthesis.emitting_level == "zone"
    assert synthesis.emitting_label == "COZ Ouest"
    assert "Évacuation de l'île Simon" in synthesis.actions_decisions
    assert "COD 37" in synthesis.actions_decisions
    assert "Décédés (DCD) : 1" in synthesis.casualties
    # the zone officer approves the synthesis; it is frozen with its hash in the zone's log
    synthesis_page = zone.post(
        reverse("sitreps:approve", args=[synthesis.pk]), {"expected_revision": "0"}
    )
    assert synthesis_page.status_code == 302
    synthesis.refresh_from_db()
    assert synthesis.state == SitrepState.FROZEN
    entry = synthesis.freeze_entry
    assert entry is not None
    assert entry.event_id is None
    assert synthesis.frozen_hash in entry.text
    # the national watch reads the frozen synthesis; the départements do not
    national = personas.client_for("national")
    assert national.get(reverse("sitreps:detail", args=[synthesis.pk])).status_code == 200
    lead = personas.client_for("room_lead37")
    assert lead.get(reverse("sitreps:detail", args=[synthesis.pk])).status_code == 404
    assert lead.get(reverse("sitreps:zone", args=[zone_id])).status_code == 404
    operator45 = personas.client_for("operator45")
    assert operator45.get(reverse("sitreps:zone", args=[zone_id])).status_code == 404
    assert operator45.post(reverse("sitreps:zone_compile", args=[zone_id])).status_code == 404


def test_a_hostile_emitter_name_cannot_escape_the_page_header_css() -> None:
    value = css_string('COD "} @page { @top-left { content: url(https://x) } } \\ <b>\n')
    inner = value[1:-1]
    assert value.startswith('"')
    assert value.endswith('"')
    assert '"' not in inner
    assert "<" not in inner
    assert "\n" not in inner
