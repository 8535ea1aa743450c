"""``manage.py prepare_demo`` — what ``make run`` does before serving (demo mode only).

Migrates the database, loads the territorial reference data (a no-op when unchanged), loads the
demo scenario, collects static files and prints the demo accounts. A second run keeps the data and
the accounts' credentials (kept in ``var/demo-accounts.json``, readable by the owner only).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from orsec.demo.scenario import PERSONAS, Credentials, PersonaSpec, load_demo, random_credentials
from orsec.territories.loader import load_reference_territories


def credentials_file() -> Path:
    return Path(settings.VAR_DIR) / "demo-accounts.json"


class Command(BaseCommand):
    help = "Prépare l'instance de démonstration (base, référentiels, scénario, comptes)."

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEMO:
            raise CommandError("prepare_demo ne s'exécute qu'en mode démo (ORSEC_DEMO=true).")
        started = time.monotonic()
        call_command("migrate", interactive=False, verbosity=0)
        result = load_reference_territories()
        self.stdout.write(f"Référentiel territorial : {result.summary()}")
        stored = self._read_credentials()
        fresh: dict[str, Credentials] = {}

        def credentials_for(spec: PersonaSpec) -> Credentials:
            if spec.username in stored:
                return stored[spec.username]
            fresh[spec.username] = random_credentials(spec)
            return fresh[spec.username]

        # Without the credentials file the passwords are unknown: issue new ones. The audit
        # record is written as always; its log line would only clutter the accounts table.
        audit_logger = logging.getLogger("orsec.audit")
        previous_level = audit_logger.level
        audit_logger.setLevel(logging.WARNING)
        try:
            people = load_demo(credentials_for, reset_credentials=not stored)
        finally:
            audit_logger.setLevel(previous_level)
        if fresh:
            self._write_credentials({**stored, **fresh})
            stored = {**stored, **fresh}
        self._collect_static()
        self._print_accounts(people, stored)
        self.stdout.write(f"Préparation terminée en {time.monotonic() - started:.1f} s.")

    def _collect_static(self) -> None:
        """collectstatic (with its manifest) only when a static source file changed."""
        digest = hashlib.sha256()
        for finder in finders.get_finders():
            for path, storage in sorted(finder.list([]), key=lambda item: item[0]):
                stat = os.stat(storage.path(path))
                digest.update(f"{path}:{stat.st_size}:{stat.st_mtime_ns}\n".encode())
        stamp = Path(settings.STATIC_ROOT) / ".sources-digest"
        manifest = Path(settings.STATIC_ROOT) / "staticfiles.json"
        if stamp.exists() and manifest.exists() and stamp.read_text() == digest.hexdigest():
            return
        call_command("collectstatic", interactive=False, verbosity=0)
        stamp.write_text(digest.hexdigest())

    def _read_credentials(self) -> dict[str, Credentials]:
        path = credentials_file()
        if not path.exists():
            return {}
        raw = json.loads(path.read_text(encoding="utf-8"))
        return {name: Credentials(**values) for name, values in raw.items()}

    def _write_credentials(self, credentials: dict[str, Credentials]) -> None:
        path = credentials_file()
        path.parent.mkdir(parents=True, exist_ok=True)
        payload = {
            name: {"password": c.password, "totp_key": c.totp_key}
            for name, c in credentials.items()
        }
        path.write_text(json.dumps(payload, indent=2), encoding="utf-8")
        path.chmod(0o600)

    def _print_accounts(self, people: dict[str, Any], stored: dict[str, Credentials]) -> None:
        self.stdout.write("")
        self.stdout.write(self.style.MIGRATE_HEADING("Comptes de démonstration (données fictives)"))
        self.stdout.write(
            "Chaque compte exige son mot de passe ET un code à 6 chiffres : chargez le secret TOTP "
            "dans une application d'authentification (FreeOTP, Aegis, Google Authenticator…),"
        )
        self.stdout.write(
            "ou affichez le code du moment avec : "
            "ORSEC_DEMO=true .venv/bin/python manage.py demo_totp <identifiant>"
        )
        self.stdout.write("")
        header = (
            f"{'identifiant':<20} {'rôle':<38} {'organisation':<16} {'mot de passe':<22} "
            "secret TOTP"
        )
        self.stdout.write(header)
        self.stdout.write("-" * len(header))
        for spec in PERSONAS:
            user, _ = people[spec.key]
            creds = stored.get(spec.username)
            membership = user.memberships.select_related("organisation").first()
            role = membership.get_role_display() if membership else ""
            org = str(membership.organisation) if membership else ""
            password = creds.password if creds else "(inchangé)"
            secret = creds.totp_secret_base32 if creds else ""
            self.stdout.write(f"{spec.username:<20} {role:<38} {org:<16} {password:<22} {secret}")
        self.stdout.write("")
