"""``manage.py schedule_live_prune``: queue the live outbox pruning unless one is pending.

Idempotent; ``make run`` calls it before starting the worker (``manage.py db_worker``), and a
deployment runs it once after ``migrate``. The task then re-enqueues itself every 15 minutes.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from orsec.live.tasks import ensure_prune_scheduled


class Command(BaseCommand):
    help = "Programme la purge périodique du journal des messages temps réel si besoin."

    def handle(self, *args: Any, **options: Any) -> None:
        queued = ensure_prune_scheduled()
        if options["verbosity"] > 0:
            self.stdout.write(
                "Purge du journal temps réel programmée."
                if queued
                else "Purge du journal temps réel déjà programmée."
            )
