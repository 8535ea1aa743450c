"""Helpers shared by the benchmarks: children, loopback ports, throw-away databases, fixtures.

Imported by ``bench/ingest.py``, ``bench/http.py`` and ``bench/live.py`` after their path
fix-up (``bench/`` out of ``sys.path``, the repository root in).
"""

from __future__ import annotations

import atexit
import contextlib
import os
import resource
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
from collections.abc import Callable
from typing import Any

LOOPBACK = "127.0.0.1"
CHILDREN: list[subprocess.Popen[bytes]] = []

#: The territory chain every bench writes (kind attribute name, code, name, path).
TERRITORY_CHAIN = (
    ("NATIONAL", "FR", "France", "FR"),
    ("ZONE", "OUEST", "Zone de défense Ouest", "FR/OUEST"),
    ("REGION", "24", "Centre-Val de Loire", "FR/OUEST/R24"),
    ("DEPARTEMENT", "37", "Indre-et-Loire", "FR/OUEST/R24/D37"),
)


def stop_child(process: subprocess.Popen[bytes], timeout: float = 10.0) -> None:
    """SIGTERM the child's process group (granian and its workers), SIGKILL after ``timeout``."""
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=timeout)


def stop_all() -> None:
    while CHILDREN:
        stop_child(CHILDREN.pop())


# --- clean-up, signals, phase deadlines ---------------------------------------------------------

_CLEANUPS: list[tuple[Callable[..., Any], tuple[Any, ...]]] = []
_CLEANUP_LOCK = threading.Lock()


def on_cleanup(function: Callable[..., Any], *args: Any) -> None:
    """Run ``function(*args)`` when the bench ends, however it ends (normal exit, exception,
    SIGINT, SIGTERM, SIGHUP, a phase past its deadline); last registered, first run."""
    _CLEANUPS.append((function, args))


def run_cleanups() -> None:
    """Stop the children first (the server holds database connections), then the rest."""
    with _CLEANUP_LOCK:
        stop_all()
        while _CLEANUPS:
            function, args = _CLEANUPS.pop()
            try:
                function(*args)
            except Exception as error:  # report and go on cleaning
                print(f"nettoyage : {function.__name__} a échoué : {error!r}", file=sys.stderr)


def _on_signal(signum: int, frame: Any) -> None:
    name = signal.Signals(signum).name
    print(f"\n{name} reçu : arrêt du serveur et des enfants, base supprimée.", file=sys.stderr)
    run_cleanups()
    os._exit(128 + signum)  # no interpreter shutdown: it would wait for worker threads


def install_cleanup() -> None:
    """Clean up at exit and on SIGINT/SIGTERM/SIGHUP: the children are stopped and the
    throw-away database dropped at once, whatever the bench was waiting for."""
    atexit.register(run_cleanups)
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _on_signal)


class Watchdog:
    """Every phase of a bench has a deadline: past it, the phase is named, the children stopped,
    the database dropped and the process exits with status 3 — a bench never hangs."""

    def __init__(self) -> None:
        self.name = ""
        self.deadline = float("inf")
        self.hint = ""
        self.started = time.monotonic()
        thread = threading.Thread(target=self._watch, name="watchdog", daemon=True)
        thread.start()

    def phase(self, name: str, seconds: float, hint: str = "") -> None:
        self.name, self.hint = name, hint
        self.started = time.monotonic()
        self.deadline = self.started + seconds

    def done(self) -> None:
        self.name, self.deadline = "", float("inf")

    def _watch(self) -> None:
        while True:
            time.sleep(0.5)
            if time.monotonic() > self.deadline:
                elapsed = time.monotonic() - self.started
                print(
                    f"\nphase « {self.name} » sans fin après {elapsed:.0f} s : arrêt."
                    + (f" {self.hint}" if self.hint else ""),
                    file=sys.stderr,
                    flush=True,
                )
                run_cleanups()
                os._exit(3)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        return int(sock.getsockname()[1])


def raise_nofile() -> int:
    """Raise this process's open-files limit to its hard limit; return the new soft limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def bench_environment(tmp: Any, database_url: str, **extra: str) -> dict[str, str]:
    """The environment of a bench's server and of its in-process set-up: production settings
    on loopback, a fresh secret key, the bench's database and var dir, no demo data."""
    env = dict(os.environ)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "SECRET_KEY": secrets.token_urlsafe(48),
            "ALLOWED_HOSTS": LOOPBACK,
            "ORSEC_HTTPS_REDIRECT": "false",
            "DATABASE_URL": database_url,
            "ORSEC_VAR_DIR": os.path.join(str(tmp), "var"),
            "DEBUG": "false",
            "LOG_LEVEL": "WARNING",
            "PYTHONDONTWRITEBYTECODE": "1",
            **extra,
        }
    )
    env.pop("ORSEC_DEMO", None)
    return env


def database_urls(base: str, prefix: str) -> tuple[str, str, str]:
    """(admin URL, bench database URL, bench database name ``<prefix>_<pid>``)."""
    parsed = urllib.parse.urlparse(base)
    name = f"{prefix}_{os.getpid()}"
    return base, parsed._replace(path="/" + name).geturl(), name


def create_database(admin_url: str, name: str) -> None:
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')


def drop_database(admin_url: str, name: str) -> None:
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def create_territory_chain() -> Any:
    """FR → OUEST → R24 → D37; returns the département (call after ``django.setup()``)."""
    from orsec.territories.models import Territory, TerritoryKind

    parent = None
    for kind, code, name, path in TERRITORY_CHAIN:
        parent = Territory.objects.create(
            kind=getattr(TerritoryKind, kind), code=code, name=name, path=path, parent=parent
        )
    assert parent is not None
    return parent


def verified_session_cookie(user: Any) -> str:
    """A *verified* session of ``user`` (confirmed TOTP device created if absent), written straight
    into the session store exactly as the login flow leaves it; returns the ``Cookie`` value."""
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.utils.module_loading import import_string
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from orsec.accounts import sessions

    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        device = TOTPDevice.objects.create(
            user=user, name="banc", key=secrets.token_hex(20), confirmed=True
        )
    store = import_string(settings.SESSION_ENGINE + ".SessionStore")()
    now = sessions.now_seconds()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store[DEVICE_ID_SESSION_KEY] = device.persistent_id
    store[sessions.LOGIN_AT_KEY] = now
    store[sessions.SEEN_AT_KEY] = now
    store.create()
    return f"{settings.SESSION_COOKIE_NAME}={store.session_key}"


def _group_pids(pgid: int) -> list[str]:
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[2]) == pgid:  # field 5 of stat: pgrp
            pids.append(entry)
    return pids


def process_group_rss_kib(pgid: int) -> int:
    """The summed VmRSS (KiB) of every process of group ``pgid`` (granian and its workers)."""
    total = 0
    for pid in _group_pids(pgid):
        with (
            contextlib.suppress(OSError, ValueError, StopIteration),
            open(f"/proc/{pid}/status", encoding="ascii", errors="replace") as handle,
        ):
            total += next(int(line.split()[1]) for line in handle if line.startswith("VmRSS:"))
    return total


def process_group_cpu_seconds(pgid: int) -> float:
    """User + system CPU seconds of every process of group ``pgid`` (Linux ``/proc``).

    CPU time per request does not depend on what other processes do with the cores, unlike
    requests per second: on a shared machine it is the steadier figure to compare servers."""
    ticks = 0
    for pid in _group_pids(pgid):
        with contextlib.suppress(OSError, IndexError, ValueError):
            with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
            ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")
