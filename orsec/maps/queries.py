"""What the maps show: département outlines, events and field reports, filtered by access.

Everything here returns plain RFC 7946 structures (WGS84 longitude/latitude); rendering is in
``panel.py`` (the event page's map panel), ``watch.py`` (the watch room's map) and ``api.py``.
See ``docs/map.md``.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from collections.abc import Iterable
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.urls import reverse
from django.utils import formats, timezone

from orsec.events.models import Event, EventCommune, EventType, Phase
from orsec.interop.geojson.export import mode_marker
from orsec.reports.access import reports_visible_to
from orsec.reports.models import FieldReport, ReportState, Template, figures_summary
from orsec.territories.models import ReferenceDataset, Territory, TerritoryKind
from orsec.territories.queries import REFERENCE_DATASET

#: At most this many located reports on an event's map (the newest); the panel says so.
MAX_REPORTS = 500
#: At most this many events on a watch room's map (the most recently updated).
MAX_EVENTS = 300
#: At most this many départements in one outline request (all of France is 101).
MAX_DEPARTEMENTS = 101
#: Rows of the text alternative (the list below the map).
LIST_ROWS = 50

#: The symbol drawn in each report marker (with its colour and shape, see ``map.css``):
#: colour is never the only cue (RGAA 3.1).
STATE_SYMBOLS: dict[str, str] = {
    ReportState.RAW: "B",
    ReportState.CHECKING: "V",
    ReportState.CONFIRMED: "C",
    ReportState.REFUTED: "I",
}

BOUNDARY_ATTRIBUTION = "Contours : IGN Admin Express COG 2018 (Licence Ouverte)"


def _label(choices: Any, value: str) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return value


def _geometry(location: Any) -> dict[str, Any] | None:
    if isinstance(location, dict) and location.get("type") in ("Point", "Polygon"):
        return location
    return None


def _short_time(value: Any) -> str:
    return formats.date_format(timezone.localtime(value), "SHORT_DATETIME_FORMAT") if value else ""


# --- Département outlines -------------------------------------------------------------------


def _departement_path(path: str) -> str | None:
    """The département's path for a territory at or below a département (else ``None``)."""
    parts = path.split("/")
    return "/".join(parts[:4]) if len(parts) >= 4 else None


def departements_for_paths(paths: Iterable[str]) -> QuerySet[Territory]:
    """Départements (with an outline) covering or below each territory path."""
    condition = Q(pk__in=[])
    for path in paths:
        own = _departement_path(path)
        if own is not None:
            condition |= Q(path=own)
        else:
            condition |= Q(path__startswith=path + "/")
    return Territory.objects.filter(
        condition, kind=TerritoryKind.DEPARTEMENT, boundary__isnull=False
    ).order_by("code")


def event_departement_codes(event: Event) -> list[str]:
    """The département(s) of an event: its territory's and those of its communes."""
    paths = [event.territory.path]
    paths += list(
        EventCommune.objects.filter(event=event).values_list("commune__path", flat=True)[:200]
    )
    return list(departements_for_paths(paths).values_list("code", flat=True))


def reference_digest() -> str:
    """The digest of the loaded reference data (changes when the outlines are reloaded)."""
    row = ReferenceDataset.objects.filter(name=REFERENCE_DATASET).only("digest").first()
    return row.digest if row is not None else "none"


_cache_lock = threading.Lock()
_outline_cache: OrderedDict[tuple[str, tuple[str, ...]], tuple[bytes, str]] = OrderedDict()
_CACHE_SIZE = 128


class UnknownDepartement(ValueError):
    def __init__(self, codes: list[str]) -> None:
        super().__init__(", ".join(codes))
        self.codes = codes


