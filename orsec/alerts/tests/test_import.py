"""do_import_meteoalarm: vigilances, watch-log entries, idempotency, rejection (real database)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from orsec.alerts.actions import do_import_meteoalarm
from orsec.alerts.models import ImportedCapAlert, Vigilance, VigilanceTransition
from orsec.alerts.queries import active_vigilances
from orsec.audit.models import AuditRecord
from orsec.journal.chain import verify_chain, watch_chain_for
from orsec.journal.models import JournalEntry
from orsec.live.models import OutboxMessage
from orsec.territories.models import Territory

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).parent / "fixtures"
PARIS = dt.timezone(dt.timedelta(hours=1))
MORNING = dt.datetime(2024, 3, 7, 7, 0, tzinfo=PARIS)
AFTERNOON = dt.datetime(2024, 3, 7, 16, 30, tzinfo=PARIS)
EVENING = dt.datetime(2024, 3, 7, 18, 30, tzinfo=PARIS)
ORANGE = "d37_d41_orange_rain_flood_alert.xml"


def _data(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def _d(code: str) -> Territory:
    return Territory.objects.get(kind="departement", code=code)


def _watch_entries(code: str) -> list[JournalEntry]:
    return list(JournalEntry.objects.filter(chain__territory=_d(code), chain__event=None))


def _counts() -> tuple[int, int, int, int, int]:
    return (
        Vigilance.objects.count(),
        VigilanceTransition.objects.count(),
        ImportedCapAlert.objects.count(),
        JournalEntry.objects.count(),
        AuditRecord.objects.count(),
    )


def test_orange_alert_creates_vigilances_and_writes_the_d37_watch_log():
    result = do_import_meteoalarm(_data(ORANGE), now=MORNING)

    assert result.accepted
    assert not result.duplicate
    vigilances = list(Vigilance.objects.order_by("departement__code"))
    assert [(v.departement.code, v.colour, v.phenomenon, v.state) for v in vigilances] == [
        ("37", "orange", "pluie_inondation", "active"),
        ("41", "orange", "pluie_inondation", "active"),
    ]
    d37 = vigilances[0]
    assert d37.territory_path == _d("37").path
    assert d37.cap_identifiers == ["2.49.0.0.250.0.FR.20240307060000.100001"]
    assert d37.onset == dt.datetime(2024, 3, 7, 12, 0, tzinfo=PARIS)
    assert d37.expires == dt.datetime(2024, 3, 8, 6, 0, tzinfo=PARIS)
    assert d37.mode == "real"
    (entry,) = _watch_entries("37")
    assert entry.text == (
        "Vigilance orange pluie-inondation pour Indre-et-Loire (37) du 07/03/2024 12:00 "
        "au 08/03/2024 06:00 — Météo-France / MeteoAlarm"
    )
    assert (entry.kind, entry.channel, entry.qualification) == ("incoming", "partner", "none")
    assert entry.author_label == "Météo-France / MeteoAlarm (import automatique)"
    assert entry.subject_id == str(d37.pk)
    assert len(_watch_entries("41")) == 1
    assert verify_chain(watch_chain_for(_d("37")))[1] is None
    assert OutboxMessage.objects.filter(
        topic=f"watch:{_d('37').path}", kind="vigilance.changed"
    ).exists()
    assert AuditRecord.objects.filter(action="alerts.meteoalarm.imported").count() == 1


def test_same_cap_identifier_imported_twice_changes_nothing_the_second_time():
    do_import_meteoalarm(_data(ORANGE), now=MORNING)
    before = _counts()

    again = do_import_meteoalarm(_data(ORANGE), now=MORNING)

    assert again.accepted
    assert again.duplicate
    assert again.created == again.updated == again.ended == again.entries == []
    assert _counts() == before
    assert len(_watch_entries("37")) == 1


def test_yellow_alert_creates_a_vigilance_without_watch_log_entry():
    result = do_import_meteoalarm(_data("d45_yellow_wind_alert.xml"), now=MORNING)

    (vigilance,) = Vigilance.objects.all()
    assert (vigilance.departement.code, vigilance.colour, vigilance.phenomenon) == (
        "45",
        "yellow",
        "vent",
    )
    assert result.entries == []
    assert _watch_entries("45") == []


def test_update_through_references_replaces_the_earlier_vigilance_and_ends_what_it_drops():
    do_import_meteoalarm(_data(ORANGE), now=MORNING)
    d37_before = Vigilance.objects.get(departement__code="37")

    result = do_import_meteoalarm(_data("d37_red_rain_flood_update.xml"), now=AFTERNOON)

    assert result.accepted
    d37 = Vigilance.objects.get(departement__code="37")
    assert d37.pk == d37_before.pk  # replaced in place, not a second vigilance
    assert (d37.colour, d37.level, d37.state) == ("red", 4, "active")
    assert d37.expires == dt.datetime(2024, 3, 8, 12, 0, tzinfo=PARIS)
    assert d37.cap_identifiers == [
        "2.49.0.0.250.0.FR.20240307060000.100001",
        "2.49.0.0.250.0.FR.20240307160000.100002",
    ]
    d41 = Vigilance.objects.get(departement__code="41")
    assert d41.state == "ended"  # the Update no longer covers Loir-et-Cher
    texts = [e.text for e in _watch_entries("37")]
    assert texts[-1].startswith("Vigilance rouge pluie-inondation pour Indre-et-Loire (37)")
    assert texts[-1].endswith("(auparavant orange)")
    assert _watch_entries("41")[-1].text.startswith(
        "Fin de vigilance orange pluie-inondation pour Loir-et-Cher (41)"
    )
    assert [v.pk for v in active_vigilances([_d("37").path], now=AFTERNOON)] == [d37.pk]


def test_cancel_ends_the_referenced_vigilances():
    do_import_meteoalarm(_data(ORANGE), now=MORNING)

    result = do_import_meteoalarm(_data("d37_d41_cancel.xml"), now=EVENING)

    assert result.accepted
    assert len(result.ended) == 2
    assert set(Vigilance.objects.values_list("state", flat=True)) == {"ended"}
    assert _watch_entries("37")[-1].text.startswith(
        "Fin de vigilance orange pluie-inondation pour Indre-et-Loire (37) (annulation)"
    )
    assert list(active_vigilances(["FR"], now=EVENING)) == []


def test_real_all_clear_update_of_an_unknown_alert_creates_no_vigilance():
    result = do_import_meteoalarm(
        _data("france_sample_detail.xml"), now=dt.datetime(2022, 12, 7, 5, tzinfo=PARIS)
    )

    assert result.accepted
    assert [n.departement_code for n in result.notices] == ["04", "05", "06", "38", "73", "74"]
    assert Vigilance.objects.count() == 0
    assert ImportedCapAlert.objects.count() == 1


@pytest.mark.parametrize(
    ("data", "standard", "code"),
    [
        (b"<alert>not closed", "CAP", "xml_malformed"),
        (
            (FIXTURES / "ireland_sample_detail.xml").read_bytes(),
            "MeteoAlarm",
            "meteoalarm_area_without_geocode",
        ),
        (
            _data(ORANGE).replace(b"3; orange; Severe", b"7; purple"),
            "MeteoAlarm",
            "meteoalarm_awareness_level",
        ),
        (
            _data(ORANGE).replace(b"FR244", b"FR999"),
            "MeteoAlarm",
            "meteoalarm_unknown_geocode",
        ),
        (
            _data(ORANGE).replace(b"<status>Actual</status>", b"<status>Exercise</status>"),
            "MeteoAlarm",
            "meteoalarm_status",
        ),
        (
            _data(ORANGE).replace(b"<msgType>Alert</msgType>", b"<msgType>Update</msgType>"),
            "CAP 1.2",
            "cap_references_missing",
        ),
    ],
)
def test_malformed_or_non_meteoalarm_cap_is_rejected_with_its_verdict_and_nothing_written(
    data, standard, code
):
    before = _counts()

    result = do_import_meteoalarm(data, now=MORNING)

    assert not result.accepted
    assert result.verdict.standard.startswith(standard)
    assert code in [error.code for error in result.verdict.errors]
    assert all(error.message for error in result.verdict.errors)
    assert _counts() == before


def test_valid_cap_outside_the_meteoalarm_profile_is_rejected():
    result = do_import_meteoalarm(_data("canada.cap"), now=MORNING)

    assert not result.accepted
    assert result.verdict.standard == "MeteoAlarm"
    assert result.verdict.errors[0].code == "meteoalarm_parameter_missing"
    assert Vigilance.objects.count() == 0


def test_orange_alert_reaches_the_live_page_of_the_open_events_it_concerns(
    flood_event, event45, personas
):
    """The flood of Indre-et-Loire gets a live message (its dashboard's vigilance panel
    re-renders at once); the Loiret event, not concerned, gets none."""
    do_import_meteoalarm(_data(ORANGE), now=MORNING)
    changed = OutboxMessage.objects.filter(kind="vigilance.changed")
    assert changed.filter(topic=f"event:{flood_event.pk}").exists()
    assert not changed.filter(topic=f"event:{event45.pk}").exists()
