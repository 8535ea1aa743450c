"""HTTP serving benchmark: the chosen topology against its alternative and the raw ceiling.

    .venv/bin/python bench/http.py [--duration 10] [--connections 64] [--json FILE]

In one run, on loopback only, it:

1. creates a throw-away SQLite database in a temp dir (migrate; a territory chain, one
   organisation with functions and contacts, one COD operator with a confirmed TOTP device and a
   *verified* session written straight into the session store);
2. starts each server as a child process on a free loopback port — (a) a raw ASGI hello under
   granian (the ceiling), the **dispatcher** (``config.asgi``: granian ASGI, Django's WSGI
   handler in a thread pool), the **alternative** (granian ``--interface wsgi config.wsgi``) and,
   with ``--include-django-asgi``, Django's own ASGI handler for reference;
3. checks every URL answers 200 with the expected content, warms up, then measures requests per
   second and p50/p99 latency for ``/sante/`` (health, one SQL query), the organisation card
   fragment ``/annuaire/<id>/fiche/`` (a full authenticated page fragment whose rendering is
   cached per organisation revision: the access check and the session still run every time) and
   the API read ``/api/v1/organisations/<id>``;
4. prints a table with each figure's ratio to the raw ASGI hello and the dispatcher/WSGI ratio,
   optionally writes it as JSON, stops its children and removes the temp dir.

The load generator is ``wrk`` when installed (Debian: ``apt-get install wrk``), otherwise a
built-in asyncio client (which saturates long before granian does: the raw-hello ceiling, and so
every ratio to it, is then the client's, not the server's — the output says which client ran).
Client and server share the machine's cores: on a 2-core machine the figures are a lower bound
for the server and comparable only with each other.
"""

# ruff: noqa: E402  (the path fix-up below must run before any other import)

from __future__ import annotations

import os
import sys

# This file is named http.py: drop its own folder from the import path, or it would shadow the
# standard library's ``http`` package (Django imports http.cookies).
_HERE = os.path.dirname(os.path.abspath(__file__))
_ROOT = os.path.dirname(_HERE)
sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != _HERE]
sys.path.insert(0, _ROOT)

import argparse
import asyncio
import contextlib
import datetime as dt
import http.client
import json
import platform
import shutil
import socket
import statistics
import subprocess
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bench._common import (
    CHILDREN,
    LOOPBACK,
    bench_environment,
    create_territory_chain,
    free_port,
    install_cleanup,
    process_group_cpu_seconds,
    stop_all,
    verified_session_cookie,
)

ORG_NAME = "Centre opérationnel départemental d'Indre-et-Loire (banc)"


# --- Data ---------------------------------------------------------------------------------------


@dataclass
class Fixture:
    organisation_id: int
    cookie: str  # "name=value"
    api_mounted: bool  # config/urls.py already routes /api/v1/


_SHIM_URLS = """from django.http import HttpResponse
from django.urls import path
from config.urls import *  # noqa: F403
from config.urls import urlpatterns as _project


def trivial(request):
    return HttpResponse("ok", content_type="text/plain")


urlpatterns = [path("banc/trivial/", trivial), *_project]
"""
_SHIM_API = """from config.api import api
urlpatterns.insert(0, path("api/v1/", api.urls))
"""


def write_settings_shim(
    env: dict[str, str], tmp: Path, *, mount_api: bool, conn_max_age: int | None
) -> list[str]:
    """A settings module over ``config.settings``: the project's URLs plus one bench-only URL.

    * ``/banc/trivial/``: a view returning "ok" behind the project's whole middleware stack,
      without database access — the cost of serving itself;
    * ``mount_api``: until ``config/urls.py`` mounts the API, ``api/v1/`` is added;
    * ``conn_max_age``: experiment — persistent database connections (``CONN_MAX_AGE``).
    """
    lines = ["from config.settings import *  # noqa: F403", 'ROOT_URLCONF = "orsec_bench_urls"']
    notes = []
    urls = _SHIM_URLS
    if mount_api:
        urls += _SHIM_API
        notes.append("config/urls.py ne monte pas encore l'API : le banc ajoute path('api/v1/', …)")
    if conn_max_age is not None:
        lines.append(f'DATABASES["default"]["CONN_MAX_AGE"] = {conn_max_age}  # noqa: F405')
        notes.append(f"expérience : CONN_MAX_AGE={conn_max_age} (connexions persistantes)")
    (tmp / "orsec_bench_urls.py").write_text(urls, encoding="utf-8")
    (tmp / "orsec_bench_settings.py").write_text("\n".join(lines) + "\n", encoding="utf-8")
    env["DJANGO_SETTINGS_MODULE"] = "orsec_bench_settings"
    env["PYTHONPATH"] = os.pathsep.join([str(tmp), _ROOT])
    return notes


