"""The vendored Leaflet files are the ones published on npm (digests in the folder's README),
and no page or static file of the maps points at a CDN."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest

MAPS = Path(__file__).resolve().parents[1]
LEAFLET = MAPS / "static" / "maps" / "leaflet"


def readme_digests() -> dict[str, str]:
    text = (LEAFLET / "README.md").read_text(encoding="utf-8")
    return dict(re.findall(r"^\| `([^`]+)` \| `([0-9a-f]{64})` \|$", text, re.M))


def test_readme_lists_every_vendored_file() -> None:
    listed = set(readme_digests())
    present = {
        str(p.relative_to(LEAFLET))
        for p in LEAFLET.rglob("*")
        if p.is_file() and p.name not in ("README.md", "LICENSE", "VERSION")
    }
    assert listed == present
    assert (LEAFLET / "VERSION").read_text().strip() == "1.9.4"
    assert "BSD 2-Clause License" in (LEAFLET / "LICENSE").read_text(encoding="utf-8")


@pytest.mark.parametrize("name", sorted(readme_digests()))
def test_vendored_file_matches_its_published_digest(name: str) -> None:
    assert hashlib.sha256((LEAFLET / name).read_bytes()).hexdigest() == readme_digests()[name]


def test_no_cdn_in_the_map_templates_and_scripts() -> None:
    for path in [*MAPS.rglob("*.html"), MAPS / "static" / "maps" / "map.js"]:
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"(src|href)=\"https?://", text), path
        assert "unpkg" not in text, path
        assert "cdn" not in text.lower(), path
