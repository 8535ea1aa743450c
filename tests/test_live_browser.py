"""Live pages in a real browser (Debian's Chromium through Playwright), served by the real ASGI
application (``orsec.live.testing.ThreadedServer``: Django's live_server cannot serve /live/).

* The COD operator's event dashboard is open on a desktop; the mayor of Tours files field reports
  from a phone through the real form; each appears on the dashboard without reload, the first in
  under 2 s. The stream is then cut (route blocked, EventSource closed), two more reports are
  filed, the route is restored: both appear, exactly once each.
* The zone officer's watch room shows an event of the 37 as soon as it is shared with the zone,
  and counts its unread entries live.
* Wall mode (1920 x 1080), EXERCICE banner kept across live swaps; axe-core finds no serious or
  critical violation on the dashboard, the wall and the watch room. Screenshots go to
  test-artifacts/ (to docs/img/ with ORSEC_UPDATE_SCREENSHOTS=1).

Locally the tests are skipped when Chromium is absent; in CI (``CI=true``) they fail instead.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.management import call_command

CHROMIUM = "/usr/bin/chromium"
ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"
#: screenshots go to test-artifacts/; with ORSEC_UPDATE_SCREENSHOTS=1, to docs/img/ (README)
IMAGES = ROOT / "docs" / "img" if os.environ.get("ORSEC_UPDATE_SCREENSHOTS") == "1" else ARTIFACTS

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

if not shutil.which(CHROMIUM) and os.environ.get("CI") != "true":
    pytest.skip("Chromium de Debian absent (apt-get install chromium)", allow_module_level=True)

from axe_playwright_python.sync_playwright import Axe  # noqa: E402
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright  # noqa: E402

from orsec.dashboards.models import EventSeen  # noqa: E402
from orsec.events.actions import do_share_event  # noqa: E402
from orsec.events.models import Mode, Visibility  # noqa: E402
from orsec.events.testing import open_test_event  # noqa: E402
from orsec.journal.actions import log_information  # noqa: E402
from orsec.journal.chain import chain_for_event  # noqa: E402
from orsec.live import hub as hub_module  # noqa: E402
from orsec.live.testing import ThreadedServer  # noqa: E402

LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
DESKTOP = {"width": 1440, "height": 1000}
WALL = {"width": 1920, "height": 1080}
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def collected_static() -> None:
    """The ASGI application serves /static/ from STATIC_ROOT (as in production): collect it."""
    call_command("collectstatic", interactive=False, verbosity=0)


@pytest.fixture
def server(live_personas: Any, collected_static: None) -> Iterator[ThreadedServer]:
    with ThreadedServer() as running:
        yield running
        hub = hub_module._hub
        if hub is not None and hub.loop.is_running():
            asyncio.run_coroutine_threadsafe(hub.stop(), hub.loop).result(10)
    hub_module._hub = None


def assert_accessible(page: Page, name: str) -> None:
    results = Axe().run(page)
    serious = [
        v for v in results.response["violations"] if v.get("impact") in {"serious", "critical"}
    ]
    detail = "\n".join(
        f"{v['id']}: {v['help']} ({len(v['nodes'])} nœuds : "
        f"{', '.join(str(n.get('target')) for n in v['nodes'][:5])})"
        for v in serious
    )
    assert not serious, f"axe-core, page {name}:\n{detail}"


def logged_in(
    browser: Browser, server: ThreadedServer, personas: Any, name: str, **options: Any
) -> tuple[BrowserContext, Page, list[str]]:
    """A browser context carrying the session of a verified (password + TOTP) test client:
    the login journey itself is covered by tests/test_browser.py."""
    context = browser.new_context(locale="fr-FR", **options)
    client = personas.client_for(name)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": cookie.value,
                "domain": "127.0.0.1",
                "path": "/",
                "secure": True,  # a "__Host-" cookie; 127.0.0.1 counts as a secure context
                "httpOnly": True,
                "sameSite": "Lax",
            }
        ]
    )
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    return context, page, errors


def wait_live(page: Page) -> None:
    expect(page.locator("[data-live-status]")).to_have_attribute("data-state", "live")


def file_report(page: Page, base: str, event_id: int, text: str) -> float:
    """The mayor files a "Bilan humain" through the real form; returns the monotonic time at
    which the submission's response arrived."""
    page.goto(f"{base}/remontees/evenement/{event_id}/nouvelle/")
    page.get_by_text("Bilan humain", exact=True).click()  # the DSFR label covers the radio
    page.get_by_role("button", name="Continuer").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Bilan humain")
    page.get_by_label("Urgences absolues (UA)").fill("1")
    page.locator("textarea[name=text]").fill(text)
    with page.expect_response(lambda r: r.request.method == "POST") as submitted:
        page.get_by_role("button", name="Envoyer la remontée").click()
    assert submitted.value.status in (200, 302, 303), submitted.value.status
    arrived = time.monotonic()
    expect(page.locator("main")).to_contain_text("Brute")
    return arrived


