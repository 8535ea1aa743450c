"""Real processes for the multi-node and fault tests of the live streams.

* :class:`PrivateRedis` — a ``redis-server`` of the test's own on a free loopback port (no
  persistence), so that killing it never disturbs anything else on the machine.
* :class:`PrivatePostgres` — a throw-away PostgreSQL cluster in a temporary directory
  (``initdb`` + ``pg_ctl``, trust authentication on loopback), so that it can be restarted
  without touching the machine's shared server.
* :class:`Node` — ``manage.py serve`` (granian) in its own process group, against a given
  database and Redis, with production settings (``config.settings``).
* :class:`Api` — a session client of a node (the persona's cookie, a CSRF token of its own).
"""

from __future__ import annotations

import contextlib
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
from django.conf import settings

from orsec.live.testing import free_port

ROOT = Path(__file__).resolve().parent.parent


def wait_port(port: int, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {timeout} s")


def database_url(name: str, port: int | None = None, host: str | None = None) -> str:
    db = settings.DATABASES["default"]
    user = db.get("USER") or "postgres"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    host = host or db.get("HOST") or "127.0.0.1"
    port = port or int(db.get("PORT") or 5432)
    return f"postgres://{user}{password}@{host}:{port}/{name}"


# --- Redis ----------------------------------------------------------------------------------


class PrivateRedis:
    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.workdir = workdir
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        binary = shutil.which("redis-server")
        assert binary, "redis-server est introuvable"
        self.process = subprocess.Popen(
            [
                binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.workdir),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_port(self.port)

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)
        self.process = None


# --- PostgreSQL -----------------------------------------------------------------------------


def _pg_bin(name: str) -> str:
    candidates = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"), reverse=True)
    if candidates:
        return str(candidates[0])
    found = shutil.which(name)
    assert found, f"{name} est introuvable"
    return found


class PrivatePostgres:
    """A PostgreSQL cluster of the test's own. ``initdb`` refuses to run as root: as root the
    cluster belongs to the ``postgres`` system user (``runuser``)."""

    def __init__(self) -> None:
        self.port = free_port()
        self.base = Path(tempfile.mkdtemp(prefix="orsec-pg-"))
        self.data = self.base / "data"
        self.as_user: list[str] = []
        if os.geteuid() == 0:
            owner = pwd.getpwnam("postgres")
            os.chown(self.base, owner.pw_uid, owner.pw_gid)
            self.as_user = ["runuser", "-u", "postgres", "--"]

    def _run(self, *argv: str) -> None:
        subprocess.run([*self.as_user, *argv], check=True, capture_output=True, timeout=120)

    @property
    def options(self) -> str:
        return (
            f"-p {self.port} -k {self.base} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c full_page_writes=off"
        )

    def init(self) -> None:
        self._run(_pg_bin("initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres",
                  "--no-sync", "-E", "UTF8")  # fmt: skip
        self.start()

    def pg_ctl(self, *args: str) -> None:
        self._run(_pg_bin("pg_ctl"), "-D", str(self.data), "-o", self.options, "-l",
                  str(self.base / "log"), "-w", *args)  # fmt: skip

    def start(self) -> None:
        self.pg_ctl("start")

    def restart(self) -> None:
        self.pg_ctl("-m", "fast", "restart")

    def url(self, name: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{name}"

    def copy_database(self, source_url: str, name: str) -> None:
        """``pg_dump`` of ``source_url`` restored here as ``name`` (schema and committed data)."""
        self._run(_pg_bin("createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U",
                  "postgres", name)  # fmt: skip
        dump = subprocess.run(
            [_pg_bin("pg_dump"), "--no-owner", "--no-privileges", source_url],
            check=True,
            capture_output=True,
            timeout=300,
        )
        subprocess.run(
            [_pg_bin("psql"), "-q", "-v", "ON_ERROR_STOP=1", self.url(name)],
            input=dump.stdout,
            check=True,
            capture_output=True,
            timeout=300,
        )

    def started_at(self) -> str:
        """When the postmaster started (changes on every restart)."""
        result = subprocess.run(
            [_pg_bin("psql"), "-Atc", "select pg_postmaster_start_time()", self.url("postgres")],
            check=True,
            capture_output=True,
            text=True,
            timeout=30,
        )
        return result.stdout.strip()

    def destroy(self) -> None:
        with contextlib.suppress(subprocess.SubprocessError):
            self.pg_ctl("-m", "immediate", "stop")
        shutil.rmtree(self.base, ignore_errors=True)


# --- Application nodes ----------------------------------------------------------------------


def node_env(database: str, redis_url: str, var_dir: Path, **extra: str) -> dict[str, str]:
    """The environment of a production node (``config.settings``), on loopback HTTP."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ORSEC_", "DJANGO_"))}
    for name in ("SECRET_KEY", "ALLOWED_HOSTS", "DEBUG", "DATABASE_URL", "REDIS_URL"):
        env.pop(name, None)
    var_dir.mkdir(parents=True, exist_ok=True)
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        SECRET_KEY=settings.SECRET_KEY,  # the sessions made by the test client stay valid
        ALLOWED_HOSTS="127.0.0.1,localhost",
        ORSEC_HTTPS_REDIRECT="false",
        ORSEC_VAR_DIR=str(var_dir),
        DATABASE_URL=database,
        REDIS_URL=redis_url,
        ORSEC_LIVE_BACKEND="redis",
        ORSEC_LIVE_POLL_SECONDS="30",  # with Redis healthy, only notifications wake the hub
        ORSEC_LIVE_FALLBACK_POLL_SECONDS="0.5",
        **extra,
    )
    return env


class Node:
    """``manage.py serve`` (granian, one worker) in a process group of its own."""

    def __init__(self, env: dict[str, str], logs: Path, name: str) -> None:
        self.env = env
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = logs / f"{name}.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> Node:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "manage.py", "serve", "--port", str(self.port), "--threads", "8"],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.log.read_text()[-3000:]
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(self.url + "/sante/", timeout=2).status_code < 500:
                    return self
            time.sleep(0.2)
        raise RuntimeError(f"the node did not start: {self.log.read_text()[-3000:]}")

    def kill(self) -> None:
        """SIGKILL to the whole process group (granian and its worker): a crashed node."""
        if self.process is not None and self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)

    def worker_pids(self) -> list[int]:
        """The processes of the node (granian's main process and its worker)."""
        assert self.process is not None
        group = os.getpgid(self.process.pid)
        pids = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                with contextlib.suppress(OSError):
                    if os.getpgid(int(entry.name)) == group:
                        pids.append(int(entry.name))
        return sorted(pids)

    def rss_kb(self) -> int:
        """Resident memory of the node's processes, in kB (``VmRSS``)."""
        total = 0
        for pid in self.worker_pids():
            with contextlib.suppress(OSError):
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
        return total


@contextlib.contextmanager
def running(*nodes: Node) -> Iterator[tuple[Node, ...]]:
    try:
        for node in nodes:
            node.start()
        yield nodes
    finally:
        for node in nodes:
            node.kill()


# --- A persona's session on a node ----------------------------------------------------------


class Api:
    """Requests to a node with a persona's session cookie and a CSRF token of our own."""

    def __init__(self, base_url: str, session_cookie: str) -> None:
        self.csrf = secrets.token_hex(16)  # 32 characters: an unmasked CSRF secret
        cookie = f"{session_cookie}; {settings.CSRF_COOKIE_NAME}={self.csrf}"
        self.http = httpx.Client(
            base_url=base_url,
            headers={"Cookie": cookie},
            timeout=httpx.Timeout(10.0, read=30.0),
        )
        self.cookie = session_cookie

    def write_entry(self, event_id: int, text: str) -> dict[str, Any]:
        response = self.http.post(
            f"/api/v1/events/{event_id}/journal",
            json={"text": text, "channel": "radio"},
            headers={"X-CSRFToken": self.csrf},
        )
        assert response.status_code == 201, response.text
        return dict(response.json())

    def stream(self, path: str, **headers: str) -> httpx.Response:
        request = self.http.build_request(
            "GET", path, headers={"Accept": "text/event-stream", **headers}
        )
        return self.http.send(request, stream=True)

    def close(self) -> None:
        self.http.close()
