"""``manage.py schedule_outbound``: queue the outbound tick (webhooks, orphans) unless pending.

Idempotent; ``make run`` calls it before starting the worker (``manage.py db_worker``), and a
deployment runs it once after ``migrate``. The task then re-enqueues itself every 30 seconds.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from orsec.partners.tasks import ensure_outbound_scheduled


class Command(BaseCommand):
    help = "Programme l'envoi des messages aux partenaires (webhooks) si besoin."

    def handle(self, *args: Any, **options: Any) -> None:
        queued = ensure_outbound_scheduled()
        if options["verbosity"] > 0:
            self.stdout.write(
                "Envoi aux partenaires programmé."
                if queued
                else "Envoi aux partenaires déjà programmé."
            )
