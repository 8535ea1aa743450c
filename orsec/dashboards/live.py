"""The live channels of the dashboards (see ``docs/live.md``).

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
"""

from __future__ import annotations

import re
from typing import Any

from django.http import Http404, HttpRequest
from django.template.loader import render_to_string

from orsec.accounts.access import scope_of
from orsec.dashboards.panels import JOURNAL_TAIL, PANELS, build_panels
from orsec.dissemination.access import may_view_trace
from orsec.events.access import access_event_by_id, event_visible, get_event_abilities
from orsec.events.models import Event
from orsec.events.queries import entries_for_reader
from orsec.live.channels import Grant, OutboxRow
from orsec.live.outbox import event_topic
from orsec.live.protocol import SSEMessage, Swap, swap_message

_EVENT_REST = re.compile(r"^(\d{1,12})/?$")

#: Outbox kinds whose rows can change only these panels of the event page (not the badges).
#: A kind absent from this map re-renders the badges and every panel.
PANELS_BY_KIND: dict[str, frozenset[str]] = {
    "journal.entry": frozenset({"journal_tail", "highlights"}),
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
        )
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
    if any(e.is_highlight for e in entries):
        swaps += _panel_swaps(user, event, abilities, frozenset({"highlights"}))
    return swaps


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
        return [swap_message(rows[-1].id, swaps)]


CHANNELS = [EventChannel()]
