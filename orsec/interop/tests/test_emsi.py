"""EMSI: samples, variants (Hub Santé XML/JSON, NexSIS 2015), rules, import, export, fuzzing."""

# mypy: disable-error-code="union-attr,index,misc,arg-type"
from __future__ import annotations

import contextlib
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orsec.interop.cli import main
from orsec.interop.emsi.parse import HUBSANTE, NEXSIS_2015
from orsec.interop.emsi.serialize import emsi_json, emsi_xml, situation_of_event
from orsec.interop.emsi.validate import read_valid_emsi, validate_emsi
from orsec.interop.errors import InteropError, InvalidMessage
from orsec.interop.importing import ImportContext, NotImportable, import_message
from orsec.interop.validate import validate_message
from orsec.journal.models import JournalEntry
from orsec.reports.models import FieldReport

FIXTURES = Path(__file__).parent / "fixtures" / "emsi" / "valid"
XML_SAMPLES = sorted(FIXTURES.glob("*.xml"))
JSON_SAMPLES = sorted(FIXTURES.glob("*.json"))
OPG = (FIXTURES / "EMSI-OPG-message.xml").read_bytes()
OPG_JSON = (FIXTURES / "EMSI-OPG-message.json").read_bytes()


def codes(verdict):
    return [(error.path, error.code) for error in verdict.errors]


# --- Samples and variants -----------------------------------------------------------------------


@pytest.mark.parametrize("path", XML_SAMPLES + JSON_SAMPLES, ids=lambda path: path.name)
def test_every_hub_sante_emsi_sample_is_valid_and_detected(path):
    verdict = validate_message(path.read_bytes())
    assert verdict.standard == "EMSI"
    assert verdict.is_valid, verdict.errors


@pytest.mark.parametrize("path", XML_SAMPLES, ids=lambda path: path.name)
def test_xml_and_json_forms_of_a_sample_give_the_same_domain_objects(path):
    _verdict, from_xml = read_valid_emsi(path.read_bytes())
    _verdict, from_json = read_valid_emsi(path.with_suffix(".json").read_bytes())
    assert from_xml is not None
    assert from_xml == from_json


def test_sample_is_read_into_event_casualties_missions_and_resources():
    _verdict, message = read_valid_emsi(OPG)
    assert message.mode == "real"
    assert message.level == "operational"
    assert message.event.casualties[0].triage_yellow == 1
    assert message.event.positions[0].lat == pytest.approx(45.760169)
    assert [m.id for m in message.missions] == ["ABC1YU3457", "ABC1YU3458"]
    assert message.resources[0].classes == ("MAT/VEH",)


@pytest.mark.parametrize(
    ("old", "new", "path_part"),
    [
        # the NexSIS spelling of the strategic level is not a Hub Santé value
        (b"<LEVEL>OPR</LEVEL>", b"<LEVEL>STRTG</LEVEL>", "LEVEL"),
        # the CSV code list's typo (EXCERCS) is never accepted: the XSD says EXERCS
        (b"<MODE>ACTUAL</MODE>", b"<MODE>EXCERCS</MODE>", "MODE"),
        # CSV "INCREA" vs XSD "NCREA"
        (b"<RISK_ASSESMENT>STABLE", b"<RISK_ASSESMENT>INCREA", "RISK_ASSESMENT"),
        # CSV position type with a trailing space
        (b"<TYPE>POINT</TYPE>", b"<TYPE>POINT </TYPE>", ""),
    ],
)
def test_hub_sante_emsi_with_a_code_outside_the_xsd_is_rejected_by_the_schema(old, new, path_part):
    verdict = validate_emsi(OPG.replace(old, new, 1))
    if path_part == "":
        # TYPE of POSITION is a free string in the Hub Santé XSD: the trailing space is kept
        assert verdict.is_valid
        return
    assert not verdict.is_valid
    assert verdict.errors[0].code == "emsi_schema"
    assert path_part in verdict.errors[0].path


def test_xsd_value_ncrea_is_accepted_where_the_csv_says_increa():
    assert validate_emsi(OPG.replace(b"STABLE", b"NCREA", 1)).is_valid


def test_hub_sante_level_strtgc_is_normalised_to_strategic():
    data = OPG.replace(b"<LEVEL>OPR</LEVEL>", b"<LEVEL>STRTGC</LEVEL>")
    verdict, message = read_valid_emsi(data)
    assert verdict.is_valid
    assert message.level == "strategic"


