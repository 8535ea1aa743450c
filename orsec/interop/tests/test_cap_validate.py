"""CAP two-step validation: the shared samples, then one test per semantic rule."""

from __future__ import annotations

from pathlib import Path

import pytest

from orsec.interop.cap.validate import validate_cap

FIXTURES = Path(__file__).parent / "fixtures"
VALID = sorted((FIXTURES / "cap" / "valid").glob("*.cap")) + sorted(
    (FIXTURES / "meteoalarm").glob("*_detail.xml")
)
INVALID = sorted((FIXTURES / "cap" / "invalid").glob("*.cap"))
CANADA = (FIXTURES / "cap" / "valid" / "canada.cap").read_text(encoding="utf-8")
WEATHER_11 = (FIXTURES / "cap" / "valid" / "weather.cap").read_text(encoding="utf-8")
MINIMAL = """<?xml version="1.0" encoding="UTF-8"?>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">
  <identifier>FR-PREF37-2026-0001</identifier>
  <sender>cod@indre-et-loire.gouv.fr</sender>
  <sent>2026-11-29T05:00:00+01:00</sent>
  <status>Exercise</status>
  <msgType>{msg_type}</msgType>
  <scope>{scope}</scope>{alert_extra}
  <info>
    <category>Met</category>
    <event>Crue</event>
    <urgency>Immediate</urgency>
    <severity>Severe</severity>
    <certainty>Observed</certainty>{info_extra}
    <area>
      <areaDesc>Tours</areaDesc>{area_extra}
    </area>
  </info>
</alert>
"""
CLOSED = "47.39,0.68 47.40,0.70 47.38,0.71 47.39,0.68"


def minimal(
    msg_type="Alert", scope="Public", alert_extra="", info_extra="", area_extra=""
) -> bytes:
    return MINIMAL.format(
        msg_type=msg_type,
        scope=scope,
        alert_extra=alert_extra,
        info_extra=info_extra,
        area_extra=area_extra,
    ).encode()


def codes(verdict) -> list[str]:
    return [error.code for error in verdict.errors]


def test_the_sample_counts_are_those_of_the_shared_readme():
    assert len(VALID) == 10
    assert len(INVALID) == 1


@pytest.mark.parametrize("path", VALID, ids=lambda path: path.name)
def test_every_sample_marked_valid_is_accepted(path):
    verdict = validate_cap(path.read_bytes())
    assert verdict.verdict == "valid", verdict.errors
    assert verdict.standard in ("CAP 1.2", "CAP 1.1")


@pytest.mark.parametrize("path", INVALID, ids=lambda path: path.name)
def test_every_sample_marked_invalid_is_rejected(path):
    verdict = validate_cap(path.read_bytes())
    assert verdict.verdict == "invalid"
    assert verdict.errors


def test_empty_references_on_an_update_is_rejected_although_the_xsd_accepts_it():
    verdict = validate_cap((FIXTURES / "cap" / "invalid" / "canada_errors.cap").read_bytes())
    assert verdict.standard == "CAP 1.2"
    assert [(e.path, e.code) for e in verdict.errors] == [
        ("/alert/references[1]", "cap_references_missing")
    ]
    assert "Update" in verdict.errors[0].message


def test_cap11_signed_alert_is_valid_once_the_signature_is_set_aside():
    verdict = validate_cap((FIXTURES / "cap" / "valid" / "earthquake_signed.cap").read_bytes())
    assert (verdict.standard, verdict.verdict) == ("CAP 1.1", "valid")


def test_minimal_alert_of_the_prefecture_is_valid():
    assert validate_cap(minimal()).verdict == "valid"


def test_schema_errors_are_reported_with_the_element_path_before_any_semantic_rule():
    data = minimal().replace(b"<status>Exercise</status>", b"<status>Exercice</status>")
    verdict = validate_cap(data)
    assert verdict.verdict == "invalid"
    assert codes(verdict) == ["cap_schema"]
    assert verdict.errors[0].path == "/alert/status[1]"
    assert "schéma officiel CAP 1.2" in verdict.errors[0].message


def test_cap12_z_timezone_is_rejected_by_the_schema_pattern():
    data = minimal().replace(b"+01:00</sent>", b"Z</sent>")
    verdict = validate_cap(data)
    assert (verdict.errors[0].path, verdict.errors[0].code) == ("/alert/sent[1]", "cap_schema")


def test_cap11_z_timezone_passes_its_xsd_but_breaks_the_spec():
    data = WEATHER_11.replace(
        "<sent>2010-08-30T04:07:00-06:00</sent>", "<sent>2010-08-30T10:07:00Z</sent>"
    )
    verdict = validate_cap(data.encode())
    assert verdict.standard == "CAP 1.1"
    assert [(e.path, e.code) for e in verdict.errors] == [("/alert/sent[1]", "cap_datetime_format")]


