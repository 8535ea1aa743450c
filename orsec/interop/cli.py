"""The ``orsec`` console command (declared in pyproject ``[project.scripts]``).

``orsec interop validate FILE [--json]``: exit status 0 = valid, 1 = invalid (errors listed),
2 = refused for security (DOCTYPE, entity, XInclude, oversize, too deep), unreadable file or
bad usage. ``FILE`` may be ``-`` for the standard input.

Validation needs neither the database nor the project's secrets: when
``DJANGO_SETTINGS_MODULE`` is not set, a minimal French-language configuration is used.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path

EXIT_STATUS = {"valid": 0, "invalid": 1, "refused": 2}


def _setup_django() -> None:
    import django
    from django.conf import settings

    if settings.configured:
        return
    if not os.environ.get("DJANGO_SETTINGS_MODULE"):
        base_dir = Path(__file__).resolve().parent.parent.parent
        settings.configure(
            USE_I18N=True,
            LANGUAGE_CODE="fr",
            LOCALE_PATHS=[base_dir / "locale"],
            INSTALLED_APPS=[],
        )
    django.setup()


def _read(path: str, max_bytes: int) -> bytes:
    if path == "-":
        return sys.stdin.buffer.read(max_bytes + 1)
    with open(path, "rb") as handle:
        return handle.read(max_bytes + 1)


def _validate(args: argparse.Namespace) -> int:
    from django.utils.translation import gettext as _
    from django.utils.translation import ngettext

    from .secure import DEFAULT_MAX_BYTES
    from .validate import validate_message

    try:
        data = _read(args.file, DEFAULT_MAX_BYTES)
    except OSError as exc:
        sys.stderr.write(
            _("Lecture impossible de « %(file)s » : %(reason)s")
            % {"file": args.file, "reason": exc.strerror or exc}
            + "\n"
        )
        return 2
    verdict = validate_message(data)
    if args.json:
        sys.stdout.write(json.dumps(verdict.as_dict(), ensure_ascii=False, indent=2) + "\n")
    else:
        labels = {
            "valid": _("valide"),
            "invalid": _("invalide"),
            "refused": _("refusé pour raison de sécurité"),
        }
        line = f"{verdict.standard} : {labels[verdict.verdict]}"
        if verdict.errors:
            count = len(verdict.errors)
            line += " " + ngettext("(%(n)s erreur)", "(%(n)s erreurs)", count) % {"n": count}
        lines = [line] + [f"  {e.path} [{e.code}] {e.message}" for e in verdict.errors]
        sys.stdout.write("\n".join(lines) + "\n")
    return EXIT_STATUS[verdict.verdict]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="orsec", description="Portail ORSEC — outils.")
    commands = parser.add_subparsers(dest="command", required=True)
    interop = commands.add_parser("interop", help="Interopérabilité (CAP, GeoJSON…)")
    interop_commands = interop.add_subparsers(dest="interop_command", required=True)
    validate = interop_commands.add_parser(
        "validate",
        help="Valider un message (CAP 1.2/1.1, GeoJSON) : 0 valide, 1 invalide, 2 refusé.",
    )
    validate.add_argument("file", help="fichier à valider, ou « - » pour l'entrée standard")
    validate.add_argument("--json", action="store_true", help="verdict au format JSON")
    validate.set_defaults(handler=_validate)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    _setup_django()
    return int(args.handler(args))


if __name__ == "__main__":
    sys.exit(main())
