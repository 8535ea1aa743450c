"""Demo SITREPs: points de situation n° 1 and n° 2 of the Loire flood, compiled by the room lead
of COD 37, approved by the préfet's staff, frozen (PDF, hash in the main courante), sent up to
COZ Ouest and acknowledged there. Written through the actions; idempotent (left as they are
when the flood already has SITREPs)."""

from __future__ import annotations

from django.utils import timezone

from orsec.accounts.models import User
from orsec.directory.models import Organisation
from orsec.dissemination.actions import do_acknowledge_delivery
from orsec.dissemination.models import Delivery
from orsec.events.models import Event
from orsec.journal.actions import log_decision, log_request
from orsec.journal.chain import chain_for_event
from orsec.sitreps.actions import do_approve_sitrep, do_compile_sitrep, do_edit_sitrep
from orsec.sitreps.models import Sitrep

OUTLOOKS = (
    "Pic de crue attendu à Tours vers 3 h (6,20 m au pont Wilson). Maintien du COD en "
    "configuration renforcée ; prochaine reconnaissance des digues à l'aube.",
    "Décrue amorcée à Tours. Retour progressif des évacués à partir de 14 h si la décrue se "
    "confirme ; surveillance des digues du Cher maintenue.",
)


def _cycle(flood: Event, people: dict[str, User], coz: Organisation, outlook: str) -> Sitrep:
    lead, director = people["room_lead37"], people["director37"]
    sitrep = do_compile_sitrep(lead, flood)
    sitrep = do_edit_sitrep(
        lead,
        sitrep,
        expected_revision=sitrep.revision,
        sections={"outlook": outlook},
        next_point_at=sitrep.next_point_at
        if sitrep.next_point_at and sitrep.next_point_at > timezone.now()
        else None,
    )
    sitrep = do_approve_sitrep(director, sitrep, expected_revision=sitrep.revision)
    delivery = Delivery.objects.filter(entry_id=sitrep.freeze_entry_id, organisation=coz).first()
    if delivery is not None:
        do_acknowledge_delivery(
            people["zone_ouest"], delivery, comment="Reçu au COZ Ouest, intégré à la synthèse."
        )
    return sitrep


def build_sitreps_demo(
    flood: Event, people: dict[str, User], organisations: dict[str, Organisation]
) -> list[Sitrep]:
    existing = list(Sitrep.objects.filter(event=flood).order_by("number"))
    if existing:
        return existing
    coz = organisations["coz_ouest"]
    first = _cycle(flood, people, coz, OUTLOOKS[0])
    chain = chain_for_event(flood)
    log_decision(
        people["director37"],
        chain,
        "Ouverture d'un centre d'hébergement au gymnase Grosse-Tour (200 places).",
        channel="portal",
    )
    log_request(
        people["operator37"],
        chain,
        "Demande à la zone : une colonne de renfort inondation (moyens nautiques).",
        channel="phone",
    )
    second = _cycle(flood, people, coz, OUTLOOKS[1])
    return [first, second]
