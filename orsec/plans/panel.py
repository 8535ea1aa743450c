"""The event page's panel of activated plans: progress of each actor's checklist (done/total).

Registered in ``orsec/dashboards/panels.py`` (the dashboards sit above the plans).
"""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.translation import gettext as _

from orsec.events.models import Event
from orsec.plans.access import may_activate
from orsec.plans.queries import active_activations, progress_by_actor


def plan_progress_panel(
    user: Any, event: Event, abilities: dict[str, bool]
) -> dict[str, Any] | None:
    """Activated plans and each actor's progress; nothing when no plan is active and the user
    may not activate one."""
    rows = progress_by_actor(event)  # one query; empty when no plan is active
    can_activate = may_activate(abilities)
    if not rows and not can_activate:
        return None
    activations = list(active_activations(event)) if rows else []
    return {
        "title": _("Plans activés — fiches réflexes"),
        "template": "dashboards/panels/plan_progress.html",
        "data": {
            "activations": activations,
            "rows": [
                {
                    "label": row.label,
                    "done": row.done,
                    "total": row.total,
                    "percent": row.percent,
                    "url": reverse("plans:checklist", args=[event.pk, row.organisation_id or 0]),
                }
                for row in rows
            ],
            "done": sum(row.done for row in rows),
            "total": sum(row.total for row in rows),
            "plans_url": reverse("plans:event", args=[event.pk]),
            "can_activate": can_activate,
        },
    }
