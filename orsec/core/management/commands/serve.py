"""``manage.py serve``: the portal under granian, one ASGI process per worker.

Pages and API run under Django's WSGI handler in a bounded thread pool, ``/live/`` under native
async handlers (:mod:`orsec.core.serving`, ``docs/adr/0002-serving-topology.md``); static files
are served by :mod:`orsec.core.static` on the event loop, with the portal's security headers —
they never reach Django.

The command replaces itself with granian (``exec``): signals (Ctrl+C, SIGTERM from systemd or a
container runtime) go straight to granian, which stops gracefully.
"""

from __future__ import annotations

import os
import resource
import sys
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from orsec.core.serving import DEFAULT_THREADS

ASGI_TARGET = "config.asgi:application"

#: Requests (an open live stream is one, for its whole life) a worker serves at once. granian's
#: default is its backlog (1,024): past it, every new request — page or stream — waits without
#: an answer until one ends, so 1,024 wall screens would freeze the portal of that worker. Pages
#: and API are bounded on their own by the dispatcher (503 past its queue, orsec.core.serving).
DEFAULT_MAX_REQUESTS = 10_000
#: Connections waiting to be accepted (a thousand screens reconnecting after a restart).
DEFAULT_BACKLOG = 2048
#: File descriptors kept apart from the streams (database, Redis, logs, static files).
RESERVED_FDS = 256


def raise_open_files_limit() -> int:
    """Raise the open-files soft limit to the hard limit (inherited by granian through
    ``exec``); return the soft limit now in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = hard if hard != resource.RLIM_INFINITY else max(soft, 65536)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
        except (ValueError, OSError):
            return soft
        return wanted
    return soft


def _port(value: str) -> int:
    number = int(value)
    if not 1 <= number <= 65535:
        raise ValueError(value)
    return number


def _positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise ValueError(value)
    return number


class Command(BaseCommand):
    help = (
        "Sert le portail avec granian : pages et API via le gestionnaire WSGI de Django dans un "
        "pool de threads, flux /live/ en asynchrone, fichiers statiques servis par granian."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1", help="Adresse d'écoute.")
        parser.add_argument("--port", type=_port, default=8000, help="Port d'écoute.")
        parser.add_argument(
            "--workers", type=_positive, default=1, help="Nombre de processus (1 par cœur)."
        )
        parser.add_argument(
            "--threads",
            type=_positive,
            default=DEFAULT_THREADS,
            help=f"Threads du pool WSGI par processus (défaut : {DEFAULT_THREADS}).",
        )
        parser.add_argument(
            "--max-requests",
            type=_positive,
            default=None,
            help=(
                "Requêtes servies à la fois par processus, flux /live/ ouverts compris "
                f"(défaut : {DEFAULT_MAX_REQUESTS}, borné par la limite de fichiers ouverts)."
            ),
        )
        parser.add_argument(
            "--backlog",
            type=_positive,
            default=DEFAULT_BACKLOG,
            help=f"Connexions en attente d'acceptation (défaut : {DEFAULT_BACKLOG}).",
        )
        parser.add_argument(
            "--access-log", action="store_true", help="Journal des accès de granian."
        )
        parser.add_argument(
            "--print-command",
            action="store_true",
            help="Affiche la commande granian sans la lancer.",
        )

    def granian_argv(self, options: dict[str, Any]) -> list[str]:
        argv = [
            sys.executable,
            "-m",
            "granian",
            "--interface",
            "asgi",
            "--host",
            options["host"],
            "--port",
            str(options["port"]),
            "--workers",
            str(options["workers"]),
            "--no-ws",
            "--backlog",
            str(max(128, options["backlog"])),
            "--backpressure",
            str(options["backpressure"]),
            "--respawn-failed-workers",
            "--working-dir",
            str(settings.BASE_DIR),
            "--log-level",
            "warning",
        ]
        if options["access_log"]:
            argv.append("--access-log")
        argv.append(ASGI_TARGET)
        return argv

    def handle(self, *args: Any, **options: Any) -> None:
        files = raise_open_files_limit()
        wanted = options["max_requests"] or DEFAULT_MAX_REQUESTS
        options["backpressure"] = max(1, min(wanted, files - RESERVED_FDS))
        if options["max_requests"] and options["backpressure"] < options["max_requests"]:
            self.stderr.write(
                f"Limite de fichiers ouverts {files} : {options['backpressure']} requêtes à la "
                "fois au plus (relevez LimitNOFILE / ulimit -n)."
            )
        argv = self.granian_argv(options)
        env = dict(os.environ)
        env["ORSEC_WSGI_THREADS"] = str(options["threads"])
        env.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
        if options["print_command"]:
            self.stdout.write(" ".join(argv))
            return
        host = options["host"]
        shown_host = f"[{host}]" if ":" in host else host
        self.stdout.write(
            f"Portail ORSEC sur http://{shown_host}:{options['port']} — Ctrl+C pour arrêter"
        )
        self.stdout.flush()
        sys.stderr.flush()
        try:
            # Fixed argv, no shell: the command replaces itself with granian.
            os.execve(sys.executable, argv, env)  # noqa: S606  # nosec B606
        except OSError as exc:
            raise CommandError(f"Impossible de lancer granian : {exc.strerror}") from exc
