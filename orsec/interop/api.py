"""Interoperability endpoints of the API: GeoJSON (RFC 7946) exports for maps and partner GIS.

* ``GET /api/v1/events.geojson?mode=real`` — events visible to the caller, one mode at a time
  (an exercise never appears on a real map), newest first, at most ``limit``.
* ``GET /api/v1/events/{event_id}/reports.geojson`` — the visible reports of a visible event
  (404 for an event of another territory, as everywhere).

Both answer ``application/geo+json``; the OpenAPI document describes the body under that media
type (and ``application/json``, which ninja adds for the declared response model).
"""

from __future__ import annotations

import json
from typing import Any, Literal

from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpRequest, HttpResponse
from ninja import Field, Query, Router, Schema

from orsec.core.api import principal, require_verb
from orsec.events.access import access_event_by_id, events_visible_to
from orsec.journal.actions import acting_organisation
from orsec.reports.access import reports_visible_to

from .geojson.export import MEDIA_TYPE, events_feature_collection, reports_feature_collection
from .importing import ImportContext
from .inbox import MAX_INBOX_BYTES, receive, too_large

router = Router(tags=["Interopérabilité"])

MAX_FEATURES = 1000


class EventProperties(Schema):
    id: int
    title: str
    event_type: str
    event_type_label: str
    mode: Literal["real", "exercise", "test"]
    mode_marker: str
    phase: str
    phase_label: str
    gravity: int
    opened_at: str | None
    closed_at: str | None
    updated_at: str | None


class ReportProperties(Schema):
    id: int
    event_id: int | None
    template: str
    template_label: str
    state: str
    state_label: str
    mode: Literal["real", "exercise", "test"]
    mode_marker: str
    occurred_at: str | None
    created_at: str | None
    updated_at: str | None


class EventFeature(Schema):
    type: Literal["Feature"]
    id: int
    geometry: dict[str, Any] | None
    properties: EventProperties


class ReportFeature(Schema):
    type: Literal["Feature"]
    id: int
    geometry: dict[str, Any] | None
    properties: ReportProperties


class EventFeatureCollection(Schema):
    type: Literal["FeatureCollection"]
    features: list[EventFeature]


class ReportFeatureCollection(Schema):
    type: Literal["FeatureCollection"]
    features: list[ReportFeature]


class EventsGeoFilters(Schema):
    mode: Literal["real", "exercise", "test"] = "real"
    limit: int = Field(500, ge=1, le=MAX_FEATURES)


class ReportsGeoFilters(Schema):
    limit: int = Field(500, ge=1, le=MAX_FEATURES)


def _geo_extra(component: str) -> dict[str, Any]:
    return {
        "responses": {
            200: {
                "content": {MEDIA_TYPE: {"schema": {"$ref": f"#/components/schemas/{component}"}}}
            }
        }
    }


def _geojson_response(collection: dict[str, Any]) -> HttpResponse:
    body = json.dumps(collection, cls=DjangoJSONEncoder, ensure_ascii=False)
    return HttpResponse(body, content_type=f"{MEDIA_TYPE}; charset=utf-8")


@router.get(
    "/events.geojson",
    response=EventFeatureCollection,
    summary="Événements visibles en GeoJSON (un mode à la fois)",
    operation_id="events_geojson",
    openapi_extra=_geo_extra("EventFeatureCollection"),
)
def events_geojson(request: HttpRequest, filters: Query[EventsGeoFilters]) -> HttpResponse:
    require_verb(request, "events:read")
    events = events_visible_to(principal(request)).filter(mode=filters.mode)
    rows = list(events.order_by("-opened_at", "-pk")[: filters.limit])
    return _geojson_response(events_feature_collection(rows))


@router.get(
    "/events/{event_id}/reports.geojson",
    response=ReportFeatureCollection,
    summary="Remontées visibles d'un événement en GeoJSON",
    operation_id="event_reports_geojson",
    openapi_extra=_geo_extra("ReportFeatureCollection"),
)
def event_reports_geojson(
    request: HttpRequest, event_id: int, filters: Query[ReportsGeoFilters]
) -> HttpResponse:
    require_verb(request, "reports:read")
    user = principal(request)
    event = access_event_by_id(user, event_id)
    reports = reports_visible_to(user).filter(event=event)
    rows = list(reports.order_by("-created_at", "-pk")[: filters.limit])
    return _geojson_response(reports_feature_collection(rows))


@router.post(
    "/interop/inbox",
    summary="Boîte de réception des partenaires (EDXL-DE, Hub Santé/CISU, CAP)",
    operation_id="interop_inbox",
    openapi_extra={
        "requestBody": {
            "content": {
                "application/xml": {"schema": {"type": "string"}},
                "application/json": {"schema": {"type": "object"}},
            },
            "required": True,
        },
        "responses": {
            "404": {
                "description": "Événement absent ou hors de portée du partenaire (?event=)",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
            },
            "415": {"description": "Format de message non reconnu"},
            # the standard's own answer (EDXL-DE Ack/Error, RC-REF/RS-ERROR, CAP verdict)
            **{
                status: {
                    "description": description,
                    "content": {
                        "application/xml": {"schema": {"type": "string"}},
                        "application/json": {"schema": {}},
                    },
                }
                for status, description in (
                    ("200", "Accusé de réception de la norme (accepté ou rejeu)"),
                    ("400", "Message refusé (sécurité) : erreur de la norme"),
                    ("422", "Message invalide : erreur de la norme"),
                )
            },
        },
    },
)
def interop_inbox(request: HttpRequest, event: int | None = None) -> HttpResponse:
    """Receive one message; answer in its own standard (see ``docs/api.md``)."""
    require_verb(request, "interop:submit")
    user = principal(request)
    target = access_event_by_id(user, event) if event is not None else None
    try:
        length = int(request.headers.get("Content-Length") or 0)
    except ValueError:
        length = 0
    if length > MAX_INBOX_BYTES:
        return too_large()
    token = getattr(request, "partner_token", None)
    context = ImportContext(
        actor=user,
        organisation=token.organisation if token is not None else acting_organisation(user),
        event=target,
        channel="partner",
    )
    return receive(request.body, request.headers.get("Content-Type", ""), context)
