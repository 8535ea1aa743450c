"""Shared helpers for the SITREP tests: facts in the main courante, and the life cycle."""

from __future__ import annotations

import io
from typing import Any

from django.urls import reverse
from pypdf import PdfReader

from orsec.journal.actions import do_add_entry
from orsec.journal.chain import chain_for_event
from orsec.reports.actions import do_confirm_report, do_submit_report
from orsec.sitreps.models import Sitrep


def add_entry(persona: Any, event: Any, kind: str, text: str, **kwargs: Any) -> Any:
    return do_add_entry(
        persona.user, chain_for_event(event), kind=kind, text=text, channel="phone", **kwargs
    )


def confirmed_casualties(personas: Any, event: Any, figures: dict[str, int], text: str) -> Any:
    report = do_submit_report(
        personas.mayor_tours.user,
        event=event,
        template="casualties",
        figures=figures,
        text=text,
        channel="field",
    )
    return do_confirm_report(
        personas.operator37.user,
        report,
        reliability="B",
        credibility=2,
        priority="urgent",
        disseminate=False,
    )


def compile_via_http(personas: Any, event: Any, who: str = "room_lead37") -> Sitrep:
    client = personas.client_for(who)
    response = client.post(reverse("sitreps:compile", args=[event.pk]))
    assert response.status_code == 302, response.content.decode()[:2000]
    return Sitrep.objects.filter(event=event).order_by("-number")[0]


def approve_via_http(personas: Any, sitrep: Sitrep, who: str = "director37") -> Any:
    sitrep.refresh_from_db()
    client = personas.client_for(who)
    return client.post(
        reverse("sitreps:approve", args=[sitrep.pk]), {"expected_revision": sitrep.revision}
    )


def pdf_pages_text(content: bytes) -> list[str]:
    return [page.extract_text() or "" for page in PdfReader(io.BytesIO(content)).pages]


def download(client: Any, sitrep: Sitrep) -> bytes:
    response = client.get(reverse("sitreps:pdf", args=[sitrep.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    return b"".join(response.streaming_content)
