"""Ingest benchmark: field reports posted through the real HTTP stack, against raw psycopg.

    .venv/bin/python bench/ingest.py [--clients 50] [--duration 30] [--threads 8]
                                     [--database-url postgres://postgres@127.0.0.1:5432/postgres]
                                     [--json FILE] [--keep]

In one run, on loopback only, it:

1. creates a throw-away PostgreSQL database (``orsec_bench_ingest_<pid>``), migrates it and
   writes a territory chain (FR → OUEST → R24 → D37), the COD 37 and the SDIS 37, an open
   flood event and a **partner token** of the SDIS 37 holding ``reports:write`` (partner systems
   are the clients that post in bulk);
2. starts the portal as ``manage.py serve`` does (granian, ASGI dispatcher, Django's WSGI handler
   in a thread pool) on a free loopback port;
   (``--workers`` processes, default 2 as docs/deploy.md: one per core);
3. runs ``wrk`` with ``--clients`` connections for ``--duration`` seconds: each request is
   ``POST /api/v1/events/<id>/reports`` with its own JSON body and ``Idempotency-Key`` (so the
   whole write path runs: token check, idempotency record, validation, report row, main courante
   entry on the event's hash chain, audit record on the global chain, live outbox rows);
4. **baseline, same run, same database**: ``--clients`` threads, each with its own psycopg
   connection, executing for ``--duration`` seconds the same inserts and head updates per report,
   one transaction each, with the same locks (the event's chain head, the audit head) — what the
   database alone can do for this write pattern;
5. prints reports/s, p50/p99 latency, the ratio HTTP / raw psycopg, checks that every report
   landed (rows counted, journal chain verified), optionally writes JSON, drops the database.

Goal (issue 3): ratio ≥ 0.3 and p99 < 100 ms on a 2-core machine. Client, server and PostgreSQL
share the cores: figures are a lower bound and compare only within a run.
"""

# ruff: noqa: E402  (path fix-up before imports; a CLI prints)

from __future__ import annotations

import os
import sys

_HERE = os.path.dirname(os.path.abspath(__file__))
_ROOT = os.path.dirname(_HERE)
sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != _HERE]
sys.path.insert(0, _ROOT)

import argparse
import atexit
import datetime as dt
import json
import platform
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import tempfile
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from bench._common import (
    CHILDREN,
    LOOPBACK,
    create_database,
    drop_database,
    free_port,
)
from bench._common import database_urls as _database_urls
from bench._common import stop_all as _stop_all


@dataclass
class Fixture:
    event_id: int
    chain_id: int
    token: str
    report_path: str


@dataclass
class Figures:
    label: str
    reports: int
    seconds: float
    p50_ms: float
    p99_ms: float
    errors: int

    @property
    def rate(self) -> float:
        return self.reports / self.seconds if self.seconds else 0.0


def database_urls(base: str) -> tuple[str, str, str]:
    """(admin URL, bench database URL, bench database name)."""
    return _database_urls(base, "orsec_bench_ingest")


def make_environment(tmp: Path, database_url: str, threads: int) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "SECRET_KEY": secrets.token_urlsafe(48),
            "ALLOWED_HOSTS": LOOPBACK,
            "ORSEC_HTTPS_REDIRECT": "false",
            "DATABASE_URL": database_url,
            "ORSEC_VAR_DIR": str(tmp / "var"),
            "ORSEC_WSGI_THREADS": str(threads),
            "DEBUG": "false",
            "LOG_LEVEL": "WARNING",
            "PYTHONDONTWRITEBYTECODE": "1",
        }
    )
    env.pop("ORSEC_DEMO", None)
    env.pop("REDIS_URL", None)
    return env


