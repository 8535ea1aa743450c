"""Verification of frozen SITREPs (``manage.py verify_sitreps``), and sending up to the COGIC
when the event is shared nationally."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from orsec.dissemination.models import Delivery
from orsec.events.actions import do_share_event
from orsec.journal.files import storage_path
from orsec.sitreps.models import Sitrep
from orsec.sitreps.tests.helpers import approve_via_http, compile_via_http

pytestmark = pytest.mark.django_db


def _frozen(personas: Any, event: Any) -> Sitrep:
    sitrep = compile_via_http(personas, event)
    assert approve_via_http(personas, sitrep).status_code == 302
    sitrep.refresh_from_db()
    return sitrep


def test_verify_sitreps_passes_then_detects_an_sql_edit_of_frozen_content(
    personas: Any, flood_event: Any
) -> None:
    sitrep = _frozen(personas, flood_event)
    out = StringIO()
    call_command("verify_sitreps", stdout=out)
    assert "intègres : 1" in out.getvalue()
    Sitrep.objects.filter(pk=sitrep.pk).update(outlook="Réécrit en base.")
    with pytest.raises(CommandError, match="contenu modifié après le figement"):
        call_command("verify_sitreps", "--event", str(flood_event.pk))


def test_verify_sitreps_detects_a_replaced_pdf(personas: Any, flood_event: Any) -> None:
    sitrep = _frozen(personas, flood_event)
    assert sitrep.pdf is not None
    path = storage_path(sitrep.pdf.storage_name)
    original = path.read_bytes()
    try:
        path.write_bytes(original + b"%% falsifie")
        with pytest.raises(CommandError, match="fichier PDF modifié"):
            call_command("verify_sitreps")
    finally:
        path.write_bytes(original)


def test_a_nationally_shared_event_sends_its_sitrep_to_the_coz_and_the_cogic(
    personas: Any, flood_event: Any
) -> None:
    do_share_event(personas.room_lead37.user, flood_event, "national", reason="Crue majeure")
    sitrep = _frozen(personas, flood_event)
    recipients = set(
        Delivery.objects.filter(entry_id=sitrep.freeze_entry_id).values_list(
            "organisation_id", flat=True
        )
    )
    assert recipients == {
        personas.organisations["coz_ouest"].pk,
        personas.organisations["cogic"].pk,
    }
    national = personas.client_for("national")
    assert national.get(f"/points-de-situation/{sitrep.pk}/pdf/").status_code == 200
