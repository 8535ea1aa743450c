"""Secure parsing of untrusted XML and JSON (SECURITY.md S25).

XML rules, in order:

1. ``str`` input carrying an encoding declaration is refused as invalid (the bytes were already
   decoded, the declaration cannot be honoured); other ``str`` input is encoded in UTF-8.
2. Size limit on the raw bytes, before anything else.
3. Encoding: UTF-8/16/32 (BOM or first bytes) or a declared encoding from an allow-list of
   ASCII-compatible encodings; anything else is refused (the prolog scan below must be sound).
4. The prolog (what precedes the root element) is scanned: any markup declaration
   (``<!DOCTYPE``, ``<!ENTITY``…) is refused before the parser sees the document, so no
   internal or external entity, parameter entity or DTD is ever read.
5. Parsing with lxml: ``resolve_entities=False``, ``no_network=True``, ``load_dtd=False``,
   ``huge_tree=False`` (libxml2 then stops at 256 levels), no DTD validation, no XInclude.
6. After parsing, before any Python code walks the tree: no DOCTYPE (defence in depth), no
   element deeper than ``max_depth`` (an XPath evaluated in C), no XInclude element and no
   entity reference node (one C-level ``iter``).

``schemaLocation`` attributes are plain attributes: nothing here or in the validators ever
fetches them (schemas are loaded from ``orsec/interop/schemas`` through a resolver that refuses
every other location).
"""

from __future__ import annotations

import codecs
import json
import re
from functools import lru_cache
from typing import Any

from django.utils.translation import gettext as _
from lxml import etree

from .errors import InvalidMessage, RefusedInput

DEFAULT_MAX_BYTES = 5 * 1024 * 1024
DEFAULT_MAX_DEPTH = 64

XINCLUDE_NAMESPACES = frozenset(
    {"http://www.w3.org/2001/XInclude", "http://www.w3.org/2003/XInclude"}
)

# ASCII-compatible encodings whose markup characters are single ASCII bytes.
_ASCII_COMPATIBLE = frozenset(
    {
        "utf-8",
        "utf8",
        "us-ascii",
        "ascii",
        "iso-8859-1",
        "latin-1",
        "latin1",
        "iso-8859-2",
        "iso-8859-3",
        "iso-8859-4",
        "iso-8859-5",
        "iso-8859-6",
        "iso-8859-7",
        "iso-8859-8",
        "iso-8859-9",
        "iso-8859-10",
        "iso-8859-13",
        "iso-8859-14",
        "iso-8859-15",
        "iso-8859-16",
        "windows-1250",
        "windows-1251",
        "windows-1252",
        "windows-1253",
        "windows-1254",
        "windows-1255",
        "windows-1256",
        "windows-1257",
        "windows-1258",
    }
)

_PROLOG_SCAN_LIMIT = 64 * 1024
_BLANK_BYTES = frozenset(b" \t\r\n")
_ENCODING_DECL = re.compile(
    rb"""^<\?xml[^>]*?\sencoding\s*=\s*(?:"([A-Za-z0-9._:-]*)"|'([A-Za-z0-9._:-]*)')"""
)
_STR_ENCODING_DECL = re.compile(r"""^\s*<\?xml[^>]*?\sencoding\s*=""")


def _too_big(max_bytes: int) -> RefusedInput:
    return RefusedInput(
        "input_too_large",
        _("Message refusé : il dépasse la taille maximale autorisée (%(max)s octets).")
        % {"max": max_bytes},
        "/",
    )


def _too_deep(max_depth: int) -> RefusedInput:
    return RefusedInput(
        "xml_too_deep",
        _("Message refusé : imbrication trop profonde (plus de %(max)s niveaux).")
        % {"max": max_depth},
        "/",
    )


def _unicode_family(data: bytes) -> str | None:
    """The UTF-16/32 codec of ``data`` from its BOM or first bytes, None if ASCII-compatible."""
    if data.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        return "utf-32"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if data.startswith(b"\x00\x00\x00<") or data.startswith(b"<\x00\x00\x00"):
        return "utf-32-be" if data[0] == 0 else "utf-32-le"
    if data.startswith(b"\x00<") or data.startswith(b"<\x00"):
        return "utf-16-be" if data[0] == 0 else "utf-16-le"
    return None


