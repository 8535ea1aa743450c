"""What `make run` does, end to end, in real processes: prepare the demo twice (the second run keeps
the data and the printed credentials), serve it with granian, and log in over HTTP with the
printed password and a code computed from the printed TOTP secret.
"""

from __future__ import annotations

import base64
import http.client
import os
import re
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import pytest
from django_otp.oath import totp

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow


def demo_env(var_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ORSEC_", "DJANGO_"))}
    for name in ("SECRET_KEY", "ALLOWED_HOSTS", "DEBUG", "DATABASE_URL"):
        env.pop(name, None)
    env.update(
        ORSEC_DEMO="true", ORSEC_VAR_DIR=str(var_dir), DJANGO_SETTINGS_MODULE="config.settings"
    )
    return env


def prepare(env: dict[str, str]) -> tuple[str, float]:
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "manage.py", "prepare_demo"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout, time.monotonic() - started


def account_line(output: str, login: str) -> tuple[str, str]:
    line = next(line for line in output.splitlines() if line.startswith(login + " "))
    fields = line.split()
    return fields[-2], fields[-1]  # password, base32 TOTP secret


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Answer:
    status: int
    location: str
    text: str


class Browserless:
    """A minimal HTTP client that keeps cookies itself (Secure cookies on loopback HTTP)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, form: dict[str, str] | None = None) -> Answer:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        headers = {"Host": f"127.0.0.1:{self.port}", "Accept": "text/html"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = urlencode(form or {})
        if form is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        connection.request(method, path, body=body.encode(), headers=headers)
        response = connection.getresponse()
        answer = Answer(response.status, response.headers.get("Location", ""), "")
        answer.text = response.read().decode()
        for header in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = header.partition("=")
            self.cookies[name] = rest.split(";", 1)[0]
        connection.close()
        return answer

    def csrf(self, page: str) -> str:
        match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
        assert match, "no CSRF token in the form"
        return match.group(1)


def test_prepare_twice_then_serve_and_log_in_with_printed_credentials(tmp_path: Path) -> None:
    env = demo_env(tmp_path)
    first, first_seconds = prepare(env)
    assert "Comptes de démonstration" in first
    password, secret = account_line(first, "operateur.cod37")
    assert len(password) >= 16
    assert len(secret) >= 32
    second, second_seconds = prepare(env)
    assert account_line(second, "operateur.cod37") == (password, secret)
    assert second_seconds < first_seconds
    sys.stdout.write(f"prepare_demo: first {first_seconds:.1f} s, second {second_seconds:.1f} s\n")

    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "manage.py", "serve", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        client = Browserless(port)
        deadline = time.monotonic() + 30
        while True:
            try:
                if client.request("GET", "/sante/").status == 200:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.2)
        assert client.request("GET", "/static/orsec/orsec.css").status == 200

        page = client.request("GET", "/connexion/")
        assert page.status == 200
        form = {
            "csrfmiddlewaretoken": client.csrf(page.text),
            "username": "operateur.cod37",
            "password": password,
        }
        step = client.request("POST", "/connexion/", form)
        assert step.status == 302, step.text
        assert step.location.startswith("/connexion/second-facteur/")
        page = client.request("GET", step.location)
        key = base64.b32decode(secret + "=" * (-len(secret) % 8))
        code = f"{totp(key):06d}"
        done = client.request(
            "POST",
            "/connexion/second-facteur/",
            {"csrfmiddlewaretoken": client.csrf(page.text), "code": code},
        )
        assert done.status == 302, done.text
        home = client.request("GET", "/")
        assert home.status == 200
        assert "Claire Martin" in home.text
        assert "Instance de démonstration" in home.text
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=20)