def no_csp_errors(errors: list[str]) -> None:
    assert not [e for e in errors if "Content Security Policy" in e or "Refused" in e], errors


def test_mayor_reports_from_a_phone_appear_live_on_the_cod_dashboard_even_after_a_cut(
    live_personas, server, browser: Browser
) -> None:
    event = open_test_event(live_personas.room_lead37.user)
    base = server.url
    IMAGES.mkdir(parents=True, exist_ok=True)

    cod_context, cod, cod_errors = logged_in(
        browser, server, live_personas, "operator37", viewport=DESKTOP
    )
    cod.goto(f"{base}/evenements/{event.pk}/")
    wait_live(cod)
    assert_accessible(cod, "tableau de bord de l'événement")
    # the page told the server its user has seen the main courante (watch room unread counts)
    seen = EventSeen.objects.filter(user=live_personas.operator37.user, event=event)
    deadline = time.monotonic() + 5
    while not seen.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert seen.exists()
    tail = cod.locator("#emplacement-journal_tail")

    mayor_context, mayor, mayor_errors = logged_in(
        browser, server, live_personas, "mayor_tours", **PHONE
    )
    first = "Quai Paul-Bert : un blessé grave pris en charge."
    submitted_at = file_report(mayor, base, event.pk, first)
    entry = tail.locator(".orsec-entry", has_text=first)
    expect(entry).to_have_count(1, timeout=5000)
    elapsed = time.monotonic() - submitted_at
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "live-report-latency.txt").write_text(f"{elapsed:.3f} s\n", encoding="utf-8")
    assert elapsed < 2.0, f"shown after {elapsed:.2f} s"
    expect(cod.locator("#emplacement-to_qualify")).to_contain_text("Bilan humain")
    cod.screenshot(path=str(IMAGES / "dashboard.png"), full_page=True)

    # cut the stream: every /live/ request fails, and the open EventSource is closed
    cod.route("**/live/**", lambda route: route.abort())
    cod.evaluate("window.orsecLive.reconnect()")
    expect(cod.locator("[data-live-status]")).to_have_attribute("data-state", "reconnecting")
    second = "Rue Nationale : deux blessés légers."
    third = "Île Simon : cinq personnes évacuées, aucune victime."
    file_report(mayor, base, event.pk, second)
    file_report(mayor, base, event.pk, third)
    cod.wait_for_timeout(500)
    assert tail.locator(".orsec-entry", has_text=second).count() == 0  # really cut
    cod.unroute("**/live/**")
    # the client reconnects by itself (backoff with jitter) and replays what it missed
    for text in (second, third):
        expect(tail.locator(".orsec-entry", has_text=text)).to_have_count(1, timeout=40000)
    wait_live(cod)
    for text in (first, second, third):
        assert tail.locator(".orsec-entry", has_text=text).count() == 1, text
    assert cod.evaluate("document.querySelectorAll('#emplacement-journal_tail').length") == 1
    no_csp_errors(cod_errors)
    no_csp_errors(mayor_errors)

    # the same event on a wall screen: live, large, no navigation
    wall_context, wall, wall_errors = logged_in(
        browser, server, live_personas, "operator37", viewport=WALL
    )
    wall.goto(f"{base}/evenements/{event.pk}/mur/")
    wait_live(wall)
    assert wall.locator("#navigation").count() == 0
    log_information(
        live_personas.operator37.user,
        chain_for_event(event),
        "Point de situation : décrue amorcée à Tours.",
        channel="radio",
    )
    expect(wall.locator("#emplacement-journal_tail")).to_contain_text("décrue amorcée")
    assert_accessible(wall, "mode mur")
    width, height = wall.evaluate(
        "[document.documentElement.scrollWidth, document.documentElement.scrollHeight]"
    )
    assert width <= WALL["width"], width  # fits the wall screen: no scrolling
    assert height <= WALL["height"], height
    wall.screenshot(path=str(IMAGES / "wall.png"))
    no_csp_errors(wall_errors)
    for context in (cod_context, mayor_context, wall_context):
        context.close()