def _prolog_text(data: bytes) -> bytes:
    """The beginning of the document as ASCII-compatible bytes whose markup can be scanned.

    ASCII-compatible encodings: the bytes themselves (markup characters are single ASCII bytes
    there), neither decoded nor copied. UTF-16/32: the first 64 KiB decoded, then written in
    Latin-1 with every other character replaced by ``?`` (markup characters are kept).
    """
    family = _unicode_family(data)
    if family is not None:
        text = data[:_PROLOG_SCAN_LIMIT].decode(family, errors="replace").lstrip("\ufeff")
        return text.encode("latin-1", errors="replace")
    body = data[3:] if data.startswith(codecs.BOM_UTF8) else data
    declared = _ENCODING_DECL.match(body)
    if declared:
        name = (declared.group(1) or declared.group(2) or b"").decode("ascii").lower()
        if name not in _ASCII_COMPATIBLE:
            raise RefusedInput(
                "xml_encoding_unsupported",
                _("Message refusé : encodage « %(name)s » non pris en charge.") % {"name": name},
                "/",
            )
    return body


def _check_prolog(text: bytes) -> None:
    """Refuse any markup declaration before the root element (DOCTYPE, ENTITY…).

    Only the first 64 KiB are scanned (a longer prolog is malformed or hostile anyway: the
    parser then sees it with entities, DTD loading and network disabled).
    """
    pos = 0
    length = min(len(text), _PROLOG_SCAN_LIMIT)
    while pos < length:
        while pos < length and text[pos] in _BLANK_BYTES:
            pos += 1
        if text.startswith(b"<?", pos):
            end = text.find(b"?>", pos + 2, length)
            if end < 0:
                return
            pos = end + 2
        elif text.startswith(b"<!--", pos):
            end = text.find(b"-->", pos + 4, length)
            if end < 0:
                return
            pos = end + 3
        elif text.startswith(b"<!", pos):
            raise RefusedInput(
                "xml_doctype_forbidden",
                _(
                    "Message refusé : les déclarations DOCTYPE, DTD et entités sont interdites "
                    "(risque d'expansion d'entités ou de lecture de fichiers)."
                ),
                "/",
            )
        else:
            return


def _xml_parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_blank_text=False,
        collect_ids=False,
    )


@lru_cache(maxsize=8)
def _deeper_than(max_depth: int) -> etree.XPath:
    """An XPath, evaluated on the root, true when an element lies deeper than ``max_depth``.

    The root is level 1; ``max_depth`` child steps from it reach level ``max_depth + 1``.
    libxml2 evaluates it in C (one pass over at most the first ``max_depth + 1`` levels).
    """
    return etree.XPath("boolean(" + "/".join(["*"] * max_depth) + ")")


# Every element in an XInclude namespace, and every entity reference node, in one C-level walk.
_FORBIDDEN_NODES = (
    *(f"{{{namespace}}}*" for namespace in sorted(XINCLUDE_NAMESPACES)),
    etree.Entity,
)


def _malformed(exc: Exception) -> InvalidMessage:
    detail = str(exc) or type(exc).__name__
    return InvalidMessage(
        "xml_malformed",
        _("XML mal formé : %(detail)s") % {"detail": detail[:300]},
        "/",
    )


