"""The Hub Santé JSON Schemas (ANS, SAMU-Hub-Modeles), loaded from a local registry.

Every published schema has the same ``$id`` (``classpath:/json-schema/schema#``) and refers to
the others by bare file name (``"$ref": "RC-EDA.schema.json"``). Each file is registered under
``classpath:/json-schema/<file>`` with its ``$id`` removed, so that bare names resolve to the
sibling file and ``#/definitions/…`` to the file itself. Nothing is ever fetched: an unknown
reference is an error of the registry (``NoSuchResource``), never a network access.

The map *use-case key → schema* (``createCase`` → ``RC-EDA``, ``reference`` → ``RC-REF``…) is
read from the ``oneOf`` of ``EDXL-DE-full.schema.json``, so it follows the published models.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from jsonschema import Draft7Validator
from referencing import Registry, Resource
from referencing.exceptions import NoSuchResource

from ..xmlpaths import SCHEMAS_DIR

SCHEMA_DIR = SCHEMAS_DIR / "hubsante" / "json-schema"
BASE_URI = "classpath:/json-schema/"


def _refuse_retrieval(uri: str) -> Any:
    raise NoSuchResource(ref=uri)  # type: ignore[call-arg]


@lru_cache(maxsize=1)
def _contents() -> dict[str, dict[str, Any]]:
    contents: dict[str, dict[str, Any]] = {}
    for path in sorted(SCHEMA_DIR.glob("*.schema.json")):
        schema = json.loads(path.read_text(encoding="utf-8"))
        schema.pop("$id", None)
        contents[path.name] = schema
    return contents


@lru_cache(maxsize=1)
def registry() -> Registry[Any]:
    resources = [
        (BASE_URI + name, Resource.from_contents(schema)) for name, schema in _contents().items()
    ]
    return Registry(retrieve=_refuse_retrieval).with_resources(resources)  # type: ignore[call-arg]


def schema_of(model: str) -> dict[str, Any]:
    """The schema of a model (``RC-EDA``, ``RC-DE``, ``TECHNICAL``…)."""
    return _contents()[f"{model}.schema.json"]


@lru_cache(maxsize=64)
def validator(model: str) -> Draft7Validator:
    """A Draft 7 validator of ``model`` (formats checked), references resolved locally."""
    schema = {"$ref": BASE_URI + f"{model}.schema.json"}
    return Draft7Validator(
        schema, registry=registry(), format_checker=Draft7Validator.FORMAT_CHECKER
    )


@lru_cache(maxsize=1)
def use_case_models() -> dict[str, str]:
    """Use-case key of the ``message`` object → model name, from ``EDXL-DE-full``'s oneOf."""
    full = _contents()["EDXL-DE-full.schema.json"]
    branches = full["definitions"]["EmbeddedJsonContent"]["oneOf"]
    found: dict[str, str] = {}
    for branch in branches:
        parts = branch.get("allOf", [branch])
        for part in parts:
            message = part.get("properties", {}).get("message", {})
            for key in message.get("required", []):
                ref = message.get("properties", {}).get(key, {}).get("$ref", "")
                if ref.endswith(".schema.json"):
                    found[key] = ref[: -len(".schema.json")]
    return found


@lru_cache(maxsize=1)
def headerless_keys() -> frozenset[str]:
    """Use cases the Hub carries without an RC-DE header (``error``, ``customContent`` and the
    test-only ``technicalNoreq``): the ``oneOf`` branches that are not ``allOf`` RC-DE + case."""
    full = _contents()["EDXL-DE-full.schema.json"]
    found = set()
    for branch in full["definitions"]["EmbeddedJsonContent"]["oneOf"]:
        if "allOf" not in branch:
            found.update(branch.get("properties", {}).get("message", {}).get("required", []))
    return frozenset(found)


def resolve(node: dict[str, Any], model: str) -> tuple[dict[str, Any], str]:
    """Follow ``$ref`` (bare file names and ``#/definitions/…``) from ``node`` of ``model``."""
    seen = 0
    while isinstance(node, dict) and "$ref" in node and seen < 32:
        seen += 1
        ref = str(node["$ref"])
        target_file, _sep, fragment = ref.partition("#")
        if target_file:
            model = target_file[: -len(".schema.json")]
        node = schema_of(model)
        for part in [p for p in fragment.split("/") if p]:
            node = node[part]
    return node, model
