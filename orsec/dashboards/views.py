"""The event page (header, actions from abilities, registered panels), its wall mode, the
"seen" marker it posts, and the watch room."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from orsec.accounts.access import scope_of
from orsec.dashboards.actions import do_mark_event_seen
from orsec.dashboards.live import EventChannel, WatchChannel
from orsec.dashboards.panels import PANELS, build_panels
from orsec.dashboards.watch import MODES, listed, seen_counts, watch_rows, watch_summary
from orsec.events.access import access_event_by_id, events_visible_to, get_event_abilities
from orsec.events.models import EventCommune
from orsec.live.hub import current_cursor
from orsec.maps.panel import watch_map


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
        "updated_at": timezone.now(),
    }
    return render(request, "dashboards/event_page.html", context)


#: where each panel goes on the wall screen (three columns; unknown keys go to the middle)
WALL_COLUMNS = {
    "escalations": 1,
    "key_figures": 1,
    "to_qualify": 1,
    "pending_acks": 1,
    "plan_progress": 1,
    "map": 2,
    "highlights": 2,
    "journal_tail": 3,
}


@require_safe
@login_required
def event_wall(request: HttpRequest, event_id: int) -> HttpResponse:
    """The event for a wall screen: large type, high contrast, no navigation, live."""
    live_after = current_cursor()
    event = access_event_by_id(request.user, event_id)
    abilities = get_event_abilities(request.user, event)
    panels = build_panels(request.user, event, abilities)
    columns: dict[int, list[dict[str, Any]]] = {1: [], 2: [], 3: []}
    by_key = {panel["key"]: panel for panel in panels}
    for registered in PANELS:
        column = WALL_COLUMNS.get(registered.key, 2)
        columns[column].append({"key": registered.key, "panel": by_key.get(registered.key)})
    context = {
        "title": _("Mur — %(event)s") % {"event": event.title},
        "event": event,
        "abilities": abilities,
        "columns": [columns[1], columns[2], columns[3]],
        "live_url": f"/live/{EventChannel.name}/{event.pk}/",
        "live_after": live_after,
        "updated_at": timezone.now(),
    }
    return render(request, "dashboards/event_wall.html", context)


@require_POST
@login_required
def event_seen(request: HttpRequest, event_id: int) -> HttpResponse:
    """The event page tells that its user has seen the main courante (watch room unread)."""
    event = access_event_by_id(request.user, event_id)
    do_mark_event_seen(request.user, event)
    return HttpResponse(status=204)


@require_safe
@login_required
def watch_room(request: HttpRequest) -> HttpResponse:
    """Every event the user sees, by mode, with its state, activity and unread count."""
    live_after = current_cursor()
    if scope_of(request.user).is_empty:
        raise Http404
    by_mode = watch_rows(request.user)
    rows = [row for mode in MODES for row in by_mode[mode]]
    seen = seen_counts(request.user, rows)
    for row in rows:
        row.unread = max(0, row.entries - seen.get(row.event.pk, 0))
    context = {
        "title": _("Salle de veille"),
        "nav": "watch_room",
        "tables": [(mode, by_mode[mode]) for mode in MODES],
        "summary": watch_summary(request.user),
        "map": watch_map(request.user, listed(events_visible_to(request.user))),
        "seen": {str(pk): count for pk, count in seen.items()},
        "live_url": f"/live/{WatchChannel.name}/",
        "live_after": live_after,
        "updated_at": timezone.now(),
    }
    return render(request, "dashboards/watch_room.html", context)
