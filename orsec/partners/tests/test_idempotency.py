"""``Idempotency-Key`` on API POSTs: a retried request never runs twice.

No POST operation of the API exists in this app, and the domains' POSTs (events, reports…) are
written alongside: the middleware is exercised here with RequestFactory requests whose
``get_response`` is a real view body — it writes a contact point through the directory's audited
action and answers 201 — and, through the whole HTTP stack, with the key checks that run before
routing. Each domain's POST tests add the end-to-end retry case.
"""

from __future__ import annotations

import json
import threading
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.test import Client, RequestFactory
from django.utils import timezone

from orsec.audit.models import AuditRecord
from orsec.directory.actions import do_save_contact_item
from orsec.directory.models import ContactPoint
from orsec.partners.idempotency import purge_expired
from orsec.partners.middleware import PartnerApiMiddleware
from orsec.partners.models import IdempotencyRecord

pytestmark = pytest.mark.django_db

URL = "/api/v1/organisations/contacts"


class ContactWriter:
    """A view body: add a phone contact to SDIS 37 through the audited action; count the calls."""

    def __init__(self, personas: Any, *, status: int = 201) -> None:
        self.organisation = personas.organisations["sdis37"]
        self.actor = personas.admin.user
        self.status = status
        self.calls = 0

    def __call__(self, request: HttpRequest) -> HttpResponse:
        self.calls += 1
        payload = json.loads(request.body)
        item = ContactPoint(organisation=self.organisation, kind="phone", value=payload["value"])
        do_save_contact_item(self.actor, item, request=request)
        response = JsonResponse({"id": item.pk, "value": item.value}, status=self.status)
        response["Location"] = f"/api/v1/contacts/{item.pk}"
        return response


def _post(partner: Any, body: dict[str, Any], *, key: str | None = "cle-1", path: str = URL) -> Any:
    headers = {"Authorization": f"Bearer {partner.token}"}
    if key is not None:
        headers["Idempotency-Key"] = key
    request = RequestFactory().post(
        path, data=json.dumps(body), content_type="application/json", headers=headers
    )
    request.user = AnonymousUser()
    return request


def _contacts(value: str) -> int:
    return ContactPoint.objects.filter(value=value).count()


