"""The event page's panels: a small registry so that adding a panel is one function.

A *provider* is ``(user, event, abilities) -> dict | None``. It returns ``None`` when it has
nothing to show to this user, or a dict::

    {"key": "highlights", "title": "Faits marquants", "template": "dashboards/panels/x.html",
     "data": {...}}

The page renders each panel in order with ``{% include panel.template with data=panel.data %}``.
Providers receive an event already obtained through ``access_event_by_id`` and its abilities:
they must filter what they show with those abilities (confidentiality, restricted fields).

Register with :func:`register_panel` (as a decorator); ``after`` / ``before`` place the panel
relative to another key, ``replace`` swaps a panel for another.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.urls import reverse
from django.utils.translation import gettext as _

from orsec.dissemination.access import deliveries_of_event, deliveries_visible_to, may_view_trace
from orsec.dissemination.models import DeliveryState
from orsec.events.models import Event
from orsec.events.queries import entries_for_reader, highlights_for_reader, pending_escalations
from orsec.maps.panel import map_panel
from orsec.plans.panel import plan_progress_panel
from orsec.reports.queries import key_figures, qualification_queue

PanelProvider = Callable[[Any, Event, dict[str, bool]], dict[str, Any] | None]

JOURNAL_TAIL = 20
TO_QUALIFY_SHOWN = 5
PENDING_SHOWN = 10


@dataclass
class _Registered:
    key: str
    provider: PanelProvider


PANELS: list[_Registered] = []


def register_panel(
    provider: PanelProvider | None = None,
    *,
    key: str | None = None,
    before: str | None = None,
    after: str | None = None,
    replace: str | None = None,
) -> Any:
    """Register a provider (usable bare or as ``@register_panel(key=..., after=...)``)."""

    def add(func: PanelProvider) -> PanelProvider:
        name = key or replace or func.__name__
        entry = _Registered(name, func)
        keys = [p.key for p in PANELS]
        if replace is not None and replace in keys:
            PANELS[keys.index(replace)] = entry
        elif name in keys:
            PANELS[keys.index(name)] = entry
        elif before is not None and before in keys:
            PANELS.insert(keys.index(before), entry)
        elif after is not None and after in keys:
            PANELS.insert(keys.index(after) + 1, entry)
        else:
            PANELS.append(entry)
        return func

    if provider is not None:
        return add(provider)
    return add


def build_panels(user: Any, event: Event, abilities: dict[str, bool]) -> list[dict[str, Any]]:
    panels = []
    for registered in PANELS:
        panel = registered.provider(user, event, abilities)
        if panel is not None:
            panel.setdefault("key", registered.key)
            panels.append(panel)
    return panels


# --- The events and journal panels ------------------------------------------------------------


@register_panel(key="escalations")
def escalations_panel(user: Any, event: Event, abilities: dict[str, bool]) -> dict[str, Any] | None:
    proposals = pending_escalations(event)
    if not proposals:
        return None
    return {
        "title": _("Propositions de remontée en attente"),
        "template": "dashboards/panels/escalations.html",
        "data": {"proposals": proposals, "can_decide": abilities["decide_sharing"]},
    }


@register_panel(key="key_figures")
def key_figures_panel(user: Any, event: Event, abilities: dict[str, bool]) -> dict[str, Any]:
    """The latest confirmed figure per category, with its source and time (never raw ones)."""
    return {
        "title": _("Chiffres clés (confirmés)"),
        "template": "dashboards/panels/key_figures.html",
        "data": {"figures": key_figures(event), "marker": event.mode_marker()},
    }


@register_panel(key="to_qualify")
def to_qualify_panel(user: Any, event: Event, abilities: dict[str, bool]) -> dict[str, Any] | None:
    """The event's reports waiting for qualification (for those who qualify)."""
    if not abilities["qualify"]:
        return None
    queue = qualification_queue(user, event=event)
    return {
        "title": _("À qualifier"),
        "template": "dashboards/panels/to_qualify.html",
        "data": {
            "count": queue.count(),
            "reports": list(queue[:TO_QUALIFY_SHOWN]),
            "queue_url": reverse("reports:queue") + f"?event={event.pk}",
        },
    }


@register_panel(key="pending_acks")
def pending_acks_panel(
    user: Any, event: Event, abilities: dict[str, bool]
) -> dict[str, Any] | None:
    """Deliveries not yet acknowledged: all of them for the event's owners (with the trace),
    the user's own organisations' otherwise."""
    if may_view_trace(user, event):
        deliveries = deliveries_of_event(event)
        trace_url = reverse("dissemination:trace", args=[event.pk])
    else:
        deliveries = deliveries_visible_to(user).filter(event=event)
        trace_url = ""
    pending = deliveries.exclude(state=DeliveryState.ACKNOWLEDGED).select_related("organisation")
    return {
        "title": _("Prises en compte en attente"),
        "template": "dashboards/panels/pending_acks.html",
        "data": {
            "count": pending.count(),
            "deliveries": list(pending.order_by("sent_at")[:PENDING_SHOWN]),
            "trace_url": trace_url,
            "inbox_url": reverse("dissemination:inbox"),
        },
    }


register_panel(key="plan_progress")(plan_progress_panel)
register_panel(key="map", after="key_figures")(map_panel)


@register_panel(key="highlights")
def highlights_panel(user: Any, event: Event, abilities: dict[str, bool]) -> dict[str, Any]:
    return {
        "title": _("Faits marquants"),
        "template": "dashboards/panels/highlights.html",
        "data": {"entries": highlights_for_reader(event, abilities)},
    }


@register_panel(key="journal_tail")
def journal_tail_panel(user: Any, event: Event, abilities: dict[str, bool]) -> dict[str, Any]:
    entries = list(entries_for_reader(event, abilities).order_by("-seq")[:JOURNAL_TAIL])
    return {
        "title": _("Main courante (dernières entrées)"),
        "template": "dashboards/panels/journal_tail.html",
        "data": {
            "entries": entries,
            "full_url": reverse("events:journal", args=[event.pk]),
            "add_url": reverse("events:journal_add", args=[event.pk])
            if abilities["write_journal"]
            else "",
        },
    }
