"""Settings fail closed: a malformed or missing variable stops the start-up and names itself."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
GOOD = {
    "SECRET_KEY": "k" * 50,
    "ALLOWED_HOSTS": "orsec.example",
    "DATABASE_URL": "sqlite:////tmp/orsec-settings-test.sqlite3",
}
PROBE = (
    "import django; django.setup(); from django.conf import settings; "
    "print('DEBUG', settings.DEBUG); print('COOKIE', settings.SESSION_COOKIE_NAME); "
    "print('REDIRECT', settings.SECURE_SSL_REDIRECT)"
)


def start(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("ORSEC_", "DJANGO_"))}
    for name in ("SECRET_KEY", "ALLOWED_HOSTS", "DEBUG", "DATABASE_URL"):
        clean.pop(name, None)
    clean.update(env, DJANGO_SETTINGS_MODULE="config.settings")
    return subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_production_defaults_are_closed() -> None:
    result = start(GOOD)
    assert result.returncode == 0, result.stderr
    assert "DEBUG False" in result.stdout
    assert "COOKIE __Host-orsec_session" in result.stdout
    assert "REDIRECT True" in result.stdout


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({**GOOD, "DEBUG": "yes"}, "DEBUG"),
        ({**GOOD, "DEBUG": "vrai"}, "DEBUG"),
        ({k: v for k, v in GOOD.items() if k != "SECRET_KEY"}, "SECRET_KEY"),
        ({**GOOD, "SECRET_KEY": "short"}, "SECRET_KEY"),
        ({k: v for k, v in GOOD.items() if k != "ALLOWED_HOSTS"}, "ALLOWED_HOSTS"),
        ({**GOOD, "DATABASE_URL": "mysql://root@localhost/db"}, "DATABASE_URL"),
        ({**GOOD, "ORSEC_SESSION_IDLE_SECONDS": "demain"}, "ORSEC_SESSION_IDLE_SECONDS"),
        ({**GOOD, "ORSEC_HSTS_SECONDS": "3600"}, "ORSEC_HSTS_SECONDS"),
        ({**GOOD, "SECRET_KEY_FILE": "/nonexistent/secret"}, "SECRET_KEY_FILE"),
    ],
)
def test_malformed_or_missing_setting_stops_start_up_naming_it(
    env: dict[str, str], named: str
) -> None:
    result = start(env)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert named in result.stderr.splitlines()[-1]


def test_secret_may_come_from_a_file(tmp_path: Path) -> None:
    secret = tmp_path / "secret"
    secret.write_text("f" * 40 + "\n", encoding="utf-8")
    env = {k: v for k, v in GOOD.items() if k != "SECRET_KEY"}
    result = start({**env, "SECRET_KEY_FILE": str(secret)})
    assert result.returncode == 0, result.stderr


def test_demo_mode_starts_without_secret_and_keeps_debug_off(tmp_path: Path) -> None:
    result = start({"ORSEC_DEMO": "true", "ORSEC_VAR_DIR": str(tmp_path)})
    assert result.returncode == 0, result.stderr
    assert "DEBUG False" in result.stdout
    key_file = tmp_path / "demo-secret-key"
    assert key_file.exists()
    assert oct(key_file.stat().st_mode & 0o777) == "0o600"
    assert len(key_file.read_text(encoding="utf-8").strip()) >= 50
