"""The live channels of the dashboards (see ``docs/live.md`` and ``docs/live-pages.md``).

``evenement`` — the event page / wall screen (``/live/evenement/<id>/``): topic ``event:<id>``.
Each batch of new outbox rows re-renders the page's badges and its panels **once per audience**
and pushes them as idempotent swaps. A batch made only of kinds listed in :data:`PANELS_BY_KIND`
re-renders only the panels those kinds can change (a main courante entry: the journal tail and
the highlights), which is most batches on a busy event; any other kind re-renders everything.

The audience of a stream is everything that decides what its user sees on that page: the event,
the user's abilities on it, the user's scope (organisations included), and — for users who do
not own the event, whose "pending acknowledgements" panel lists deliveries addressed to them by
name — the user's id. Streams with the same audience share one rendering; a user never receives
a rendering made for a different audience.

``veille`` — the watch room (``/live/veille/``): topics ``watch:<path>`` for each path of the
user's scope (a zone officer's ``watch:FR/OUEST`` hears its départements), plus ``event:<id>``
of the events the user sees outside those paths (a mayor's concerned commune, a participating
organisation). Audience: the scope (and those extra events). Rows carry totals; the unread
counts are computed in the page from the user's own "seen" positions.

``a-prendre-en-compte`` — the inbox (``/live/a-prendre-en-compte/<filter>/<page>/``): topics
``organisation:<id>`` of the user's organisations and ``user:<id>``; audience: the user (an
inbox is personal: deliveries addressed to them by name), the filter and whether it is page 1
(the only page whose list changes live; other pages update their count).
"""

from __future__ import annotations

import re
from typing import Any

from django.http import Http404, HttpRequest
from django.template.loader import render_to_string
from django.utils import timezone

from orsec.accounts.access import scope_of
from orsec.dashboards.panels import JOURNAL_TAIL, PANELS, build_panels
from orsec.dashboards.watch import WatchRow, listed, rows_for_ids, watch_summary
from orsec.dissemination.access import may_view_trace
from orsec.dissemination.views import INBOX_LIVE_STATES, inbox_context
from orsec.events.access import (
    access_event_by_id,
    event_visible,
    events_visible_to,
    get_event_abilities,
)
from orsec.events.models import Event
from orsec.events.queries import entries_for_reader
from orsec.live.channels import Channel, Grant, OutboxRow
from orsec.live.outbox import event_topic, organisation_topic, user_topic, watch_topic
from orsec.live.protocol import SSEMessage, Swap, swap_message
from orsec.maps.panel import watch_map

_EVENT_REST = re.compile(r"^(\d{1,12})/?$")

#: Outbox kinds whose rows can change only these panels of the event page (not the badges).
#: A kind absent from this map re-renders the badges and every panel.
PANELS_BY_KIND: dict[str, frozenset[str]] = {
    "journal.entry": frozenset({"journal_tail", "highlights"}),
    # a vigilance of the event's département began, changed or ended (orsec.alerts)
    "vigilance.changed": frozenset({"vigilances"}),
}


def panels_for(rows: list[OutboxRow]) -> frozenset[str] | None:
    """The panel keys a batch of rows can change, or ``None`` for "everything"."""
    keys: set[str] = set()
    for row in rows:
        changed = PANELS_BY_KIND.get(row.kind)
        if changed is None:
            return None
        keys |= changed
    return frozenset(keys)


def event_audience(user: Any, event: Event, abilities: dict[str, bool]) -> tuple[Any, ...]:
    personal = not may_view_trace(user, event)
    return (
        "event",
        event.pk,
        tuple(sorted(name for name, allowed in abilities.items() if allowed)),
        scope_of(user),
        user.pk if personal else None,
    )


def event_swaps(
    user: Any, event: Event, abilities: dict[str, bool], only: frozenset[str] | None = None
) -> list[Swap]:
    """The live parts of the event page, rendered for ``user``'s audience: the badges and every
    panel, or with ``only`` just those panels (each in its slot, emptied when it has nothing to
    show this audience)."""
    if only is not None:
        return _panel_swaps(user, event, abilities, only)
    panels = build_panels(user, event, abilities)
    swaps = [
        Swap(
            target="evenement-badges",
            mode="replace",
            html=render_to_string("dashboards/_event_badges.html", {"event": event}),
        ),
    ]
    shown = set()
    for panel in panels:
        shown.add(panel["key"])
        html = render_to_string(
            "dashboards/_panel.html", {"panel": panel, "event": event, "abilities": abilities}
        )
        swaps.append(Swap(target=f"emplacement-{panel['key']}", mode="inner", html=html))
    for registered in PANELS:
        if registered.key not in shown:
            swaps.append(Swap(target=f"emplacement-{registered.key}", mode="inner", html=""))
    return swaps


