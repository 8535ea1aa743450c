"""S2, S3, S4, S6, S12: a walk over every URL pattern checks the security headers.

Each route is requested over HTTPS as an anonymous visitor and as a logged-in COD operator;
error pages are part of the walk. Then a forced exception checks the generic error page, and every
state-changing endpoint refuses a POST without a CSRF token.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from django.apps import apps
from django.http import HttpRequest, HttpResponse
from django.test import Client, override_settings
from django.urls import URLPattern, URLResolver, get_resolver, path

pytestmark = pytest.mark.django_db

NONCE_RE = re.compile(r"'nonce-([^']+)'")
SCRIPT_RE = re.compile(r"<script\b[^>]*>", re.IGNORECASE)
DATA_BLOCK_RE = re.compile(r'type="application/(?:ld\+)?json"', re.IGNORECASE)


def _walk(patterns: list, prefix: str = "") -> Iterator[str]:  # type: ignore[type-arg]
    for entry in patterns:
        if isinstance(entry, URLResolver):
            yield from _walk(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern)


def concrete_urls(object_id: int) -> list[str]:
    urls = set()
    for raw in _walk(get_resolver().url_patterns):
        if raw.startswith("^") or "(?P" in raw:
            # Regex patterns (admin internals): use their plain prefix only.
            raw = re.split(r"[\^\(\$]", raw.lstrip("^"))[0]
        url = re.sub(r"<int:[^>]+>", str(object_id), raw)
        url = re.sub(r"<(?:str|slug|path):[^>]+>", "x", url)
        url = re.sub(r"<[^>]+>", "x", url)
        urls.add("/" + url.lstrip("/"))
    urls.add("/cette-page-n-existe-pas/")  # a 404 page is checked like any other
    return sorted(urls)


def check_headers(url: str, response: HttpResponse) -> None:
    where = f"{url} ({response.status_code})"
    hsts = response.headers.get("Strict-Transport-Security", "")
    match = re.search(r"max-age=(\d+)", hsts)
    assert match, f"HSTS missing on {where}"
    assert int(match.group(1)) >= 31536000, f"HSTS too short on {where}"
    assert "includeSubDomains" in hsts, where
    csp = response.headers.get("Content-Security-Policy", "")
    assert "'unsafe-inline'" not in csp, where
    assert re.search(r"script-src [^;]*'nonce-", csp), f"no nonce in script-src on {where}"
    for directive in ("object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'"):
        assert directive in csp, f"{directive} missing on {where}"
    assert response.headers.get("X-Content-Type-Options") == "nosniff", where
    assert response.headers.get("Referrer-Policy") in {
        "strict-origin-when-cross-origin",
        "same-origin",
        "no-referrer",
        "strict-origin",
    }, where
    content_type = response.headers.get("Content-Type", "")
    if response.status_code not in (301, 302, 304) or content_type:
        assert "charset=" in content_type.lower(), f"no charset on {where}: {content_type!r}"
    if content_type.startswith("text/html") and response.content:
        nonce = NONCE_RE.search(csp)
        assert nonce is not None
        for tag in SCRIPT_RE.findall(response.content.decode()):
            if DATA_BLOCK_RE.search(tag):
                continue  # a JSON data block is never executed: CSP does not apply to it
            assert f'nonce="{nonce.group(1)}"' in tag, f"script without nonce on {where}: {tag}"


def table_counts() -> dict[str, int]:
    skip = {"django_session"}
    return {
        model._meta.db_table: model._default_manager.count()
        for model in apps.get_models()
        if model._meta.db_table not in skip and not model._meta.proxy
    }


def test_every_route_carries_the_security_headers_for_anonymous_and_operator(personas) -> None:
    object_id = personas.organisations["sdis37"].pk
    urls = concrete_urls(object_id)
    assert len(urls) > 10
    before = table_counts()
    for client in (Client(), personas.client_for("operator37")):
        for url in urls:
            response = client.get(url, secure=True)
            check_headers(url, response)
            assert response.status_code < 500, f"{url} answered {response.status_code}"
    # S12: no state change on GET — a whole walk of GETs writes no row.
    assert table_counts() == before


def test_hsts_only_on_https_responses(personas) -> None:
    response = Client().get("/connexion/")
    assert "Strict-Transport-Security" not in response.headers


def test_rendered_page_scripts_carry_the_nonce(personas) -> None:
    client = personas.client_for("operator37")
    response = client.get("/annuaire/", secure=True)
    scripts = SCRIPT_RE.findall(response.content.decode())
    assert scripts, "the page loads the DSFR scripts"
    check_headers("/annuaire/", response)


def _boom(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("secret-internal-detail SELECT * FROM accounts_user")


urlpatterns = [path("boom/", _boom)]
handler500 = "orsec.core.views.server_error"


@override_settings(ROOT_URLCONF=__name__, DEBUG=False)
def test_forced_exception_gives_a_generic_page_without_traceback() -> None:
    client = Client(raise_request_exception=False)
    response = client.get("/boom/", secure=True)
    assert response.status_code == 500
    body = response.content.decode()
    assert "Erreur du service" in body
    for leak in ("Traceback", "secret-internal-detail", "SELECT", "RuntimeError", ".py"):
        assert leak not in body
    check_headers("/boom/", response)


STATE_CHANGING = [
    "/connexion/",
    "/connexion/second-facteur/",
    "/connexion/activer-second-facteur/",
    "/deconnexion/",
    "/compte/mot-de-passe/",
    "/compte/codes-de-secours/",
    "/compte/deconnexion-partout/",
    "/mot-de-passe/oubli/",
]


@pytest.mark.parametrize("url", STATE_CHANGING)
def test_post_without_csrf_token_is_refused(personas, url: str) -> None:
    client = Client(enforce_csrf_checks=True)
    personas.client_for("operator37", client)
    response = client.post(url, {"username": "x", "password": "y"}, secure=True)
    assert response.status_code == 403
    assert "Formulaire expiré" in response.content.decode()


def test_head_is_answered_like_get_on_every_page(personas) -> None:
    """Monitoring probes and link checkers use HEAD: never a 405 where GET works (pages; the
    JSON API declares its methods in the OpenAPI document)."""
    object_id = personas.organisations["sdis37"].pk
    for client in (Client(), personas.client_for("operator37")):
        for url in concrete_urls(object_id):
            if url.startswith("/api/"):
                continue
            get = client.get(url, secure=True)
            if get.status_code == 405:
                continue  # POST-only endpoints
            assert client.head(url, secure=True).status_code == get.status_code, url
