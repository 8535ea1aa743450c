"""The demo scenario: a flood in Indre-et-Loire (37). All people and numbers here are fictional.

The same builders give the test suite its personas (with known credentials) and ``make run`` its
demo accounts (with random credentials kept in ``var/demo-accounts.json``). Loading is idempotent.
Phone numbers use the ARCEP ranges reserved for fiction (0x 99 00 xx xx).
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Callable
from dataclasses import dataclass

from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice

from orsec.accounts.models import Membership, Role, User
from orsec.audit.actions import record_audit
from orsec.demo.demo_dissemination import build_routing_rules
from orsec.demo.demo_events import build_events
from orsec.demo.demo_oncall import build_oncall
from orsec.demo.demo_plans import build_plans_demo
from orsec.demo.demo_reports import build_reports_demo
from orsec.demo.demo_sitreps import build_sitreps_demo
from orsec.directory.models import ContactKind, ContactPoint, Function, Organisation
from orsec.directory.models import OrganisationKind as K
from orsec.territories.models import Territory
from orsec.territories.models import TerritoryKind as T


@dataclass(frozen=True)
class OrgSpec:
    key: str
    name: str
    short_name: str
    kind: str
    territory: tuple[str, str]
    parent: str | None = None
    functions: tuple[str, ...] = ()
    contacts: tuple[tuple[str, str, str, bool], ...] = ()  # kind, label, value, 24/7


ORGANISATIONS: tuple[OrgSpec, ...] = (
    OrgSpec(
        "cogic",
        "Centre opérationnel de gestion interministérielle des crises",
        "COGIC",
        K.COGIC,
        (T.NATIONAL, "FR"),
        functions=("Officier de veille", "Chef de salle COGIC"),
        contacts=(
            (ContactKind.PHONE, "Veille 24/7", "01 99 00 00 01", True),
            (ContactKind.EMAIL, "Veille", "veille.cogic@demo-orsec.example", True),
        ),
    ),
    OrgSpec(
        "coz_ouest",
        "Centre opérationnel de zone Ouest (EMIZ Ouest)",
        "COZ Ouest",
        K.COZ,
        (T.ZONE, "OUEST"),
        functions=("Officier de permanence COZ",),
        contacts=(
            (ContactKind.PHONE, "Permanence COZ", "02 99 00 35 00", True),
            (ContactKind.EMAIL, "Permanence", "coz.ouest@demo-orsec.example", True),
        ),
    ),
    OrgSpec(
        "pref37",
        "Préfecture d'Indre-et-Loire — SIDPC",
        "Préfecture 37",
        K.PREFECTURE,
        (T.DEPARTEMENT, "37"),
        functions=("Directeur de cabinet", "Chef du SIDPC", "Cadre d'astreinte"),
        contacts=(
            (ContactKind.PHONE, "Standard", "02 99 00 37 00", False),
            (ContactKind.PHONE, "Cadre d'astreinte", "02 99 00 37 01", True),
            (ContactKind.EMAIL, "SIDPC", "sidpc37@demo-orsec.example", False),
        ),
    ),
    OrgSpec(
        "cod37",
        "Centre opérationnel départemental d'Indre-et-Loire",
        "COD 37",
        K.COD,
        (T.DEPARTEMENT, "37"),
        parent="pref37",
        functions=("Chef de salle", "Opérateur main courante"),
        contacts=(
            (ContactKind.PHONE, "Salle COD", "02 99 00 37 10", True),
            (ContactKind.RADIO, "Conférence INPT", "TG COD 37", True),
        ),
    ),
    OrgSpec(
        "sdis37",
        "Service départemental d'incendie et de secours d'Indre-et-Loire",
        "SDIS 37",
        K.SDIS,
        (T.DEPARTEMENT, "37"),
        functions=("Officier CODIS", "Directeur départemental"),
        contacts=(
            (ContactKind.PHONE, "CTA-CODIS", "02 99 00 37 18", True),
            (ContactKind.RADIO, "ANTARES", "TG CODIS 37", True),
        ),
    ),
    OrgSpec(
        "ddsp37",
        "Direction départementale de la sécurité publique d'Indre-et-Loire",
        "DDSP 37",
        K.POLICE,
        (T.DEPARTEMENT, "37"),
        functions=("Salle de commandement",),
        contacts=((ContactKind.PHONE, "Salle de commandement", "02 99 00 37 17", True),),
    ),
    OrgSpec(
        "ggd37",
        "Groupement de gendarmerie départementale d'Indre-et-Loire",
        "GGD 37",
        K.GENDARMERIE,
        (T.DEPARTEMENT, "37"),
        functions=("CORG",),
        contacts=((ContactKind.PHONE, "CORG", "02 99 00 37 20", True),),
    ),
    OrgSpec(
        "samu37",
        "SAMU 37 — Centre hospitalier universitaire de Tours",
        "SAMU 37",
        K.SAMU,
        (T.DEPARTEMENT, "37"),
        functions=("Médecin régulateur",),
        contacts=((ContactKind.PHONE, "Régulation", "02 99 00 37 15", True),),
    ),
    OrgSpec(
        "ars_cvl",
        "Agence régionale de santé Centre-Val de Loire",
        "ARS CVL",
        K.ARS,
        (T.REGION, "24"),
        functions=("Point focal régional",),
        contacts=(
            (ContactKind.PHONE, "Point focal", "02 99 00 45 24", True),
            (ContactKind.EMAIL, "Alerte", "alerte.ars@demo-orsec.example", True),
        ),
    ),
    OrgSpec(
        "enedis_cvl",
        "Enedis — direction régionale Centre-Val de Loire",
        "Enedis CVL",
        K.OPERATOR,
        (T.REGION, "24"),
        functions=("Cellule de crise",),
        contacts=((ContactKind.PHONE, "Cellule de crise", "02 99 00 45 50", True),),
    ),
    OrgSpec(
        "mairie_tours",
        "Mairie de Tours",
        "Mairie de Tours",
        K.MAIRIE,
        (T.COMMUNE, "37261"),
        functions=("Maire", "Responsable du PCS"),
        contacts=((ContactKind.PHONE, "Astreinte mairie", "02 99 00 37 61", True),),
    ),
    OrgSpec(
        "mairie_amboise",
        "Mairie d'Amboise",
        "Mairie d'Amboise",
        K.MAIRIE,
        (T.COMMUNE, "37003"),
        functions=("Maire",),
        contacts=((ContactKind.PHONE, "Astreinte mairie", "02 99 00 37 03", True),),
    ),
    OrgSpec(
        "pref45",
        "Préfecture du Loiret — SIDPC",
        "Préfecture 45",
        K.PREFECTURE,
        (T.DEPARTEMENT, "45"),
        functions=("Chef du SIDPC",),
        contacts=((ContactKind.PHONE, "Standard", "02 99 00 45 00", False),),
    ),
    OrgSpec(
        "cod45",
        "Centre opérationnel départemental du Loiret",
        "COD 45",
        K.COD,
        (T.DEPARTEMENT, "45"),
        parent="pref45",
        contacts=((ContactKind.PHONE, "Salle COD", "02 99 00 45 10", True),),
    ),
)


@dataclass(frozen=True)
class PersonaSpec:
    key: str
    username: str
    first_name: str
    last_name: str
    organisation: str
    role: str
    staff: bool = False


PERSONAS: tuple[PersonaSpec, ...] = (
    PersonaSpec("operator37", "operateur.cod37", "Claire", "Martin", "cod37", Role.COD_OPERATOR),
    PersonaSpec("room_lead37", "chef.salle.cod37", "Julien", "Bernard", "cod37", Role.ROOM_LEAD),
    PersonaSpec("director37", "cabinet.prefet37", "Sophie", "Leroy", "pref37", Role.DIRECTOR_STAFF),
    PersonaSpec(
        "liaison_sdis37", "liaison.sdis37", "Marc", "Dubois", "sdis37", Role.LIAISON_OFFICER
    ),
    PersonaSpec("mayor_tours", "maire.tours", "Hélène", "Moreau", "mairie_tours", Role.MAYOR),
    PersonaSpec(
        "zone_ouest", "officier.coz.ouest", "Nadia", "Lefebvre", "coz_ouest", Role.ZONE_OFFICER
    ),
    PersonaSpec("national", "veille.cogic", "Thomas", "Roux", "cogic", Role.NATIONAL_OFFICER),
    PersonaSpec("observer37", "observateur37", "Lucie", "Fournier", "pref37", Role.OBSERVER),
    PersonaSpec(
        "liaison_ars", "liaison.ars.cvl", "Inès", "Garcia", "ars_cvl", Role.LIAISON_OFFICER
    ),
    PersonaSpec("operator45", "operateur.cod45", "Karim", "Benali", "cod45", Role.COD_OPERATOR),
    PersonaSpec("admin", "admin.orsec", "Alex", "Garnier", "cogic", Role.ADMINISTRATOR, staff=True),
)


@dataclass(frozen=True)
class Credentials:
    password: str
    totp_key: str  # hex, as django-otp stores it

    @property
    def totp_secret_base32(self) -> str:
        """The secret as authenticator apps expect it."""
        return base64.b32encode(bytes.fromhex(self.totp_key)).decode("ascii").rstrip("=")


def random_credentials(_: PersonaSpec) -> Credentials:
    return Credentials(password=secrets.token_urlsafe(15), totp_key=secrets.token_hex(20))


def build_directory() -> dict[str, Organisation]:
    organisations: dict[str, Organisation] = {}
    for spec in ORGANISATIONS:
        kind, code = spec.territory
        territory = Territory.objects.get(kind=kind, code=code)
        org, _ = Organisation.objects.update_or_create(
            territory=territory,
            name=spec.name,
            defaults={
                "short_name": spec.short_name,
                "kind": spec.kind,
                "parent": organisations.get(spec.parent) if spec.parent else None,
                "is_demo": True,
            },
        )
        for title in spec.functions:
            Function.objects.get_or_create(organisation=org, title=title)
        for contact_kind, label, value, always in spec.contacts:
            ContactPoint.objects.get_or_create(
                organisation=org,
                kind=contact_kind,
                label=label,
                defaults={"value": value, "available_24_7": always},
            )
        organisations[spec.key] = org
    return organisations


def build_personas(
    organisations: dict[str, Organisation],
    credentials_for: Callable[[PersonaSpec], Credentials],
    *,
    reset_credentials: bool = True,
) -> dict[str, tuple[User, Credentials | None]]:
    """Create (or find) one user per persona; returns ``key -> (user, credentials)``.

    With ``reset_credentials=False`` an existing user keeps its password and TOTP device and
    ``None`` is returned for it (the caller already knows them).
    """
    people: dict[str, tuple[User, Credentials | None]] = {}
    for spec in PERSONAS:
        user = User.objects.filter(username=spec.username).first()
        created = user is None
        if user is None:
            user = User(username=spec.username, email=f"{spec.username}@demo-orsec.example")
        user.first_name, user.last_name = spec.first_name, spec.last_name
        user.is_staff = user.is_superuser = spec.staff
        user.is_demo = True
        credentials: Credentials | None = None
        if created or reset_credentials:
            credentials = credentials_for(spec)
            user.set_password(credentials.password)
        user.save()
        if credentials is not None:
            TOTPDevice.objects.filter(user=user).delete()
            TOTPDevice.objects.create(
                user=user,
                name="Application d'authentification",
                key=credentials.totp_key,
                confirmed=True,
            )
        Membership.objects.get_or_create(
            user=user, organisation=organisations[spec.organisation], role=spec.role
        )
        people[spec.key] = (user, credentials)
    return people


@transaction.atomic
def load_demo(
    credentials_for: Callable[[PersonaSpec], Credentials] = random_credentials,
    *,
    reset_credentials: bool = False,
) -> dict[str, tuple[User, Credentials | None]]:
    organisations = build_directory()
    people = build_personas(organisations, credentials_for, reset_credentials=reset_credentials)
    users = {key: user for key, (user, _) in people.items()}
    build_routing_rules()
    events = build_events(users, organisations)
    build_oncall(users, organisations, events)
    build_reports_demo(events["flood"], users)
    build_plans_demo(events["flood"], users)
    build_sitreps_demo(events["flood"], users, organisations)
    record_audit("demo.load", actor_label="make run", data={"personas": len(people)})
    return people
