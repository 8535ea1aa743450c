"""The ``orsec`` console command (declared in pyproject ``[project.scripts]``).

``orsec interop validate FILE [--json]``: exit status 0 = valid, 1 = invalid (errors listed),
2 = refused for security (DOCTYPE, entity, XInclude, oversize, too deep), unreadable file or
bad usage. ``FILE`` may be ``-`` for the standard input.

``orsec interop import FILE [--event ID] [--user USERNAME] [--json]``: validates then imports
through :func:`orsec.interop.actions.do_receive_message` (the writer the partner inbox uses: the
message is kept and audited) on behalf of ``USERNAME`` (default: the ``ORSEC_INTEROP_USER``
environment variable); the event must be visible to that user. Exit status 0 = imported (or a
replay), 1 = invalid or not importable, 2 = refused for security, unreadable file, unknown user
or event. Importing needs the project's settings and database (``DJANGO_SETTINGS_MODULE``,
default ``config.settings``).

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


def _setup_django(needs_database: bool = False) -> None:
    import django
    from django.conf import settings

    if settings.configured:
        return
    if needs_database:
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
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


def _import(args: argparse.Namespace) -> int:
    from django.contrib.auth import get_user_model
    from django.http import Http404
    from django.utils.translation import gettext as _

    from orsec.events.access import access_event_by_id
    from orsec.journal.actions import acting_organisation

    from .actions import do_receive_message
    from .importing import ImportContext
    from .secure import DEFAULT_MAX_BYTES

    def fail(message: str) -> int:
        sys.stderr.write(message + "\n")
        return 2

    try:
        data = _read(args.file, DEFAULT_MAX_BYTES)
    except OSError as exc:
        return fail(
            _("Lecture impossible de « %(file)s » : %(reason)s")
            % {"file": args.file, "reason": exc.strerror or exc}
        )
    username = args.user or os.environ.get("ORSEC_INTEROP_USER", "")
    user = get_user_model().objects.filter(username=username, is_active=True).first()
    if not username or user is None:
        return fail(
            _("Utilisateur « %(user)s » inconnu ou inactif (option --user).") % {"user": username}
        )
    event = None
    if args.event is not None:
        try:
            event = access_event_by_id(user, args.event)
        except Http404:
            return fail(
                _("Événement %(id)s introuvable ou non visible pour « %(user)s ».")
                % {"id": args.event, "user": username}
            )
    context = ImportContext(
        actor=user, organisation=acting_organisation(user), event=event, channel="interop"
    )
    reception = do_receive_message(data, context, content_type="")
    outcome = reception.outcome
    verdict_name = {"imported": "valid", "replay": "valid", "refused": "refused"}.get(
        reception.verdict, "invalid"
    )
    standard, errors = reception.standard, reception.errors
    imported = outcome is not None
    if args.json:
        body: dict[str, object] = {
            "standard": standard,
            "verdict": "imported" if imported else verdict_name,
            "errors": [error.as_dict() for error in errors],
        }
        if outcome is not None:
            body.update(
                summary=outcome.summary,
                event_id=outcome.event_id,
                entry_ids=outcome.entry_ids,
                report_ids=outcome.report_ids,
                replay=outcome.replay,
                inbound_message=reception.inbound_id,
            )
        sys.stdout.write(json.dumps(body, ensure_ascii=False, indent=2) + "\n")
    elif outcome is not None:
        sys.stdout.write(f"{standard} : {outcome.summary}\n")
    else:
        label = (
            _("refusé pour raison de sécurité") if verdict_name == "refused" else _("non importé")
        )
        lines = [f"{standard or _('Message')} : {label}"]
        lines += [f"  {e.path} [{e.code}] {e.message}" for e in errors]
        sys.stdout.write("\n".join(lines) + "\n")
    return EXIT_STATUS[verdict_name]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="orsec", description="Portail ORSEC — outils.")
    commands = parser.add_subparsers(dest="command", required=True)
    interop = commands.add_parser(
        "interop", help="Interopérabilité (EDXL-DE, Hub Santé, CAP, EMSI, GeoJSON)"
    )
    interop_commands = interop.add_subparsers(dest="interop_command", required=True)
    validate = interop_commands.add_parser(
        "validate",
        help="Valider un message (EDXL-DE, Hub Santé, CAP, EMSI, GeoJSON) : "
        "0 valide, 1 invalide, 2 refusé.",
    )
    validate.add_argument("file", help="fichier à valider, ou « - » pour l'entrée standard")
    validate.add_argument("--json", action="store_true", help="verdict au format JSON")
    validate.set_defaults(handler=_validate)
    importer = interop_commands.add_parser(
        "import",
        help="Importer un message (EDXL-DE, Hub Santé, CAP, EMSI) : "
        "0 importé, 1 invalide, 2 refusé.",
    )
    importer.add_argument("file", help="fichier à importer, ou « - » pour l'entrée standard")
    importer.add_argument("--event", type=int, help="identifiant de l'événement destinataire")
    importer.add_argument("--user", help="compte au nom duquel importer (ORSEC_INTEROP_USER)")
    importer.add_argument("--json", action="store_true", help="résultat au format JSON")
    importer.set_defaults(handler=_import, needs_database=True)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    _setup_django(getattr(args, "needs_database", False))
    return int(args.handler(args))


if __name__ == "__main__":
    sys.exit(main())
