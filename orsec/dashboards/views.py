"""The event page: header, actions from abilities, and the registered panels."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from orsec.dashboards.live import EventChannel
from orsec.dashboards.panels import PANELS, build_panels
from orsec.events.access import access_event_by_id, events_visible_to, get_event_abilities
from orsec.events.models import EventCommune
from orsec.live.hub import current_cursor


@require_safe
@login_required
def event_page(request: HttpRequest, event_id: int) -> HttpResponse:
    # read before the page's data: the stream replays whatever comes after it
    live_after = current_cursor()
    event = access_event_by_id(request.user, event_id)
    abilities = get_event_abilities(request.user, event)
    communes = list(
        EventCommune.objects.filter(event=event)
        .select_related("commune")
        .only("commune__name", "commune__code", "event_id")
        .order_by("commune__name")[:50]
    )
    # parent and child events, only those the user may see (one query for both)
    related = list(
        events_visible_to(request.user)
        .filter(Q(pk=event.parent_id) | Q(parent_id=event.pk))
        .select_related(None)
        .only("id", "title", "mode", "parent_id")
        .order_by("opened_at")[:30]
    )
    context = {
        "title": event.title,
        "parent_event": next((e for e in related if e.pk == event.parent_id), None),
        "child_events": [e for e in related if e.parent_id == event.pk],
        "nav": "events",
        "event": event,
        "abilities": abilities,
        "communes": communes,
        "panels": build_panels(request.user, event, abilities),
        "panel_keys": [registered.key for registered in PANELS],
        "live_url": f"/live/{EventChannel.name}/{event.pk}/",
        "live_after": live_after,
    }
    return render(request, "dashboards/event_page.html", context)
