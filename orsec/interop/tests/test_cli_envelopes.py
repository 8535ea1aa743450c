"""``orsec interop validate`` (exit 0/1/2) on EDXL-DE, Hub Santé and EMSI, and ``orsec interop
import`` of a Hub Santé createCase and of an EDXL-DE distribution — in process with the test
database, and once as the installed console script in a subprocess on its own database."""

from __future__ import annotations

import json
import os
import subprocess  # nosec B404
import sys
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from orsec.audit.models import AuditRecord
from orsec.interop.cli import main
from orsec.interop.models import InboundMessage
from orsec.reports.models import FieldReport

FIXTURES = Path(__file__).parent / "fixtures"
HUB = FIXTURES / "hubsante/samples/valid/RC-EDA/RC-EDA.json"
HUB_INVALID = FIXTURES / "hubsante/samples/failing/EDXL-DE/error-in-RC-DE.json"
EDXL = FIXTURES / "edxlde/RC-EDA-xlink.xml"  # EDXL-DE 2.0 + createCase (see NOTICE.md)
EMSI = FIXTURES / "emsi/valid/EMSI-OPG-message.xml"
DOCTYPE = b'<?xml version="1.0"?>\n<!DOCTYPE edxlDistribution [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n'


def _hostile_xml(path: Path) -> bytes:
    text = path.read_bytes()
    body = text.split(b"?>", 1)[1] if text.startswith(b"<?xml") else text
    return DOCTYPE + body


def _validate(tmp_path: Path, name: str, data: bytes, capsys: Any) -> tuple[int, dict[str, Any]]:
    target = tmp_path / name
    target.write_bytes(data)
    status = main(["interop", "validate", str(target), "--json"])
    return status, json.loads(capsys.readouterr().out)


@pytest.mark.parametrize(
    ("name", "valid", "invalid", "standard"),
    [
        (
            "edxl.xml",
            EDXL.read_bytes(),
            EDXL.read_bytes().replace(b"<distributionKind>Report", b"<distributionKind>Rapport"),
            "EDXL-DE 2.0",
        ),
        ("hub.json", HUB.read_bytes(), HUB_INVALID.read_bytes(), "Hub Santé"),
        (
            "emsi.xml",
            EMSI.read_bytes(),
            EMSI.read_bytes().replace(b"<MODE>ACTUAL</MODE>", b"<MODE>EXCERCS</MODE>"),
            "EMSI",
        ),
    ],
)
def test_validate_exits_0_1_2_on_valid_invalid_and_hostile_messages(
    tmp_path: Path, capsys: Any, name: str, valid: bytes, invalid: bytes, standard: str
) -> None:
    status, body = _validate(tmp_path, name, valid, capsys)
    assert (status, body["verdict"], body["standard"]) == (0, "valid", standard)
    status, body = _validate(tmp_path, name, invalid, capsys)
    assert (status, body["verdict"]) == (1, "invalid")
    assert body["errors"]
    assert all({"path", "code", "message"} <= set(error) for error in body["errors"])
    if name.endswith(".json"):
        hostile = b'{"a": ' * 200 + b"1" + b"}" * 200  # nested beyond the depth limit
    else:
        hostile = _hostile_xml(Path(tmp_path / name))
    status, body = _validate(tmp_path, name, hostile, capsys)
    assert (status, body["verdict"]) == (2, "refused")


@pytest.mark.django_db
def test_operator_imports_a_hub_sante_create_case_at_the_command_line(
    personas: Any, capsys: Any
) -> None:
    user = personas.room_lead37.user.get_username()
    status = main(["interop", "import", str(HUB), "--user", user, "--json"])
    body = json.loads(capsys.readouterr().out)
    assert status == 0, body
    assert body["verdict"] == "imported"
    assert body["standard"] == "Hub Santé"
    report = FieldReport.objects.get(pk__in=body["report_ids"])
    assert report.event_id == body["event_id"]
    kept = InboundMessage.objects.get(pk=body["inbound_message"])
    assert kept.imported
    assert AuditRecord.objects.filter(action="interop.inbound.imported").count() == 1
    # a second import of the same distribution is a replay: exit 0, nothing new
    assert main(["interop", "import", str(HUB), "--user", user, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["replay"] is True
    assert FieldReport.objects.count() == 1


@pytest.mark.django_db
def test_operator_imports_an_edxlde_distribution_into_an_event(
    personas: Any, flood_event: Any, capsys: Any
) -> None:
    user = personas.room_lead37.user.get_username()
    status = main(
        ["interop", "import", str(EDXL), "--event", str(flood_event.pk), "--user", user, "--json"]
    )
    body = json.loads(capsys.readouterr().out)
    assert status == 0, body
    assert body["event_id"] == flood_event.pk
    assert FieldReport.objects.filter(event=flood_event, pk__in=body["report_ids"]).count() == 1


@pytest.mark.django_db
def test_operator_of_loiret_cannot_import_into_an_indre_et_loire_event(
    personas: Any, flood_event: Any, capsys: Any
) -> None:
    user = personas.operator45.user.get_username()
    status = main(["interop", "import", str(EDXL), "--event", str(flood_event.pk), "--user", user])
    assert status == 2
    assert not InboundMessage.objects.exists()


SETUP = """
import django
django.setup()
from conftest import build_personas_fixture
from orsec.events.testing import open_test_event
personas = build_personas_fixture()
event = open_test_event(personas.room_lead37.user)
print(personas.room_lead37.user.get_username(), event.pk)
"""


@pytest.mark.slow
def test_console_script_imports_an_edxlde_file_into_an_event(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings_test",
        "ORSEC_VAR_DIR": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'cli.sqlite3'}",
    }
    base = Path(settings.BASE_DIR)

    def run(*argv: str) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run(  # noqa: S603  # nosec B603 - fixed argv
            list(argv), cwd=base, env=env, capture_output=True, timeout=300, check=False
        )

    migrated = run(sys.executable, "manage.py", "migrate", "-v0")
    assert migrated.returncode == 0, migrated.stderr.decode()[-2000:]
    prepared = run(sys.executable, "-c", SETUP)
    assert prepared.returncode == 0, prepared.stderr.decode()[-2000:]
    username, event_id = prepared.stdout.decode().split()[-2:]
    script = Path(sys.executable).parent / "orsec"
    result = run(
        str(script), "interop", "import", str(EDXL), "--event", event_id, "--user", username
    )
    assert result.returncode == 0, (result.stdout + result.stderr).decode()[-2000:]
    assert b"EDXL-DE 2.0" in result.stdout