@pytest.mark.parametrize(
    ("old", "new", "code", "path"),
    [
        (
            b"<TRIAGEYELLOW>1</TRIAGEYELLOW>",
            b"<TRIAGEYELLOW>-3</TRIAGEYELLOW>",
            "emsi_negative_count",
            "/emsi/EVENT[1]/CASUALTIES[1]/TRIAGEYELLOW[1]",
        ),
        (
            b"<CREATION>2024-01-09T16:00:00+01:00</CREATION>",
            b"<CREATION>2024-01-09T16:00:00</CREATION>",
            "emsi_datetime_format",
            "/emsi/CONTEXT[1]/CREATION[1]",
        ),
        (
            b"<CERTAINTY>95</CERTAINTY>",
            b"<CERTAINTY>120</CERTAINTY>",
            "emsi_certainty_range",
            "/emsi/EVENT[1]/CERTAINTY[1]",
        ),
        (
            b"<LAT>45.760169</LAT>",
            b"<LAT>145.760169</LAT>",
            "emsi_coordinate_out_of_range",
            "/emsi/EVENT[1]/EGEO[1]/POSITION[1]/COORD[1]/LAT[1]",
        ),
        (
            b"<ID>ABC1YU3458</ID>",
            b"<ID>ABC1YU3457</ID>",
            "emsi_duplicate_id",
            "/emsi/MISSION[2]/ID[1]",
        ),
    ],
)
def test_semantic_rules_reject_what_the_schema_lets_through(old, new, code, path):
    verdict = validate_emsi(OPG.replace(old, new, 1))
    assert (path, code) in codes(verdict)


def test_json_rule_errors_are_reported_as_json_pointers():
    document = json.loads(OPG_JSON)
    document["emsi"]["EVENT"]["CASUALTIES"][0]["TRIAGERED"] = -1
    verdict = validate_emsi(json.dumps(document).encode())
    assert codes(verdict) == [("/emsi/EVENT/CASUALTIES/0/TRIAGERED", "emsi_negative_count")]


def test_json_with_the_csv_typo_excercs_is_rejected():
    document = json.loads(OPG_JSON)
    document["emsi"]["CONTEXT"]["MODE"] = "EXCERCS"
    verdict = validate_message(json.dumps(document).encode())
    assert verdict.standard == "EMSI"
    assert codes(verdict)[0] == ("/emsi/CONTEXT/MODE", "emsi_schema")


def test_legacy_tso_namespace_is_refused_with_a_precise_code():
    data = OPG.replace(
        b"urn:emergency:eda:1.9:emsi", b"http://tacticalsituationobject.org/schemas/EMSI/1_0"
    )
    assert codes(validate_message(data)) == [("/emsi", "emsi_legacy_version")]


def test_unknown_namespace_is_not_an_emsi_message():
    data = OPG.replace(b"urn:emergency:eda:1.9:emsi", b"urn:example:other")
    assert validate_message(data).errors[0].code == "emsi_not_a_message"


def test_doctype_in_an_emsi_message_is_refused():
    data = b'<?xml version="1.0"?><!DOCTYPE emsi [<!ENTITY x "y">]>' + OPG.split(b"?>", 1)[1]
    verdict = validate_message(data)
    assert verdict.verdict == "refused"


# --- NexSIS 2015 and export ---------------------------------------------------------------------


def _nexsis_from_sample() -> bytes:
    _verdict, message = read_valid_emsi(OPG)
    return emsi_xml(message, NEXSIS_2015)


def test_nexsis_2015_output_validates_against_the_official_nexsis_xsd_and_reads_back_the_same():
    data = _nexsis_from_sample()
    assert b"http://tacticalsituationobject.org/schemas/EMSI/2_0" in data
    assert b"<decl_datetime>" in data
    verdict, message = read_valid_emsi(data)
    assert verdict.is_valid, verdict.errors
    _verdict, original = read_valid_emsi(OPG)
    assert message.event == original.event


def test_nexsis_level_strtg_is_accepted_and_hub_sante_strtgc_refused_in_nexsis():
    _verdict, message = read_valid_emsi(
        OPG.replace(b"<LEVEL>OPR</LEVEL>", b"<LEVEL>STRTGC</LEVEL>")
    )
    data = emsi_xml(message, NEXSIS_2015)
    assert b"<level>STRTG</level>" in data
    assert validate_emsi(data).is_valid
    wrong = data.replace(b"<level>STRTG</level>", b"<level>STRTGC</level>")
    assert codes(validate_emsi(wrong))[0][1] == "emsi_schema"


