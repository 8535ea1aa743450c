"""Field reports of the demo flood (Tours): a confirmed bilan humain, a raw network report and
a refuted duplicate. All people and numbers are fictional. Wired into ``load_demo`` by the lead.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from orsec.events.models import Event
from orsec.journal.models import Channel
from orsec.reports.actions import (
    do_confirm_report,
    do_merge_reports,
    do_refute_report,
    do_start_check,
    do_submit_report,
)
from orsec.reports.models import FieldReport, Priority, Template

QUAI_POINT = {"type": "Point", "coordinates": [0.6841, 47.3969]}
RIVE_NORD_POINT = {"type": "Point", "coordinates": [0.6962, 47.4013]}


@transaction.atomic
def build_reports_demo(
    event: Event, people: dict[str, Any], *, now: datetime | None = None
) -> list[FieldReport]:
    """A few reports on ``event`` from the mayor of Tours and the SDIS 37 liaison officer,
    qualified by the COD 37 operator. Does nothing when the event already has reports."""
    if FieldReport.objects.filter(event=event).exists():
        return []
    now = now or timezone.now()
    mayor, liaison, operator = people["mayor_tours"], people["liaison_sdis37"], people["operator37"]
    start = now - timedelta(minutes=90)  # observations of the last hour and a half
    bilan = do_submit_report(
        mayor,
        event=event,
        template=Template.CASUALTIES,
        figures={
            "dead": 0,
            "absolute": 1,
            "relative": 6,
            "involved": 40,
            "evacuated": 180,
            "sheltered": 95,
        },
        text="Quartier des quais : 180 personnes évacuées, 95 hébergées au gymnase Grandmont.",
        location=QUAI_POINT,
        occurred_at=start + timedelta(minutes=20),
        channel=Channel.PHONE,
    )
    do_start_check(operator, bilan)
    do_confirm_report(
        operator,
        bilan,
        reliability="B",
        credibility=2,
        priority=Priority.URGENT,
    )
    networks = do_submit_report(
        liaison,
        event=event,
        template=Template.NETWORKS,
        figures={
            "homes_without_power": 2300,
            "roads_closed": 3,
            "roads_closed_list": ["D952 levée de la Loire", "Pont Wilson", "Quai Paul Bert"],
        },
        text="Coupures électriques rive nord, trois axes fermés par les eaux.",
        location=RIVE_NORD_POINT,
        occurred_at=start + timedelta(minutes=50),
        channel=Channel.RADIO,
    )
    duplicate = do_submit_report(
        mayor,
        event=event,
        template=Template.CASUALTIES,
        figures={"absolute": 1, "relative": 6},
        text="Rappel du bilan des quais (appel du standard de la mairie).",
        occurred_at=start + timedelta(minutes=35),
        channel=Channel.PHONE,
    )
    do_refute_report(
        operator,
        duplicate,
        "Doublon du bilan humain déjà confirmé",
    )
    do_merge_reports(
        operator,
        FieldReport.objects.get(pk=duplicate.pk),
        bilan,
        reason="Même bilan transmis deux fois",
    )
    return [bilan, networks, duplicate]
