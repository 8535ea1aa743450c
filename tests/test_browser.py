"""Real browser (Debian's Chromium through Playwright): log in with password + TOTP, see the home
page and the directory; axe-core finds no serious or critical violation on the pages visited.

Locally the tests are skipped when Chromium is absent; in CI (``CI=true``) they fail instead.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"

pytestmark = [pytest.mark.browser, pytest.mark.slow]

if not shutil.which(CHROMIUM) and os.environ.get("CI") != "true":
    pytest.skip("Chromium de Debian absent (apt-get install chromium)", allow_module_level=True)

from axe_playwright_python.sync_playwright import Axe  # noqa: E402
from playwright.sync_api import Browser, Page, expect, sync_playwright  # noqa: E402

from orsec.demo.demo_dissemination import build_routing_rules  # noqa: E402
from orsec.events.testing import open_test_event  # noqa: E402

LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    # Playwright's sync API runs an event loop in this thread; the ORM calls made by the test
    # itself (personas) are synchronous and safe.
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


def log_in(page: Page, base: str, persona) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{base}/")
    expect(page).to_have_url(f"{base}/connexion/?next=/")
    assert_accessible(page, "connexion")
    page.get_by_label("Identifiant").fill(persona.username)
    page.get_by_label("Mot de passe").fill(persona.password)
    page.get_by_role("button", name="Se connecter").click()
    expect(page.get_by_label("Code à 6 chiffres")).to_be_visible()
    assert_accessible(page, "second facteur")
    page.get_by_label("Code à 6 chiffres").fill(persona.totp_now())
    page.get_by_role("button", name="Valider").click()


def test_operator_logs_in_with_totp_and_sees_home_and_directory(
    live_server, live_personas, browser: Browser
) -> None:
    persona = live_personas.operator37
    context = browser.new_context(locale="fr-FR")
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    log_in(page, live_server.url, persona)

    expect(page.get_by_role("heading", level=1)).to_contain_text("Claire Martin")
    main = page.locator("main")
    expect(main).to_contain_text("COD 37")
    expect(main).to_contain_text("Opérateur COD")
    expect(main).to_contain_text("Indre-et-Loire")
    assert_accessible(page, "accueil")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "accueil.png"), full_page=True)

    page.get_by_role("link", name="Annuaire").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Annuaire ORSEC")
    expect(page.locator("main")).to_contain_text("SDIS 37")
    expect(page.locator("main")).not_to_contain_text("COD 45")
    assert_accessible(page, "annuaire")
    page.get_by_role("link", name="Service départemental d'incendie et de secours").click()
    expect(page.locator("main")).to_contain_text("02 99 00 37 18")
    assert_accessible(page, "fiche organisation")
    # No CSP violation or script error on any page.
    assert not [e for e in errors if "Content Security Policy" in e or "Refused" in e], errors
    context.close()


def test_wrong_code_keeps_the_user_out_with_a_french_message(
    live_server, live_personas, browser: Browser
) -> None:
    persona = live_personas.mayor_tours
    context = browser.new_context(locale="fr-FR")
    page = context.new_page()
    page.goto(f"{live_server.url}/connexion/")
    page.get_by_label("Identifiant").fill(persona.username)
    page.get_by_label("Mot de passe").fill(persona.password)
    page.get_by_role("button", name="Se connecter").click()
    page.get_by_label("Code à 6 chiffres").fill("000000")
    page.get_by_role("button", name="Valider").click()
    expect(page.locator("main")).to_contain_text("Code incorrect")
    page.goto(f"{live_server.url}/annuaire/")
    expect(page).to_have_url(f"{live_server.url}/connexion/?next=/annuaire/")
    context.close()


def test_keyboard_only_login(live_server, live_personas, browser: Browser) -> None:
    persona = live_personas.observer37
    context = browser.new_context(locale="fr-FR")
    page = context.new_page()
    page.goto(f"{live_server.url}/connexion/")
    page.get_by_label("Identifiant").focus()
    page.keyboard.type(persona.username)
    page.keyboard.press("Tab")
    page.keyboard.type(persona.password)
    page.keyboard.press("Enter")
    expect(page.get_by_label("Code à 6 chiffres")).to_be_focused()
    page.keyboard.type(persona.totp_now())
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Lucie Fournier")
    context.close()


# --- Core loop: a report from a phone, qualified in the COD, acknowledged by a service --------


def _page(browser: Browser, *, phone: bool = False) -> tuple[Any, Page, list[str]]:
    options: dict[str, Any] = {"locale": "fr-FR"}
    if phone:
        options |= {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
    context = browser.new_context(**options)
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    return context, page, errors


def test_keyboard_only_mayor_files_a_report_on_a_phone_and_the_cod_confirms_it(
    live_server, live_personas, browser: Browser
) -> None:
    build_routing_rules()
    event = open_test_event(live_personas.room_lead37.user)
    base = live_server.url

    # The mayor of Tours, on a phone, keyboard only once logged in
    context, page, errors = _page(browser, phone=True)
    log_in(page, base, live_personas.mayor_tours)
    page.goto(f"{base}/evenements/{event.pk}/")
    assert_accessible(page, "page de l'événement (maire)")
    link = page.get_by_role("link", name="Nouvelle remontée")
    link.focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Nouvelle remontée d'information")
    assert_accessible(page, "choix du type de remontée")
    page.get_by_label("Bilan humain").focus()
    page.keyboard.press("Space")
    page.keyboard.press("Enter")  # submits the choice
    expect(page.get_by_role("heading", level=1)).to_contain_text("Bilan humain")
    assert_accessible(page, "formulaire de remontée (téléphone)")
    page.get_by_label("Urgences absolues (UA)").focus()
    page.keyboard.type("3")
    page.locator("textarea[name=text]").focus()
    page.keyboard.type("Quai Paul-Bert : trois blessés graves pris en charge.")
    page.get_by_role("button", name="Envoyer la remontée").focus()
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_contain_text("Brute")
    assert_accessible(page, "remontée déposée")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "remontee-telephone.png"), full_page=True)
    assert not [e for e in errors if "Content Security Policy" in e or "Refused" in e], errors
    context.close()

    # The COD operator confirms it from the queue
    context, page, errors = _page(browser)
    log_in(page, base, live_personas.operator37)
    page.get_by_role("link", name="À qualifier").first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("qualifier")
    assert_accessible(page, "file à qualifier")
    page.locator("main").get_by_role("link", name="— Bilan humain").first.click()
    assert_accessible(page, "remontée à qualifier")
    page.get_by_label("Fiabilité de la source (A à F)").select_option("B")
    page.get_by_label("Crédibilité de l'information (1 à 6)").select_option("2")
    page.get_by_label("Priorité").select_option("urgent")
    page.get_by_role("button", name="Confirmer").click()
    expect(page.locator("main")).to_contain_text("Confirmée")
    page.goto(f"{base}/evenements/{event.pk}/")
    expect(page.locator("#panneau-key_figures")).to_contain_text("3")
    assert_accessible(page, "page de l'événement (COD)")
    page.goto(f"{base}/evenements/{event.pk}/main-courante/")
    expect(page.locator("main")).to_contain_text("Diffusé à")
    assert_accessible(page, "main courante")
    assert not [e for e in errors if "Content Security Policy" in e or "Refused" in e], errors
    context.close()

    # SDIS 37 reads it in its inbox and acknowledges
    context, page, errors = _page(browser)
    log_in(page, base, live_personas.liaison_sdis37)
    page.get_by_role("link", name="À prendre en compte").first.click()
    assert_accessible(page, "à prendre en compte")
    page.get_by_role("button", name="Ouvrir").first.click()
    assert_accessible(page, "remise")
    page.get_by_role("button", name="Accuser prise en compte").click()
    expect(page.locator("main")).to_contain_text("Prise en compte")
    context.close()
