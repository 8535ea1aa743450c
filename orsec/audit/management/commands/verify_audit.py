"""``manage.py verify_audit``: recompute the audit chain and name the first broken record."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from orsec.audit.actions import verify_audit_chain


class Command(BaseCommand):
    help = "Vérifie le chaînage des enregistrements d'audit (empreintes SHA-256)."

    def handle(self, *args: Any, **options: Any) -> None:
        checked, problem = verify_audit_chain()
        if problem is not None:
            raise CommandError(
                f"Chaîne d'audit ALTÉRÉE — {problem.reason} ({checked} enregistrements vérifiés "
                "avant l'anomalie)."
            )
        self.stdout.write(
            self.style.SUCCESS(f"Chaîne d'audit intègre : {checked} enregistrements.")
        )
