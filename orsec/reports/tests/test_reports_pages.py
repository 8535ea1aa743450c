"""Report pages through HTTP: the phone form, the report page, the queue and bulk actions."""

from __future__ import annotations

import html
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from orsec.journal.models import Attachment, JournalEntry
from orsec.reports.models import FieldReport
from orsec.reports.queries import key_figures, qualification_queue
from orsec.reports.tests.helpers import submit

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 64
PDF = b"%PDF-1.7\n" + b"0" * 64


@pytest.fixture
def attachments_root(settings: Any, tmp_path: Any) -> Any:
    settings.ORSEC_ATTACHMENTS_ROOT = tmp_path
    return tmp_path


def stored_files(root: Any) -> list[Any]:
    return [p for p in root.rglob("*") if p.is_file()]


def form_url(event: Any) -> str:
    return reverse("reports:new", args=[event.pk])


def casualties_post(**extra: Any) -> dict[str, Any]:
    data = {
        "template": "casualties",
        "fig_dead": "0",
        "fig_absolute": "2",
        "fig_relative": "4",
        "text": "Rue Nationale : deux blessés graves évacués par le SDIS.",
        "channel": "field",
        "latitude": "47.3941",
        "longitude": "0.6890",
        "occurred_at": "",
    }
    data.update(extra)
    return data


def test_mayor_tours_files_a_casualties_report_from_the_phone_form(
    personas: Any, flood_event: Any, attachments_root: Any
) -> None:
    client = personas.client_for("mayor_tours")
    choice = client.get(form_url(flood_event))
    assert choice.status_code == 200
    assert "Quel type de remontée" in choice.content.decode()
    page = client.get(form_url(flood_event) + "?modele=casualties")
    body = page.content.decode()
    assert page.status_code == 200
    assert 'name="fig_dead"' in body
    assert "Urgences absolues (UA)" in body
    assert "csrfmiddlewaretoken" in body
    assert 'id="report-geolocate"' in body
    assert "reports/js/geolocate.js" in body
    photo = SimpleUploadedFile("quai.png", PNG, content_type="image/png")
    response = client.post(form_url(flood_event), {**casualties_post(), "photos": [photo]})
    assert response.status_code == 302
    report = FieldReport.objects.get()
    assert response["Location"] == reverse("reports:detail", args=[report.pk])
    assert report.state == "raw"
    assert report.figures == {"dead": 0, "absolute": 2, "relative": 4}
    assert report.location == {"type": "Point", "coordinates": [0.689, 47.3941]}
    assert report.organisation == personas.organisations["mairie_tours"]
    assert report.entry is not None
    attachment = Attachment.objects.get(entry=report.entry)
    assert attachment.content_type == "image/png"
    assert report.entry.attachment_digests == [attachment.sha256]
    detail = client.get(response["Location"])
    assert detail.status_code == 200
    assert "Brute" in detail.content.decode()
    # the photo is downloadable from the report's page, through the access-checked view
    photo_url = reverse("events:attachment", args=[flood_event.pk, attachment.pk])
    assert photo_url in detail.content.decode()
    download = personas.client_for("operator37").get(photo_url)
    assert download.status_code == 200
    assert download["Content-Disposition"].startswith("attachment")
    assert personas.client_for("operator45").get(photo_url).status_code == 404
    assert "quai.png" in detail.content.decode()
    assert "Passer en vérification" not in detail.content.decode()  # a mayor does not qualify


def test_an_exe_renamed_jpg_is_refused_and_nothing_is_written(
    personas: Any, flood_event: Any, attachments_root: Any
) -> None:
    entries = JournalEntry.objects.count()
    client = personas.client_for("mayor_tours")
    good = SimpleUploadedFile("a.png", PNG, content_type="image/png")
    exe = SimpleUploadedFile("photo.jpg", EXE, content_type="image/jpeg")
    response = client.post(form_url(flood_event), {**casualties_post(), "photos": [good, exe]})
    assert response.status_code == 422
    assert "« photo.jpg » n'est pas une photo" in html.unescape(response.content.decode())
    assert not FieldReport.objects.exists()
    assert JournalEntry.objects.count() == entries
    assert stored_files(attachments_root) == []


