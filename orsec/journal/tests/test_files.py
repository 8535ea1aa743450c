"""Uploads are sniffed from their content, size-limited and kept outside the web root."""

from __future__ import annotations

import os
import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command

from orsec.journal.chain import append_entry, chain_for_event
from orsec.journal.files import AttachmentError, storage_path, store_upload

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 64


def test_png_is_stored_by_digest_with_a_safe_name(settings, tmp_path):
    settings.ORSEC_ATTACHMENTS_ROOT = tmp_path
    stored = store_upload(SimpleUploadedFile("../../etc/crue <1>.exe", PNG))
    assert stored.content_type == "image/png"
    assert stored.filename == "crue _1.png"
    assert storage_path(stored.storage_name).read_bytes() == PNG
    assert storage_path(stored.storage_name).parent.parent == tmp_path


def test_an_exe_named_jpg_is_refused_and_nothing_is_left(settings, tmp_path):
    settings.ORSEC_ATTACHMENTS_ROOT = tmp_path
    with pytest.raises(AttachmentError) as error:
        store_upload(SimpleUploadedFile("photo.jpg", EXE, content_type="image/jpeg"))
    assert "n'est pas d'un type accepté" in str(error.value)
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


def test_an_oversized_file_is_refused(settings, tmp_path):
    settings.ORSEC_ATTACHMENTS_ROOT = tmp_path
    with pytest.raises(AttachmentError) as error:
        store_upload(SimpleUploadedFile("grande.png", PNG + b"\x00" * 4096), max_bytes=1024)
    assert "taille maximale" in str(error.value)
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


def test_an_empty_file_is_refused(settings, tmp_path):
    settings.ORSEC_ATTACHMENTS_ROOT = tmp_path
    with pytest.raises(AttachmentError):
        store_upload(SimpleUploadedFile("vide.txt", b""))


def test_a_storage_name_cannot_escape_the_root(settings, tmp_path):
    settings.ORSEC_ATTACHMENTS_ROOT = tmp_path
    with pytest.raises(AttachmentError):
        storage_path("../../etc/passwd")


@pytest.mark.django_db
def test_orphan_files_are_purged_and_referenced_ones_kept(
    settings, tmp_path, personas, flood_event
):
    settings.ORSEC_ATTACHMENTS_ROOT = tmp_path
    kept = store_upload(SimpleUploadedFile("garde.png", PNG))
    append_entry(
        chain_for_event(flood_event),
        kind="information",
        channel="field",
        text="photo",
        files=[kept],
    )
    orphan = store_upload(SimpleUploadedFile("orphelin.png", PNG + b"\x01"))  # never attached
    recent = store_upload(SimpleUploadedFile("en-cours.png", PNG + b"\x02"))  # an upload in flight
    old = time.time() - 7200
    for stored in (kept, orphan):
        os.utime(storage_path(stored.storage_name), (old, old))
    call_command("purge_orphan_attachments")
    assert storage_path(kept.storage_name).exists()
    assert not storage_path(orphan.storage_name).exists()
    assert storage_path(recent.storage_name).exists()
