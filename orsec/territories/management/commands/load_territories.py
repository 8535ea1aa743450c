"""``manage.py load_territories [--force]``: load the bundled territorial reference data."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from orsec.territories.loader import (
    KIND_ORDER,
    LoadResult,
    TerritoryDataError,
    format_number,
    load_reference_territories,
)
from orsec.territories.models import TerritoryKind


def _counts(result: LoadResult) -> str:
    labels = {
        TerritoryKind.NATIONAL: _("national"),
        TerritoryKind.ZONE: _("zones de défense et de sécurité"),
        TerritoryKind.REGION: _("régions"),
        TerritoryKind.DEPARTEMENT: _("départements"),
        TerritoryKind.COLLECTIVITE: _("collectivités d'outre-mer"),
        TerritoryKind.COMMUNE: _("communes"),
        TerritoryKind.ARRONDISSEMENT: _("arrondissements municipaux"),
    }
    return ", ".join(
        f"{format_number(result.counts.get(kind.value, 0))} {labels[kind]}" for kind in KIND_ORDER
    )


class Command(BaseCommand):
    help = _(
        "Charge les territoires de référence (zones de défense, régions, départements, "
        "communes) depuis orsec/territories/data/. Sans effet si les données n'ont pas changé."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--force",
            action="store_true",
            help=_(
                "Comparer chaque ligne aux données de référence et corriger les écarts, même si "
                "les données n'ont pas changé."
            ),
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            result = load_reference_territories(force=options["force"])
        except TerritoryDataError as exc:
            raise CommandError(_("Données de référence incohérentes : %s") % exc) from exc
        line = _("Territoires de référence : %s") % result.summary()
        if result.skipped:
            self.stdout.write(line)
            return
        self.stdout.write(self.style.SUCCESS(line))
        self.stdout.write(_("Détail : %s.") % _counts(result))
        self.stdout.write(_("Empreinte des données : %s") % result.digest)
        if result.stale:
            self.stdout.write(
                self.style.WARNING(
                    _(
                        "%(stale)s territoires en base ne figurent plus dans les données de "
                        "référence : ils sont conservés (ils peuvent être référencés) et sont à "
                        "examiner."
                    )
                    % {"stale": format_number(result.stale)}
                )
            )