def _panel_swaps(
    user: Any, event: Event, abilities: dict[str, bool], only: frozenset[str]
) -> list[Swap]:
    swaps = []
    for registered in PANELS:
        if registered.key not in only:
            continue
        panel = registered.provider(user, event, abilities)
        html = ""
        if panel is not None:
            panel.setdefault("key", registered.key)
            html = render_to_string(
                "dashboards/_panel.html", {"panel": panel, "event": event, "abilities": abilities}
            )
        swaps.append(Swap(target=f"emplacement-{registered.key}", mode="inner", html=html))
    return swaps


#: entries about a field report (``subject_type`` ``reports.fieldreport``) also change these
#: panels: the qualification queue, the confirmed key figures, the map's report markers
REPORT_SUBJECT = "reports."
REPORT_PANELS = frozenset({"to_qualify", "key_figures", "map"})

#: the list of the journal tail panel (``dashboards/panels/journal_tail.html``)
JOURNAL_TAIL_LIST = "journal-tail-list"


def entry_swaps(
    user: Any, event: Event, abilities: dict[str, bool], rows: list[OutboxRow]
) -> list[Swap] | None:
    """Incremental swaps for a batch of new main courante entries, or ``None`` when the batch
    holds anything else: each entry this audience may read is prepended to the journal tail
    (which keeps its length), the entries they correct are re-rendered in place, and the
    highlights panel is re-rendered when one of them is a fait marquant. About 1 kB per entry
    instead of the whole tail."""
    entry_ids: list[int] = []
    for row in rows:
        entry_id = row.payload.get("entry")
        if row.kind != "journal.entry" or not isinstance(entry_id, int):
            return None
        entry_ids.append(entry_id)
    readable = entries_for_reader(event, abilities)
    entries = list(readable.filter(pk__in=entry_ids).order_by("seq"))
    corrected_ids = {e.corrects_id for e in entries if e.corrects_id}
    corrected = list(readable.filter(pk__in=corrected_ids)) if corrected_ids else []
    context: dict[str, Any] = {"event": event, "abilities": abilities}
    swaps = [Swap(target="journal-tail-vide", mode="remove")] if entries else []
    for entry in entries:
        html = render_to_string("events/_entry.html", {**context, "entry": entry})
        swaps.append(Swap(target=JOURNAL_TAIL_LIST, mode="prepend", html=html, keep=JOURNAL_TAIL))
    for entry in corrected:
        html = render_to_string("events/_entry.html", {**context, "entry": entry})
        swaps.append(Swap(target=f"entree-{entry.seq}", mode="replace", html=html))
    panels = set()
    if any(e.is_highlight for e in entries):
        panels.add("highlights")
    if any(e.subject_type.startswith(REPORT_SUBJECT) for e in entries):
        # a field report's entry (submitted, qualified…): its other panels change too
        panels |= REPORT_PANELS
    if panels:
        swaps += _panel_swaps(user, event, abilities, frozenset(panels))
    return swaps


def updated_swap() -> Swap:
    """The clock of the last update (event page and wall), sent with every message."""
    html = render_to_string("dashboards/_updated.html", {"updated_at": timezone.now()})
    return Swap(target="evenement-maj", mode="replace", html=html)


class EventChannel:
    name = "evenement"

    def authorize(self, request: HttpRequest, rest: str) -> Grant:
        match = _EVENT_REST.match(rest)
        if match is None:
            raise Http404
        # the same check as the page: absent and forbidden look alike (audited)
        event = access_event_by_id(request.user, int(match.group(1)))
        abilities = get_event_abilities(request.user, event)
        return Grant(
            channel=self.name,
            user_id=request.user.pk or 0,
            session_key=request.session.session_key or "",
            topics=(event_topic(event.pk),),
            audience=event_audience(request.user, event, abilities),
            user=request.user,
            context={"event_id": event.pk},
        )

    def render(self, grant: Grant, rows: list[OutboxRow]) -> list[SSEMessage]:
        event = (
            Event.objects.select_related("territory").filter(pk=grant.context["event_id"]).first()
        )
        if event is None or not event_visible(scope_of(grant.user), event):
            return []  # the periodic re-check ends the stream
        abilities = get_event_abilities(grant.user, event)
        swaps = entry_swaps(grant.user, event, abilities, rows)
        if swaps is None:
            swaps = event_swaps(grant.user, event, abilities, only=panels_for(rows))
        if not swaps:
            return []  # nothing this audience may see (a restricted entry, for an observer)
        swaps.append(updated_swap())
        return [swap_message(rows[-1].id, swaps)]


_WATCH_REST = re.compile(r"^/?$")
#: events seen outside the scope's paths followed by their own topic (beyond: on reload)
EXTRA_EVENTS = 200


