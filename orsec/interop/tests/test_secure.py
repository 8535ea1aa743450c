"""Secure parsing (S25): hostile XML and JSON refused before any resolution."""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest

from orsec.interop import secure
from orsec.interop.errors import InvalidMessage, RefusedInput

FIXTURES = Path(__file__).parent / "fixtures"
ATTACKS = FIXTURES / "attacks"


@pytest.fixture
def parser_never_built(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any attempt to hand the document to lxml fails the test: refusal must come first."""

    def forbidden() -> None:
        raise AssertionError("the document reached the XML parser")

    monkeypatch.setattr(secure, "_xml_parser", forbidden)


@pytest.mark.parametrize(
    "name", ["billion_laughs.xml", "xxe_file.xml", "doctype_only.xml"], ids=str
)
def test_doctype_attacks_are_refused_before_the_parser_sees_them(name, parser_never_built):
    with pytest.raises(RefusedInput) as refused:
        secure.parse_xml((ATTACKS / name).read_bytes())
    assert refused.value.code == "xml_doctype_forbidden"
    assert "DOCTYPE" in refused.value.message


def test_external_entities_over_http_make_no_request(loopback, parser_never_built):
    attacks = [
        f'<!DOCTYPE a [<!ENTITY x SYSTEM "{loopback.url}/entity">]><a>&x;</a>',
        f'<!DOCTYPE a SYSTEM "{loopback.url}/external.dtd"><a/>',
        f'<!DOCTYPE a [<!ENTITY % p SYSTEM "{loopback.url}/param.dtd"> %p;]><a>&leak;</a>',
        f'<?xml version="1.0"?><!-- c --><!DOCTYPE a PUBLIC "-//X//Y" "{loopback.url}/p"><a/>',
    ]
    for attack in attacks:
        with pytest.raises(RefusedInput) as refused:
            secure.parse_xml(attack.encode())
        assert refused.value.code == "xml_doctype_forbidden"
    assert loopback.hits == []


def test_xinclude_is_refused_and_never_processed(loopback):
    remote = (
        f'<a xmlns:xi="http://www.w3.org/2001/XInclude"><xi:include href="{loopback.url}/inc"/></a>'
    )
    for data in ((ATTACKS / "xinclude.xml").read_bytes(), remote.encode()):
        with pytest.raises(RefusedInput) as refused:
            secure.parse_xml(data)
        assert refused.value.code == "xml_xinclude_forbidden"
    assert loopback.hits == []


def test_schema_location_is_never_fetched(loopback):
    data = (
        '<a xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        f'xsi:schemaLocation="urn:x {loopback.url}/s.xsd" '
        f'xsi:noNamespaceSchemaLocation="{loopback.url}/n.xsd"><b/></a>'
    ).encode()
    root = secure.parse_xml(data)
    assert root.tag == "a"
    assert loopback.hits == []


def test_doctype_in_utf16_document_is_refused_before_parsing(parser_never_built):
    data = codecs.BOM_UTF16_LE + '<!DOCTYPE a [<!ENTITY x "y">]><a>&x;</a>'.encode("utf-16-le")
    with pytest.raises(RefusedInput) as refused:
        secure.parse_xml(data)
    assert refused.value.code == "xml_doctype_forbidden"


def test_undeclared_entity_reference_is_malformed_not_resolved():
    with pytest.raises(InvalidMessage) as invalid:
        secure.parse_xml(b"<a>&xxe;</a>")
    assert invalid.value.code == "xml_malformed"


def test_nesting_of_ten_thousand_levels_is_refused_as_too_deep():
    data = b"<a>" * 10_000 + b"</a>" * 10_000
    with pytest.raises(RefusedInput) as refused:
        secure.parse_xml(data)
    assert refused.value.code == "xml_too_deep"


def test_depth_limit_is_configurable():
    data = b"<a>" * 5 + b"</a>" * 5
    assert secure.parse_xml(data, max_depth=5).tag == "a"
    with pytest.raises(RefusedInput):
        secure.parse_xml(data, max_depth=4)


def test_oversize_xml_is_refused_before_parsing(parser_never_built):
    with pytest.raises(RefusedInput) as refused:
        secure.parse_xml(b"<a>" + b"x" * 2000 + b"</a>", max_bytes=1000)
    assert refused.value.code == "input_too_large"


def test_declared_latin1_encoding_is_honoured():
    data = '<?xml version="1.0" encoding="ISO-8859-1"?><a>Préfecture</a>'.encode("latin-1")
    assert secure.parse_xml(data).text == "Préfecture"


def test_utf16_document_with_bom_is_parsed():
    data = codecs.BOM_UTF16_BE + "<a>Crue de la Loire</a>".encode("utf-16-be")
    assert secure.parse_xml(data).text == "Crue de la Loire"


def test_unsupported_declared_encoding_is_refused():
    with pytest.raises(RefusedInput) as refused:
        secure.parse_xml(b'<?xml version="1.0" encoding="EBCDIC-US"?><a/>')
    assert refused.value.code == "xml_encoding_unsupported"


def test_str_with_an_encoding_declaration_is_invalid_not_a_crash():
    with pytest.raises(InvalidMessage) as invalid:
        secure.parse_xml('<?xml version="1.0" encoding="UTF-8"?><a/>')
    assert invalid.value.code == "xml_str_with_encoding"
    assert secure.parse_xml("<a>é</a>").text == "é"


@pytest.mark.parametrize("data", [b"", b"   ", b"<a>", b"<a></b>", b"not xml", b"<?xml?>"])
def test_malformed_xml_is_invalid(data):
    with pytest.raises(InvalidMessage):
        secure.parse_xml(data)


# --- JSON -------------------------------------------------------------------------------------


def test_json_object_is_parsed():
    assert secure.parse_json('{"a": [1, 2.5, "é", null, true]}'.encode()) == {
        "a": [1, 2.5, "é", None, True]
    }


def test_json_duplicate_keys_are_refused():
    with pytest.raises(InvalidMessage) as invalid:
        secure.parse_json(b'{"status": "Actual", "status": "Exercise"}')
    assert invalid.value.code == "json_duplicate_key"
    assert "status" in invalid.value.message


@pytest.mark.parametrize("constant", [b"NaN", b"Infinity", b"-Infinity"])
def test_json_non_finite_numbers_are_refused(constant):
    with pytest.raises(InvalidMessage) as invalid:
        secure.parse_json(b'{"lat": ' + constant + b"}")
    assert invalid.value.code == "json_non_finite_number"


def test_json_nesting_of_ten_thousand_levels_is_refused():
    with pytest.raises(RefusedInput) as refused:
        secure.parse_json(b"[" * 10_000 + b"]" * 10_000)
    assert refused.value.code == "json_too_deep"


def test_json_brackets_inside_strings_do_not_count_as_depth():
    assert secure.parse_json(b'{"a": "[[[[[[[[[[\\"{{{{{{"}', max_depth=1) == {
        "a": '[[[[[[[[[["{{{{{{'
    }


def test_oversize_json_is_refused():
    with pytest.raises(RefusedInput) as refused:
        secure.parse_json(b'"' + b"x" * 2000 + b'"', max_bytes=1000)
    assert refused.value.code == "input_too_large"


@pytest.mark.parametrize(
    ("data", "code"),
    [
        ("{}".encode("utf-16"), "json_not_utf8"),
        (b'{"a": "\xff"}', "json_not_utf8"),
        (b"{'a': 1}", "json_malformed"),
        (b"", "json_malformed"),
        (b"1" * 5000, "json_malformed"),
    ],
)
def test_bad_json_is_invalid_with_a_stable_code(data, code):
    with pytest.raises(InvalidMessage) as invalid:
        secure.parse_json(data)
    assert invalid.value.code == code


def test_parser_configuration_alone_resolves_nothing_if_the_prolog_scan_were_bypassed(
    monkeypatch, loopback, tmp_path
):
    """Defence in depth: without the prolog scan, lxml's options still fetch and read nothing."""
    monkeypatch.setattr(secure, "_check_prolog", lambda text: None)
    secret = tmp_path / "secret.txt"
    secret.write_text("SECRET-PREFECTURE")
    attacks = [
        f'<!DOCTYPE a [<!ENTITY x SYSTEM "{loopback.url}/entity">]><a>&x;</a>',
        f'<!DOCTYPE a SYSTEM "{loopback.url}/external.dtd"><a/>',
        f'<!DOCTYPE a [<!ENTITY % p SYSTEM "{loopback.url}/param.dtd"> %p;]><a/>',
        f'<!DOCTYPE a [<!ENTITY x SYSTEM "file://{secret}">]><a>&x;</a>',
        (ATTACKS / "billion_laughs.xml").read_text(),
    ]
    for attack in attacks:
        with pytest.raises(RefusedInput) as refused:
            secure.parse_xml(attack.encode())
        assert refused.value.code in (
            "xml_doctype_forbidden",
            "xml_entity_forbidden",
            "xml_external_resource_forbidden",
        )
        assert "SECRET" not in refused.value.message
    assert loopback.hits == []