@pytest.mark.parametrize("variant", [HUBSANTE, NEXSIS_2015])
def test_export_of_an_event_validates_against_the_official_xsd(flood_event, variant):
    message = situation_of_event(flood_event, origin_id="fr.orsec.cod37", origin_name="COD 37")
    verdict, back = read_valid_emsi(emsi_xml(message, variant))
    assert verdict.is_valid, verdict.errors
    assert back == message


def test_export_as_json_validates_and_reads_back_the_same(flood_event):
    message = situation_of_event(flood_event, origin_id="fr.orsec.cod37", origin_name="COD 37")
    verdict, back = read_valid_emsi(emsi_json(message))
    assert verdict.is_valid, verdict.errors
    assert back == message


def test_export_keeps_the_exercise_mode(exercise_event):
    message = situation_of_event(exercise_event, origin_id="fr.orsec.cod37", origin_name="COD")
    assert b"<MODE>EXERCS</MODE>" in emsi_xml(message)


def test_export_carries_the_confirmed_bilan(personas, flood_event):
    from orsec.reports.actions import do_confirm_report, do_submit_report

    report = do_submit_report(
        personas.operator37.user,
        event=flood_event,
        template="casualties",
        figures={"dead": 1, "absolute": 2, "relative": 3, "evacuated": 40},
        text="",
        channel="phone",
    )
    do_confirm_report(
        personas.room_lead37.user, report, reliability="B", credibility=2, priority="urgent"
    )
    message = situation_of_event(flood_event, origin_id="fr.orsec.cod37", origin_name="COD 37")
    data = emsi_xml(message)
    assert b"<TRIAGEBLACK>1</TRIAGEBLACK>" in data
    assert b"<TRIAGERED>2</TRIAGERED>" in data
    assert b"<EVACUATED>40</EVACUATED>" in data
    assert validate_emsi(data).is_valid


# --- Import ---------------------------------------------------------------------------------------


def _context(personas, event=None, key="operator37"):
    persona = getattr(personas, key)
    return ImportContext(actor=persona.user, event=event, channel="partner")


def test_operator_imports_an_emsi_onto_the_event_with_bilan_resources_and_missions(
    personas, flood_event
):
    verdict, outcome = import_message(OPG, _context(personas, flood_event))
    assert verdict.is_valid
    assert outcome.event_id == flood_event.pk
    assert len(outcome.entry_ids) == 3  # incoming message, resources, missions
    report = FieldReport.objects.get(pk=outcome.report_ids[0])
    assert report.template == "casualties"
    assert report.figures == {
        "dead": 0,
        "absolute": 0,
        "relative": 1,
        "involved": 1,
        "missing": 0,
        "evacuated": 0,
        "sheltered": 0,
    }
    texts = [e.text for e in JournalEntry.objects.filter(pk__in=outcome.entry_ids)]
    assert any("VSAV 2 caserne SDIS69" in text for text in texts)
    assert any("#MISSION#" in text for text in texts)


def test_the_same_emsi_imported_twice_is_a_replay_that_writes_nothing(personas, flood_event):
    import_message(OPG, _context(personas, flood_event))
    count = JournalEntry.objects.count()
    _verdict, outcome = import_message(OPG, _context(personas, flood_event))
    assert outcome.replay
    assert JournalEntry.objects.count() == count


def test_emsi_of_real_mode_onto_an_exercise_event_is_refused_and_writes_nothing(
    personas, exercise_event
):
    count = JournalEntry.objects.count()
    with pytest.raises(InvalidMessage) as caught:
        import_message(OPG, _context(personas, exercise_event))
    assert caught.value.code == "emsi_mode_mismatch"
    assert JournalEntry.objects.count() == count


def test_exercise_emsi_without_event_opens_an_exercise_event(personas):
    data = OPG.replace(b"<MODE>ACTUAL</MODE>", b"<MODE>EXERCS</MODE>")
    _verdict, outcome = import_message(data, _context(personas))
    from orsec.events.models import Event

    event = Event.objects.get(pk=outcome.event_id)
    assert event.mode == "exercise"
    assert event.event_type == "transport_accident"  # TRP/COL
    assert event.location["type"] == "Point"
    # an update of the same EMSI event goes to the same portal event
    update = data.replace(b"d350c9d2-9d76-4568-b0b7-a747ffadc949", b"second-message-id")
    _verdict, second = import_message(update, _context(personas))
    assert second.event_id == event.pk


