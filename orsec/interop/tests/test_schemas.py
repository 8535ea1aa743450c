"""Schema loading never leaves orsec/interop/schemas (no network, no other file)."""

from __future__ import annotations

import pytest
from lxml import etree

from orsec.interop import xmlpaths

SCHEMA = """<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:a">
  {imports}
  <xs:element name="a" type="xs:string"/>
</xs:schema>"""


@pytest.fixture
def schemas_dir(tmp_path, monkeypatch):
    root = tmp_path / "schemas"
    root.mkdir()
    monkeypatch.setattr(xmlpaths, "SCHEMAS_DIR", root.resolve())
    xmlpaths.load_schema.cache_clear()
    yield root
    xmlpaths.load_schema.cache_clear()


def test_schema_import_over_http_is_refused_without_any_request(schemas_dir, loopback):
    imports = f'<xs:import namespace="urn:x" schemaLocation="{loopback.url}/x.xsd"/>'
    (schemas_dir / "remote.xsd").write_text(SCHEMA.format(imports=imports))
    with pytest.raises(etree.XMLSchemaParseError):
        xmlpaths.load_schema("remote.xsd")
    assert loopback.hits == []


def test_schema_import_of_a_file_outside_the_schemas_folder_is_refused(schemas_dir, tmp_path):
    outside = tmp_path / "outside.xsd"
    outside.write_text(SCHEMA.format(imports="").replace("urn:a", "urn:x"))
    imports = f'<xs:import namespace="urn:x" schemaLocation="{outside}"/>'
    (schemas_dir / "escape.xsd").write_text(SCHEMA.format(imports=imports))
    with pytest.raises(etree.XMLSchemaParseError):
        xmlpaths.load_schema("escape.xsd")


def test_schema_import_inside_the_schemas_folder_is_loaded(schemas_dir):
    (schemas_dir / "x.xsd").write_text(SCHEMA.format(imports="").replace("urn:a", "urn:x"))
    imports = '<xs:import namespace="urn:x" schemaLocation="x.xsd"/>'
    (schemas_dir / "local.xsd").write_text(SCHEMA.format(imports=imports))
    assert xmlpaths.load_schema("local.xsd").validate(etree.fromstring(b'<a xmlns="urn:a"/>'))


def test_schema_outside_the_schemas_folder_cannot_be_named(schemas_dir):
    with pytest.raises((ValueError, FileNotFoundError)):
        xmlpaths.load_schema("../../../etc/passwd")
