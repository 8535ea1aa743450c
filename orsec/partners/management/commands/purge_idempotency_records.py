"""Drop the idempotency records older than 24 hours (run hourly by cron or a systemd timer)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.utils import timezone

from orsec.partners.idempotency import purge_expired


class Command(BaseCommand):
    help = "Supprime les clés d'idempotence de plus de 24 heures."

    def handle(self, *args: Any, **options: Any) -> None:
        deleted = purge_expired(timezone.now())
        self.stdout.write(f"{deleted} clé(s) d'idempotence supprimée(s).")