def test_classified_emsi_is_not_imported(personas, flood_event):
    data = OPG.replace(b"<SECLASS>RESTRC</SECLASS>", b"<SECLASS>SECRET</SECLASS>")
    with pytest.raises(NotImportable) as caught:
        import_message(data, _context(personas, flood_event))
    assert caught.value.code == "emsi_classified"


# --- Command line -------------------------------------------------------------------------------


def test_cli_import_onto_an_event_exits_0_and_prints_the_outcome(personas, flood_event, capsys):
    path = FIXTURES / "EMSI-OPG-message.xml"
    status = main(
        [
            "interop",
            "import",
            str(path),
            "--event",
            str(flood_event.pk),
            "--user",
            personas.operator37.user.username,
            "--json",
        ]
    )
    out = json.loads(capsys.readouterr().out)
    assert status == 0
    assert out["verdict"] == "imported"
    assert out["event_id"] == flood_event.pk
    assert len(out["report_ids"]) == 1


def test_cli_import_of_an_invalid_message_exits_1(personas, flood_event, tmp_path, capsys):
    path = tmp_path / "bad.xml"
    path.write_bytes(OPG.replace(b"<MODE>ACTUAL</MODE>", b"<MODE>EXCERCS</MODE>"))
    status = main(
        [
            "interop",
            "import",
            str(path),
            "--event",
            str(flood_event.pk),
            "--user",
            personas.operator37.user.username,
        ]
    )
    assert status == 1
    assert "emsi_schema" in capsys.readouterr().out


def test_cli_import_onto_an_event_of_another_territory_exits_2(personas, event45, capsys):
    path = FIXTURES / "EMSI-OPG-message.xml"
    status = main(
        [
            "interop",
            "import",
            str(path),
            "--event",
            str(event45.pk),
            "--user",
            personas.operator37.user.username,
        ]
    )
    assert status == 2
    assert "introuvable" in capsys.readouterr().err


def test_cli_import_with_an_unknown_user_exits_2(db, capsys):
    status = main(["interop", "import", str(FIXTURES / "EMSI-OPG-message.xml"), "--user", "nobody"])
    assert status == 2


def test_cli_import_of_a_hostile_file_exits_2(personas, flood_event, tmp_path):
    path = tmp_path / "attack.xml"
    path.write_bytes(
        b'<?xml version="1.0"?><!DOCTYPE emsi [<!ENTITY x SYSTEM "file:///etc/passwd">]><emsi>&x;</emsi>'
    )
    status = main(
        [
            "interop",
            "import",
            str(path),
            "--event",
            str(flood_event.pk),
            "--user",
            personas.operator37.user.username,
        ]
    )
    assert status == 2


# --- Fuzzing --------------------------------------------------------------------------------------

SAMPLES = [path.read_bytes() for path in XML_SAMPLES + JSON_SAMPLES]
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(SAMPLES)))
    for _ in range(draw(st.integers(min_value=1, max_value=6))):
        position = draw(st.integers(min_value=0, max_value=max(len(data) - 1, 0)))
        operation = draw(st.sampled_from(["flip", "cut", "insert", "delete"]))
        if operation == "flip" and data:
            data[position] = draw(st.integers(min_value=0, max_value=255))
        elif operation == "cut":
            del data[position:]
        elif operation == "insert":
            snippet = draw(
                st.sampled_from([b"<", b">", b"&", b"-1", b"STRTG", b'"x":', b"[", b"{}", b"Z"])
                | st.binary(max_size=12)
            )
            data[position:position] = snippet
        elif data:
            del data[position : position + draw(st.integers(min_value=1, max_value=40))]
    return bytes(data)


@FUZZ
@given(mutated())
def test_emsi_validation_of_mutated_samples_always_returns_a_verdict(data):
    verdict, message = read_valid_emsi(data)
    assert verdict.verdict in ("valid", "invalid", "refused")
    assert (message is not None) == verdict.is_valid
    if not verdict.is_valid:
        assert all(error.code and error.message and error.path for error in verdict.errors)


@FUZZ
@given(st.binary(max_size=300))
def test_emsi_parser_raises_only_interop_errors(data):
    from orsec.interop.emsi.validate import parse_emsi

    with contextlib.suppress(InteropError):
        parse_emsi(data)
