"""Secure parsing of CAP alerts and version detection."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _

from ..errors import InvalidMessage
from ..secure import DEFAULT_MAX_BYTES, DEFAULT_MAX_DEPTH, parse_xml
from ..xmlpaths import local_name, namespace_of

CAP_12 = "urn:oasis:names:tc:emergency:cap:1.2"
CAP_11 = "urn:oasis:names:tc:emergency:cap:1.1"
CAP_NAMESPACES = {CAP_12: "1.2", CAP_11: "1.1"}
XMLDSIG = "http://www.w3.org/2000/09/xmldsig#"


@dataclass(frozen=True)
class CapDocument:
    """A parsed CAP alert: its root element and its version ("1.2" or "1.1")."""

    root: Any
    version: str

    @property
    def namespace(self) -> str:
        return CAP_12 if self.version == "1.2" else CAP_11


def parse_cap(
    data: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES, max_depth: int = DEFAULT_MAX_DEPTH
) -> CapDocument:
    """Parse ``data`` securely; raise ``InvalidMessage`` if it is not a CAP 1.2/1.1 alert."""
    root = parse_xml(data, max_bytes=max_bytes, max_depth=max_depth)
    namespace = namespace_of(root.tag)
    if local_name(root.tag) != "alert" or namespace not in CAP_NAMESPACES:
        raise InvalidMessage(
            "cap_not_an_alert",
            _(
                "Ce n'est pas une alerte CAP 1.2 ou 1.1 : élément racine « %(tag)s » "
                "(espace de noms « %(ns)s »)."
            )
            % {"tag": local_name(root.tag)[:100], "ns": namespace[:200]},
            "/" + local_name(root.tag)[:100],
        )
    return CapDocument(root=root, version=CAP_NAMESPACES[namespace])


def without_signature(root: Any) -> Any:
    """A copy of ``root`` without its enveloped XML-DSig signatures (direct children).

    CAP 1.1 allows an enveloped signature but its XSD has no slot for it; the signature is
    not verified here (not yet), only set aside for schema validation.
    """
    stripped = copy.deepcopy(root)
    for child in list(stripped):
        if isinstance(child.tag, str) and namespace_of(child.tag) == XMLDSIG:
            stripped.remove(child)
    return stripped
