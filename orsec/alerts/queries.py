"""Read-side queries of vigilances (no writes)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils import timezone

from orsec.alerts.meteoalarm import geocode_key
from orsec.alerts.models import Vigilance, VigilanceFeedState, VigilanceState
from orsec.territories.models import Territory, TerritoryKind


def active_vigilances(
    territory_paths: Iterable[str],
    *,
    departement_ids: Iterable[int] = (),
    now: dt.datetime | None = None,
) -> QuerySet[Vigilance]:
    """Vigilances in force at ``now`` in the départements at or below ``territory_paths``, or
    in the départements ``departement_ids``.

    Orange and red first (then by onset). Empty paths and ids give nothing.
    """
    now = now or timezone.now()
    where = Q(departement_id__in=list(departement_ids))
    for path in territory_paths:
        where |= Q(territory_path=path) | Q(territory_path__startswith=path + "/")
    return (
        Vigilance.objects.filter(where, state=VigilanceState.ACTIVE, expires__gt=now)
        .select_related("departement")
        .order_by("-level", "onset", "departement__code", "phenomenon", "pk")
    )


def departement_geocodes() -> tuple[dict[str, str], dict[str, Territory]]:
    """(``"NUTS3:FR244"``/``"EMMA_ID:FR093"`` → code, code → département) from the territories."""
    keys: dict[str, str] = {}
    by_code: dict[str, Territory] = {}
    for departement in Territory.objects.filter(kind=TerritoryKind.DEPARTEMENT):
        by_code[departement.code] = departement
        if departement.nuts3:
            keys[geocode_key("NUTS3", departement.nuts3)] = departement.code
        if departement.emma_id:
            keys[geocode_key("EMMA_ID", departement.emma_id)] = departement.code
    return keys, by_code


def feed_states() -> list[VigilanceFeedState]:
    """The state of each configured feed (a feed never polled yet has an unsaved blank state)."""
    urls = [url for url in getattr(settings, "ORSEC_METEOALARM_FEEDS", []) if url]
    known = {state.url: state for state in VigilanceFeedState.objects.filter(url__in=urls)}
    return [known.get(url) or VigilanceFeedState(url=url) for url in urls]