def prepare(env: dict[str, str]) -> Fixture:
    """Migrate and write the rows (in-process, through the project's own actions)."""
    os.environ.update(env)
    import django

    django.setup()
    from django.core.management import call_command

    from orsec.accounts.models import Membership, Role, User
    from orsec.directory.models import Organisation
    from orsec.directory.models import OrganisationKind as OK
    from orsec.events.actions import do_open_event
    from orsec.partners.actions import do_issue_token
    from orsec.territories.models import Territory
    from orsec.territories.models import TerritoryKind as TK

    call_command("migrate", verbosity=0, interactive=False)
    parent = None
    for kind, code, name, path in (
        (TK.NATIONAL, "FR", "France", "FR"),
        (TK.ZONE, "OUEST", "Zone de défense Ouest", "FR/OUEST"),
        (TK.REGION, "24", "Centre-Val de Loire", "FR/OUEST/R24"),
        (TK.DEPARTEMENT, "37", "Indre-et-Loire", "FR/OUEST/R24/D37"),
    ):
        parent = Territory.objects.create(kind=kind, code=code, name=name, path=path, parent=parent)
    assert parent is not None
    cod = Organisation.objects.create(
        name="COD 37 (banc)", short_name="COD 37", kind=OK.COD, territory=parent
    )
    sdis = Organisation.objects.create(
        name="SDIS 37 (banc)", short_name="SDIS 37", kind=OK.SDIS, territory=parent
    )
    lead = User.objects.create(username="banc.chef", email="banc.chef@banc.example")
    lead.set_unusable_password()
    lead.save()
    Membership.objects.create(user=lead, organisation=cod, role=Role.ROOM_LEAD)
    event = do_open_event(
        lead, title="Crue de la Loire (banc)", event_type="flood", territory=parent, gravity=3
    )
    admin = User.objects.create(
        username="banc.admin", email="banc.admin@banc.example", is_staff=True, is_superuser=True
    )
    admin.set_unusable_password()
    admin.save()
    admin.is_verified = lambda: True  # type: ignore[attr-defined]  # as after a TOTP login
    _, token = do_issue_token(
        admin, organisation=sdis, territory=parent, verbs=["reports:write"], name="banc ingest"
    )
    return Fixture(event.pk, event.chain.pk, token, f"/api/v1/events/{event.pk}/reports")


def start_server(env: dict[str, str], tmp: Path, threads: int, workers: int) -> int:
    port = free_port()
    argv = [
        sys.executable,
        "-m",
        "granian",
        "--host",
        LOOPBACK,
        "--port",
        str(port),
        "--no-ws",
        "--workers",
        str(workers),
        "--log-level",
        "warning",
        "--working-dir",
        _ROOT,
        "--interface",
        "asgi",
        "config.asgi:application",
    ]
    log = (tmp / "server.log").open("wb")
    process = subprocess.Popen(
        argv,
        cwd=_ROOT,
        env={**env, "ORSEC_WSGI_THREADS": str(threads)},
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    CHILDREN.append(process)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"le serveur s'est arrêté au démarrage : voir {log.name}")
        try:
            with socket.create_connection((LOOPBACK, port), timeout=0.5):
                return port
        except OSError:
            time.sleep(0.2)
    raise SystemExit("le serveur ne répond pas")


def post_one(port: int, fixture: Fixture) -> tuple[int, bytes]:
    import http.client

    connection = http.client.HTTPConnection(LOOPBACK, port, timeout=10)
    body = json.dumps({"template": "general", "text": "Contrôle du banc : remontée de test."})
    try:
        connection.request(
            "POST",
            fixture.report_path,
            body=body,
            headers={
                "Host": LOOPBACK,
                "Content-Type": "application/json",
                "Authorization": f"Bearer {fixture.token}",
            },
        )
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def run_wrk(port: int, fixture: Fixture, clients: int, seconds: int) -> Figures:
    argv = [
        "wrk",
        "-t",
        "2",
        "-c",
        str(clients),
        "-d",
        f"{seconds}s",
        "--timeout",
        "10s",
        "-s",
        os.path.join(_HERE, "wrk_ingest.lua"),
        f"http://{LOOPBACK}:{port}",
        "--",
        fixture.report_path,
        fixture.token,
    ]
    out = subprocess.run(argv, capture_output=True, check=True, timeout=seconds + 120).stdout
    data = json.loads([x for x in out.decode().splitlines() if x.startswith("{")][-1])
    errors = sum(
        data[k]
        for k in ("connect_errors", "read_errors", "write_errors", "status_errors", "timeouts")
    )
    return Figures(
        "HTTP (granian + Django, jeton partenaire)",
        data["requests"],
        data["duration_us"] / 1e6,
        data["p50_us"] / 1000,
        data["p99_us"] / 1000,
        errors,
    )


# --- Baseline: the same inserts per report through raw psycopg ---------------------------------

from bench.ingest_baseline import baseline_transaction