def departements_geojson(codes: Iterable[str]) -> tuple[bytes, str]:
    """``(body, etag)`` of the FeatureCollection of these départements' outlines.

    Cached per process, keyed by the reference data's digest and the sorted codes: a reload of
    the reference data changes the digest, hence the key and the ETag.
    """
    wanted = tuple(sorted(set(codes)))
    digest = reference_digest()
    key = (digest, wanted)
    with _cache_lock:
        hit = _outline_cache.get(key)
        if hit is not None:
            _outline_cache.move_to_end(key)
            return hit
    rows = list(
        Territory.objects.filter(
            kind=TerritoryKind.DEPARTEMENT, code__in=wanted, boundary__isnull=False
        )
        .only("code", "name", "boundary")
        .order_by("code")
    )
    missing = sorted(set(wanted) - {row.code for row in rows})
    if missing:
        raise UnknownDepartement(missing)
    collection = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "id": row.code,
                "geometry": row.boundary,
                "properties": {"code": row.code, "nom": row.name},
            }
            for row in rows
        ],
    }
    body = json.dumps(collection, ensure_ascii=False, separators=(",", ":")).encode()
    etag = (
        '"'
        + hashlib.sha256(digest.encode() + b"\0" + ",".join(wanted).encode()).hexdigest()[:32]
        + '"'
    )
    with _cache_lock:
        _outline_cache[key] = (body, etag)
        while len(_outline_cache) > _CACHE_SIZE:
            _outline_cache.popitem(last=False)
    return body, etag


def clear_outline_cache() -> None:
    with _cache_lock:
        _outline_cache.clear()


# --- Features -------------------------------------------------------------------------------


def event_map_feature(event: Event) -> dict[str, Any]:
    return {
        "type": "Feature",
        "id": f"evenement-{event.pk}",
        "geometry": _geometry(event.location),
        "properties": {
            "kind": "event",
            "id": event.pk,
            "title": event.title,
            "event_type_label": _label(EventType, event.event_type),
            "mode": event.mode,
            "mode_marker": event.mode_marker(),
            "phase_label": _label(Phase, event.phase),
            "gravity": event.gravity,
            "url": reverse("dashboards:event", args=[event.pk]),
        },
    }


def report_map_feature(report: FieldReport) -> dict[str, Any]:
    return {
        "type": "Feature",
        "id": f"remontee-{report.pk}",
        "geometry": _geometry(report.location),
        "properties": {
            "kind": "report",
            "id": report.pk,
            "state": report.state,
            "state_label": _label(ReportState, report.state),
            "symbol": STATE_SYMBOLS.get(report.state, "?"),
            "template_label": _label(Template, report.template),
            "summary": figures_summary(report.template, report.figures or {})[:200],
            "mode_marker": mode_marker(report.mode),
            "occurred_at": _short_time(report.occurred_at),
            "url": reverse("reports:detail", args=[report.pk]),
        },
    }


def event_map(user: Any, event: Event) -> dict[str, Any]:
    """The map of ``event`` for ``user`` (the event already obtained through its access check).

    Reports are those the user may see (merged duplicates left out: their original is shown);
    only located ones are drawn, the newest :data:`MAX_REPORTS`.
    """
    reports = reports_visible_to(user).filter(event=event, duplicate_of__isnull=True)
    counts = {state: 0 for state in STATE_SYMBOLS}
    for row in reports.order_by().values("state").annotate(n=Count("pk")):
        counts[row["state"]] = counts.get(row["state"], 0) + row["n"]
    located = [
        report
        for report in reports.filter(location__isnull=False)
        .only("id", "state", "template", "figures", "mode", "location", "occurred_at")
        .order_by("-occurred_at", "-pk")[: MAX_REPORTS + 1]
        if _geometry(report.location) is not None
    ]
    truncated = len(located) > MAX_REPORTS
    located = located[:MAX_REPORTS]
    features = [report_map_feature(report) for report in located]
    event_feature = event_map_feature(event)
    collection = {
        "type": "FeatureCollection",
        "features": ([event_feature] if event_feature["geometry"] else []) + features,
    }
    total = sum(counts.values())
    return {
        "collection": collection,
        "legend": [
            {
                "state": state,
                "symbol": symbol,
                "label": _label(ReportState, state),
                "count": counts.get(state, 0),
            }
            for state, symbol in STATE_SYMBOLS.items()
        ],
        "total": total,
        "located": len(located),
        "unlocated": total - len(located) if not truncated else None,
        "truncated": truncated,
        "rows": [f["properties"] for f in features[:LIST_ROWS]],
        "event_located": event_feature["geometry"] is not None,
    }


def events_map(events: Iterable[Event]) -> dict[str, Any]:
    """The events of a watch room's map (the caller filters what the user may see)."""
    features = [event_map_feature(event) for event in events]
    located = [f for f in features if f["geometry"] is not None]
    return {
        "collection": {"type": "FeatureCollection", "features": located},
        "total": len(features),
        "located": len(located),
        "rows": [f["properties"] for f in located[:LIST_ROWS]],
    }