def make_environment(tmp: Path) -> dict[str, str]:
    return bench_environment(tmp, f"sqlite:///{tmp / 'bench.sqlite3'}")


def prepare_database(env: dict[str, str]) -> Fixture:
    """Migrate the temp database and write the rows and the verified session (in-process)."""
    os.environ.update(env)
    import django

    django.setup()
    from django.core.management import call_command

    import config.urls
    from orsec.accounts.models import Membership, Role, User
    from orsec.directory.models import ContactKind, ContactPoint, Function, Organisation
    from orsec.directory.models import OrganisationKind as OK

    call_command("migrate", verbosity=0, interactive=False)
    parent = create_territory_chain()
    organisation = Organisation.objects.create(
        name=ORG_NAME, short_name="COD 37", kind=OK.COD, territory=parent
    )
    for title in ("Chef de salle", "Opérateur main courante"):
        Function.objects.create(organisation=organisation, title=title)
    for kind, label, value in (
        (ContactKind.PHONE, "Salle COD", "02 99 00 37 10"),
        (ContactKind.RADIO, "Conférence INPT", "TG COD 37"),
        (ContactKind.EMAIL, "Salle", "cod37@banc.example"),
    ):
        ContactPoint.objects.create(
            organisation=organisation, kind=kind, label=label, value=value, available_24_7=True
        )
    user = User.objects.create(username="banc.operateur", email="banc.operateur@banc.example")
    user.set_unusable_password()
    user.save()
    Membership.objects.create(user=user, organisation=organisation, role=Role.COD_OPERATOR)
    cookie = verified_session_cookie(user)  # exactly as the login flow leaves it
    call_command("collectstatic", verbosity=0, interactive=False)
    mounted = any(getattr(p, "namespace", None) == "api" for p in config.urls.urlpatterns)
    return Fixture(organisation.pk, cookie, mounted)


# --- Servers ------------------------------------------------------------------------------------


@dataclass
class Server:
    key: str
    label: str
    argv: list[str]
    extra_env: dict[str, str] = field(default_factory=dict)


def servers(args: argparse.Namespace) -> list[Server]:
    granian = [sys.executable, "-m", "granian", "--host", LOOPBACK, "--no-ws"]
    common = ["--workers", str(args.workers), "--log-level", "warning", "--working-dir", _ROOT]
    workers = f" x{args.workers} workers" if args.workers > 1 else ""
    result = [
        Server(
            "hello",
            "raw ASGI hello (granian asgi)",
            [*granian, *common, "--interface", "asgi", "bench.hello_asgi:app"],
        ),
        Server(
            "dispatcher",
            f"dispatcher: granian asgi + WSGI pool ({args.threads} threads){workers}",
            [*granian, *common, "--interface", "asgi", "config.asgi:application"],
            {"ORSEC_WSGI_THREADS": str(args.threads)},
        ),
        Server(
            "wsgi",
            f"alternative: granian wsgi ({args.threads} blocking threads){workers}",
            [
                *granian,
                *common,
                "--interface",
                "wsgi",
                "--blocking-threads",
                str(args.threads),
                "config.wsgi:application",
            ],
        ),
    ]
    if args.include_django_asgi:
        result.append(
            Server(
                "django_asgi",
                "reference: Django ASGIHandler (granian asgi)",
                [*granian, *common, "--interface", "asgi", "bench.django_asgi:application"],
            )
        )
    return result


