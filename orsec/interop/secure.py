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
   ``huge_tree=False``, no DTD validation, no XInclude; a pull parser counts the depth while it
   parses and stops at ``max_depth``.
6. After parsing: the tree must have no DOCTYPE (defence in depth) and no XInclude element.

``schemaLocation`` attributes are plain attributes: nothing here or in the validators ever
fetches them (schemas are loaded from ``orsec/interop/schemas`` through a resolver that refuses
every other location).
"""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Iterator
from typing import Any

from django.utils.translation import gettext as _
from lxml import etree

from .errors import InvalidMessage, RefusedInput

DEFAULT_MAX_BYTES = 5 * 1024 * 1024
DEFAULT_MAX_DEPTH = 64
_FEED_CHUNK = 64 * 1024

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


def _prolog_text(data: bytes) -> str:
    """The beginning of the document as text, decoded just enough to scan its markup."""
    family = _unicode_family(data)
    if family is not None:
        return data[: 64 * 1024].decode(family, errors="replace")
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
    # Latin-1 maps every byte to one character: the ASCII markup is read exactly, whatever
    # the (ASCII-compatible) encoding of the text.
    return body[: 64 * 1024].decode("latin-1")


def _check_prolog(text: str) -> None:
    """Refuse any markup declaration before the root element (DOCTYPE, ENTITY…)."""
    pos = 1 if text.startswith("\ufeff") else 0
    length = len(text)
    while pos < length:
        while pos < length and text[pos] in " \t\r\n":
            pos += 1
        if text.startswith("<?", pos):
            end = text.find("?>", pos + 2)
            if end < 0:
                return
            pos = end + 2
        elif text.startswith("<!--", pos):
            end = text.find("-->", pos + 4)
            if end < 0:
                return
            pos = end + 3
        elif text.startswith("<!", pos):
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


def _xml_parser() -> etree.XMLPullParser:
    return etree.XMLPullParser(
        events=("start", "end"),
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_blank_text=False,
        collect_ids=False,
    )


def _chunks(data: bytes) -> Iterator[bytes]:
    for start in range(0, len(data), _FEED_CHUNK):
        yield data[start : start + _FEED_CHUNK]


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
    if not data.strip():
        raise InvalidMessage("xml_empty", _("Message vide."), "/")

    _check_prolog(_prolog_text(data))

    parser = _xml_parser()
    depth = 0
    try:
        for chunk in _chunks(data):
            parser.feed(chunk)
            for event, element in parser.read_events():
                if event == "start":
                    depth += 1
                    if depth > max_depth:
                        raise RefusedInput(
                            "xml_too_deep",
                            _(
                                "Message refusé : imbrication trop profonde "
                                "(plus de %(max)s niveaux)."
                            )
                            % {"max": max_depth},
                            "/",
                        )
                    if isinstance(element.tag, str) and _namespace(element.tag) in (
                        XINCLUDE_NAMESPACES
                    ):
                        raise RefusedInput(
                            "xml_xinclude_forbidden",
                            _("Message refusé : les inclusions XInclude sont interdites."),
                            "/",
                        )
                else:
                    depth -= 1
        root = parser.close()
    except etree.XMLSyntaxError as exc:
        text = str(exc)
        if "Excessive depth" in text:
            raise RefusedInput(
                "xml_too_deep",
                _("Message refusé : imbrication trop profonde (plus de %(max)s niveaux).")
                % {"max": max_depth},
                "/",
            ) from None
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
    for node in root.iter(etree.Entity):
        raise RefusedInput(
            "xml_entity_forbidden",
            _("Message refusé : les entités XML sont interdites (&%(name)s;).")
            % {"name": str(node.name)[:50]},
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
