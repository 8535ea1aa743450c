"""The SITREP as a PDF document (WeasyPrint), rendered once at freezing and stored.

No network, ever: the print stylesheet is read from this app's static folder and passed as a
string, and the URL fetcher refuses every URL except files of that folder (``file://``). Fonts
are the system's (DejaVu Sans through fontconfig; Marianne is not redistributable here).
An exercise SITREP carries "EXERCICE" as a watermark on every page (a fixed-position element,
repeated by WeasyPrint on each page) and in the running header.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.template.loader import render_to_string
from django.utils import formats, timezone, translation

from orsec.sitreps.models import Sitrep

STATIC_DIR = (Path(__file__).resolve().parent / "static" / "sitreps").resolve()
PRINT_CSS = STATIC_DIR / "sitrep-print.css"


#: The running header of an exercise: the marker three times, en dashes between.
EN_DASH = "\N{EN DASH}"


class PdfError(RuntimeError):
    """Rendering failed (the freeze is then refused as a whole)."""


def _local_only(url: str, *args: Any, **kwargs: Any) -> dict[str, Any]:
    """WeasyPrint URL fetcher: only files of the SITREP static folder; nothing else."""
    if url.startswith("file://"):
        path = Path(url[len("file://") :].split("?", 1)[0]).resolve()
        if STATIC_DIR in path.parents and path.is_file():
            return {"string": path.read_bytes(), "mime_type": None, "redirected_url": url}
    raise ValueError(f"URL refusée pendant le rendu du SITREP : {url[:80]}")


def css_string(value: str) -> str:
    """``value`` as a CSS string literal (quotes, backslashes, line breaks and ``<`` escaped)."""
    escaped = "".join(f"\\{ord(c):06x}" if c in '"\\<>\n\r' or ord(c) < 32 else c for c in value)
    return f'"{escaped}"'


def page_css(sitrep: Sitrep, marker: str) -> str:
    """The running header and footer of every page (``@page`` margin boxes)."""
    number = f"SITREP n° {sitrep.number}"
    if sitrep.frozen_at:
        number += " — " + formats.date_format(timezone.localtime(sitrep.frozen_at), "d/m/Y H:i")
    rules = [
        f"@top-left {{ content: {css_string(sitrep.emitting_label)}; }}",
        f"@top-right {{ content: {css_string(number)}; }}",
        f"@bottom-left {{ content: {css_string('SHA-256 ' + sitrep.frozen_hash)}; }}",
    ]
    if marker:
        banner = f" {EN_DASH} ".join([marker] * 3)
        rules.append(
            f"@top-center {{ content: {css_string(banner)}; color: #ce0500; font-weight: bold; }}"
        )
    return "@page { " + " ".join(rules) + " }"


def mode_marker(sitrep: Sitrep) -> str:
    return {"exercise": "EXERCICE", "test": "TEST"}.get(sitrep.mode, "")


def render_html(sitrep: Sitrep) -> str:
    marker = mode_marker(sitrep)
    with translation.override("fr"):
        return render_to_string(
            "sitreps/pdf.html",
            {
                "sitrep": sitrep,
                "sections": sitrep.sections(),
                "marker": marker,
            },
        )


def render_pdf(sitrep: Sitrep) -> bytes:
    """The PDF bytes of a SITREP whose hash is already computed (it is printed in the footer)."""
    import weasyprint  # heavy import, only when a document is rendered

    try:
        stylesheets = [
            weasyprint.CSS(string=PRINT_CSS.read_text(encoding="utf-8"), url_fetcher=_local_only),
            # the running header and footer: a stylesheet of its own, never inside the HTML
            weasyprint.CSS(string=page_css(sitrep, mode_marker(sitrep)), url_fetcher=_local_only),
        ]
        document = weasyprint.HTML(
            string=render_html(sitrep), base_url=STATIC_DIR.as_uri() + "/", url_fetcher=_local_only
        )
        pdf = document.write_pdf(stylesheets=stylesheets)
    except (OSError, ValueError) as error:  # a missing library or font, a broken template
        raise PdfError(str(error)) from error
    if not pdf:
        raise PdfError("document vide")
    return bytes(pdf)