def render_watch_row(row: WatchRow) -> str:
    return render_to_string("dashboards/_watch_row.html", {"row": row})


class WatchChannel:
    name = "veille"

    def authorize(self, request: HttpRequest, rest: str) -> Grant:
        if _WATCH_REST.match(rest) is None:
            raise Http404
        scope = scope_of(request.user)
        if scope.is_empty:
            raise Http404
        # events visible through a concerned commune or a participating organisation, outside
        # the scope's territory: their own topic (a new one changes the audience: reload)
        extra = tuple(
            sorted(
                pk
                for pk, path in listed(events_visible_to(request.user))
                .values_list("pk", "territory_path")
                .order_by("-updated_at")[: EXTRA_EVENTS * 5]
                if not scope.covers(path)
            )[:EXTRA_EVENTS]
        )
        topics = tuple(watch_topic(p) for p in scope.paths) + tuple(event_topic(i) for i in extra)
        return Grant(
            channel=self.name,
            user_id=request.user.pk or 0,
            session_key=request.session.session_key or "",
            topics=topics,
            audience=("veille", scope, extra),
            user=request.user,
        )

    def render(self, grant: Grant, rows: list[OutboxRow]) -> list[SSEMessage]:
        # the events concerned, in the order of their last message (the latest ends on top)
        order: dict[int, int] = {}
        for row in rows:
            event_id = row.payload.get("event")
            if isinstance(event_id, int):
                order.pop(event_id, None)
                order[event_id] = row.id
        if not order:
            return []
        scope = scope_of(grant.user)
        shown = rows_for_ids(grant.user, scope, order)
        by_id = {r.event.pk: r for r in shown}
        swaps: list[Swap] = []
        # a concerned row is removed, then put back on top of its table if still listed (an
        # event no longer visible or closed for long disappears); replaying is harmless
        for event_id in order:
            swaps.append(Swap(target=f"veille-evenement-{event_id}", mode="remove"))
            watch_row = by_id.get(event_id)
            if watch_row is None:
                continue
            mode = watch_row.event.mode
            html = render_watch_row(watch_row)
            swaps.append(Swap(target=f"veille-liste-{mode}", mode="prepend", html=html))
            swaps.append(Swap(target=f"veille-vide-{mode}", mode="remove"))
        # the map's data (markers) of the watch room: same scope, same rendering
        map_data = watch_map(grant.user, listed(events_visible_to(grant.user)))
        swaps.append(
            Swap(
                target=map_data["data_id"],
                mode="replace",
                html=render_to_string("maps/_map_data.html", {"data": map_data}),
            )
        )
        summary = watch_summary(grant.user)
        swaps.append(
            Swap(
                target="veille-resume",
                mode="replace",
                html=render_to_string(
                    "dashboards/_watch_summary.html",
                    {"summary": summary, "updated_at": timezone.now()},
                ),
            )
        )
        return [swap_message(rows[-1].id, swaps)]


_INBOX_REST = re.compile(r"^(en-attente|toutes)/(\d{1,6})/?$")
_INBOX_STATES = {slug: state for state, slug in INBOX_LIVE_STATES.items()}


class InboxChannel:
    name = "a-prendre-en-compte"

    def authorize(self, request: HttpRequest, rest: str) -> Grant:
        match = _INBOX_REST.match(rest)
        if match is None:
            raise Http404
        scope = scope_of(request.user)
        if scope.is_empty:
            raise Http404
        user = request.user
        topics = tuple(organisation_topic(i) for i in sorted(scope.organisation_ids))
        return Grant(
            channel=self.name,
            user_id=user.pk or 0,
            session_key=request.session.session_key or "",
            topics=(*topics, user_topic(user.pk or 0)),
            # personal: deliveries addressed by name; the filter and page shape the list
            audience=("inbox", user.pk, scope, match.group(1), int(match.group(2)) == 1),
            user=user,
            context={"state": _INBOX_STATES[match.group(1)], "page": int(match.group(2))},
        )

    def render(self, grant: Grant, rows: list[OutboxRow]) -> list[SSEMessage]:
        context = inbox_context(grant.user, grant.context["state"], grant.context["page"])
        swaps = [
            Swap(
                target="a-prendre-compte",
                mode="replace",
                html=render_to_string("dissemination/_inbox_count.html", context),
            )
        ]
        if grant.context["page"] == 1:
            swaps.append(
                Swap(
                    target="a-prendre-liste",
                    mode="replace",
                    html=render_to_string("dissemination/_inbox_list.html", context),
                )
            )
        return [swap_message(rows[-1].id, swaps)]


CHANNELS: list[Channel] = [EventChannel(), WatchChannel(), InboxChannel()]
