"""Real browser (Debian's Chromium): the room lead compiles and edits a SITREP, the director
approves it, the zone officer finds it on the zone page; axe-core finds no serious or critical
violation on the SITREP pages. Skipped locally without Chromium; in CI (``CI=true``) it runs."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from typing import Any

import pytest

CHROMIUM = "/usr/bin/chromium"

pytestmark = [pytest.mark.browser, pytest.mark.slow]

if not shutil.which(CHROMIUM) and os.environ.get("CI") != "true":
    pytest.skip("Chromium de Debian absent (apt-get install chromium)", allow_module_level=True)

from axe_playwright_python.sync_playwright import Axe  # noqa: E402
from playwright.sync_api import Browser, Page, expect, sync_playwright  # noqa: E402

from orsec.events.testing import open_test_event  # noqa: E402

LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        yield launched
        launched.close()


def assert_accessible(page: Page, name: str) -> None:
    results = Axe().run(page)
    serious = [
        v for v in results.response["violations"] if v.get("impact") in {"serious", "critical"}
    ]
    detail = "\n".join(f"{v['id']}: {v['help']} ({len(v['nodes'])} nœuds)" for v in serious)
    assert not serious, f"axe-core, page {name}:\n{detail}"


def open_as(browser: Browser, base: str, persona: Any) -> tuple[Any, Page, list[str]]:
    context = browser.new_context(locale="fr-FR")
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(f"{base}/")
    page.get_by_label("Identifiant").fill(persona.username)
    page.get_by_label("Mot de passe").fill(persona.password)
    page.get_by_role("button", name="Se connecter").click()
    page.get_by_label("Code à 6 chiffres").fill(persona.totp_now())
    page.get_by_role("button", name="Valider").click()
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    return context, page, errors


def test_room_lead_compiles_director_approves_zone_reads_in_a_browser(
    live_server: Any, live_personas: Any, browser: Browser
) -> None:
    event = open_test_event(live_personas.room_lead37.user)
    base = live_server.url

    context, page, errors = open_as(browser, base, live_personas.room_lead37)
    page.goto(f"{base}/evenements/{event.pk}/")
    page.locator("main").get_by_role("link", name="Points de situation").click()
    assert_accessible(page, "points de situation de l'événement")
    page.get_by_role("button", name="Compiler le prochain point de situation").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Point de situation n° 1")
    assert_accessible(page, "projet de point de situation")
    page.get_by_label("Perspectives").fill("Pic de crue attendu vers 3 h.")
    page.get_by_role("button", name="Enregistrer le projet").click()
    expect(page.locator("main")).to_contain_text("Projet enregistré")
    assert not [e for e in errors if "Content Security Policy" in e or "Refused" in e], errors
    context.close()

    context, page, errors = open_as(browser, base, live_personas.director37)
    page.goto(f"{base}/points-de-situation/")
    assert_accessible(page, "points de situation (menu)")
    page.get_by_role("link", name="n° 1").click()
    page.get_by_role("button", name="Approuver, figer et transmettre").click()
    expect(page.locator("main")).to_contain_text("figé et transmis")
    expect(page.locator("main")).to_contain_text("Empreinte SHA-256")
    assert_accessible(page, "point de situation figé")
    context.close()

    context, page, errors = open_as(browser, base, live_personas.zone_ouest)
    page.get_by_role("link", name="Points de situation").first.click()
    expect(page.locator("main")).to_contain_text(event.title)
    assert_accessible(page, "points de situation de la zone")
    context.close()
