"""Map settings: no tiles by default (offline); a tile URL adds its origin to the CSP img-src;
a malformed tile URL or a missing attribution stops the start-up with a French message."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
GOOD = {
    "SECRET_KEY": "k" * 50,
    "ALLOWED_HOSTS": "orsec.example",
    "DATABASE_URL": "sqlite:////tmp/orsec-settings-test.sqlite3",
}
PROBE = (
    "import django; django.setup(); from django.conf import settings; "
    "print('TILES', repr(settings.ORSEC_MAP_TILE_URL)); "
    "print('IMG', ' '.join(settings.SECURE_CSP['img-src']))"
)


def start(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("ORSEC_", "DJANGO_"))}
    for name in ("SECRET_KEY", "ALLOWED_HOSTS", "DEBUG", "DATABASE_URL"):
        clean.pop(name, None)
    clean.update(GOOD, **env, DJANGO_SETTINGS_MODULE="config.settings")
    return subprocess.run(  # noqa: S603 — our own interpreter and probe
        [sys.executable, "-c", PROBE],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_default_is_no_tiles_and_the_csp_is_unchanged() -> None:
    result = start({})
    assert result.returncode == 0, result.stderr
    assert "TILES ''" in result.stdout
    assert "IMG 'self' data:\n" in result.stdout


def test_a_tile_url_adds_its_origin_to_img_src() -> None:
    result = start(
        {
            "ORSEC_MAP_TILE_URL": "https://{s}.tuiles.exemple.fr/plan/{z}/{x}/{y}.png",
            "ORSEC_MAP_TILE_ATTRIBUTION": "© Exemple",
        }
    )
    assert result.returncode == 0, result.stderr
    assert "IMG 'self' data: https://*.tuiles.exemple.fr\n" in result.stdout


@pytest.mark.parametrize(
    ("env", "message"),
    [
        (
            {
                "ORSEC_MAP_TILE_URL": "http://tuiles.exemple.fr/{z}/{x}/{y}.png",
                "ORSEC_MAP_TILE_ATTRIBUTION": "x",
            },
            "https://",
        ),
        (
            {
                "ORSEC_MAP_TILE_URL": "https://tuiles.exemple.fr/{z}/{x}.png",
                "ORSEC_MAP_TILE_ATTRIBUTION": "x",
            },
            "{z}, {x} et {y}",
        ),
        (
            {"ORSEC_MAP_TILE_URL": "https://tuiles.exemple.fr/{z}/{x}/{y}.png"},
            "ORSEC_MAP_TILE_ATTRIBUTION",
        ),
        (
            {
                "ORSEC_MAP_TILE_URL": "https://a{s}.exemple.fr/{z}/{x}/{y}.png",
                "ORSEC_MAP_TILE_ATTRIBUTION": "x",
            },
            "{s}",
        ),
    ],
)
def test_bad_tile_settings_stop_the_start_up(env: dict[str, str], message: str) -> None:
    result = start(env)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert message in result.stderr
