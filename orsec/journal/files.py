"""Attachments: type sniffed from the content, size-limited, stored outside the web root.

The declared name and ``Content-Type`` of an upload are never trusted: the first bytes decide
(an ``.exe`` renamed ``photo.jpg`` is refused). Files are stored under
``settings.ORSEC_ATTACHMENTS_ROOT`` by their SHA-256 (content-addressed: the same photo sent twice
is stored once) and are only ever served by an access-checked view, as a download.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _

from orsec.journal.models import Attachment

#: Accepted types: (content type, extension, magic test on the first bytes)
_IMAGE_TYPES: tuple[tuple[str, str], ...] = (
    ("image/jpeg", "jpg"),
    ("image/png", "png"),
    ("image/webp", "webp"),
    ("image/gif", "gif"),
)
ALLOWED_TYPES: dict[str, str] = {
    **dict(_IMAGE_TYPES),
    "application/pdf": "pdf",
    "text/plain": "txt",
}
MAX_ATTACHMENTS_PER_ENTRY = 10


class AttachmentError(ValueError):
    """A refused upload; the message is French and says why, ``code`` is stable."""

    def __init__(self, message: str, code: str = "attachment_refused") -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class StoredFile:
    filename: str
    content_type: str
    size: int
    sha256: str
    storage_name: str
    #: this call wrote the file (it was not already stored): the one to remove on a rollback
    created: bool = False


def sniff_content_type(head: bytes) -> str | None:
    """The content type the bytes really are, among the accepted ones; ``None`` otherwise."""
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if head and _looks_like_text(head):
        return "text/plain"
    return None


def _looks_like_text(head: bytes) -> bool:
    if b"\x00" in head:
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as error:
        # a multi-byte character cut at the end of the sample is still text
        if error.start < len(head) - 3:
            return False
    return True


_SAFE_NAME = re.compile(r"[^\w.\- ]+", re.UNICODE)


def safe_filename(name: str, extension: str) -> str:
    """A display name without path, control characters or a misleading extension."""
    base = os.path.basename((name or "").replace("\\", "/")).strip()
    stem = base.rsplit(".", 1)[0] if "." in base else base
    stem = _SAFE_NAME.sub("_", stem).strip("._ ")[:120] or "piece-jointe"
    return f"{stem}.{extension}"


def attachments_root() -> Path:
    return Path(settings.ORSEC_ATTACHMENTS_ROOT)


def storage_path(storage_name: str) -> Path:
    root = attachments_root().resolve()
    path = (root / storage_name).resolve()
    if root not in path.parents:  # never outside the root, whatever the database says
        raise AttachmentError(_("Chemin de pièce jointe invalide."))
    return path


def _too_large(name: str, limit: int) -> AttachmentError:
    return AttachmentError(
        _("« %(name)s » dépasse la taille maximale de %(max)s Mo.")
        % {"name": os.path.basename(name)[:80], "max": limit // (1024 * 1024) or 1},
        "attachment_too_large",
    )


def store_upload(
    upload: Any, *, max_bytes: int | None = None, images_only: bool = False
) -> StoredFile:
    """Check and store one uploaded file (Django ``UploadedFile`` or any object with
    ``name`` and ``chunks()``). Raises :class:`AttachmentError` with a French message;
    ``images_only`` refuses anything but a photo (JPEG, PNG, WebP, GIF)."""
    limit = max_bytes or settings.ORSEC_ATTACHMENT_MAX_BYTES
    name = getattr(upload, "name", "") or ""
    size = getattr(upload, "size", None)
    if size is not None and size > limit:
        raise _too_large(name, limit)
    root = attachments_root()
    root.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    total = 0
    head = b""
    fd, tmp_name = tempfile.mkstemp(dir=root, prefix=".upload-")
    try:
        with os.fdopen(fd, "wb") as tmp:
            for chunk in upload.chunks():
                total += len(chunk)
                if total > limit:
                    raise _too_large(name, limit)
                if len(head) < 512:
                    head += chunk[: 512 - len(head)]
                digest.update(chunk)
                tmp.write(chunk)
        if total == 0:
            raise AttachmentError(
                _("« %(name)s » est vide.") % {"name": os.path.basename(name)[:80]},
                "attachment_empty",
            )
        content_type = sniff_content_type(head)
        if images_only and (content_type is None or not content_type.startswith("image/")):
            raise AttachmentError(
                _(
                    "« %(name)s » n'est pas une photo : seules les images JPEG, PNG, WebP ou GIF "
                    "sont acceptées (le contenu du fichier est vérifié, pas son nom)."
                )
                % {"name": os.path.basename(name)[:80]},
                "attachment_type",
            )
        if content_type is None:
            raise AttachmentError(
                _(
                    "« %(name)s » n'est pas d'un type accepté (photo JPEG, PNG, WebP, GIF, "
                    "document PDF ou texte) : son contenu ne correspond pas."
                )
                % {"name": os.path.basename(name)[:80]},
                "attachment_type",
            )
        sha = digest.hexdigest()
        storage_name = f"{sha[:2]}/{sha}"
        final = storage_path(storage_name)
        final.parent.mkdir(parents=True, exist_ok=True)
        created = not final.exists()
        if created:
            os.replace(tmp_name, final)
            os.chmod(final, 0o600)
        else:
            os.unlink(tmp_name)
    except BaseException:
        if os.path.exists(tmp_name):
            os.unlink(tmp_name)
        raise
    return StoredFile(
        filename=safe_filename(name, ALLOWED_TYPES[content_type]),
        content_type=content_type,
        size=total,
        sha256=sha,
        storage_name=storage_name,
        created=created,
    )


def store_uploads(uploads: list[Any], *, images_only: bool = False) -> list[StoredFile]:
    """Store several uploads (or pass through already stored ones); all or nothing: on a
    refusal, the files this call wrote are removed before the error is raised."""
    stored: list[StoredFile] = []
    try:
        for upload in uploads:
            if isinstance(upload, StoredFile):
                stored.append(upload)
            else:
                stored.append(store_upload(upload, images_only=images_only))
    except BaseException:
        discard_new(stored)
        raise
    return stored


def discard_new(stored: list[StoredFile]) -> None:
    """Remove the files written for a write that did not happen (the database rolled back)."""
    for item in stored:
        if item.created:
            with contextlib.suppress(OSError, AttachmentError):
                storage_path(item.storage_name).unlink()


def purge_orphan_files(*, older_than_seconds: int = 3600, now: float | None = None) -> list[str]:
    """Delete stored files that no attachment row references (an upload whose transaction rolled
    back), and temporary upload files left by a crash; only those older than
    ``older_than_seconds``, so that an upload in progress is never touched. Returns the storage
    names deleted."""
    root = attachments_root()
    if not root.exists():
        return []
    limit = (now if now is not None else time.time()) - older_than_seconds
    referenced = set(Attachment.objects.values_list("storage_name", flat=True))
    deleted = []
    for path in sorted(root.rglob("*")):
        if not path.is_file() or path.stat().st_mtime > limit:
            continue
        name = path.relative_to(root).as_posix()
        if name in referenced:
            continue
        path.unlink()
        deleted.append(name)
    return deleted
