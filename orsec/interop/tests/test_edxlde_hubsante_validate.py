"""EDXL-DE and Hub Santé / CISU validation on the shared samples, answers against the schemas."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from orsec.interop.edxlde.parse import document_of, read_envelope
from orsec.interop.edxlde.serialize import build_answer
from orsec.interop.errors import InteropError, ValidationError
from orsec.interop.hubsante import validate as hub
from orsec.interop.hubsante.read import read_create_case
from orsec.interop.hubsante.serialize import build_error, build_reference
from orsec.interop.secure import parse_xml
from orsec.interop.validate import validate_message
from orsec.interop.xmlpaths import load_schema

FIXTURES = Path(__file__).parent / "fixtures"
HUB = FIXTURES / "hubsante"

#: EDXL-DE XML samples and the verdict we give, with the reason when it is "invalid".
EDXL_EXPECTED = {
    "edxlde/bushfire_valid.edxlde": "valid",
    "hubsante/dispatcher-samples/valid/EDXL-DE/EDXL-DE.xml": "valid",
    "hubsante/examples-hub-sante-repo/samuB_to_samuA.xml": "valid",
    # reference content invalid (unknown key) in a valid envelope
    "hubsante/dispatcher-samples/failing/EDXL-DE/invalid-content-valid-envelope.xml": "invalid",
    # README: a bare <message> in the EDXL namespace, not allowed by the XSD
    "hubsante/examples-hub-sante-repo/EDXL-ErrorReport-Example.xml": "invalid",
    # README: the ANS XML samples drifted (rejected by the reference XSD too): content without
    # xlink:type, technicalNoreq with an undefined <key>
    "hubsante/samples/valid/EDXL-DE/EDXL-DE.xml": "invalid",
    "hubsante/samples/valid/RC-EDA/RC-EDA.xml": "invalid",
    "hubsante/samples/valid/RS-EDA/RS-EDA.xml": "invalid",
    # NexSIS CISU 1.9: caseId directly under <message>; the CISU createCase.xsd itself wants
    # a <createCase> element there
    "edxlde/cisu/sdisZ_to_samuA.xml": "invalid",
}


@pytest.mark.parametrize("name", sorted(EDXL_EXPECTED))
def test_edxlde_samples_get_the_expected_verdict(name: str) -> None:
    verdict = validate_message((FIXTURES / name).read_bytes())
    assert verdict.standard.startswith("EDXL-DE")
    assert verdict.verdict == EDXL_EXPECTED[name], verdict.errors


def _hub_examples() -> list[Path]:
    return sorted(
        p for p in (HUB / "samples" / "examples").glob("*/*") if p.suffix in (".json", ".xml")
    )


@pytest.mark.parametrize("path", _hub_examples(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_hub_sante_example_is_accepted_in_json_and_xml(path: Path) -> None:
    verdict = validate_message(path.read_bytes())
    # EMSI is a Hub Santé use case with its own validator and importer (orsec.interop.emsi)
    assert verdict.standard == ("EMSI" if path.parent.name == "EMSI" else "Hub Santé")
    assert verdict.verdict == "valid", verdict.errors


@pytest.mark.parametrize(
    "name",
    [
        "valid/EDXL-DE/EDXL-DE.json",
        "valid/RC-EDA/RC-EDA.json",
        "valid/CustomContent/custom-content.json",
    ],
)
def test_hub_sante_valid_envelopes_in_json_are_accepted(name: str) -> None:
    assert validate_message((HUB / "samples" / name).read_bytes()).verdict == "valid"


def test_dispatcher_valid_json_envelope_is_accepted() -> None:
    data = (HUB / "dispatcher-samples/valid/EDXL-DE/EDXL-DE.json").read_bytes()
    assert validate_message(data).verdict == "valid"


@pytest.mark.parametrize("path", sorted((HUB / "samples" / "valid" / "TECHNICAL").glob("*")))
def test_technical_valid_samples_pass_their_model(path: Path) -> None:
    if path.suffix == ".json":
        verdict = hub.validate_use_case("TECHNICAL", json.loads(path.read_bytes()))
    else:
        verdict = validate_message(path.read_bytes())
    assert verdict.verdict == "valid", verdict.errors


def expected_paths(errors_text: str) -> set[str]:
    """Reference validator paths, as JSON pointers: ``$.a.b[0].c`` → ``/a/b/0/c``; lines under
    ``Issues found on the $.x…message header/content:`` are relative to that prefix."""
    prefix = ""
    found = set()
    for line in errors_text.splitlines():
        if line.startswith("Issues found on the envelope"):
            prefix = ""
        elif line.startswith("Issues found on the "):
            prefix = line.strip().rstrip(":")[len("Issues found on the ") :].rsplit(" ", 1)[0]
        elif line.startswith(" - "):
            place = line[3:].split(": ", 1)[0]
            full = place if place.startswith("$") else f"{prefix}.{place}"
            full = re.sub(r"\[(\d+)\]", r".\1", full)
            found.add("/" + "/".join(full.lstrip("$.").split(".")))
    return found


def _failing() -> list[Path]:
    return sorted(
        p for p in (HUB / "samples" / "failing").glob("*/*") if p.suffix in (".json", ".xml")
    )


@pytest.mark.parametrize("path", _failing(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_failing_hub_sante_sample_is_rejected_at_the_reference_paths(path: Path) -> None:
    data = path.read_bytes()
    model = path.parent.name
    if model in ("TECHNICAL", "TECHNICAL_NOREQ") and path.suffix == ".json":
        verdict = hub.validate_use_case(model, json.loads(data))
    else:
        verdict = validate_message(data)
    assert verdict.verdict == "invalid"
    expected = expected_paths((path.parent / (path.name + ".errors")).read_text())
    reported = {e.path for e in verdict.errors}
    assert expected <= reported, (expected - reported, reported)


def test_dispatcher_failing_envelopes_are_rejected() -> None:
    for name in (
        "no-health-actor.json",
        "inexistent-recipient-queue.json",
        "unparsable-content.json",
    ):
        data = (HUB / "dispatcher-samples/failing/EDXL-DE" / name).read_bytes()
        verdict = validate_message(data)
        # routing failures of the Hub (unknown queue, no health actor) are not format errors:
        # only the unparsable one is invalid for us
        if name == "unparsable-content.json":
            assert verdict.verdict == "invalid"


def test_failing_cap_inside_edxlde_is_reported_with_its_content_object_index() -> None:
    data = (FIXTURES / "edxlde/bushfire_valid.edxlde").read_bytes()
    broken = data.replace(b"<cap:status>Actual</cap:status>", b"<cap:status>Bogus</cap:status>", 1)
    broken = broken.replace(
        b"<cap:status>Bogus</cap:status>", b"<cap:status>Actual</cap:status>", 0
    )
    second = data.split(b"<edxlde:contentObject>")
    second[2] = second[2].replace(
        b"<cap:msgType>Alert</cap:msgType>", b"<cap:msgType>Nope</cap:msgType>", 1
    )
    verdict = validate_message(b"<edxlde:contentObject>".join(second))
    assert verdict.verdict == "invalid"
    assert all("/contentObject[2]/" in e.path for e in verdict.errors), verdict.errors


def test_fractional_seconds_accepted_on_input() -> None:
    data = (HUB / "dispatcher-samples/valid/EDXL-DE/EDXL-DE.xml").read_bytes()
    data = re.sub(rb"(<dateTimeSent>[^<]*?:\d\d)([+-])", rb"\1.5360608\2", data)
    assert b".5360608" in data
    assert validate_message(data).verdict == "valid"


def test_hostile_edxlde_is_refused() -> None:
    data = (
        b'<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x "y">]>'
        b'<edxlDistribution xmlns="urn:oasis:names:tc:emergency:EDXL:DE:2.0">&x;</edxlDistribution>'
    )
    assert validate_message(data).verdict == "refused"


def test_ack_and_error_envelopes_validate_against_the_strict_official_schema() -> None:
    data = (HUB / "examples-hub-sante-repo/samuB_to_samuA.xml").read_bytes()
    envelope = read_envelope(document_of(parse_xml(data)))
    schema = load_schema("edxl-de/v2.0/edxl-de-v2.0-wd11.xsd")
    for kind in ("Ack", "Error"):
        answer = build_answer(
            envelope,
            sender_id="fr.orsec.portail",
            kind=kind,
            errors=[ValidationError("/x", "code", "message é")],
        )
        document = etree.fromstring(answer)
        assert schema.validate(document), schema.error_log
        sent = document.find("{urn:oasis:names:tc:emergency:EDXL:DE:2.0}dateTimeSent").text
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d", sent)
        assert validate_message(answer).verdict == "valid"


def test_rc_ref_and_rs_error_validate_against_the_hub_schemas() -> None:
    ack = build_reference(
        original_id="fr.fire.sdis37_1",
        original_sender="fr.fire.sdis37",
        status="Exercise",
        sender_id="fr.orsec.portail",
    )
    assert hub.validate_hubsante_document(json.loads(ack)).verdict == "valid"
    assert json.loads(ack)["distributionStatus"] == "Exercise"
    error = build_error(
        original_id="x",
        original_sender="fr.fire.sdis37",
        status="Actual",
        sender_id="fr.orsec.portail",
        errors=[ValidationError("/a", "b", "c")],
        cause="Non conforme",
    )
    assert hub.validate_hubsante_document(json.loads(error)).verdict == "valid"


def test_xml_and_json_forms_give_the_same_create_case() -> None:
    folder = HUB / "samples/examples/RC-EDA"
    for stem in ("RC-EDA_Incendie_RaymondeLECCIA.01", "RC-EDA-FuiteDeGaz-AliceGregoireNormand.01"):
        from_json = json.loads((folder / f"{stem}.json").read_bytes())
        from_xml = hub.use_case_from_xml(parse_xml((folder / f"{stem}.xml").read_bytes()))
        assert read_create_case(from_xml["createCase"]) == read_create_case(from_json["createCase"])


FUZZ = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SEEDS = [
    (FIXTURES / "edxlde/bushfire_valid.edxlde").read_bytes(),
    (HUB / "examples-hub-sante-repo/samuB_to_samuA.xml").read_bytes(),
    (HUB / "samples/valid/RC-EDA/RC-EDA.json").read_bytes(),
    (HUB / "samples/examples/RC-EDA/RC-EDA_Incendie_RaymondeLECCIA.01.xml").read_bytes(),
]


@FUZZ
@given(
    st.sampled_from(SEEDS),
    st.lists(st.tuples(st.integers(0, 30000), st.binary(max_size=8)), max_size=6),
)
def test_fuzzed_messages_only_give_verdicts(seed: bytes, edits: list[tuple[int, bytes]]) -> None:
    data = bytearray(seed)
    for position, snippet in edits:
        position %= max(len(data), 1)
        data[position : position + len(snippet)] = snippet
    try:
        verdict = validate_message(bytes(data))
    except InteropError:  # pragma: no cover - validate_message returns verdicts
        return
    assert verdict.verdict in ("valid", "invalid", "refused")


@FUZZ
@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=5),
        lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=12), c, max_size=4),
        max_leaves=20,
    )
)
def test_fuzzed_json_documents_only_give_verdicts(document: object) -> None:
    wrapped = {"createCase": document}
    assert hub.validate_hubsante_document(wrapped).verdict in ("valid", "invalid")
    envelope = {"distributionID": "a", "senderID": "b", "content": [document]}
    assert hub.validate_hubsante_document(envelope).verdict in ("valid", "invalid")
