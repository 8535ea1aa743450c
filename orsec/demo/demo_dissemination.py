"""Default routing rules of the demo (département 37): who receives which qualified information.

* bilan humain (report template ``casualties``) → SDIS, SAMU, ARS;
* réseaux et infrastructures (template ``networks``) → network operators and the mairies of the
  communes concerned;
* information and décisions → SDIS, police, gendarmerie.

Idempotent: rules are found by name and brought back to these values.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from orsec.directory.models import OrganisationKind as K
from orsec.dissemination.models import RoutingRule
from orsec.journal.models import EntryKind
from orsec.territories.models import Territory, TerritoryKind


@dataclass(frozen=True)
class RuleSpec:
    name: str
    entry_kinds: tuple[str, ...]
    report_templates: tuple[str, ...]
    organisation_kinds: tuple[str, ...]


RULES_37: tuple[RuleSpec, ...] = (
    RuleSpec(
        "Bilan humain — Indre-et-Loire",
        (EntryKind.BILAN,),
        ("casualties",),
        (K.SDIS, K.SAMU, K.ARS),
    ),
    RuleSpec(
        "Réseaux et infrastructures — Indre-et-Loire",
        (),
        ("networks",),
        (K.OPERATOR, K.MAIRIE),
    ),
    RuleSpec(
        "Informations et décisions — Indre-et-Loire",
        (EntryKind.INFORMATION, EntryKind.DECISION),
        (),
        (K.SDIS, K.POLICE, K.GENDARMERIE),
    ),
)


@transaction.atomic
def build_routing_rules() -> list[RoutingRule]:
    territory = Territory.objects.get(kind=TerritoryKind.DEPARTEMENT, code="37")
    rules = []
    for spec in RULES_37:
        rule, _ = RoutingRule.objects.update_or_create(
            name=spec.name,
            defaults={
                "entry_kinds": [str(k) for k in spec.entry_kinds],
                "report_templates": list(spec.report_templates),
                "organisation_kinds": [str(k) for k in spec.organisation_kinds],
                "territory": territory,
                "is_active": True,
            },
        )
        rules.append(rule)
    return rules