def test_cap11_fractional_seconds_in_expires_break_the_spec():
    data = WEATHER_11.replace("2010-08-30T12:00:00-06:00", "2010-08-30T12:00:00.5-06:00")
    verdict = validate_cap(data.encode())
    assert ("/alert/info[1]/expires[1]", "cap_datetime_format") in [
        (e.path, e.code) for e in verdict.errors
    ]


@pytest.mark.parametrize(
    ("identifier", "code"),
    [
        ("FR PREF37 1", "cap_identifier_chars"),
        ("FR,PREF37", "cap_identifier_chars"),
        ("FR&amp;37", "cap_identifier_chars"),
        ("FR&lt;37", "cap_identifier_chars"),
    ],
)
def test_identifier_with_restricted_characters_is_rejected(identifier, code):
    data = minimal().replace(b"FR-PREF37-2026-0001", identifier.encode())
    verdict = validate_cap(data)
    assert [(e.path, e.code) for e in verdict.errors] == [("/alert/identifier[1]", code)]


def test_sender_with_a_space_is_rejected():
    data = minimal().replace(b"cod@indre-et-loire.gouv.fr", b"cod 37@gouv.fr")
    assert [(e.path, e.code) for e in validate_cap(data).errors] == [
        ("/alert/sender[1]", "cap_sender_chars")
    ]


@pytest.mark.parametrize("msg_type", ["Update", "Cancel", "Ack", "Error"])
def test_message_types_that_cite_earlier_messages_need_references(msg_type):
    verdict = validate_cap(minimal(msg_type=msg_type))
    assert [(e.path, e.code) for e in verdict.errors] == [
        ("/alert/msgType[1]", "cap_references_missing")
    ]
    reference = "\n  <references>cod@x.fr,FR-1,2026-11-29T04:00:00+01:00</references>"
    assert validate_cap(minimal(msg_type=msg_type, alert_extra=reference)).is_valid


@pytest.mark.parametrize(
    "references",
    [
        "cod@x.fr,FR-1",
        "cod@x.fr,FR-1,2026-11-29T04:00:00Z",
        "cod@x.fr,,2026-11-29T04:00:00+01:00",
        "cod@x.fr,FR-1,2026-11-29T04:00:00+01:00,extra",
        "cod@x.fr,FR-1,2026-11-29T04:00:00+01:00 broken",
    ],
)
def test_references_must_be_sender_identifier_sent_triples(references):
    extra = f"\n  <references>{references}</references>"
    verdict = validate_cap(minimal(msg_type="Update", alert_extra=extra))
    assert [(e.path, e.code) for e in verdict.errors] == [
        ("/alert/references[1]", "cap_references_format")
    ]


def test_restricted_scope_needs_a_restriction():
    verdict = validate_cap(minimal(scope="Restricted"))
    assert [(e.path, e.code) for e in verdict.errors] == [
        ("/alert/scope[1]", "cap_restriction_missing")
    ]
    extra = "\n  <restriction>Services de l'État uniquement</restriction>"
    assert validate_cap(minimal(scope="Restricted", alert_extra=extra)).is_valid


def test_private_scope_needs_addresses():
    verdict = validate_cap(minimal(scope="Private"))
    assert codes(verdict) == ["cap_addresses_missing"]
    extra = "\n  <addresses>sdis37 samu37</addresses>"
    assert validate_cap(minimal(scope="Private", alert_extra=extra)).is_valid


@pytest.mark.parametrize(
    ("polygon", "code"),
    [
        ("47.39,0.68 47.40,0.70 47.39,0.68", "cap_polygon_too_few_points"),
        ("47.39,0.68 47.40,0.70 47.38,0.71 47.37,0.69", "cap_polygon_not_closed"),
        ("47.39;0.68 47.40;0.70 47.38;0.71 47.39;0.68", "cap_polygon_format"),
        ("47.39,0.68 47.40,nan 47.38,0.71 47.39,0.68", "cap_polygon_format"),
        ("47.39,0.68,47.40 0.70 47.38,0.71 47.39,0.68", "cap_polygon_format"),
        ("47.39,0.68 47.40,,0.70 47.38,0.71 47.39,0.68", "cap_polygon_format"),
        ("47.39,0.68 47.40, 0.70 47.38,0.71 47.39,0.68", "cap_polygon_format"),
        ("47.39,0.68 47.4.0,0.70 47.38,0.71 47.39,0.68", "cap_polygon_format"),
        ("47.39,0.68 +-47.40,0.70 47.38,0.71 47.39,0.68", "cap_polygon_format"),
        ("47.39,0.68 1e1,0.70 47.38,0.71 47.39,0.68", "cap_polygon_format"),
        ("47.39,0.68 91,0.70 47.38,0.71 47.39,0.68", "cap_coordinate_out_of_range"),
        ("47.39,0.68 47.40,-180.5 47.38,0.71 47.39,0.68", "cap_coordinate_out_of_range"),
        ("97.39,0.68 47.40,0.70 47.38,0.71 97.39,0.68", "cap_coordinate_out_of_range"),
        ("47.39,190 47.40,0.70 47.38,0.71 47.39,190", "cap_coordinate_out_of_range"),
    ],
)
def test_polygon_rules(polygon, code):
    verdict = validate_cap(minimal(area_extra=f"\n      <polygon>{polygon}</polygon>"))
    assert [(e.path, e.code) for e in verdict.errors] == [
        ("/alert/info[1]/area[1]/polygon[1]", code)
    ]