def parse_xml(
    data: bytes | str,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_depth: int = DEFAULT_MAX_DEPTH,
) -> Any:
    """Parse untrusted XML and return the root element, or raise an ``InteropError``.

    ``RefusedInput``: DOCTYPE/entity declaration, XInclude, oversize, deeper than ``max_depth``,
    unsupported encoding. ``InvalidMessage``: empty, malformed, ``str`` with an encoding
    declaration.
    """
    if isinstance(data, str):
        if _STR_ENCODING_DECL.match(data):
            raise InvalidMessage(
                "xml_str_with_encoding",
                _(
                    "Texte déjà décodé portant une déclaration d'encodage : "
                    "transmettez les octets d'origine."
                ),
                "/",
            )
        if len(data) > max_bytes:
            raise _too_big(max_bytes)
        data = data.encode("utf-8")
    if len(data) > max_bytes:
        raise _too_big(max_bytes)
    if not data or data.isspace():  # no copy of the whole input
        raise InvalidMessage("xml_empty", _("Message vide."), "/")

    _check_prolog(_prolog_text(data))

    parser = _xml_parser()
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        text = str(exc)
        if "Excessive depth" in text:
            raise _too_deep(max_depth) from None
        if "Detected an entity reference loop" in text or "amplification" in text:
            raise RefusedInput(
                "xml_entity_forbidden",
                _("Message refusé : les entités XML sont interdites."),
                "/",
            ) from None
        if "network entity" in text or "failed to load" in text:
            raise RefusedInput(
                "xml_external_resource_forbidden",
                _("Message refusé : les ressources externes (DTD, entités) sont interdites."),
                "/",
            ) from None
        raise _malformed(exc) from None
    except (etree.LxmlError, ValueError, LookupError) as exc:
        raise _malformed(exc) from None

    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None or docinfo.externalDTD is not None:
        raise RefusedInput(
            "xml_doctype_forbidden",
            _(
                "Message refusé : les déclarations DOCTYPE, DTD et entités sont interdites "
                "(risque d'expansion d'entités ou de lecture de fichiers)."
            ),
            "/",
        )
    # libxml2 itself stops at 256 levels (no huge_tree): the tree in memory is bounded; our
    # stricter limit is checked on it, in C, before any Python code walks it.
    if max_depth > 0 and _deeper_than(max_depth)(root):
        raise _too_deep(max_depth)
    for node in root.iter(*_FORBIDDEN_NODES):
        if isinstance(node, etree._Entity):
            raise RefusedInput(
                "xml_entity_forbidden",
                _("Message refusé : les entités XML sont interdites (&%(name)s;).")
                % {"name": str(node.name)[:50]},
                "/",
            )
        raise RefusedInput(
            "xml_xinclude_forbidden",
            _("Message refusé : les inclusions XInclude sont interdites."),
            "/",
        )
    return root


def _namespace(tag: str) -> str:
    if tag.startswith("{"):
        return tag[1 : tag.index("}")]
    return ""


# --- JSON -------------------------------------------------------------------------------------

_JSON_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.DOTALL)


def _json_depth_check(text: str, max_depth: int) -> None:
    depth = 0
    for match in _JSON_TOKENS.finditer(text):
        token = match.group()
        if token in ("{", "["):
            depth += 1
            if depth > max_depth:
                raise RefusedInput(
                    "json_too_deep",
                    _("Message refusé : imbrication trop profonde (plus de %(max)s niveaux).")
                    % {"max": max_depth},
                    "/",
                )
        elif token in ("}", "]"):
            depth -= 1


def _reject_constant(name: str) -> Any:
    raise InvalidMessage(
        "json_non_finite_number",
        _("Nombre non fini interdit en JSON : %(name)s.") % {"name": name},
        "/",
    )


def _object_without_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise InvalidMessage(
                "json_duplicate_key",
                _("Clé en double dans un objet JSON : « %(key)s ».") % {"key": key[:100]},
                "/",
            )
        result[key] = value
    return result


def parse_json(
    data: bytes,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_depth: int = DEFAULT_MAX_DEPTH,
) -> Any:
    """Parse untrusted JSON (UTF-8 only) or raise an ``InteropError``.

    ``RefusedInput``: oversize, deeper than ``max_depth``. ``InvalidMessage``: not UTF-8,
    malformed, duplicate keys, NaN/Infinity, numbers too long to convert.
    """
    if not isinstance(data, bytes | bytearray):
        raise InvalidMessage(
            "json_not_bytes", _("Le message JSON doit être transmis en octets UTF-8."), "/"
        )
    if len(data) > max_bytes:
        raise _too_big(max_bytes)
    try:
        text = bytes(data).decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidMessage(
            "json_not_utf8", _("Le message JSON n'est pas encodé en UTF-8."), "/"
        ) from None
    _json_depth_check(text, max_depth)
    try:
        return json.loads(
            text,
            object_pairs_hook=_object_without_duplicates,
            parse_constant=_reject_constant,
        )
    except json.JSONDecodeError as exc:
        raise InvalidMessage(
            "json_malformed",
            _("JSON mal formé : %(detail)s (ligne %(line)s, colonne %(column)s).")
            % {"detail": exc.msg, "line": exc.lineno, "column": exc.colno},
            "/",
        ) from None
    except (ValueError, RecursionError) as exc:
        raise InvalidMessage(
            "json_malformed",
            _("JSON mal formé : %(detail)s") % {"detail": str(exc)[:300]},
            "/",
        ) from None
