"""Export events and field reports as RFC 7946 FeatureCollections (maps, GIS of partners).

Geometry is the stored location (a GeoJSON geometry in WGS84, already checked by
``orsec.events.geo`` when it was written) or ``null`` when there is none. Every feature carries
its mode (``real``, ``exercise``, ``test``) and the mode marker ("EXERCICE", "TEST" or "") so that
a map never shows an exercise as real. Timestamps are ISO 8601 with their offset (local time).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from orsec.events.models import Event, EventType, Mode, Phase
from orsec.reports.models import FieldReport, ReportState, Template

MEDIA_TYPE = "application/geo+json"


def _iso(value: dt.datetime | None) -> str | None:
    return timezone.localtime(value).isoformat() if value is not None else None


def mode_marker(mode: str) -> str:
    """ "EXERCICE", "TEST" or "" (real) — the same words as ``Event.mode_marker``."""
    if mode == Mode.EXERCISE:
        return str(_("EXERCICE"))
    if mode == Mode.TEST:
        return str(_("TEST"))
    return ""


def _label(choices: Any, value: str) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return value


def _geometry(location: Any) -> dict[str, Any] | None:
    return location if isinstance(location, dict) and location.get("type") else None


def event_feature(event: Event) -> dict[str, Any]:
    return {
        "type": "Feature",
        "id": event.pk,
        "geometry": _geometry(event.location),
        "properties": {
            "id": event.pk,
            "title": event.title,
            "event_type": event.event_type,
            "event_type_label": _label(EventType, event.event_type),
            "mode": event.mode,
            "mode_marker": event.mode_marker(),
            "phase": event.phase,
            "phase_label": _label(Phase, event.phase),
            "gravity": event.gravity,
            "opened_at": _iso(event.opened_at),
            "closed_at": _iso(event.closed_at),
            "updated_at": _iso(event.updated_at),
        },
    }


def report_feature(report: FieldReport) -> dict[str, Any]:
    return {
        "type": "Feature",
        "id": report.pk,
        "geometry": _geometry(report.location),
        "properties": {
            "id": report.pk,
            "event_id": report.event_id,
            "template": report.template,
            "template_label": _label(Template, report.template),
            "state": report.state,
            "state_label": _label(ReportState, report.state),
            "mode": report.mode,
            "mode_marker": mode_marker(report.mode),
            "occurred_at": _iso(report.occurred_at),
            "created_at": _iso(report.created_at),
            "updated_at": _iso(report.updated_at),
        },
    }


def events_feature_collection(events: Iterable[Event]) -> dict[str, Any]:
    """An RFC 7946 FeatureCollection of ``events`` (the caller filters what may be seen)."""
    return {"type": "FeatureCollection", "features": [event_feature(e) for e in events]}


def reports_feature_collection(reports: Iterable[FieldReport]) -> dict[str, Any]:
    """An RFC 7946 FeatureCollection of ``reports`` (the caller filters what may be seen)."""
    return {"type": "FeatureCollection", "features": [report_feature(r) for r in reports]}
