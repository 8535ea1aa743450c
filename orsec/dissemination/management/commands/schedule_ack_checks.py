"""``manage.py schedule_ack_checks``: queue the reminder/escalation check unless one is pending.

Idempotent; ``make run`` calls it before starting the worker (``manage.py db_worker``), and a
deployment runs it once after ``migrate``. The task then re-enqueues itself every minute.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from orsec.dissemination.tasks import ensure_check_scheduled


class Command(BaseCommand):
    help = "Programme la vérification des prises en compte (relances, escalades) si besoin."

    def handle(self, *args: Any, **options: Any) -> None:
        queued = ensure_check_scheduled()
        if options["verbosity"] > 0:
            self.stdout.write(
                "Vérification des prises en compte programmée."
                if queued
                else "Vérification des prises en compte déjà programmée."
            )