def http_get(port: int, path: str, cookie: str | None, timeout: float = 5.0) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection(LOOPBACK, port, timeout=timeout)
    try:
        headers = {"Host": LOOPBACK, "Accept": "text/html,application/json"}
        if cookie:
            headers["Cookie"] = cookie
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def start(server: Server, env: dict[str, str], tmp: Path) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    argv = [*server.argv]
    argv[argv.index("--host") + 2 : argv.index("--host") + 2] = ["--port", str(port)]
    log = (tmp / f"{server.key}.log").open("wb")
    process = subprocess.Popen(
        argv,
        cwd=_ROOT,
        env={**env, **server.extra_env},
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    CHILDREN.append(process)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"{server.label} s'est arrêté au démarrage : voir {log.name}")
        try:
            with socket.create_connection((LOOPBACK, port), timeout=0.5):
                return process, port
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"{server.label} ne répond pas sur le port {port}")


# --- Load generators ----------------------------------------------------------------------------


@dataclass
class Measure:
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    errors: int

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def run_wrk(
    port: int, path: str, cookie: str | None, args: argparse.Namespace, seconds: float
) -> Measure:
    argv = [
        "wrk",
        "-t",
        str(args.client_threads),
        "-c",
        str(args.connections),
        "-d",
        f"{max(1, round(seconds))}s",
        "--timeout",
        "5s",
        "-s",
        os.path.join(_HERE, "wrk_report.lua"),
        "-H",
        f"Host: {LOOPBACK}",
    ]
    if cookie:
        argv += ["-H", f"Cookie: {cookie}"]
    argv.append(f"http://{LOOPBACK}:{port}{path}")
    out = subprocess.run(argv, capture_output=True, check=True, timeout=seconds + 60).stdout
    line = [x for x in out.decode().splitlines() if x.startswith("{")][-1]
    data = json.loads(line)
    errors = sum(
        data[k]
        for k in ("connect_errors", "read_errors", "write_errors", "status_errors", "timeouts")
    )
    return Measure(
        requests=data["requests"],
        seconds=data["duration_us"] / 1e6,
        p50_ms=data["p50_us"] / 1000,
        p99_ms=data["p99_us"] / 1000,
        errors=errors,
    )


class _ClientConnection(asyncio.Protocol):
    """One keep-alive HTTP/1.1 connection sending the same GET in a closed loop."""

    def __init__(self, request: bytes, deadline: float, sink: list[float], errors: list[int]):
        self.request = request
        self.deadline = deadline
        self.sink = sink
        self.errors = errors
        self.buffer = bytearray()
        self.sent_at = 0.0
        self.done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self._send()

    def _send(self) -> None:
        assert self.transport is not None
        self.sent_at = time.perf_counter()
        self.transport.write(self.request)

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = bytes(self.buffer[:end]).lower()
            status = int(head[9:12])
            length_at = head.find(b"content-length:")
            if length_at >= 0:
                line_end = head.find(b"\r\n", length_at)
                length = int(head[length_at + 15 : line_end if line_end > 0 else None])
                total = end + 4 + length
                if len(self.buffer) < total:
                    return
            else:  # chunked: good enough for a benchmark (no trailers)
                stop = self.buffer.find(b"\r\n0\r\n\r\n", end)
                if stop < 0:
                    return
                total = stop + 7
            del self.buffer[:total]
            self.sink.append(time.perf_counter() - self.sent_at)
            if status >= 400:
                self.errors.append(status)
            if time.perf_counter() >= self.deadline:
                assert self.transport is not None
                self.transport.close()
                return
            self._send()

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.done.done():
            self.done.set_result(None)


async def _python_load(port: int, request: bytes, connections: int, seconds: float) -> Measure:
    loop = asyncio.get_running_loop()
    latencies: list[float] = []
    errors: list[int] = []
    started = time.perf_counter()
    deadline = started + seconds
    protocols = []
    for _ in range(connections):
        _, protocol = await loop.create_connection(
            lambda: _ClientConnection(request, deadline, latencies, errors), LOOPBACK, port
        )
        protocols.append(protocol)
    await asyncio.wait_for(asyncio.gather(*(p.done for p in protocols)), seconds + 30)
    elapsed = time.perf_counter() - started
    if not latencies:
        return Measure(0, elapsed, 0.0, 0.0, len(errors) + 1)
    cuts = statistics.quantiles(latencies, n=100, method="inclusive")
    return Measure(len(latencies), elapsed, cuts[49] * 1000, cuts[98] * 1000, len(errors))


def run_python(
    port: int, path: str, cookie: str | None, args: argparse.Namespace, seconds: float
) -> Measure:
    lines = [f"GET {path} HTTP/1.1", f"Host: {LOOPBACK}", "Accept: */*"]
    if cookie:
        lines.append(f"Cookie: {cookie}")
    request = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    return asyncio.run(_python_load(port, request, args.connections, seconds))


