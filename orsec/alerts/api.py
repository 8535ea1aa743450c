"""Alerts endpoints of the API.

* ``GET /api/v1/events/{event_id}/cap-draft`` — the population-alert draft of a visible event
  as CAP 1.2 XML (``application/cap+xml``); the texts come from the query string (the event's
  title and description by default). Requires the ``disseminate`` ability on the event (403
  ``forbidden`` without it); an event of another territory answers 404.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema

from orsec.alerts.forms import PopulationAlertForm, initial_for
from orsec.alerts.population import build_population_alert
from orsec.core.api import ApiError, principal, require_verb
from orsec.events.access import access_event_by_id, get_event_abilities
from orsec.interop.cap.serialize import CAP_CONTENT_TYPE

router = Router(tags=["Alertes"])


class CapDraftQuery(Schema):
    """The texts of the draft; omitted ones come from the event (title, description)."""

    headline: str | None = Field(None, description="Titre (160 caractères au plus)")
    description: str | None = Field(None, description="Description de la situation")
    instruction: str | None = Field(None, description="Consignes à la population")
    response_type: str | None = Field(
        None, description="Shelter, Evacuate, Prepare, Execute, Avoid, Monitor, AllClear, None"
    )
    validity_hours: str | None = Field(None, description="Durée de validité, 1 à 72 heures")
    radius_km: str | None = Field(None, description="Rayon autour d'un point, 0,1 à 50 km")


_CAP_RESPONSE = {
    "responses": {
        200: {
            "description": "Alerte CAP 1.2 (XML)",
            "content": {CAP_CONTENT_TYPE: {"schema": {"type": "string"}}},
        }
    }
}


@router.get(
    "/events/{event_id}/cap-draft",
    summary="Projet d'alerte à la population (CAP 1.2) d'un événement",
    operation_id="event_cap_draft",
    openapi_extra=_CAP_RESPONSE,
)
def event_cap_draft(
    request: HttpRequest, event_id: int, texts: Query[CapDraftQuery]
) -> HttpResponse:
    require_verb(request, "events:read")
    user = principal(request)
    event = access_event_by_id(user, event_id)
    if not get_event_abilities(user, event)["disseminate"]:
        raise ApiError(
            403,
            "forbidden",
            _("Vous n'avez pas le droit de préparer une alerte à la population sur cet événement."),
        )
    given = {key: value for key, value in texts.dict().items() if value is not None}
    data = {**initial_for(event), **given}
    form = PopulationAlertForm(data)
    if not form.is_valid():
        field, errors = next(iter(form.errors.items()))
        raise ApiError(
            422,
            "invalid_cap_draft",
            _("%(field)s (%(name)s) : %(error)s")
            % {"field": form.fields[field].label, "name": field, "error": errors[0]},
        )
    identifier, xml = build_population_alert(event, form.draft_arguments())
    response = HttpResponse(xml, content_type=f"{CAP_CONTENT_TYPE}; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{identifier}.xml"'
    return response
