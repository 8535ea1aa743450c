"""Shared fixtures: the real territorial reference data and the personas of the demo scenario.

The reference territories (≈35,000 rows) are loaded once per test database; every test then runs
in a transaction that is rolled back. Personas are the demo scenario's people with known
credentials: operator of COD 37, operator of COD 45 (another département), mayor of Tours, zone
officer Ouest, national watch officer, observer, administrator…
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from django.test import Client
from django_otp.oath import totp

from orsec.accounts.models import User
from orsec.accounts.testing import log_in_verified
from orsec.demo.scenario import Credentials, PersonaSpec, build_directory, build_personas
from orsec.directory.models import Organisation
from orsec.events.models import Event, Mode
from orsec.events.testing import open_test_event
from orsec.live.hub import reset_hub
from orsec.live.testing import ThreadedServer
from orsec.territories.loader import load_reference_territories
from orsec.territories.models import ReferenceDataset, Territory

PERSONA_PASSWORD = "Crue-de-la-Loire-2026!"  # noqa: S105 - satisfies the ≥ 16 characters rule of admins


def persona_credentials(spec: PersonaSpec) -> Credentials:
    # A distinct, known TOTP key per persona (20 bytes, hex as django-otp stores it).
    seed = spec.key.encode().hex()
    return Credentials(password=PERSONA_PASSWORD, totp_key=(seed * 3)[:40].ljust(40, "0"))


#: The reference rows as loaded once per test session, to restore them quickly after a flush.
_REFERENCE_ROWS: dict[str, list[dict[str, Any]]] = {}


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup: Any, django_db_blocker: Any) -> None:
    with django_db_blocker.unblock():
        load_reference_territories()
        _REFERENCE_ROWS["territories"] = list(Territory.objects.order_by("id").values())
        _REFERENCE_ROWS["datasets"] = list(ReferenceDataset.objects.values())


def ensure_territories() -> None:
    """Transactional tests (live server) flush the tables: restore the reference data then.

    The loader itself is tested in ``orsec/territories/tests``; here the rows it wrote at the
    start of the session are inserted again as they were (ids included, parents first), which
    takes a fraction of the loader's time.
    """
    if ReferenceDataset.objects.filter(name="territories").exists():
        return
    if not _REFERENCE_ROWS:
        load_reference_territories(force=True)
        return
    Territory.objects.bulk_create(
        [Territory(**row) for row in _REFERENCE_ROWS["territories"]], batch_size=2000
    )
    ReferenceDataset.objects.bulk_create(
        [ReferenceDataset(**row) for row in _REFERENCE_ROWS["datasets"]]
    )


@dataclass
class Persona:
    key: str
    user: User
    password: str
    totp_key: str

    @property
    def username(self) -> str:
        return self.user.get_username()

    def totp_now(self, *, drift: int = 0) -> str:
        return f"{totp(bytes.fromhex(self.totp_key), drift=drift):06d}"


class Personas:
    def __init__(self, people: dict[str, Persona], organisations: dict[str, Organisation]):
        self._people = people
        self.organisations = organisations

    def __getattr__(self, key: str) -> Persona:
        try:
            return self._people[key]
        except KeyError:
            raise AttributeError(key) from None

    def all(self) -> list[Persona]:
        return list(self._people.values())

    def client_for(self, key: str, client: Client | None = None) -> Client:
        """A client logged in as the persona with its second factor verified."""
        return log_in_verified(client or Client(), self._people[key].user)


def build_personas_fixture() -> Personas:
    ensure_territories()
    organisations = build_directory()
    built = build_personas(organisations, persona_credentials)
    people = {}
    for key, (user, credentials) in built.items():
        assert credentials is not None
        people[key] = Persona(key, user, credentials.password, credentials.totp_key)
    return Personas(people, organisations)


@pytest.fixture
def personas(db: Any) -> Personas:
    return build_personas_fixture()


@pytest.fixture
def live_personas(transactional_db: Any) -> Personas:
    return build_personas_fixture()


# --- Events ---------------------------------------------------------------------------------


@pytest.fixture
def flood_event(personas: Personas) -> Event:
    """The real Loire flood event of Indre-et-Loire (phase alerte, a point in Tours)."""
    return open_test_event(personas.room_lead37.user)


@pytest.fixture
def exercise_event(personas: Personas) -> Event:
    """An exercise event of Indre-et-Loire (never counted as real)."""
    return open_test_event(
        personas.room_lead37.user, title="Exercice crue — Amboise", mode=Mode.EXERCISE
    )


@pytest.fixture
def event45(personas: Personas) -> Event:
    """An event of Loiret (another département): invisible to Indre-et-Loire's people."""
    return open_test_event(
        personas.operator45.user, departement_code="45", title="Crue de la Loire — Orléans"
    )


# --- Partner systems (API tokens) -----------------------------------------------------------


@pytest.fixture
def partner_sdis37(personas: Personas) -> Any:
    """The SDIS 37 dispatch system: a token on Indre-et-Loire with the verbs a dispatch needs.

    ``.token`` is the plaintext (``orsec_<prefix>_<secret>``), ``.client`` a test client sending
    ``Authorization: Bearer <token>``, ``.partner_token`` the model row.
    """
    from orsec.partners.testing import DISPATCH_VERBS, issue_test_token

    return issue_test_token(
        personas.admin.user,
        personas.organisations["sdis37"],
        verbs=DISPATCH_VERBS,
        name="Système d'alerte SDIS 37",
    )


# --- Live streams: the real ASGI application on a loopback port ------------------------------


@pytest.fixture
def asgi_server(live_personas: Personas) -> Iterator[ThreadedServer]:
    """The portal's ASGI application (pages, API, /live/) served by uvicorn in a thread of the
    test process, on the test database; a fresh live hub per server."""
    with ThreadedServer() as running:
        yield running
    reset_hub()


@pytest.fixture
def asgi_http(asgi_server: ThreadedServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=asgi_server.url, timeout=httpx.Timeout(10.0, read=30.0)) as client:
        yield client
