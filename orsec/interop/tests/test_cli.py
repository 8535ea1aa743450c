"""``orsec interop validate``: run as a separate process on the fixture files."""

from __future__ import annotations

import json
import os
import subprocess  # nosec B404
import sys
from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"
VALID = sorted((FIXTURES / "cap" / "valid").glob("*.cap")) + sorted(
    (FIXTURES / "meteoalarm").glob("*_detail.xml")
)
INVALID = sorted((FIXTURES / "cap" / "invalid").glob("*.cap"))
ATTACKS = sorted((FIXTURES / "attacks").glob("*.xml"))


def run(*args: str, stdin: bytes | None = None, standalone: bool = True):
    """Run the command without the project's settings (as a user of the tool would)."""
    env = dict(os.environ)
    if standalone:
        env.pop("DJANGO_SETTINGS_MODULE", None)
    return subprocess.run(  # noqa: S603  # nosec B603
        [sys.executable, "-m", "orsec.interop.cli", *args],
        input=stdin,
        capture_output=True,
        env=env,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize("path", VALID, ids=lambda path: path.name)
def test_cli_exits_0_on_every_valid_sample(path):
    result = run("interop", "validate", str(path))
    assert result.returncode == 0, result.stdout.decode() + result.stderr.decode()
    assert ": valide" in result.stdout.decode()


@pytest.mark.parametrize("path", INVALID, ids=lambda path: path.name)
def test_cli_exits_1_and_lists_errors_on_invalid_samples(path):
    result = run("interop", "validate", str(path))
    out = result.stdout.decode()
    assert result.returncode == 1
    assert "invalide (1 erreur)" in out
    assert "/alert/references[1] [cap_references_missing]" in out


@pytest.mark.parametrize("path", ATTACKS, ids=lambda path: path.name)
def test_cli_exits_2_on_attack_samples(path):
    result = run("interop", "validate", "--json", str(path))
    assert result.returncode == 2
    payload = json.loads(result.stdout)
    assert payload["verdict"] == "refused"
    assert payload["errors"][0]["code"] in ("xml_doctype_forbidden", "xml_xinclude_forbidden")


def test_cli_json_output_has_the_documented_shape():
    result = run("interop", "validate", "--json", str(INVALID[0]))
    assert json.loads(result.stdout) == {
        "standard": "CAP 1.2",
        "verdict": "invalid",
        "errors": [
            {
                "path": "/alert/references[1]",
                "code": "cap_references_missing",
                "message": (
                    "Un message de type « Update » doit citer le ou les messages visés dans "
                    "« references » (sender,identifier,sent)."
                ),
            }
        ],
    }


def test_cli_reads_standard_input_with_dash():
    result = run("interop", "validate", "-", stdin=VALID[0].read_bytes())
    assert result.returncode == 0


def test_cli_works_with_the_project_test_settings_too():
    result = run("interop", "validate", str(VALID[0]), standalone=False)
    assert result.returncode == 0, result.stderr.decode()


def test_cli_missing_file_exits_2_with_a_french_message(tmp_path):
    result = run("interop", "validate", str(tmp_path / "absent.cap"))
    assert result.returncode == 2
    assert "Lecture impossible" in result.stderr.decode()
    assert result.stdout == b""


def test_cli_non_cap_file_is_invalid(tmp_path):
    other = tmp_path / "feed.xml"
    other.write_bytes(b'<feed xmlns="http://www.w3.org/2005/Atom"/>')
    result = run("interop", "validate", "--json", str(other))
    assert result.returncode == 1
    assert json.loads(result.stdout)["errors"][0]["code"] == "cap_not_an_alert"


def test_console_script_orsec_is_installed_in_the_virtual_environment():
    script = Path(sys.executable).parent / "orsec"
    assert script.exists(), "pip install -e . declares the console script 'orsec'"
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    result = subprocess.run(  # noqa: S603  # nosec B603
        [str(script), "interop", "validate", str(VALID[0])],
        capture_output=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr.decode()