# --- Orchestration ------------------------------------------------------------------------------


@dataclass
class Row:
    server: str
    server_label: str
    endpoint: str
    path: str
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int
    requests: int
    cpu_ms_per_request: float = 0.0  # server processes only
    round: int = 1
    load_1min: float = 0.0  # load average when the measure started (other processes' noise)
    rps_min: float = 0.0
    rps_max: float = 0.0
    ratio_to_hello: float = 0.0


ENDPOINT_KEYS = ("trivial", "health", "fragment", "api")


def endpoints(
    server: Server, fixture: Fixture, only: list[str] | None = None
) -> list[tuple[str, str, str | None, bytes]]:
    """(name, path, cookie, bytes the 200 body must contain)."""
    if server.key == "hello":
        return [("hello", "/", None, b"Bonjour")]
    org = fixture.organisation_id
    every = [
        ("trivial view /banc/trivial/ (bench only)", "/banc/trivial/", None, b"ok"),
        ("health /sante/", "/sante/", None, b'"ok"'),
        (
            "fragment /annuaire/<id>/fiche/ (cached card)",
            f"/annuaire/{org}/fiche/",
            fixture.cookie,
            b"COD 37",
        ),
        (
            "API /api/v1/organisations/<id>",
            f"/api/v1/organisations/{org}",
            fixture.cookie,
            b'"short_name":"COD 37"',
        ),
    ]
    return [e for key, e in zip(ENDPOINT_KEYS, every, strict=True) if not only or key in only]


@dataclass
class Running:
    server: Server
    process: subprocess.Popen[bytes]
    port: int


def measure_one(
    running: Running,
    endpoint: tuple[str, str, str | None, bytes],
    args: argparse.Namespace,
    round_no: int,
) -> Row:
    """Check one URL answers 200 with the expected content, warm up, measure."""
    server, process, port = running.server, running.process, running.port
    name, path, cookie, expected = endpoint
    run = run_wrk if args.client == "wrk" else run_python
    status, body = http_get(port, path, cookie)
    if status != 200 or expected not in body.replace(b": ", b":"):
        raise SystemExit(
            f"{server.label} {path}: HTTP {status}, contenu inattendu : {body[:300]!r}"
        )
    if args.warmup:
        run(port, path, cookie, args, args.warmup)
    load = os.getloadavg()[0]
    cpu_before = process_group_cpu_seconds(process.pid)
    result = run(port, path, cookie, args, args.duration)
    cpu = process_group_cpu_seconds(process.pid) - cpu_before
    cpu_ms = round(cpu * 1000 / result.requests, 3) if result.requests else 0.0
    status_after, _ = http_get(port, path, cookie)
    errors = result.errors + (status_after != 200)
    print(
        f"  [{round_no}] {server.key:<11} {name:<42} {result.rps:>8,.0f} req/s  "
        f"p50 {result.p50_ms:7.2f} ms  p99 {result.p99_ms:7.2f} ms  "
        f"CPU {cpu_ms:6.3f} ms/req  erreurs {errors}  charge {load:.2f}",
        flush=True,
    )
    return Row(
        server.key,
        server.label,
        name,
        path,
        round(result.rps, 1),
        round(result.p50_ms, 2),
        round(result.p99_ms, 2),
        errors,
        result.requests,
        cpu_ms,
        round_no,
        round(load, 2),
    )


def measure_all(runnings: list[Running], fixture: Fixture, args: argparse.Namespace) -> list[Row]:
    """Paired design: all servers run at once (idle ones cost nothing) and, for each URL, the
    topologies are measured back to back, in an order that alternates from one round and one
    URL to the next — a burst of load from another process on the shared machine then hits
    them alike."""
    samples = []
    hello = [r for r in runnings if r.server.key == "hello"]
    compared = [r for r in runnings if r.server.key != "hello"]
    for round_no in range(1, args.rounds + 1):
        for running in hello:
            samples.append(
                measure_one(running, endpoints(running.server, fixture)[0], args, round_no)
            )
        if not compared:
            continue
        for index in range(len(endpoints(compared[0].server, fixture, args.endpoint))):
            flip = (round_no + index) % 2 == 0
            for running in reversed(compared) if flip else compared:
                endpoint = endpoints(running.server, fixture, args.endpoint)[index]
                samples.append(measure_one(running, endpoint, args, round_no))
    return samples


