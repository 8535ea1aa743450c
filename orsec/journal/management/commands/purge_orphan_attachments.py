"""Delete attachment files that no entry references (uploads whose transaction rolled back)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from orsec.journal.files import purge_orphan_files


class Command(BaseCommand):
    help = (
        "Supprime les fichiers de pièces jointes qu'aucune entrée ne référence (envoi annulé), "
        "plus anciens que --older-than secondes."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--older-than", type=int, default=3600, help="âge minimal (secondes)")

    def handle(self, *args: Any, **options: Any) -> None:
        deleted = purge_orphan_files(older_than_seconds=max(60, options["older_than"]))
        self.stdout.write(f"{len(deleted)} fichier(s) orphelin(s) supprimé(s).")
