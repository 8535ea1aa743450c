"""XPath-like paths of elements for error reports, and safe local schema loading."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from django.utils.translation import gettext as _
from lxml import etree

from .errors import RefusedInput

SCHEMAS_DIR = Path(__file__).resolve().parent / "schemas"


def local_name(tag: Any) -> str:
    if not isinstance(tag, str):
        return ""
    return tag.rsplit("}", 1)[-1]


def namespace_of(tag: Any) -> str:
    if isinstance(tag, str) and tag.startswith("{"):
        return tag[1 : tag.index("}")]
    return ""


def element_path(element: Any) -> str:
    """``/alert/info[1]/area[2]/polygon[1]``: local names, 1-based index among namesakes."""
    parts: list[str] = []
    node = element
    while node is not None:
        parent = node.getparent()
        name = local_name(node.tag)
        if parent is None:
            parts.append(name)
        else:
            same = [child for child in parent if child.tag == node.tag]
            parts.append(f"{name}[{same.index(node) + 1}]")
        node = parent
    return "/" + "/".join(reversed(parts))


def path_from_schema_error(root: Any, entry: Any) -> str:
    """Translate the path libxml2 gives for a schema error into an ``element_path``."""
    raw = getattr(entry, "path", "") or ""
    if not raw:
        return "/" + local_name(root.tag)
    namespaces = {prefix: uri for prefix, uri in root.nsmap.items() if prefix}
    try:
        nodes = root.getroottree().xpath(raw, namespaces=namespaces)
    except etree.LxmlError:
        return raw
    if isinstance(nodes, list) and len(nodes) == 1 and isinstance(nodes[0], etree._Element):
        return element_path(nodes[0])
    return raw


class _RefuseEverything(etree.Resolver):
    """Resolver for schema loading: only files inside ``SCHEMAS_DIR``, never the network."""

    def resolve(self, system_url: str | None, public_id: str | None, context: Any) -> Any:
        url = system_url or ""
        if url.startswith("file://"):
            url = url[len("file://") :]
        candidate = Path(url)
        try:
            resolved = candidate.resolve(strict=True)
        except (OSError, RuntimeError):
            resolved = None
        if resolved is not None and SCHEMAS_DIR in resolved.parents and resolved.is_file():
            return self.resolve_filename(str(resolved), context)
        raise RefusedInput(
            "schema_location_forbidden",
            _("Chargement de schéma refusé : « %(url)s » n'est pas un schéma local.")
            % {"url": url[:200]},
            "/",
        )


@lru_cache(maxsize=16)
def load_schema(relative: str) -> etree.XMLSchema:
    """The XMLSchema at ``SCHEMAS_DIR/relative``, imports restricted to ``SCHEMAS_DIR``."""
    path = (SCHEMAS_DIR / relative).resolve(strict=True)
    if SCHEMAS_DIR not in path.parents:
        raise ValueError(relative)
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False
    )
    parser.resolvers.add(_RefuseEverything())
    document = etree.parse(str(path), parser)
    return etree.XMLSchema(document)