def summarise(samples: list[Row]) -> list[Row]:
    """One row per (server, endpoint): medians over the rounds, with the req/s spread."""
    groups: dict[tuple[str, str], list[Row]] = {}
    for sample in samples:
        groups.setdefault((sample.server, sample.path), []).append(sample)
    rows = []
    for group in groups.values():
        first = group[0]
        rows.append(
            Row(
                first.server,
                first.server_label,
                first.endpoint,
                first.path,
                round(statistics.median(r.rps for r in group), 1),
                round(statistics.median(r.p50_ms for r in group), 2),
                round(statistics.median(r.p99_ms for r in group), 2),
                sum(r.errors for r in group),
                sum(r.requests for r in group),
                round(statistics.median(r.cpu_ms_per_request for r in group), 3),
                len(group),
                round(statistics.median(r.load_1min for r in group), 2),
                min(r.rps for r in group),
                max(r.rps for r in group),
            )
        )
    order = {"hello": 0, "dispatcher": 1, "wsgi": 2, "django_asgi": 3}
    rows.sort(key=lambda r: order.get(r.server, 9))
    hello = next((r.rps for r in rows if r.server == "hello"), 0.0)
    for row in rows:
        row.ratio_to_hello = round(row.rps / hello, 4) if hello else 0.0
    return rows


def machine() -> dict[str, Any]:
    model = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    import django
    import granian

    return {
        "cpus": os.cpu_count(),
        "cpu_model": model,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "django": django.get_version(),
        "granian": granian.__version__,
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
    }


def client_description(args: argparse.Namespace) -> str:
    if args.client == "wrk":
        out = subprocess.run(["wrk", "-v"], capture_output=True, check=False)
        version = (out.stdout or out.stderr).decode().split("\n", 1)[0].strip()
        return f"{version} (-t{args.client_threads} -c{args.connections})"
    return f"built-in asyncio client, 1 process (-c{args.connections})"


def print_table(rows: list[Row], rounds: int) -> None:
    print()
    if rounds > 1:
        print(f"Médianes sur {rounds} tours (req/s min-max entre crochets)")
    header = (
        f"{'server':<50} {'endpoint':<42} {'req/s':>8} {'p50 ms':>7} {'p99 ms':>7} "
        f"{'CPU ms':>7} {'/hello':>7}"
    )
    print(header)
    print("-" * len(header))
    for row in rows:
        print(
            f"{row.server_label:<50} {row.endpoint:<42} {row.rps:>8,.0f} {row.p50_ms:>7.2f} "
            f"{row.p99_ms:>7.2f} {row.cpu_ms_per_request:>7.3f} {row.ratio_to_hello:>7.3f}"
            + (f"  [{row.rps_min:,.0f}-{row.rps_max:,.0f}]" if rounds > 1 else "")
            + ("  ERREURS" if row.errors else "")
        )


def paired_ratios(samples: list[Row], candidate: str, baseline: str) -> list[dict[str, Any]]:
    """Per URL, the median over rounds of candidate/baseline measured back to back."""
    by_key = {(r.server, r.path, r.round): r for r in samples}
    result = []
    for path in dict.fromkeys(r.path for r in samples if r.server == candidate):
        rps, cpu = [], []
        for (server, p, round_no), row in by_key.items():
            other = by_key.get((baseline, p, round_no))
            if server != candidate or p != path or other is None:
                continue
            if other.rps:
                rps.append(row.rps / other.rps)
            if other.cpu_ms_per_request:
                cpu.append(row.cpu_ms_per_request / other.cpu_ms_per_request)
        if rps:
            endpoint = next(r.endpoint for r in samples if r.path == path)
            result.append(
                {
                    "endpoint": endpoint,
                    "path": path,
                    "rps_ratio": round(statistics.median(rps), 3),
                    "cpu_per_request_ratio": round(statistics.median(cpu), 3) if cpu else None,
                    "rounds": len(rps),
                }
            )
    return result


