"""The event page: header, actions from abilities, and the registered panels."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from orsec.dashboards.panels import build_panels
from orsec.events.access import access_event_by_id, get_event_abilities
from orsec.events.models import EventCommune


@require_safe
@login_required
def event_page(request: HttpRequest, event_id: int) -> HttpResponse:
    event = access_event_by_id(request.user, event_id)
    abilities = get_event_abilities(request.user, event)
    communes = list(
        EventCommune.objects.filter(event=event)
        .select_related("commune")
        .only("commune__name", "commune__code", "event_id")
        .order_by("commune__name")[:50]
    )
    context = {
        "title": event.title,
        "nav": "events",
        "event": event,
        "abilities": abilities,
        "communes": communes,
        "panels": build_panels(request.user, event, abilities),
    }
    return render(request, "dashboards/event_page.html", context)