def test_zone_watch_room_shows_a_shared_event_live_and_exercise_banner_survives_swaps(
    live_personas, server, browser: Browser
) -> None:
    base = server.url
    event = open_test_event(live_personas.room_lead37.user)
    other = open_test_event(
        live_personas.room_lead37.user, title="Crue du Cher — Bléré", departement_code="37"
    )
    do_share_event(live_personas.room_lead37.user, other, Visibility.ZONE, reason="Information")
    context, page, errors = logged_in(
        browser, server, live_personas, "zone_ouest", viewport=DESKTOP
    )
    page.goto(f"{base}/salle-de-veille/")
    wait_live(page)
    expect(page.locator(f"#veille-evenement-{other.pk}")).to_be_visible()
    row = page.locator(f"#veille-evenement-{event.pk}")
    expect(row).to_have_count(0)

    do_share_event(live_personas.room_lead37.user, event, Visibility.ZONE, reason="Renforts")
    expect(row).to_be_visible(timeout=5000)
    expect(row).to_contain_text(event.title)
    # the zone officer never opened it: its entries are unread, and new ones add up live
    before = int(row.get_attribute("data-entries") or "0")
    expect(row.locator("[data-unread]")).to_contain_text(f"{before} non lue")
    log_information(
        live_personas.operator37.user, chain_for_event(event), "Renforts arrivés", channel="radio"
    )
    expect(row.locator("[data-unread]")).to_contain_text(f"{before + 1} non lue", timeout=5000)
    # the updated event moves to the top of its table
    expect(page.locator("#veille-liste-real tr").first).to_have_id(f"veille-evenement-{event.pk}")
    assert_accessible(page, "salle de veille")
    page.screenshot(path=str(IMAGES / "watch-room.png"), full_page=True)
    no_csp_errors(errors)
    context.close()

    # an exercise event: the EXERCICE banner on the page, on the wall, and in swapped parts
    exercise = open_test_event(
        live_personas.room_lead37.user, title="Exercice crue — Amboise", mode=Mode.EXERCISE
    )
    context, page, errors = logged_in(browser, server, live_personas, "operator37", viewport=WALL)
    page.goto(f"{base}/evenements/{exercise.pk}/mur/")
    wait_live(page)
    expect(page.locator(".orsec-mode-banner")).to_contain_text("EXERCICE")
    log_information(
        live_personas.operator37.user, chain_for_event(exercise), "Plastron évacué", channel="radio"
    )
    expect(page.locator("#emplacement-journal_tail")).to_contain_text("Plastron évacué")
    expect(page.locator(".orsec-mode-banner")).to_contain_text("EXERCICE")
    expect(page.locator("#evenement-badges")).to_contain_text("EXERCICE")
    expect(page.locator("#emplacement-journal_tail")).to_contain_text("EXERCICE")
    assert_accessible(page, "mode mur (exercice)")
    page.screenshot(path=str(IMAGES / "wall-exercise.png"))
    no_csp_errors(errors)
    context.close()
