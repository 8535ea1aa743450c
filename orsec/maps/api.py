"""GeoJSON of the département outlines (reference data) for the maps, see ``docs/map.md``.

* ``GET /api/v1/territories/departements.geojson?codes=37,45`` — outlines of the given
  départements (public reference data: any authenticated caller; at most 101 codes; an unknown
  code is a 422 ``unknown_departement``).
* ``GET /api/v1/events/{event_id}/departements.geojson`` — the outlines of an event's
  département(s) (404 for an event of another territory, as everywhere).

Both answer ``application/geo+json`` with an ``ETag`` (digest of the loaded reference data and the
codes) and ``Cache-Control: private, max-age=86400``; ``If-None-Match`` gets a 304. The events
and reports themselves are served by ``orsec.interop.api`` (``events.geojson``,
``events/{id}/reports.geojson``).
"""

from __future__ import annotations

import re

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema

from orsec.core.api import ApiError, principal, require_verb
from orsec.events.access import access_event_by_id
from orsec.interop.geojson.export import MEDIA_TYPE
from orsec.maps.queries import (
    MAX_DEPARTEMENTS,
    UnknownDepartement,
    departements_geojson,
    event_departement_codes,
)

router = Router(tags=["Cartes"])

_CODE = re.compile(r"^(?:\d{2,3}|2[AB])$")
CACHE_CONTROL = "private, max-age=86400"


class DepartementsFilters(Schema):
    codes: str = Field(
        ...,
        max_length=500,
        description="Codes INSEE des départements, séparés par des virgules (au plus 101).",
    )
    v: str = Field("", max_length=64, description="Version des données (ignorée, pour le cache).")


class OutlineFilters(Schema):
    v: str = Field("", max_length=64, description="Version des données (ignorée, pour le cache).")


_GEO_EXTRA = {
    "responses": {
        200: {
            "description": "FeatureCollection (RFC 7946) des contours simplifiés",
            "content": {MEDIA_TYPE: {"schema": {"type": "object"}}},
        },
        304: {"description": "Inchangé (If-None-Match)"},
    }
}


def parse_codes(raw: str) -> list[str]:
    codes = sorted({part.strip().upper() for part in raw.split(",") if part.strip()})
    if not codes:
        raise ApiError(
            422, "codes_required", _("Indiquez au moins un code de département (codes=37,45).")
        )
    if len(codes) > MAX_DEPARTEMENTS:
        raise ApiError(
            422,
            "too_many_codes",
            _("Au plus %(max)s départements par requête.") % {"max": MAX_DEPARTEMENTS},
        )
    bad = [code for code in codes if not _CODE.match(code)]
    if bad:
        raise ApiError(
            422,
            "invalid_departement_code",
            _("Code de département invalide : %(codes)s (exemples : 37, 2A, 971).")
            % {"codes": ", ".join(bad[:5])[:60]},
        )
    return codes


def outline_response(request: HttpRequest, codes: list[str]) -> HttpResponse:
    try:
        body, etag = departements_geojson(codes)
    except UnknownDepartement as exc:
        raise ApiError(
            422,
            "unknown_departement",
            _("Département inconnu ou sans contour : %(codes)s.")
            % {"codes": ", ".join(exc.codes[:5])},
        ) from exc
    if etag in [t.strip() for t in request.headers.get("If-None-Match", "").split(",")]:
        response = HttpResponse(status=304)
    else:
        response = HttpResponse(body, content_type=f"{MEDIA_TYPE}; charset=utf-8")
    response["ETag"] = etag
    response["Cache-Control"] = CACHE_CONTROL
    return response


@router.get(
    "/territories/departements.geojson",
    summary="Contours des départements (données de référence) en GeoJSON",
    operation_id="departements_geojson",
    url_name="departements_geojson",
    openapi_extra=_GEO_EXTRA,
)
def departements_outlines(
    request: HttpRequest, filters: Query[DepartementsFilters]
) -> HttpResponse:
    principal(request)  # authenticated by the API (session or partner token)
    return outline_response(request, parse_codes(filters.codes))


@router.get(
    "/events/{event_id}/departements.geojson",
    summary="Contours du ou des départements d'un événement en GeoJSON",
    operation_id="event_departements_geojson",
    url_name="event_departements_geojson",
    openapi_extra=_GEO_EXTRA,
)
def event_departements(
    request: HttpRequest, event_id: int, filters: Query[OutlineFilters]
) -> HttpResponse:
    require_verb(request, "events:read")
    event = access_event_by_id(principal(request), event_id)
    codes = event_departement_codes(event)
    if not codes:
        return outline_response_empty()
    return outline_response(request, codes)


def outline_response_empty() -> HttpResponse:
    response = HttpResponse(
        '{"type":"FeatureCollection","features":[]}', content_type=f"{MEDIA_TYPE}; charset=utf-8"
    )
    response["Cache-Control"] = CACHE_CONTROL
    return response