def test_sdis37_dispatch_retry_with_same_key_and_body_creates_one_row_and_replays(
    personas: Any, partner_sdis37: Any
) -> None:
    view = ContactWriter(personas)
    middleware = PartnerApiMiddleware(view)
    first = middleware(_post(partner_sdis37, {"value": "02 47 00 00 01"}))
    retry = middleware(_post(partner_sdis37, {"value": "02 47 00 00 01"}))
    assert first.status_code == retry.status_code == 201
    assert view.calls == 1
    assert _contacts("02 47 00 00 01") == 1
    assert retry.content == first.content
    assert retry["Location"] == first["Location"]
    assert retry["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first
    assert IdempotencyRecord.objects.count() == 1


def test_same_key_with_another_body_gets_422_idempotency_key_reused(
    personas: Any, partner_sdis37: Any
) -> None:
    view = ContactWriter(personas)
    middleware = PartnerApiMiddleware(view)
    middleware(_post(partner_sdis37, {"value": "02 47 00 00 02"}))
    response = middleware(_post(partner_sdis37, {"value": "02 47 00 00 03"}))
    assert response.status_code == 422
    assert json.loads(response.content)["code"] == "idempotency_key_reused"
    assert view.calls == 1
    assert _contacts("02 47 00 00 03") == 0


def test_same_key_on_another_path_gets_422(personas: Any, partner_sdis37: Any) -> None:
    middleware = PartnerApiMiddleware(ContactWriter(personas))
    middleware(_post(partner_sdis37, {"value": "02 47 00 00 04"}))
    other = middleware(_post(partner_sdis37, {"value": "02 47 00 00 04"}, path=URL + "/x"))
    assert other.status_code == 422


def test_the_same_key_of_two_partners_are_two_keys(personas: Any, partner_sdis37: Any) -> None:
    from orsec.partners.testing import issue_test_token

    other = issue_test_token(
        personas.admin.user, personas.organisations["samu37"], verbs=["reports:write"]
    )
    view = ContactWriter(personas)
    middleware = PartnerApiMiddleware(view)
    middleware(_post(partner_sdis37, {"value": "02 47 00 00 05"}))
    response = middleware(_post(other, {"value": "02 47 00 00 05"}))
    assert response.status_code == 201
    assert "Idempotent-Replayed" not in response
    assert view.calls == 2


def test_without_key_every_post_runs(personas: Any, partner_sdis37: Any) -> None:
    view = ContactWriter(personas)
    middleware = PartnerApiMiddleware(view)
    middleware(_post(partner_sdis37, {"value": "02 47 00 00 06"}, key=None))
    middleware(_post(partner_sdis37, {"value": "02 47 00 00 06"}, key=None))
    assert _contacts("02 47 00 00 06") == 2
    assert not IdempotencyRecord.objects.exists()


def test_server_error_rolls_back_and_stores_nothing(personas: Any, partner_sdis37: Any) -> None:
    audits = AuditRecord.objects.count()
    view = ContactWriter(personas, status=500)
    middleware = PartnerApiMiddleware(view)
    response = middleware(_post(partner_sdis37, {"value": "02 47 00 00 07"}))
    assert response.status_code == 500
    assert _contacts("02 47 00 00 07") == 0
    assert AuditRecord.objects.count() == audits
    assert not IdempotencyRecord.objects.exists()
    middleware(_post(partner_sdis37, {"value": "02 47 00 00 07"}))
    assert view.calls == 2  # the retry runs again


def test_exception_in_the_view_stores_nothing(personas: Any, partner_sdis37: Any) -> None:
    def failing(request: HttpRequest) -> HttpResponse:
        ContactWriter(personas)(request)
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        PartnerApiMiddleware(failing)(_post(partner_sdis37, {"value": "02 47 00 00 08"}))
    assert _contacts("02 47 00 00 08") == 0
    assert not IdempotencyRecord.objects.exists()


@pytest.mark.parametrize("status", [401, 403, 404, 409, 429])
def test_credential_or_state_refusals_are_not_stored(
    personas: Any, partner_sdis37: Any, status: int
) -> None:
    def refusing(request: HttpRequest) -> HttpResponse:
        return JsonResponse({"code": "x", "message": "x"}, status=status)

    PartnerApiMiddleware(refusing)(_post(partner_sdis37, {"value": "1"}))
    assert not IdempotencyRecord.objects.exists()


def test_validation_refusal_422_is_stored_and_replayed(partner_sdis37: Any) -> None:
    calls = []

    def invalid(request: HttpRequest) -> HttpResponse:
        calls.append(1)
        return JsonResponse({"code": "validation_error", "message": "x"}, status=422)

    middleware = PartnerApiMiddleware(invalid)
    middleware(_post(partner_sdis37, {"value": "1"}))
    replay = middleware(_post(partner_sdis37, {"value": "1"}))
    assert replay.status_code == 422
    assert replay["Idempotent-Replayed"] == "true"
    assert len(calls) == 1


def test_record_older_than_24_hours_frees_the_key(personas: Any, partner_sdis37: Any) -> None:
    view = ContactWriter(personas)
    middleware = PartnerApiMiddleware(view)
    middleware(_post(partner_sdis37, {"value": "02 47 00 00 09"}))
    IdempotencyRecord.objects.update(created_at=timezone.now() - timedelta(hours=25))
    response = middleware(_post(partner_sdis37, {"value": "02 47 00 00 09"}))
    assert "Idempotent-Replayed" not in response
    assert view.calls == 2
    assert IdempotencyRecord.objects.count() == 1


def test_purge_drops_only_expired_records(personas: Any, partner_sdis37: Any) -> None:
    middleware = PartnerApiMiddleware(ContactWriter(personas))
    middleware(_post(partner_sdis37, {"value": "1"}, key="old"))
    middleware(_post(partner_sdis37, {"value": "2"}, key="new"))
    IdempotencyRecord.objects.filter(key="old").update(
        created_at=timezone.now() - timedelta(hours=24, seconds=1)
    )
    assert purge_expired(timezone.now()) == 1
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["new"]


def test_operator37_session_retry_is_replayed_per_user(personas: Any) -> None:
    view = ContactWriter(personas)
    middleware = PartnerApiMiddleware(view)

    def session_post() -> Any:
        request = RequestFactory().post(
            URL,
            data=json.dumps({"value": "02 47 00 00 10"}),
            content_type="application/json",
            headers={"Idempotency-Key": "k"},
        )
        user = personas.operator37.user
        user.is_verified = lambda: True
        request.user = user
        request._dont_enforce_csrf_checks = True  # type: ignore[attr-defined]
        return request

    middleware(session_post())
    assert middleware(session_post())["Idempotent-Replayed"] == "true"
    assert view.calls == 1
    assert IdempotencyRecord.objects.get().principal == f"user:{personas.operator37.user.pk}"


# --- Through the HTTP stack -------------------------------------------------------------------


@pytest.mark.parametrize("key", ["", "a b", "é", "x" * 201, "tab\tkey"])
def test_invalid_idempotency_key_gets_400_with_a_french_message(
    partner_sdis37: Any, key: str
) -> None:
    response = partner_sdis37.client.post(
        "/api/v1/partner/whoami",
        data="{}",
        content_type="application/json",
        headers={"Idempotency-Key": key},
    )
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_idempotency_key"
    assert "Idempotency-Key" in response.json()["message"]


def test_unauthenticated_post_with_a_key_stores_nothing() -> None:
    response = Client().post(
        "/api/v1/partner/whoami",
        data="{}",
        content_type="application/json",
        headers={"Idempotency-Key": "k", "Authorization": "Bearer nope"},
    )
    assert response.status_code in (401, 405)
    assert not IdempotencyRecord.objects.exists()


def test_openapi_documents_the_header_on_every_post_and_only_there(client: Client) -> None:
    schema = client.get("/api/v1/openapi.json").json()
    for operations in schema["paths"].values():
        for method, operation in operations.items():
            names = {p["name"] for p in operation.get("parameters", []) if p["in"] == "header"}
            assert ("Idempotency-Key" in names) == (method == "post")
            if method == "post":
                assert {"400", "409"} <= set(operation["responses"])


# --- Concurrency (PostgreSQL) -----------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_concurrent_request_with_the_same_key_gets_409_on_postgresql(
    live_personas: Any,
) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("SQLite serialises writers (BEGIN IMMEDIATE): the second request waits")
    from orsec.partners.testing import DISPATCH_VERBS, issue_test_token

    partner = issue_test_token(
        live_personas.admin.user, live_personas.organisations["sdis37"], verbs=DISPATCH_VERBS
    )
    entered, release = threading.Event(), threading.Event()
    writer = ContactWriter(live_personas)

    def slow(request: HttpRequest) -> HttpResponse:
        entered.set()
        release.wait(10)
        return writer(request)

    results: list[int] = []

    def first() -> None:
        try:
            results.append(PartnerApiMiddleware(slow)(_post(partner, {"value": "9"})).status_code)
        finally:
            connection.close()

    thread = threading.Thread(target=first)
    thread.start()
    assert entered.wait(10)
    second = PartnerApiMiddleware(writer)(_post(partner, {"value": "9"}))
    release.set()
    thread.join(10)
    assert second.status_code == 409
    assert json.loads(second.content)["code"] == "idempotency_in_progress"
    assert results == [201]
    third = PartnerApiMiddleware(writer)(_post(partner, {"value": "9"}))
    assert third["Idempotent-Replayed"] == "true"
    assert _contacts("9") == 1