def test_a_pdf_is_not_a_photo(personas: Any, flood_event: Any, attachments_root: Any) -> None:
    client = personas.client_for("mayor_tours")
    pdf = SimpleUploadedFile("bilan.pdf", PDF, content_type="application/pdf")
    response = client.post(form_url(flood_event), {**casualties_post(), "photos": [pdf]})
    assert response.status_code == 422
    assert "seules les images JPEG, PNG, WebP ou GIF sont acceptées" in response.content.decode()
    assert not FieldReport.objects.exists()
    assert stored_files(attachments_root) == []


def test_form_errors_are_french_and_linked_to_their_field(personas: Any, flood_event: Any) -> None:
    client = personas.client_for("mayor_tours")
    response = client.post(
        form_url(flood_event),
        casualties_post(
            fig_dead="-3", latitude="47.3", longitude="", occurred_at="2099-01-01T10:00"
        ),
    )
    body = response.content.decode()
    assert response.status_code == 422
    assert 'aria-describedby="id_fig_dead-messages"' in body
    assert "Assurez-vous que cette valeur est supérieure ou égale à 0." in body
    assert "Indiquez la latitude et la longitude, ou aucune des deux." in body
    assert not FieldReport.objects.exists()


def test_a_future_observation_time_is_refused_on_the_form(personas: Any, flood_event: Any) -> None:
    response = personas.client_for("mayor_tours").post(
        form_url(flood_event), casualties_post(occurred_at="2099-01-01T10:00")
    )
    assert response.status_code == 422
    assert "est dans le futur" in response.content.decode()
    assert not FieldReport.objects.exists()


def test_observer37_cannot_open_the_form_nor_qualify(personas: Any, flood_event: Any) -> None:
    report_id = submit(personas.client_for("mayor_tours"), flood_event.pk).json()["id"]
    observer = personas.client_for("observer37")
    assert observer.get(form_url(flood_event) + "?modele=general").status_code == 403
    detail = observer.get(reverse("reports:detail", args=[report_id]))
    assert detail.status_code == 200
    assert "Confirmer" not in detail.content.decode()
    entries = JournalEntry.objects.count()
    response = observer.post(
        reverse("reports:qualify", args=[report_id]),
        {
            "action": "confirm",
            "expected_revision": 0,
            "reliability": "A",
            "credibility": 1,
            "priority": "flash",
        },
    )
    assert response.status_code == 403
    assert FieldReport.objects.get(pk=report_id).state == "raw"
    assert JournalEntry.objects.count() == entries


@pytest.mark.parametrize("persona", ["operator45", "liaison_ars"])
def test_other_territory_gets_404_on_every_report_page(
    personas: Any, flood_event: Any, persona: str
) -> None:
    report_id = submit(personas.client_for("mayor_tours"), flood_event.pk).json()["id"]
    client = personas.client_for(persona)
    assert client.get(reverse("reports:detail", args=[report_id])).status_code == 404
    assert client.get(form_url(flood_event)).status_code == 404
    assert client.post(form_url(flood_event), casualties_post()).status_code == 404
    response = client.post(
        reverse("reports:qualify", args=[report_id]),
        {"action": "start_check", "expected_revision": 0},
    )
    assert response.status_code == 404
    queue = client.get(reverse("reports:queue"))
    assert queue.status_code == 200
    assert f"n° {report_id}" not in queue.content.decode()
    bulk = client.post(reverse("reports:bulk"), {"ids": [report_id], "action": "start_check"})
    assert bulk.status_code == 403
    assert FieldReport.objects.get(pk=report_id).state == "raw"


def test_operator37_confirms_b2_urgent_on_the_page_and_the_loser_gets_a_clear_message(
    personas: Any, flood_event: Any
) -> None:
    report_id = submit(personas.client_for("mayor_tours"), flood_event.pk).json()["id"]
    url = reverse("reports:qualify", args=[report_id])
    page = personas.client_for("operator37").get(reverse("reports:detail", args=[report_id]))
    assert 'name="expected_revision" value="0"' in page.content.decode()
    decision = {
        "action": "confirm",
        "expected_revision": 0,
        "reliability": "B",
        "credibility": 2,
        "priority": "urgent",
    }
    first = personas.client_for("operator37").post(url, decision)
    second = personas.client_for("room_lead37").post(
        url, {**decision, "action": "refute", "reason": "faux"}
    )
    assert first.status_code == 302
    assert second.status_code == 409
    assert (
        "Cette remontée vient d&#x27;être qualifiée par Claire Martin : rechargez la page."
        in second.content.decode()
    )
    report = FieldReport.objects.get(pk=report_id)
    assert (report.state, report.grading, report.priority) == ("confirmed", "B2", "urgent")