def test_closed_polygon_and_circle_are_valid():
    extra = f"\n      <polygon>{CLOSED}</polygon>\n      <circle>47.39,0.68 5.0</circle>"
    assert validate_cap(minimal(area_extra=extra)).is_valid


@pytest.mark.parametrize(
    ("circle", "code"),
    [
        ("47.39,0.68", "cap_circle_format"),
        ("47.39,0.68 -1", "cap_circle_format"),
        ("47.39 0.68 5", "cap_circle_format"),
        ("-91,0.68 5", "cap_coordinate_out_of_range"),
    ],
)
def test_circle_rules(circle, code):
    verdict = validate_cap(minimal(area_extra=f"\n      <circle>{circle}</circle>"))
    assert [(e.path, e.code) for e in verdict.errors] == [
        ("/alert/info[1]/area[1]/circle[1]", code)
    ]


def test_ceiling_without_altitude_is_rejected():
    verdict = validate_cap(minimal(area_extra="\n      <ceiling>500</ceiling>"))
    assert codes(verdict) == ["cap_ceiling_without_altitude"]
    both = "\n      <altitude>100</altitude>\n      <ceiling>500</ceiling>"
    assert validate_cap(minimal(area_extra=both)).is_valid


@pytest.mark.parametrize(
    ("digest", "valid"),
    [
        ("da39a3ee5e6b4b0d3255bfef95601890afd80709", True),
        ("DA39A3EE5E6B4B0D3255BFEF95601890AFD80709", True),
        ("da39a3ee5e6b4b0d3255bfef95601890afd8070", False),
        ("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", False),
        ("zz39a3ee5e6b4b0d3255bfef95601890afd80709", False),
    ],
)
def test_resource_digest_must_be_sha1_hex(digest, valid):
    resource = (
        "\n    <resource><resourceDesc>Carte</resourceDesc><mimeType>image/png</mimeType>"
        f"<digest>{digest}</digest></resource>"
    )
    data = minimal().replace(b"\n    <area>", resource.encode() + b"\n    <area>")
    verdict = validate_cap(data)
    if valid:
        assert verdict.is_valid, verdict.errors
    else:
        assert [(e.path, e.code) for e in verdict.errors] == [
            ("/alert/info[1]/resource[1]/digest[1]", "cap_digest_format")
        ]


def test_every_semantic_error_is_reported_not_only_the_first():
    data = minimal(scope="Private").replace(b"FR-PREF37-2026-0001", b"FR PREF37")
    assert sorted(codes(validate_cap(data))) == ["cap_addresses_missing", "cap_identifier_chars"]


def test_other_xml_is_invalid_as_not_a_cap_alert():
    verdict = validate_cap(b'<feed xmlns="http://www.w3.org/2005/Atom"/>')
    assert (verdict.standard, verdict.verdict, codes(verdict)) == (
        "CAP",
        "invalid",
        ["cap_not_an_alert"],
    )


def test_cap10_namespace_is_not_supported():
    data = CANADA.replace("cap:1.2", "cap:1.0").encode()
    assert codes(validate_cap(data)) == ["cap_not_an_alert"]


@pytest.mark.parametrize(
    "name", ["billion_laughs.xml", "xxe_file.xml", "doctype_only.xml", "xinclude.xml"]
)
def test_attack_samples_give_a_refused_verdict(name):
    verdict = validate_cap((FIXTURES / "attacks" / name).read_bytes())
    assert verdict.verdict == "refused"
    assert verdict.errors[0].code in ("xml_doctype_forbidden", "xml_xinclude_forbidden")


def test_verdict_serialises_to_the_documented_json_shape():
    verdict = validate_cap(minimal(scope="Private"))
    assert verdict.as_dict() == {
        "standard": "CAP 1.2",
        "verdict": "invalid",
        "errors": [
            {
                "path": "/alert/scope[1]",
                "code": "cap_addresses_missing",
                "message": verdict.errors[0].message,
            }
        ],
    }