def run_baseline(database_url: str, fixture: Fixture, clients: int, seconds: int) -> Figures:
    import psycopg

    stop_at = time.monotonic() + seconds
    latencies: list[list[float]] = [[] for _ in range(clients)]
    errors = [0] * clients

    def worker(index: int) -> None:
        with psycopg.connect(database_url) as connection:
            n = 0
            while time.monotonic() < stop_at:
                n += 1
                started = time.perf_counter()
                try:
                    with connection.transaction():
                        baseline_transaction(
                            connection, fixture.event_id, fixture.chain_id, index, n
                        )
                except psycopg.Error:
                    errors[index] += 1
                    continue
                latencies[index].append(time.perf_counter() - started)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(clients)]
    began = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - began
    flat = sorted(x for xs in latencies for x in xs)
    if not flat:
        raise SystemExit("ligne de base : aucune transaction n'a abouti")
    return Figures(
        "ligne de base : psycopg brut, mêmes écritures, une transaction par remontée",
        len(flat),
        elapsed,
        statistics.median(flat) * 1000,
        flat[min(len(flat) - 1, int(len(flat) * 0.99))] * 1000,
        sum(errors),
    )


def check_landed(database_url: str, fixture: Fixture, expected_http: int) -> dict[str, Any]:
    """Count the reports and verify the event's journal chain after the run."""
    from orsec.journal.chain import verify_chain
    from orsec.journal.models import JournalChain
    from orsec.reports.models import FieldReport

    chain = JournalChain.objects.get(pk=fixture.chain_id)
    checked, problem = verify_chain(chain)
    return {
        "reports_http": FieldReport.objects.filter(
            event_id=fixture.event_id, channel="api"
        ).count(),
        "expected_http_at_least": expected_http,
        "chain_entries_checked": checked,
        "chain_problem": problem.reason if problem else None,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--duration", type=int, default=30)
    parser.add_argument("--threads", type=int, default=8, help="WSGI threads per worker")
    parser.add_argument(
        "--workers", type=int, default=2, help="server processes (docs/deploy.md: one per core)"
    )
    parser.add_argument(
        "--database-url",
        default=os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres"),
    )
    parser.add_argument("--json", type=Path)
    parser.add_argument("--keep", action="store_true", help="keep the database and temp dir")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk est nécessaire (apt-get install wrk)")
    admin_url, bench_url, name = database_urls(args.database_url)
    tmp = Path(tempfile.mkdtemp(prefix="orsec-bench-ingest-"))
    create_database(admin_url, name)
    atexit.register(_stop_all)
    if not args.keep:
        atexit.register(drop_database, admin_url, name)
        atexit.register(shutil.rmtree, tmp, True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    env = make_environment(tmp, bench_url, args.threads)
    fixture = prepare(env)
    port = start_server(env, tmp, args.threads, args.workers)
    status, body = post_one(port, fixture)
    if status != 201:
        raise SystemExit(f"contrôle : POST a répondu {status} : {body[:300]!r}")
    from django.db import connections

    connections.close_all()
    print(
        f"banc d'ingestion : {args.clients} clients, {args.duration} s, PostgreSQL, "
        f"{os.cpu_count()} cœurs"
    )
    http_figures = run_wrk(port, fixture, args.clients, args.duration)
    _stop_all()
    # before the baseline: its rows carry simplified hashes that the verifier would refuse
    landed = check_landed(bench_url, fixture, http_figures.reports - http_figures.errors)
    base = run_baseline(bench_url, fixture, args.clients, args.duration)
    ratio = http_figures.rate / base.rate if base.rate else 0.0
    print(f"{'':<72} {'remontées/s':>12} {'p50 ms':>8} {'p99 ms':>8} {'erreurs':>8}")
    for f in (http_figures, base):
        print(f"{f.label:<72} {f.rate:>12.1f} {f.p50_ms:>8.1f} {f.p99_ms:>8.1f} {f.errors:>8}")
    print(f"ratio HTTP / psycopg brut : {ratio:.3f}  (objectif ≥ 0.3 ; p99 HTTP objectif < 100 ms)")
    print(f"vérification : {landed}")
    result = {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "args": {
            k: (str(v) if isinstance(v, Path) else v)
            for k, v in vars(args).items()
            if k != "database_url"
        },
        "http": asdict(http_figures) | {"rate": http_figures.rate},
        "baseline": asdict(base) | {"rate": base.rate},
        "ratio": ratio,
        "landed": landed,
    }
    if args.json:
        args.json.write_text(
            json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
        )
    failed = http_figures.errors > 0 or landed["chain_problem"] is not None
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
