"""Demo events: the Loire flood in Indre-et-Loire (real mode) and an exercise in Amboise.

Everything is written through the actions, so the demo's main courante is a real, verifiable
chain. Idempotent: an event already present (same title) is left as it is.
"""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from orsec.accounts.models import User
from orsec.directory.models import Organisation
from orsec.events.actions import do_change_phase, do_open_event
from orsec.events.models import Criterion, EscalationRule, Event, EventType, Mode, Phase
from orsec.journal.chain import append_entry, chain_for_event
from orsec.journal.models import Channel, Confidentiality, EntryKind
from orsec.territories.models import Territory, TerritoryKind

FLOOD_TITLE = "Crue de la Loire — agglomération de Tours"
EXERCISE_TITLE = "Exercice inondation — Amboise"

#: The Loire between La Riche and Saint-Pierre-des-Corps (simplified, WGS84).
FLOOD_AREA = {
    "type": "Polygon",
    "coordinates": [
        [
            [0.6100, 47.3850],
            [0.7400, 47.3850],
            [0.7400, 47.4050],
            [0.6100, 47.4050],
            [0.6100, 47.3850],
        ]
    ],
}
AMBOISE_POINT = {"type": "Point", "coordinates": [0.9829, 47.4125]}

#: SYNERGI national opening criteria shipped as configurable rules (the admin may change them).
DEFAULT_ESCALATION_RULES: tuple[tuple[str, str, int | None, list[str]], ...] = (
    ("Trafic interrompu plus de 2 h sur un axe majeur", Criterion.ROAD_BLOCKED_HOURS, 2, []),
    ("Événement sur un site ICPE chimique", Criterion.ICPE_SITE, None, []),
    (
        "Accident de transport de matières dangereuses",
        Criterion.EVENT_TYPE_IN,
        None,
        [EventType.HAZMAT],
    ),
    ("Au moins 5 victimes (DCD, UA, UR)", Criterion.VICTIMS_AT_LEAST, 5, []),
    ("Au moins 1 décédé", Criterion.DEAD_AT_LEAST, 1, []),
)


def build_escalation_rules() -> None:
    for name, criterion, threshold, types in DEFAULT_ESCALATION_RULES:
        EscalationRule.objects.get_or_create(
            name=name,
            defaults={"criterion": criterion, "threshold": threshold, "event_types": types},
        )


def build_events(
    people: dict[str, User], organisations: dict[str, Organisation]
) -> dict[str, Event]:
    build_escalation_rules()
    d37 = Territory.objects.get(kind=TerritoryKind.DEPARTEMENT, code="37")
    events: dict[str, Event] = {}
    flood = Event.objects.filter(title=FLOOD_TITLE).first()
    if flood is None:
        lead, operator = people["room_lead37"], people["operator37"]
        now = timezone.now()
        flood = do_open_event(
            lead,
            title=FLOOD_TITLE,
            event_type=EventType.FLOOD,
            territory=d37,
            gravity=3,
            phase=Phase.ALERT,
            location=FLOOD_AREA,
            director="Préfet d'Indre-et-Loire",
            director_organisation=organisations["pref37"],
            organisation=organisations["cod37"],
            description=(
                "Vigilance rouge crues sur la Loire moyenne. Pic attendu à Tours dans la nuit."
            ),
            now=now - timedelta(hours=3),
        )
        chain = chain_for_event(flood)
        append_entry(
            chain,
            kind=EntryKind.INCOMING,
            channel=Channel.PHONE,
            author=operator,
            organisation=organisations["cod37"],
            occurred_at=now - timedelta(hours=2, minutes=50),
            text="Vigicrues : hauteur 5,80 m à l'échelle de Tours (pont Wilson), en hausse.",
            now=now - timedelta(hours=2, minutes=45),
        )
        append_entry(
            chain,
            kind=EntryKind.DECISION,
            channel=Channel.PORTAL,
            author=people["director37"],
            organisation=organisations["pref37"],
            is_highlight=True,
            text="Activation du COD en configuration renforcée à 21 h.",
            now=now - timedelta(hours=2, minutes=30),
        )
        append_entry(
            chain,
            kind=EntryKind.INFORMATION,
            channel=Channel.RADIO,
            author=operator,
            organisation=organisations["cod37"],
            confidentiality=Confidentiality.RESTRICTED,
            text="Point police : deux individus signalés près des digues du Cher (restreint).",
            now=now - timedelta(hours=1, minutes=10),
        )
        do_change_phase(
            lead,
            flood,
            Phase.CRISIS,
            reason="Débordement constaté quai Paul-Bert",
            organisation=organisations["cod37"],
            now=now - timedelta(hours=1),
        )
    events["flood"] = flood
    exercise = Event.objects.filter(title=EXERCISE_TITLE).first()
    if exercise is None:
        exercise = do_open_event(
            people["room_lead37"],
            title=EXERCISE_TITLE,
            event_type=EventType.FLOOD,
            territory=d37,
            mode=Mode.EXERCISE,
            gravity=2,
            phase=Phase.VIGILANCE,
            location=AMBOISE_POINT,
            director="Maire d'Amboise",
            organisation=organisations["cod37"],
        )
    events["exercise"] = exercise
    return events
