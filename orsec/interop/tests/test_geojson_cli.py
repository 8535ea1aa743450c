"""``orsec interop validate`` on GeoJSON files, run as a separate process."""

from __future__ import annotations

import json
from pathlib import Path

from .test_cli import run

FIXTURES = Path(__file__).parent / "fixtures" / "geojson"


def test_cli_exits_0_on_a_valid_geojson_polygon():
    result = run("interop", "validate", str(FIXTURES / "valid" / "polygon" / "basic.json"))
    assert result.returncode == 0, result.stdout.decode() + result.stderr.decode()
    assert result.stdout.decode().strip() == "geojson : valide"


def test_cli_exits_1_with_pointer_and_code_on_an_invalid_geojson():
    result = run("interop", "validate", str(FIXTURES / "invalid" / "point" / "bad-bbox.json"))
    out = result.stdout.decode()
    assert result.returncode == 1
    assert "geojson : invalide (1 erreur)" in out
    assert "/bbox [geojson_schema]" in out


def test_cli_reports_an_open_ring_in_json_from_stdin():
    ring = [[0, 0], [1, 0], [1, 1], [0, 1], [0, 0.5]]
    document = {"type": "Polygon", "coordinates": [ring]}
    result = run("interop", "validate", "--json", "-", stdin=json.dumps(document).encode())
    assert result.returncode == 1
    payload = json.loads(result.stdout)
    assert payload["standard"] == "geojson"
    assert payload["errors"][0]["code"] == "geojson_ring_not_closed"
    assert payload["errors"][0]["path"] == "/coordinates/0"
    assert "fermé" in payload["errors"][0]["message"]