def test_queue_orders_flash_then_urgent_then_ungraded_then_routine_oldest_first(
    personas: Any, flood_event: Any
) -> None:
    mayor = personas.client_for("mayor_tours")
    ids = [submit(mayor, flood_event.pk).json()["id"] for _ in range(5)]
    operator = personas.client_for("operator37")
    for report_id, priority in zip(ids, ["routine", "", "urgent", "flash", "urgent"], strict=True):
        if priority:
            operator.post(
                reverse("reports:qualify", args=[report_id]),
                {"action": "grade", "expected_revision": 0, "priority": priority},
            )
    order = [r.pk for r in qualification_queue(personas.operator37.user)]
    assert order == [ids[3], ids[2], ids[4], ids[1], ids[0]]
    page = operator.get(reverse("reports:queue") + "?priorite=urgent")
    body = page.content.decode()
    assert f"n° {ids[2]} —" in body
    assert f"n° {ids[0]} —" not in body
    # mayors and observers have no queue
    assert qualification_queue(personas.mayor_tours.user).count() == 0
    assert qualification_queue(personas.observer37.user).count() == 0
    assert qualification_queue(personas.operator45.user).count() == 0


def test_queue_and_key_figures_query_counts_are_pinned(
    personas: Any, flood_event: Any, django_assert_max_num_queries: Any
) -> None:
    mayor = personas.client_for("mayor_tours")
    operator = personas.client_for("operator37")
    for _ in range(8):
        report_id = submit(mayor, flood_event.pk).json()["id"]
        operator.post(
            reverse("reports:qualify", args=[report_id]),
            {
                "action": "confirm",
                "expected_revision": 0,
                "reliability": "B",
                "credibility": 2,
                "priority": "routine",
            },
        )
    for _ in range(8):
        submit(mayor, flood_event.pk)
    with django_assert_max_num_queries(1):
        figures = key_figures(flood_event)
    assert figures
    user = personas.operator37.user
    with django_assert_max_num_queries(2):  # the scope, then the queue
        rows = list(qualification_queue(user))
    assert len(rows) == 8
    with django_assert_max_num_queries(1):
        for row in rows:
            assert row.event is not None
            assert row.event.title
            str(row.organisation)
    client = personas.client_for("operator37")
    client.get(reverse("reports:queue"))  # warm the session
    with django_assert_max_num_queries(14):
        assert client.get(reverse("reports:queue")).status_code == 200


def test_bulk_action_reports_each_outcome_and_one_failure_keeps_the_others(
    personas: Any, flood_event: Any
) -> None:
    mayor = personas.client_for("mayor_tours")
    first, second, third = (submit(mayor, flood_event.pk).json()["id"] for _ in range(3))
    operator = personas.client_for("operator37")
    operator.post(
        reverse("reports:qualify", args=[second]),
        {"action": "refute", "expected_revision": 0, "reason": "Appel malveillant"},
    )
    response = operator.post(
        reverse("reports:bulk"),
        {"ids": [first, second, third], "action": "start_check", "priorite": "urgent"},
        follow=True,
    )
    body = html.unescape(response.content.decode())
    assert response.redirect_chain[-1][0] == reverse("reports:queue") + "?priorite=urgent"
    assert f"2 remontée(s) traitée(s) : n° {first}, {third}." in body
    assert f"La remontée n° {second} est déjà infirmée" in body
    states = dict(FieldReport.objects.values_list("pk", "state"))
    assert states == {first: "checking", second: "refuted", third: "checking"}


def test_bulk_confirm_requires_grading_and_refuses_each_report(
    personas: Any, flood_event: Any
) -> None:
    mayor = personas.client_for("mayor_tours")
    ids = [submit(mayor, flood_event.pk).json()["id"] for _ in range(2)]
    operator = personas.client_for("operator37")
    response = operator.post(
        reverse("reports:bulk"), {"ids": ids, "action": "confirm"}, follow=True
    )
    assert "Pour confirmer, cotez la fiabilité" in response.content.decode()
    assert set(FieldReport.objects.values_list("state", flat=True)) == {"raw"}
    done = operator.post(
        reverse("reports:bulk"),
        {
            "ids": ids,
            "action": "confirm",
            "reliability": "B",
            "credibility": "2",
            "priority": "urgent",
        },
    )
    assert done.status_code == 302
    assert set(FieldReport.objects.values_list("state", flat=True)) == {"confirmed"}
