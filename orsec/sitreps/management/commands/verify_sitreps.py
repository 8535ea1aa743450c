"""``manage.py verify_sitreps [--event N]``: check every frozen SITREP.

Exit code 0 when each frozen SITREP's content matches its hash, the hash matches the main
courante entry and the stored PDF matches its digest; 1 with a French message otherwise.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from orsec.sitreps.models import Sitrep, SitrepState
from orsec.sitreps.verify import sitrep_problems


class Command(BaseCommand):
    help = "Vérifie les points de situation figés (contenu, empreinte, main courante, PDF)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--event", type=int, help="Numéro de l'événement (par défaut : tous).")

    def handle(self, *args: Any, **options: Any) -> None:
        sitreps = (
            Sitrep.objects.filter(state=SitrepState.FROZEN)
            .select_related("event", "freeze_entry", "pdf")
            .order_by("pk")
        )
        if options.get("event") is not None:
            sitreps = sitreps.filter(event_id=options["event"])
        checked = 0
        for sitrep in sitreps.iterator():
            problems = sitrep_problems(sitrep)
            if problems:
                raise CommandError(
                    f"Point de situation ALTÉRÉ : {sitrep} (n° interne {sitrep.pk}) — "
                    + " ; ".join(problems)
                    + "."
                )
            checked += 1
        self.stdout.write(self.style.SUCCESS(f"Points de situation figés intègres : {checked}."))
