"""MeteoAlarm feed polling against a local HTTP server serving real samples."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.utils import timezone

from orsec.alerts.feeds import parse_feed, poll_all_feeds
from orsec.alerts.models import Vigilance, VigilanceFeedState
from orsec.alerts.tasks import pending_polls, poll_vigilance_feeds
from orsec.alerts.tests.feed_server import Resource, feed_server
from orsec.audit.models import AuditRecord
from orsec.interop.errors import InteropError
from orsec.journal.models import JournalEntry
from orsec.territories.models import Territory

pytestmark = pytest.mark.django_db

HERE = Path(__file__).parent
FIXTURES = HERE / "fixtures"
INTEROP = HERE.parents[1] / "interop" / "tests" / "fixtures"
MORNING = dt.datetime(2024, 3, 7, 7, 0, tzinfo=dt.timezone(dt.timedelta(hours=1)))
AFTERNOON = dt.datetime(2024, 3, 7, 16, 30, tzinfo=dt.timezone(dt.timedelta(hours=1)))
ORANGE_ID = "2.49.0.0.250.0.FR.20240307060000.100001"
UPDATE_ID = "2.49.0.0.250.0.FR.20240307160000.100002"


def atom(*entries: tuple[str, str]) -> bytes:
    """An Atom feed in MeteoAlarm's shape: (cap:identifier, CAP link) per entry."""
    body = "".join(
        f"""<entry><cap:identifier>{identifier}</cap:identifier>
<link href="{href}" type="application/cap+xml"/>
<id>{href}#e{index}</id><title>Vigilance</title><updated>2024-03-07T06:00:00Z</updated></entry>"""
        for index, (identifier, href) in enumerate(entries)
    )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xmlns:cap="urn:oasis:names:tc:emergency:cap:1.2">
