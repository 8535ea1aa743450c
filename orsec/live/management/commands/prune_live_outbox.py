"""``manage.py prune_live_outbox``: delete the live outbox rows older than the retention now.

The periodic task (``schedule_live_prune``) does the same every 15 minutes; this command is for
an operator (after a long outage of the workers, or before a backup).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from orsec.live.actions import do_prune_outbox


class Command(BaseCommand):
    help = (
        "Supprime du journal des messages temps réel les lignes plus anciennes que "
        "ORSEC_LIVE_RETENTION_HOURS."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        deleted = do_prune_outbox()
        if options["verbosity"] > 0:
            self.stdout.write(
                f"{deleted} message(s) temps réel supprimé(s) "
                f"(conservation : {settings.ORSEC_LIVE_RETENTION_HOURS} h)."
            )
