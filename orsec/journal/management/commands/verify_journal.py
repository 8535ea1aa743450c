"""``manage.py verify_journal [--event N]``: recompute main courante chains.

Exit code 0 when every chain checked is intact; 1 with a French message naming the chain and the
first broken entry otherwise.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from orsec.journal.models import JournalChain
from orsec.journal.verify import verify_chain_report


class Command(BaseCommand):
    help = "Vérifie le chaînage des mains courantes (empreintes SHA-256), ou celle d'un événement."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--event", type=int, help="Numéro de l'événement (par défaut : toutes les chaînes)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        chains = JournalChain.objects.order_by("pk")
        if options.get("event") is not None:
            chains = chains.filter(event_id=options["event"])
            if not chains.exists():
                raise CommandError(f"Aucune main courante pour l'événement n° {options['event']}.")
        total = 0
        for chain in chains.iterator():
            report = verify_chain_report(chain)
            total += report["checked"]
            if not report["ok"]:
                raise CommandError(
                    f"Main courante ALTÉRÉE ({chain}) — {report['problem']['reason']} "
                    f"({report['checked']} entrées vérifiées avant l'anomalie)."
                )
            self.stdout.write(f"{chain} : {report['checked']} entrées intègres.")
        self.stdout.write(self.style.SUCCESS(f"Mains courantes intègres : {total} entrées."))
