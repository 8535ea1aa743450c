"""The map in a real browser (Debian's Chromium through Playwright), served by the real ASGI
application (``ThreadedServer``): Leaflet renders under the portal's CSP (no violation), the
département outline and the markers are drawn, axe-core finds no serious or critical violation,
and a report confirmed by another user appears on the map live, without reload, on the same
Leaflet map (not recreated).

Locally the test is skipped when Chromium is absent; in CI (``CI=true``) it fails instead.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[3] / "test-artifacts"

pytestmark = [pytest.mark.browser, pytest.mark.slow]

if not shutil.which(CHROMIUM) and os.environ.get("CI") != "true":
    pytest.skip("Chromium de Debian absent (apt-get install chromium)", allow_module_level=True)

from axe_playwright_python.sync_playwright import Axe  # noqa: E402
from playwright.sync_api import Page, expect, sync_playwright  # noqa: E402

from orsec.events.testing import open_test_event  # noqa: E402
from orsec.live.testing import ThreadedServer  # noqa: E402
from orsec.reports.actions import do_confirm_report, do_submit_report  # noqa: E402

LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]

TOURS_QUAI = {"type": "Point", "coordinates": [0.6848, 47.3941]}
AMBOISE = {"type": "Point", "coordinates": [0.9826, 47.4123]}

# Records CSP violations seen by the page itself (an init script runs outside the page's CSP).
RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__cspViolations.push(e.violatedDirective + " " + (e.blockedURI || ""));
});
"""


@pytest.fixture
def server(asgi_server: ThreadedServer) -> ThreadedServer:
    """The real ASGI application (root ``conftest.py``), serving ``STATIC_ROOT`` as in
    production: collected first (unchanged files are skipped)."""
    call_command("collectstatic", "--noinput", verbosity=0)
    return asgi_server


def report(persona: Any, event: Any, location: dict[str, Any], text: str) -> Any:
    return do_submit_report(
        persona.user,
        event=event,
        template="casualties",
        figures={"absolute": 2, "relative": 1},
        text=text,
        location=location,
        channel="portal",
    )


def open_page(browser: Any, server: ThreadedServer, persona: Any) -> tuple[Any, Page, list[str]]:
    """A new browser context logged in as ``persona`` (password + TOTP, like a user)."""
    context = browser.new_context(locale="fr-FR")
    context.add_init_script(RECORD_VIOLATIONS)
    page = context.new_page()
    console: list[str] = []
    page.on("console", lambda m: console.append(f"{m.type}: {m.text}"))
    page.on(
        "response",
        lambda r: console.append(f"http {r.status}: {r.url}") if r.status >= 400 else None,
    )
    page.goto(f"{server.url}/connexion/")
    page.get_by_label("Identifiant").fill(persona.username)
    page.get_by_label("Mot de passe").fill(persona.password)
    page.get_by_role("button", name="Se connecter").click()
    page.get_by_label("Code à 6 chiffres").fill(persona.totp_now())
    page.get_by_role("button", name="Valider").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(persona.user.first_name)
    return context, page, console


def test_operator37_sees_the_map_and_a_report_confirmed_by_another_user_appears_live(
    live_personas, server
):
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    event = open_test_event(live_personas.room_lead37.user)
    report(live_personas.mayor_tours, event, TOURS_QUAI, "Quai Paul-Bert : deux blessés.")

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        context, page, console = open_page(browser, server, live_personas.operator37)
        page.goto(f"{server.url}/evenements/{event.pk}/")
        map_box = page.locator(f"#carte-evenement-{event.pk}")
        expect(map_box).to_have_attribute("data-map-ready", "true")
        expect(map_box).to_have_class(re.compile(r"\bleaflet-container\b"))
        expect(map_box).to_have_class(re.compile(r"\borsec-map--no-tiles\b"))
        # the département outline (fetched once, cached) and the markers
        expect(map_box).to_have_attribute("data-map-outlines", "1")
        expect(map_box.locator("path.orsec-map-boundary")).to_have_count(1)
        expect(map_box.locator(".orsec-map-marker--event")).to_have_count(1)
        expect(map_box.locator(".orsec-map-marker--raw")).to_have_count(1)
        expect(map_box.locator(".orsec-map-marker--confirmed")).to_have_count(0)
        assert map_box.locator("img.leaflet-tile").count() == 0  # no tiles: works offline
        # the legend, the text alternative and the accessibility checks
        panel = page.locator("#panneau-map")
        expect(panel).to_contain_text("Brute (1)")
        expect(panel).to_contain_text("1 remontée localisée sur la carte (1 au total).")
        results = Axe().run(page)
        serious = [
            v for v in results.response["violations"] if v.get("impact") in {"serious", "critical"}
        ]
        assert not serious, "\n".join(f"{v['id']}: {v['help']}" for v in serious)
        # a popup opens from the keyboard on a marker
        page.locator(".orsec-map-marker--raw").focus()
        page.keyboard.press("Enter")
        expect(page.locator(".leaflet-popup-content")).to_contain_text("Bilan humain : Brute")

        # the live stream is open; mark the Leaflet container to check it is not recreated
        expect(page.locator("[data-live-status]")).to_have_attribute("data-state", "live")
        page.evaluate(
            "document.querySelector('.leaflet-container').__kept = true;"
            "window.__leafletMaps = document.querySelectorAll('.leaflet-container').length;"
        )
        # another user (the room lead) confirms a new report of the mayor
        second = report(live_personas.mayor_tours, event, AMBOISE, "Amboise : deux blessés.")
        do_confirm_report(
            live_personas.room_lead37.user,
            second,
            reliability="B",
            credibility=2,
            priority="urgent",
        )
        expect(map_box.locator(".orsec-map-marker--confirmed")).to_have_count(1, timeout=10000)
        expect(map_box.locator(".orsec-map-marker--raw")).to_have_count(1)
        expect(panel).to_contain_text("Confirmée (1)")
        assert page.evaluate("document.querySelector('.leaflet-container').__kept === true")
        assert page.evaluate("document.querySelectorAll('.leaflet-container').length") == 1
        assert page.evaluate(f"window.orsecMaps.featureCount('carte-evenement-{event.pk}')") == 3
        # the page was not reloaded (the marker set on window survives)
        assert page.evaluate("window.__leafletMaps") == 1

        ARTIFACTS.mkdir(exist_ok=True)
        page.locator("#panneau-map").screenshot(path=str(ARTIFACTS / "carte-evenement.png"))
        violations = page.evaluate("window.__cspViolations")
        assert violations == [], violations
        csp = [m for m in console if "Content Security Policy" in m or "Refused" in m]
        assert not csp, csp
        errors = [m for m in console if m.startswith("error:") and "status of 404" not in m]
        assert not errors, errors
        missing = [m for m in console if m.startswith("http ") and "favicon" not in m]
        assert not missing, missing
        context.close()
        browser.close()
