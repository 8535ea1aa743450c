"""Which organisations the routing rules send an entry to (read-only queries, no writes).

Recipients of a rule for an event: the active organisations of the rule's kinds whose territory
is the event's territory or one of its ancestors (SDIS 37 for an event of Indre-et-Loire, the
ARS of its région, the COZ of its zone, the COGIC), plus, when the rule lists ``mairie``, the
mairies of the communes concerned by the event.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q, QuerySet

from orsec.directory.models import Organisation, OrganisationKind
from orsec.dissemination.models import RoutingRule
from orsec.events.models import Event, EventCommune
from orsec.territories.models import path_ancestors


@dataclass
class Routing:
    """The result of applying the rules: recipients (by id) and the rules that matched."""

    rules: list[RoutingRule] = field(default_factory=list)
    organisations: list[Organisation] = field(default_factory=list)

    @property
    def organisation_ids(self) -> list[int]:
        return [o.pk for o in self.organisations]


def matching_rules(event: Event, entry: Any) -> list[RoutingRule]:
    """Active rules whose territory covers the event and whose kinds/templates fit the entry."""
    paths = [*path_ancestors(event.territory_path), event.territory_path]
    candidates = RoutingRule.objects.filter(is_active=True, territory_path__in=paths)
    return [r for r in candidates.order_by("name") if r.applies_to(entry, event.territory_path)]


def organisations_for_kinds(event: Event, kinds: set[str]) -> QuerySet[Organisation]:
    """Active organisations of ``kinds`` on the event's territory or above, and the mairies of
    its concerned communes when ``mairie`` is among the kinds."""
    paths = [*path_ancestors(event.territory_path), event.territory_path]
    condition = Q(kind__in=sorted(kinds), territory__path__in=paths)
    if OrganisationKind.MAIRIE in kinds:
        communes = EventCommune.objects.filter(event=event).values("commune_id")
        condition |= Q(kind=OrganisationKind.MAIRIE, territory_id__in=communes)
    return (
        Organisation.objects.filter(condition, is_active=True)
        .select_related("territory")
        .defer("territory__boundary")
        .order_by("territory__path", "kind", "name")
    )


def route_entry(event: Event, entry: Any) -> Routing:
    """Apply the active routing rules to ``entry`` of ``event``."""
    rules = matching_rules(event, entry)
    kinds = {kind for rule in rules for kind in (rule.organisation_kinds or [])}
    if not kinds:
        return Routing(rules=rules)
    organisations = sorted(
        organisations_for_kinds(event, kinds),
        # the closest first (SDIS 37 before ARS CVL), then by kind and name
        key=lambda o: (-o.territory.path.count("/"), o.kind, o.name),
    )
    return Routing(rules=rules, organisations=organisations)
