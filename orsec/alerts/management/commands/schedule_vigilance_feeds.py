"""``manage.py schedule_vigilance_feeds``: queue the MeteoAlarm feed poll unless one is pending.

Idempotent; ``make run`` calls it before starting the worker, a deployment runs it once after
``migrate``. The first poll runs right away, then every ``ORSEC_METEOALARM_POLL_SECONDS``.
``--now`` polls synchronously instead (no worker needed) and prints each feed's outcome.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from orsec.alerts.feeds import configured_feeds, poll_all_feeds
from orsec.alerts.tasks import ensure_feeds_scheduled


class Command(BaseCommand):
    help = "Programme la relève des flux de vigilance MeteoAlarm (ORSEC_METEOALARM_FEEDS)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--now", action="store_true", help="relever les flux tout de suite, sans le worker"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        verbose = options["verbosity"] > 0
        if not configured_feeds():
            if verbose:
                self.stdout.write("Aucun flux MeteoAlarm configuré (ORSEC_METEOALARM_FEEDS).")
            return
        if options["now"]:
            for outcome in poll_all_feeds(now=timezone.now()):
                self.stdout.write(f"{outcome.url} : {outcome.status}")
                for error in outcome.errors:
                    self.stdout.write(f"  - {error['code']} {error['url']} : {error['message']}")
            return
        queued = ensure_feeds_scheduled(delay=timedelta(0))
        if verbose:
            self.stdout.write(
                "Relève des flux de vigilance programmée."
                if queued
                else "Relève des flux de vigilance déjà programmée."
            )
