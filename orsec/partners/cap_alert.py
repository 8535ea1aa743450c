"""The "Projet d'alerte FR-Alert (CAP)" page of an event: write, preview, download, transmit.

It lives in ``partners`` because its one write is a partner outbound message
(:func:`orsec.partners.actions.do_queue_outbound`) and partners is the lowest layer that may
import both that action and the CAP serializer (``orsec.interop.cap.serialize`` through
``orsec.alerts.population``); the event page (dashboards, above) only links to it.

* ``GET``: the form (texts prefilled from the event); with the texts in the query string, the
  preview of the CAP XML; with ``download``, the XML as a file.
* ``POST``: queue the CAP to one partner endpoint subscribed to ``cap.alert`` for the event's
  mode and allowed to see the event. Raw endpoints receive the XML (``application/cap+xml``),
  webhook endpoints a signed JSON whose ``data`` carries the identifier and the XML.

Requires the ``disseminate`` ability (403 otherwise); another territory's event answers 404.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from orsec.alerts.forms import PopulationAlertForm, initial_for
from orsec.alerts.population import build_population_alert
from orsec.events.access import access_event_by_id, get_event_abilities
from orsec.events.models import Event
from orsec.interop.cap.serialize import CAP_CONTENT_TYPE
from orsec.partners.actions import OutboundError, do_queue_outbound, endpoint_may_receive
from orsec.partners.models import EndpointKind, MessageKind, PartnerEndpoint


def cap_endpoints_for(event: Event) -> list[PartnerEndpoint]:
    """Active endpoints subscribed to ``cap.alert`` for the event's mode, allowed to see it."""
    endpoints = (
        PartnerEndpoint.objects.filter(is_active=True)
        .select_related("organisation", "organisation__territory")
        .defer("organisation__territory__boundary")
        .order_by("name", "pk")
    )
    return [
        endpoint
        for endpoint in endpoints
        if endpoint.accepts(MessageKind.CAP_ALERT, event.mode)
        and endpoint_may_receive(endpoint, event)
    ]


def _event_for_alert(request: HttpRequest, event_id: int) -> Event:
    event = access_event_by_id(request.user, event_id)
    if not get_event_abilities(request.user, event)["disseminate"]:
        raise PermissionDenied
    return event


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def cap_alert(request: HttpRequest, event_id: int) -> HttpResponse:
    event = _event_for_alert(request, event_id)
    endpoints = cap_endpoints_for(event)
    if request.method == "POST":
        return _transmit(request, event, endpoints)
    bound = "headline" in request.GET
    form = PopulationAlertForm(request.GET if bound else None, initial=initial_for(event))
    preview = ""
    if bound and form.is_valid():
        identifier, xml = build_population_alert(event, form.draft_arguments())
        if "download" in request.GET:
            response = HttpResponse(xml, content_type=f"{CAP_CONTENT_TYPE}; charset=utf-8")
            response["Content-Disposition"] = f'attachment; filename="{identifier}.xml"'
            return response
        preview = xml.decode("utf-8")
    return _page(request, event, form, endpoints, preview)


def _page(
    request: HttpRequest,
    event: Event,
    form: PopulationAlertForm,
    endpoints: list[PartnerEndpoint],
    preview: str,
    status: int = 200,
) -> HttpResponse:
    context: dict[str, Any] = {
        "event": event,
        "form": form,
        "endpoints": endpoints,
        "preview": preview,
        "title": _("Projet d'alerte FR-Alert (CAP)"),
    }
    return render(request, "partners/cap_alert.html", context, status=status)


def _transmit(request: HttpRequest, event: Event, endpoints: list[PartnerEndpoint]) -> HttpResponse:
    form = PopulationAlertForm(request.POST)
    chosen = {str(endpoint.pk): endpoint for endpoint in endpoints}.get(
        request.POST.get("endpoint", "")
    )
    if not form.is_valid():
        return _page(request, event, form, endpoints, "", status=400)
    if chosen is None:
        form.add_error(
            None,
            _(
                "Choisissez un destinataire de la liste : seuls les systèmes abonnés aux "
                "alertes CAP et autorisés sur cet événement peuvent la recevoir."
            ),
        )
        return _page(request, event, form, endpoints, "", status=400)
    identifier, xml = build_population_alert(event, form.draft_arguments())
    body: bytes | dict[str, Any]
    if chosen.kind == EndpointKind.RAW:
        body = xml
    else:
        body = {"identifier": identifier, "cap": xml.decode("utf-8")}
    try:
        do_queue_outbound(
            chosen,
            MessageKind.CAP_ALERT,
            body,
            CAP_CONTENT_TYPE,
            event=event,
            standard="CAP 1.2",
            source_key=f"cap:{identifier}"[:80],
            actor=request.user,
            request=request,
        )
    except OutboundError as error:
        form.add_error(None, str(error))
        return _page(request, event, form, endpoints, "", status=409)
    except IntegrityError:  # the same alert (same second) already queued: a double submission
        messages.info(request, _("Cette alerte CAP était déjà en file d'attente d'envoi."))
        return redirect("dashboards:event", event.pk)
    messages.success(
        request,
        _("Alerte CAP « %(id)s » transmise à %(partner)s (envoi en file d'attente).")
        % {"id": identifier, "partner": chosen.name},
    )
    return redirect("dashboards:event", event.pk)