<id>tag:test,2024:FR</id><title>Test</title><updated>2024-03-07T06:00:00Z</updated>
{body}</feed>""".encode()


@pytest.fixture
def server(settings: Any) -> Any:
    with feed_server() as running:
        settings.ORSEC_METEOALARM_FEEDS = [f"{running.base}/feed.xml"]
        settings.ORSEC_METEOALARM_ALLOWED_HOSTS = ["127.0.0.1"]
        settings.ORSEC_OUTBOUND_ALLOW_HTTP_LOOPBACK = True
        settings.ORSEC_METEOALARM_TIMEOUT_SECONDS = 2
        yield running


def _serve_orange(server: Any, *extra: tuple[str, str]) -> None:
    server.resources["/cap/orange.xml"] = Resource(
        (FIXTURES / "d37_d41_orange_rain_flood_alert.xml").read_bytes()
    )
    server.resources["/feed.xml"] = Resource(
        atom(
            (ORANGE_ID, f"{server.base}/cap/orange.xml"),
            (ORANGE_ID, f"{server.base}/cap/orange.xml"),  # a second area of the same alert
            *extra,
        ),
        headers={"ETag": '"v1"', "Content-Type": "application/atom+xml"},
    )


def test_orange_vigilance_from_the_feed_writes_the_d37_watch_log_and_shows_on_its_dashboard(
    server, personas, flood_event
):
    _serve_orange(server)

    (outcome,) = poll_all_feeds(now=MORNING)

    assert (outcome.imported, outcome.errors) == (1, [])
    assert server.paths().count("/cap/orange.xml") == 1  # one fetch per alert, not per entry
    d37 = Territory.objects.get(kind="departement", code="37")
    vigilance = Vigilance.objects.get(departement=d37)
    assert (vigilance.colour, vigilance.phenomenon) == ("orange", "pluie_inondation")
    assert JournalEntry.objects.filter(
        chain__territory=d37, chain__event=None, text__startswith="Vigilance orange"
    ).exists()
    Vigilance.objects.update(expires=timezone.now() + dt.timedelta(hours=6))
    html = personas.client_for("operator37").get(f"/evenements/{flood_event.pk}/").content.decode()
    assert 'id="panneau-vigilances"' in html
    assert "Vigilance orange" in html
    state = VigilanceFeedState.objects.get()
    assert (state.etag, state.alerts_imported, state.last_errors) == ('"v1"', 1, [])
    assert state.last_success_at == MORNING


def test_second_poll_is_conditional_and_fetches_nothing_when_unchanged(server):
    _serve_orange(server)
    poll_all_feeds(now=MORNING)

    (outcome,) = poll_all_feeds(now=MORNING + dt.timedelta(minutes=5))

    assert outcome.not_modified
    path, headers = server.requests[-1]
    assert (path, headers["if-none-match"]) == ("/feed.xml", '"v1"')
    assert server.paths().count("/cap/orange.xml") == 1
    assert VigilanceFeedState.objects.get().polls == 2


def test_already_imported_alert_is_not_fetched_again_when_the_feed_changes(server):
    _serve_orange(server)
    poll_all_feeds(now=MORNING)
    server.resources["/cap/update.xml"] = Resource(
        (FIXTURES / "d37_red_rain_flood_update.xml").read_bytes()
    )
    server.resources["/feed.xml"] = Resource(
        atom(
            (ORANGE_ID, f"{server.base}/cap/orange.xml"),
            (UPDATE_ID, f"{server.base}/cap/update.xml"),
        ),
        headers={"ETag": '"v2"'},
    )

    (outcome,) = poll_all_feeds(now=AFTERNOON)

    assert (outcome.imported, outcome.duplicates) == (1, 1)
    assert server.paths().count("/cap/orange.xml") == 1
    d37 = Vigilance.objects.get(departement__code="37", state="active")
    assert d37.colour == "red"  # the Update chain is followed by the alerts importer


def test_bad_entries_are_recorded_and_do_not_stop_the_good_ones(server, personas):
    server.resources["/cap/canada.xml"] = Resource((FIXTURES / "canada.cap").read_bytes())
    server.resources["/cap/doctype.xml"] = Resource(
        b'<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/passwd">]><a>&x;</a>'
    )
    _serve_orange(
        server,
        ("", f"{server.base}/cap/missing.xml"),
        ("", f"{server.base}/cap/canada.xml"),
        ("", f"{server.base}/cap/doctype.xml"),
        ("", "https://meteo.example.org/cap/1.xml"),
        ("", f"{server.base}/cap/redirect.xml"),
    )
    server.resources["/cap/redirect.xml"] = Resource(
        b"", status=302, headers={"Location": "http://10.0.0.1/"}
    )

    (outcome,) = poll_all_feeds(now=MORNING)

    assert outcome.imported == 1
    codes = {error["url"].rsplit("/", 1)[-1]: error["code"] for error in outcome.errors}
    assert codes == {
        "missing.xml": "http_status",
        "canada.xml": "meteoalarm_parameter_missing",
        "doctype.xml": "xml_doctype_forbidden",
        "1.xml": "host_not_allowed",
        "redirect.xml": "http_status",
    }
    assert "/cap/1.xml" not in server.paths()
    html = personas.client_for("operator37").get("/alertes/vigilances/").content.decode()
    assert "Relève des flux MeteoAlarm" in html
    assert "5 erreurs à la dernière lecture" in html
    assert "Redirection non suivie" in html
    assert AuditRecord.objects.filter(action="alerts.feed.errors").count() == 1


def test_unreachable_or_hostile_feed_is_recorded_never_raised(server, settings):
    server.resources["/feed.xml"] = Resource(
        (INTEROP / "attacks" / "billion_laughs.xml").read_bytes()
    )
    (outcome,) = poll_all_feeds(now=MORNING)
    assert [error["code"] for error in outcome.errors] == ["xml_doctype_forbidden"]

    settings.ORSEC_METEOALARM_FEEDS = ["http://127.0.0.1:9/feed.xml"]  # nothing listens there
    (outcome,) = poll_all_feeds(now=MORNING)
    assert outcome.errors[0]["code"] == "connection_error"
    assert VigilanceFeedState.objects.get(url="http://127.0.0.1:9/feed.xml").last_success_at is None


def test_real_meteoalarm_atom_sample_links_to_a_host_not_allowed_here(server):
    """France's real feed: 12 entries; their CAP links (feeds.meteoalarm.org) are refused by
    the allow-list of this test (127.0.0.1 only) before any connection."""
    server.resources["/feed.xml"] = Resource((INTEROP / "feeds" / "france_sample.xml").read_bytes())

    (outcome,) = poll_all_feeds(now=MORNING)

    assert outcome.entries >= 1
    assert {error["code"] for error in outcome.errors} == {"host_not_allowed"}


def test_parse_feed_reads_cap_links_of_the_real_samples():
    entries = parse_feed((INTEROP / "feeds" / "france_sample.xml").read_bytes())
    assert entries[0].identifier == "2.49.0.0.250.0.FR.20221207160058.764028"
    assert entries[0].cap_url.startswith("https://feeds.meteoalarm.org/api/v1/warnings/")
    assert len({entry.cap_url for entry in entries}) == len(entries)
    with pytest.raises(InteropError):
        parse_feed(b"<rss/>")


def test_task_polls_then_requeues_itself_and_the_command_is_idempotent(server):
    _serve_orange(server)

    call_command("schedule_vigilance_feeds", verbosity=0)
    call_command("schedule_vigilance_feeds", verbosity=0)
    assert pending_polls().count() == 1

    pending_polls().delete()
    result = poll_vigilance_feeds.call()
    assert result["imported"] == 1
    assert pending_polls().count() == 1  # the next poll is queued


def test_without_configured_feed_nothing_is_scheduled(settings):
    settings.ORSEC_METEOALARM_FEEDS = []
    call_command("schedule_vigilance_feeds", verbosity=0)
    assert pending_polls().count() == 0
