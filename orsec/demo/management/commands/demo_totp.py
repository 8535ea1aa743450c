"""``manage.py demo_totp <login>``: the current TOTP code of a demo account (demo mode only).

A convenience for trying the demo without an authenticator app. It refuses outside demo mode and
for accounts that are not demo accounts: it never weakens real authentication.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice


class Command(BaseCommand):
    help = "Affiche le code TOTP courant d'un compte de démonstration (mode démo uniquement)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("login")

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEMO:
            raise CommandError("Commande réservée au mode démo (ORSEC_DEMO=true).")
        device = (
            TOTPDevice.objects.filter(
                user__username=options["login"], user__is_demo=True, confirmed=True
            )
            .order_by("pk")
            .first()
        )
        if device is None:
            raise CommandError(f"Aucun compte de démonstration « {options['login']} ».")
        generator = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
        remaining = device.step - (int(generator.time) - device.t0) % device.step
        self.stdout.write(f"{generator.token():06d}  (valable encore {remaining} s)")
