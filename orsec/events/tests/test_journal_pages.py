"""Main courante pages through HTTP: entries, corrections, pins, attachments, confidentiality,
exports re-verified with the script of docs/journal.md, verification, watch logs."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path
from types import ModuleType

import pytest
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from orsec.audit.models import AuditRecord
from orsec.journal.actions import log_information
from orsec.journal.chain import chain_for_event
from orsec.journal.models import Attachment, Highlight, JournalEntry

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 40
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 64


@pytest.fixture(autouse=True)
def attachments_root(settings, tmp_path):
    settings.ORSEC_ATTACHMENTS_ROOT = tmp_path / "attachments"
    return settings.ORSEC_ATTACHMENTS_ROOT


@pytest.fixture(scope="module")
def verifier() -> ModuleType:
    """The third-party verification script, taken verbatim from docs/journal.md."""
    doc = (Path(django_settings.BASE_DIR) / "docs" / "journal.md").read_text(encoding="utf-8")
    block = doc.split("<!-- verifier:start -->")[1].split("<!-- verifier:end -->")[0]
    code = re.search(r"```python\n(.*?)```", block, re.S).group(1)  # type: ignore[union-attr]
    module = ModuleType("verify_export")
    exec(compile(code, "verify_export.py", "exec"), module.__dict__)  # noqa: S102
    return module


def _entry(**overrides):
    data = {
        "kind": "information",
        "channel": "phone",
        "text": "RD 952 coupée à Saint-Pierre-des-Corps.",
        "confidentiality": "internal",
        "occurred_at": "",
    }
    data.update(overrides)
    return data


def _add_url(event):
    return f"/evenements/{event.pk}/main-courante/nouvelle/"


# --- Operator: add, correct, pin ----------------------------------------------------------------


def test_operator37_adds_corrects_and_pins_entries(personas, flood_event):
    client = personas.client_for("operator37")
    assert client.get(_add_url(flood_event)).status_code == 200
    assert (
        client.post(_add_url(flood_event), _entry(text="12 personnes évacuées.")).status_code == 302
    )
    original = JournalEntry.objects.get(event=flood_event, seq=2)

    url = f"/evenements/{flood_event.pk}/main-courante/{original.pk}/correction/"
    assert client.get(url).status_code == 200
    missing_reason = client.post(url, {"text": "21 personnes évacuées.", "reason": ""})
    assert missing_reason.status_code == 400
    assert "Le motif est obligatoire." in missing_reason.content.decode()
    assert (
        client.post(
            url, {"text": "21 personnes évacuées.", "reason": "Chiffres inversés"}
        ).status_code
        == 302
    )
    correction = JournalEntry.objects.get(event=flood_event, corrects=original)
    original.refresh_from_db()
    assert original.text == "12 personnes évacuées."

    pin = client.post(f"/evenements/{flood_event.pk}/main-courante/{correction.pk}/epingler/")
    assert pin.status_code == 302
    assert Highlight.objects.filter(entry=correction).exists()

    html = client.get(f"/evenements/{flood_event.pk}/main-courante/").content.decode()
    assert f"Corrigée par l'entrée n° {correction.seq}" in html
    assert f"Corrige l'entrée n° {original.seq}" in html
    assert f"Fait marquant épinglé : entrée n° {correction.seq}." in html
    page = client.get(f"/evenements/{flood_event.pk}/").content.decode()
    assert (
        "21 personnes évacuées." in page.split('id="panneau-highlights"')[1].split("</section>")[0]
    )


def test_mayor_cannot_correct_someone_elses_entry_or_pin(personas, flood_event):
    entry = log_information(
        personas.operator37.user, chain_for_event(flood_event), "Info", channel="phone"
    )
    client = personas.client_for("mayor_tours")
    url = f"/evenements/{flood_event.pk}/main-courante/{entry.pk}/"
    assert client.post(url + "correction/", {"text": "x", "reason": "y"}).status_code == 403
    assert client.post(url + "epingler/").status_code == 403
    assert not Highlight.objects.exists()


def test_observer37_cannot_add_correct_or_pin(personas, flood_event):
    entry = log_information(
        personas.operator37.user, chain_for_event(flood_event), "Info", channel="phone"
    )
    client = personas.client_for("observer37")
    assert client.get(_add_url(flood_event)).status_code == 403
    assert client.post(_add_url(flood_event), _entry()).status_code == 403
    url = f"/evenements/{flood_event.pk}/main-courante/{entry.pk}/"
    assert client.post(url + "correction/", {"text": "x", "reason": "y"}).status_code == 403
    assert client.post(url + "epingler/").status_code == 403
    assert JournalEntry.objects.filter(event=flood_event).count() == 2


@pytest.mark.parametrize(
    ("occurred_at", "message"),
    [
        ("2999-01-01T10:00", "est dans le futur"),
        ("2001-01-01T10:00", "antérieure de plus de 24 heures à l&#x27;ouverture"),
        ("hier midi", "Date et heure invalides"),
    ],
)
def test_bad_dates_are_refused_with_a_precise_message(personas, flood_event, occurred_at, message):
    client = personas.client_for("operator37")
    response = client.post(_add_url(flood_event), _entry(occurred_at=occurred_at))
    assert response.status_code in (400, 422)
    html = response.content.decode()
    assert message in html
    assert 'aria-describedby="id_occurred_at-error"' in html
    assert JournalEntry.objects.filter(event=flood_event).count() == 1


def test_entry_dated_in_paris_time_is_stored_as_the_right_instant(personas, flood_event):
    client = personas.client_for("operator37")
    when = timezone.localtime(flood_event.opened_at - timedelta(hours=2)).replace(
        second=0, microsecond=0
    )
    client.post(_add_url(flood_event), _entry(occurred_at=when.strftime("%Y-%m-%dT%H:%M")))
    assert JournalEntry.objects.get(event=flood_event, seq=2).occurred_at == when


def test_empty_text_is_refused(personas, flood_event):
    client = personas.client_for("operator37")
    response = client.post(_add_url(flood_event), _entry(text="   "))
    assert response.status_code in (400, 422)
    assert "Le texte de l&#x27;entrée est obligatoire." in response.content.decode()


# --- Attachments --------------------------------------------------------------------------------


def test_an_exe_named_jpg_is_refused_and_nothing_is_written(
    personas, flood_event, attachments_root
):
    client = personas.client_for("operator37")
    upload = SimpleUploadedFile("photo.jpg", EXE, content_type="image/jpeg")
    response = client.post(_add_url(flood_event), _entry(attachments=[upload]))
    assert response.status_code == 422
    assert "n&#x27;est pas d&#x27;un type accepté" in response.content.decode()
    assert JournalEntry.objects.filter(event=flood_event).count() == 1
    assert not Attachment.objects.exists()
    files = (
        [p for p in attachments_root.rglob("*") if p.is_file()] if attachments_root.exists() else []
    )
    assert files == []


def test_png_is_accepted_and_downloaded_with_safe_headers(personas, flood_event):
    client = personas.client_for("operator37")
    upload = SimpleUploadedFile("digue <rompue>.png", PNG, content_type="application/x-msdownload")
    assert client.post(_add_url(flood_event), _entry(attachments=[upload])).status_code == 302
    attachment = Attachment.objects.get()
    entry = JournalEntry.objects.get(event=flood_event, seq=2)
    assert entry.attachment_digests == [attachment.sha256]
    response = client.get(f"/evenements/{flood_event.pk}/pieces-jointes/{attachment.pk}/")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PNG
    assert response["Content-Type"] == "image/png"
    assert response["Content-Disposition"].startswith("attachment;")
    assert "digue _rompue.png" in response["Content-Disposition"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response["Content-Security-Policy"]
    # listed on the main courante with its link
    html = client.get(f"/evenements/{flood_event.pk}/main-courante/").content.decode()
    assert f"/evenements/{flood_event.pk}/pieces-jointes/{attachment.pk}/" in html


def test_attachment_of_another_event_is_404_through_this_event(
    personas, flood_event, exercise_event
):
    client = personas.client_for("operator37")
    client.post(_add_url(exercise_event), _entry(attachments=[SimpleUploadedFile("a.png", PNG)]))
    attachment = Attachment.objects.get()
    assert (
        client.get(f"/evenements/{flood_event.pk}/pieces-jointes/{attachment.pk}/").status_code
        == 404
    )


# --- Restricted entries -------------------------------------------------------------------------


@pytest.fixture
def restricted(personas, flood_event):
    """A restricted entry with a photo (room lead) and an internal one."""
    lead = personas.client_for("room_lead37")
    lead.post(
        _add_url(flood_event),
        _entry(
            text="Identité de la victime : M. SECRET",
            confidentiality="restricted",
            attachments=[SimpleUploadedFile("victime.png", PNG)],
        ),
    )
    lead.post(_add_url(flood_event), _entry(text="Information interne visible"))
    entry = JournalEntry.objects.get(event=flood_event, confidentiality="restricted")
    return {"entry": entry, "attachment": entry.attachments.get()}


@pytest.mark.parametrize("persona", ["mayor_tours", "observer37", "operator37"])
def test_restricted_entries_are_hidden_everywhere_from(persona, personas, flood_event, restricted):
    client = personas.client_for(persona)
    base = f"/evenements/{flood_event.pk}"
    for url in (f"{base}/", f"{base}/main-courante/", f"{base}/main-courante/?q=SECRET"):
        html = client.get(url).content.decode()
        assert "Identité de la victime" not in html, url
        assert "victime.png" not in html, url
        assert "Information interne visible" in html or "q=SECRET" in url
    assert "2 entrées" in client.get(f"{base}/main-courante/").content.decode()
    attachment = client.get(f"{base}/pieces-jointes/{restricted['attachment'].pk}/")
    assert attachment.status_code == 404
    correction = client.get(f"{base}/main-courante/{restricted['entry'].pk}/correction/")
    assert correction.status_code in (403, 404)
    for fmt in ("csv", "json"):
        export = client.get(f"{base}/main-courante/export.{fmt}").content.decode()
        assert "SECRET" not in export
        assert "victime" not in export
    api = client.get(
        f"/api/v1/events/{flood_event.pk}/journal", headers={"Accept": "application/json"}
    )
    assert api.status_code == 200
    assert "SECRET" not in api.content.decode()
    assert len(api.json()["items"]) == 2
    api_export = client.get(f"/api/v1/events/{flood_event.pk}/journal/export")
    assert "SECRET" not in api_export.content.decode()


@pytest.mark.parametrize("persona", ["room_lead37", "director37"])
def test_restricted_entries_are_visible_to(persona, personas, flood_event, restricted):
    client = personas.client_for(persona)
    assert "SECRET" in client.get(f"/evenements/{flood_event.pk}/main-courante/").content.decode()
    url = f"/evenements/{flood_event.pk}/pieces-jointes/{restricted['attachment'].pk}/"
    assert client.get(url).status_code == 200


def test_only_readers_of_restricted_entries_may_write_one(personas, flood_event):
    client = personas.client_for("operator37")
    response = client.post(_add_url(flood_event), _entry(confidentiality="restricted"))
    assert response.status_code == 400
    assert not JournalEntry.objects.filter(confidentiality="restricted").exists()


# --- Exports and verification -------------------------------------------------------------------


def _write(tmp_path, name, content):
    path = tmp_path / name
    path.write_bytes(content)
    return str(path)


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_export_is_reverified_by_the_documented_script(
    fmt, personas, flood_event, restricted, verifier, tmp_path
):
    # a correction, a pin, an attachment, a multi-line text with quotes and a comma
    chain = chain_for_event(flood_event)
    entry = log_information(
        personas.operator37.user,
        chain,
        'Ligne 1, "citée"\n# pas un commentaire\r\nfin',
        channel="radio",
    )
    personas.client_for("operator37").post(
        f"/evenements/{flood_event.pk}/main-courante/{entry.pk}/epingler/"
    )
    for persona, redacted in (("room_lead37", 0), ("mayor_tours", 1)):
        response = personas.client_for(persona).get(
            f"/evenements/{flood_event.pk}/main-courante/export.{fmt}"
        )
        assert response.status_code == 200
        assert response["Content-Disposition"].startswith('attachment; filename="main-courante-')
        path = _write(tmp_path, f"{persona}.{fmt}", response.content)
        rows, head = verifier.load(path)
        assert len(rows) == chain.entries.count()
        assert sum(1 for r in rows if r["redacted"]) == redacted
        assert verifier.verify(rows, head) is None, persona

    # a tampered export is caught, with the entry number
    tampered = response.content.decode().replace("Information interne visible", "Falsifiée")
    rows, head = verifier.load(_write(tmp_path, f"tampered.{fmt}", tampered.encode()))
    assert "contenu modifié" in verifier.verify(rows, head)
    assert AuditRecord.objects.filter(action="journal.exported").count() == 2


def test_exercise_export_carries_the_marker(personas, exercise_event, verifier, tmp_path):
    client = personas.client_for("operator37")
    response = client.get(f"/evenements/{exercise_event.pk}/main-courante/export.json")
    assert 'filename="EXERCICE-main-courante-' in response["Content-Disposition"]
    document = json.loads(response.content)
    assert document["marker"] == "EXERCICE"
    assert {row["marker"] for row in document["entries"]} == {"EXERCICE"}
    csv_response = client.get(f"/evenements/{exercise_event.pk}/main-courante/export.csv")
    assert 'filename="EXERCICE-' in csv_response["Content-Disposition"]
    assert csv_response.content.decode().startswith("# format: orsec-journal-export\n")
    assert verifier.verify(*verifier.load(_write(tmp_path, "x.csv", csv_response.content))) is None


def test_verify_page_reports_ok_then_the_tampered_entry(personas, flood_event):
    log_information(personas.operator37.user, chain_for_event(flood_event), "Info", channel="phone")
    client = personas.client_for("observer37")
    url = f"/evenements/{flood_event.pk}/main-courante/verification/"
    assert "Main courante intègre" in client.get(url).content.decode()
    JournalEntry.objects.filter(event=flood_event, seq=2).update(text="Réécrit")
    html = client.get(url).content.decode()
    assert "ALTÉRÉE" in html
    assert "entrée n° 2 : contenu modifié" in html


# --- Filters ------------------------------------------------------------------------------------


def test_journal_filters_by_kind_highlight_text_and_dates(personas, flood_event):
    client = personas.client_for("operator37")
    client.post(_add_url(flood_event), _entry(kind="decision", text="Évacuation du quartier"))
    client.post(
        _add_url(flood_event), _entry(kind="request", text="Renfort de pompes", channel="radio")
    )
    url = f"/evenements/{flood_event.pk}/main-courante/"
    html = client.get(url + "?kind=decision").content.decode()
    assert "Évacuation du quartier" in html
    assert "Renfort de pompes" not in html
    html = client.get(url + "?channel=radio").content.decode()
    assert "Renfort de pompes" in html
    assert "Évacuation du quartier" not in html
    html = client.get(url + "?q=pompes").content.decode()
    assert "Renfort de pompes" in html
    assert "Évacuation du quartier" not in html
    html = client.get(url + "?highlights=on").content.decode()
    assert "Ouverture de l&#x27;événement" in html
    assert "Renfort de pompes" not in html
    today = timezone.localdate().isoformat()
    assert "Renfort de pompes" in client.get(url + f"?start={today}&end={today}").content.decode()
    bad = client.get(url + "?start=2026-12-31&end=2026-01-01").content.decode()
    assert "La date de fin précède la date de début." in bad


# --- Watch log ----------------------------------------------------------------------------------


def test_operator37_writes_in_the_watch_log_and_operator45_gets_404(personas):
    territory = personas.organisations["cod37"].territory
    client = personas.client_for("operator37")
    url = f"/evenements/veille/{territory.pk}/"
    assert client.get(url).status_code == 200
    assert client.get("/evenements/veille/").status_code == 200
    response = client.post(url, _entry(text="Vigilance orange crues sur la Loire"))
    assert response.status_code == 302
    assert "Vigilance orange crues" in client.get(url).content.decode()
    entry = JournalEntry.objects.get(event=None)
    assert entry.territory_path == territory.path
    other = personas.client_for("operator45")
    assert other.get(url).status_code == 404
    assert other.post(url, _entry()).status_code == 404
    observer = personas.client_for("observer37")
    assert observer.get(url).status_code == 200
    assert observer.post(url, _entry()).status_code == 403
    assert JournalEntry.objects.filter(event=None).count() == 1


def test_closed_event_journal_refuses_entries(personas, flood_event):
    from orsec.events.actions import do_close_event
    from orsec.journal.actions import JournalError

    do_close_event(personas.room_lead37.user, flood_event, "Décrue achevée sans victime.")
    flood_event.refresh_from_db()
    with pytest.raises(JournalError) as error:
        log_information(
            personas.operator37.user, chain_for_event(flood_event), "x", channel="phone"
        )
    assert error.value.code == "event_closed"


@pytest.mark.parametrize("when", ["0001-01-01T00:30", "9999-12-31T23:59"])
def test_extreme_dates_on_the_form_are_refused_not_500(personas, flood_event, when):
    client = personas.client_for("operator37")
    response = client.post(_add_url(flood_event), _entry(occurred_at=when))
    assert response.status_code in (400, 422)
    assert JournalEntry.objects.filter(event=flood_event).count() == 1