def print_ratios(title: str, ratios: list[dict[str, Any]]) -> None:
    if not ratios:
        return
    print(f"\n{title} (médiane des rapports mesurés côte à côte)")
    for ratio in ratios:
        cpu = ratio["cpu_per_request_ratio"]
        print(
            f"  {ratio['endpoint']:<42} req/s x{ratio['rps_ratio']:.2f}   "
            f"CPU/req x{cpu if cpu is not None else float('nan'):.2f}"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per measure")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds of warm-up per URL")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=1, help="repeat the whole comparison")
    parser.add_argument("--threads", type=int, default=8, help="WSGI threads (both topologies)")
    parser.add_argument("--workers", type=int, default=1, help="granian worker processes")
    parser.add_argument("--client", choices=("auto", "wrk", "python"), default="auto")
    parser.add_argument("--client-threads", type=int, default=1, help="wrk threads")
    parser.add_argument(
        "--only",
        choices=("hello", "dispatcher", "wsgi", "django_asgi"),
        action="append",
        help="measure only these servers (repeatable)",
    )
    parser.add_argument(
        "--endpoint",
        choices=ENDPOINT_KEYS,
        action="append",
        help="measure only these URLs (repeatable; default: all)",
    )
    parser.add_argument("--include-django-asgi", action="store_true")
    parser.add_argument(
        "--conn-max-age",
        type=int,
        help="experiment: override CONN_MAX_AGE (persistent connections) in the servers",
    )
    parser.add_argument("--json", type=Path, help="write the results as JSON to this file")
    parser.add_argument("--keep", action="store_true", help="keep the temp dir (logs, database)")
    args = parser.parse_args()
    if not 1 <= args.duration <= 120 or not 1 <= args.connections <= 1024:
        parser.error("--duration in [1, 120] s, --connections in [1, 1024]")
    if not 1 <= args.rounds <= 10 or not 0 <= args.warmup <= 30:
        parser.error("--rounds in [1, 10], --warmup in [0, 30] s")
    if args.client == "auto":
        args.client = "wrk" if shutil.which("wrk") else "python"

    install_cleanup()
    tmp = Path(tempfile.mkdtemp(prefix="orsec-bench-"))
    started = dt.datetime.now(dt.UTC)
    try:
        env = make_environment(tmp)
        print(f"Base de données temporaire : {tmp}", flush=True)
        fixture = prepare_database(env)
        notes = write_settings_shim(
            env, tmp, mount_api=not fixture.api_mounted, conn_max_age=args.conn_max_age
        )
        for note in notes:
            print(f"Note : {note}.")
        info = machine()
        client = client_description(args)
        print(f"Client de charge : {client}")
        print(
            f"Machine : {info['cpus']} cœurs ({info['cpu_model']}), "
            f"charge {info['load_average_at_start']}"
        )
        print("Client et serveurs se partagent les mêmes cœurs : chiffres comparables entre eux.\n")
        chosen = [s for s in servers(args) if not args.only or s.key in args.only]
        runnings = []
        for server in chosen:
            process, port = start(server, env, tmp)
            runnings.append(Running(server, process, port))
        samples = measure_all(runnings, fixture, args)
        stop_all()
        rows = summarise(samples)
        print_table(rows, args.rounds)
        ratios = {
            "dispatcher_vs_wsgi": paired_ratios(samples, "dispatcher", "wsgi"),
            "django_asgi_vs_wsgi": paired_ratios(samples, "django_asgi", "wsgi"),
        }
        print_ratios("dispatcher / WSGI", ratios["dispatcher_vs_wsgi"])
        print_ratios("Django ASGIHandler / WSGI", ratios["django_asgi_vs_wsgi"])
        if args.json:
            args.json.write_text(
                json.dumps(
                    {
                        "date": started.isoformat(timespec="seconds"),
                        "command": " ".join([".venv/bin/python", "bench/http.py", *sys.argv[1:]]),
                        "client": client,
                        "machine": info,
                        "parameters": {
                            k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()
                        },
                        "notes": notes,
                        "results": [asdict(r) for r in rows],
                        "paired_ratios": ratios,
                        "samples": [asdict(r) for r in samples],
                    },
                    indent=2,
                    ensure_ascii=False,
                )
                + "\n",
                encoding="utf-8",
            )
        return 1 if any(r.errors for r in rows) else 0
    finally:
        stop_all()
        if args.keep:
            print(f"Dossier conservé : {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
