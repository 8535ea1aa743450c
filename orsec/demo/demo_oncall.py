"""Demo on-call rosters and the flood alert scheme of Indre-et-Loire (through the actions).

Rosters: SDIS 37 (officier CODIS, 24 h shifts), préfecture 37 (membre du corps préfectoral and
cadre SIDPC, weekly shifts), mairie de Tours (élu d'astreinte, weekly). Shifts cover now ± 1
week, relative to the load time; reloading replaces them. The alert scheme the flood scheme of
Indre-et-Loire is started on the demo flood event. Names and phone numbers are fictitious.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.utils import timezone

from orsec.accounts.models import User
from orsec.directory.models import Function, Organisation
from orsec.events.models import Event, EventType
from orsec.oncall.actions import (
    StepSpec,
    do_add_shift,
    do_remove_shift,
    do_save_alert_scheme,
    do_save_roster,
    start_call_lists_for_event,
)
from orsec.oncall.models import AlertScheme, Roster, Shift

SCHEME_NAME = "Inondation – Indre-et-Loire"  # noqa: RUF001 - the name used by the préfecture
PREFECTORAL = "Astreinte préfecture – membre du corps préfectoral"  # noqa: RUF001

#: (organisation key, label, function title or "", shift length in days, people (name, phone))
ROSTERS: tuple[tuple[str, str, str, int, tuple[tuple[str, str], ...]], ...] = (
    (
        "pref37",
        PREFECTORAL,
        "Directeur de cabinet",
        7,
        (
            ("Anne Delaunay (directrice de cabinet)", "06 99 00 37 01"),
            ("Paul Mercier (secrétaire général)", "06 99 00 37 02"),
            ("Yann Lebrun (sous-préfet de Chinon)", "06 99 00 37 03"),
        ),
    ),
    (
        "pref37",
        "Cadre d'astreinte SIDPC",
        "Cadre d'astreinte",
        7,
        (
            ("Camille Perrin", "06 99 00 37 11"),
            ("Hugo Lambert", "06 99 00 37 12"),
            ("Léa Marchand", "06 99 00 37 13"),
        ),
    ),
    (
        "sdis37",
        "Officier CODIS",
        "Officier CODIS",
        1,
        (
            ("Cdt Eric Vasseur", "06 99 00 37 21"),
            ("Cne Sarah Colin", "06 99 00 37 22"),
            ("Cdt Luc Renard", "06 99 00 37 23"),
            ("Lt-col Agnès Roy", "06 99 00 37 24"),
        ),
    ),
    (
        "mairie_tours",
        "Élu d'astreinte",
        "",
        7,
        (
            ("Pierre Garnier (adjoint à la sécurité)", "06 99 00 37 61"),
            ("Nadia Robert (adjointe)", "06 99 00 37 62"),
        ),
    ),
)


def _first_start(now: datetime, days: int) -> datetime:
    """08:00 Paris time, a week (or more) before ``now``; weekly rosters start on a Monday."""
    local = timezone.localtime(now).replace(hour=8, minute=0, second=0, microsecond=0)
    start = local - timedelta(days=7)
    if days == 7:
        start -= timedelta(days=start.weekday())
    return start


def build_oncall(
    people: dict[str, User],
    organisations: dict[str, Organisation],
    events: dict[str, Event],
) -> dict[str, Roster]:
    actor = people["room_lead37"]
    now = timezone.now()
    rosters: dict[str, Roster] = {}
    for key, label, function_title, days, persons in ROSTERS:
        organisation = organisations[key]
        function = (
            Function.objects.filter(organisation=organisation, title=function_title).first()
            if function_title
            else None
        )
        roster = Roster.objects.filter(organisation=organisation, label=label).first()
        roster = do_save_roster(
            actor, organisation=organisation, label=label, function=function, roster=roster
        )
        roster.is_demo = True
        roster.save(update_fields=["is_demo"])
        for shift in Shift.objects.filter(roster=roster):
            do_remove_shift(actor, shift)
        start = _first_start(now, days)
        index = 0
        while start < now + timedelta(days=8):
            end = start + timedelta(days=days)
            name, phone = persons[index % len(persons)]
            do_add_shift(actor, roster, start=start, end=end, person_name=name, phone=phone)
            start, index = end, index + 1
        rosters[label] = roster
    d37 = organisations["pref37"].territory
    steps = [
        StepSpec(
            organisations["pref37"],
            roster=rosters[PREFECTORAL],
            instruction="Informer le membre du corps préfectoral d'astreinte ; proposer "
            "l'activation du COD.",
        ),
        StepSpec(
            organisations["pref37"],
            roster=rosters["Cadre d'astreinte SIDPC"],
            instruction="Faire armer le COD et prévenir les services.",
        ),
        StepSpec(
            organisations["sdis37"],
            roster=rosters["Officier CODIS"],
            instruction="Point sur les interventions en cours et les moyens engagés.",
        ),
        StepSpec(
            organisations["mairie_tours"],
            roster=rosters["Élu d'astreinte"],
            instruction="Demander l'activation du plan communal de sauvegarde (PCS).",
        ),
        StepSpec(
            organisations["ggd37"],
            instruction="Prévenir le CORG : fermetures de routes et évacuations possibles.",
        ),
    ]
    scheme = AlertScheme.objects.filter(territory=d37, name=SCHEME_NAME).first()
    scheme = do_save_alert_scheme(
        actor,
        territory=d37,
        name=SCHEME_NAME,
        event_types=[EventType.FLOOD],
        steps=steps,
        scheme=scheme,
    )
    scheme.is_demo = True
    scheme.save(update_fields=["is_demo"])
    flood = events.get("flood")
    if flood is not None and flood.is_open:
        start_call_lists_for_event(actor, flood)
    return rosters
