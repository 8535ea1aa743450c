"""Verify frozen SITREPs: the content against its hash, the hash against the main courante, the
stored PDF against its digest (``docs/sitrep.md``, Vérifier un point de situation)."""

from __future__ import annotations

import hashlib

from orsec.journal.files import AttachmentError, storage_path
from orsec.sitreps.models import Sitrep, SitrepState


def sitrep_problems(sitrep: Sitrep) -> list[str]:
    """French descriptions of what does not match (empty when the SITREP is intact)."""
    if sitrep.state != SitrepState.FROZEN:
        return []
    problems = []
    if sitrep.compute_hash() != sitrep.frozen_hash:
        problems.append("contenu modifié après le figement (empreinte recalculée différente)")
    entry = sitrep.freeze_entry
    if entry is None:
        problems.append("aucune entrée de main courante n'enregistre le figement")
    else:
        if entry.data.get("sitrep_hash") != sitrep.frozen_hash:
            problems.append("l'empreinte inscrite en main courante ne correspond pas")
        if entry.compute_hash() != entry.hash:
            problems.append("l'entrée de main courante du figement a été modifiée")
    attachment = sitrep.pdf
    if attachment is None:
        problems.append("document PDF absent")
        return problems
    if entry is not None and entry.attachment_digests != [attachment.sha256]:
        problems.append("le PDF n'est pas celui rattaché à l'entrée de main courante")
    try:
        content = storage_path(attachment.storage_name).read_bytes()
    except (OSError, AttachmentError):
        problems.append("fichier PDF introuvable dans le stockage")
        return problems
    if hashlib.sha256(content).hexdigest() != attachment.sha256:
        problems.append("fichier PDF modifié dans le stockage")
    return problems
