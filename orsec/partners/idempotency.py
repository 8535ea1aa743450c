"""``Idempotency-Key`` on the POSTs of ``/api/v1/``: a retried request never runs twice.

Used by :class:`orsec.partners.middleware.PartnerApiMiddleware` (ADR 0004, ``docs/api.md``):

* the key (1 to 200 visible ASCII characters, else 400 ``invalid_idempotency_key``) is scoped to
  the caller: the partner token, or the portal user;
* the request runs inside ``transaction.atomic()`` and its outcome (status, body, content type,
  ``Location``) is stored with a fingerprint of (method, path and query, content type, body)
  **in the same transaction** as its writes: committed together or not at all;
* a retry with the same fingerprint gets the stored response and ``Idempotent-Replayed: true``,
  nothing runs; another fingerprint under the same key gets 422 ``idempotency_key_reused``;
* while the first request is in flight, a second one waits (SQLite: one writer at a time) or
  gets 409 ``idempotency_in_progress`` (PostgreSQL: a transaction-scoped advisory lock taken
  with ``pg_try_advisory_xact_lock``);
* stored: successes (2xx) and refusals of the request itself (400, 413, 415, 422); not stored:
  refusals that depend on the credential or on the state of things (401, 403, 404, 409, 429…),
  so a retry may succeed later, and server errors (5xx), whose writes are rolled back;
* records are kept :data:`RETENTION` (24 h), dropped lazily on reuse of a key and in bulk by
  ``manage.py purge_idempotency_records``.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db import connection, transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja.utils import check_csrf

from orsec.core.api import ApiError
from orsec.partners.auth import token_of_request
from orsec.partners.models import IdempotencyRecord

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
API_PREFIX = "/api/v1/"
MAX_KEY_LENGTH = 200
RETENTION = timedelta(hours=24)
_KEY_RE = re.compile(r"^[\x21-\x7e]{1,200}$")  # MAX_KEY_LENGTH
#: Statuses whose response is stored and replayed (see the module docstring).
STORED_CLIENT_ERRORS = frozenset({400, 413, 415, 422})


def error_response(status: int, code: str, message: str) -> HttpResponse:
    return JsonResponse({"code": code, "message": message}, status=status)


def is_valid_key(value: str) -> bool:
    return bool(_KEY_RE.match(value))


def is_stored(status: int) -> bool:
    return 200 <= status < 300 or status in STORED_CLIENT_ERRORS


def principal_key(request: HttpRequest) -> str | None:
    """Who the key belongs to, as the API's authenticators would decide; ``None``: not known.

    The checks the API makes before running an operation are made here too (verified second
    factor and CSRF for a session, a valid token), so that a replay is never served to a request
    the API would refuse. A request we cannot attribute runs normally, and is refused there.
    """
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        is_verified = getattr(user, "is_verified", None)
        if not (callable(is_verified) and is_verified()) or check_csrf(request) is not None:
            return None
        return f"user:{user.pk}"
    try:
        token = token_of_request(request)
    except ApiError:
        return None
    return f"token:{token.pk}" if token is not None else None


def fingerprint(request: HttpRequest) -> str:
    """sha256 of (method, path and query, content type, body).

    A multipart body larger than ``DATA_UPLOAD_MAX_MEMORY_SIZE`` (an attachment) is hashed
    from its parsed fields and files, read in chunks, instead of held in memory.
    """
    digest = hashlib.sha256()
    content_type = request.META.get("CONTENT_TYPE", "")
    for part in (request.method or "", request.get_full_path(), content_type):
        digest.update(part.encode("utf-8", "surrogateescape") + b"\n")
    length = int(request.META.get("CONTENT_LENGTH") or 0)
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    if content_type.startswith("multipart/form-data") and limit is not None and length > limit:
        for name, values in sorted(request.POST.lists()):
            digest.update(f"field:{name}={values!r}\n".encode())
        for name, files in sorted(request.FILES.lists()):
            for upload in files:
                digest.update(f"file:{name}:{upload.name}:{upload.size}\n".encode())
                for chunk in upload.chunks():
                    digest.update(chunk)
                upload.seek(0)
    else:
        digest.update(request.body)  # RequestDataTooBig above the limit: 413
    return digest.hexdigest()


def _advisory_lock_id(principal: str, key: str) -> int:
    raw = hashlib.sha256(f"orsec.idempotency:{principal}:{key}".encode()).digest()[:8]
    return int.from_bytes(raw, "big", signed=True)


def _claim(principal: str, key: str) -> bool:
    """PostgreSQL: take the key's advisory lock for this transaction, without waiting.

    SQLite needs nothing: a write transaction starts with ``BEGIN IMMEDIATE``, so a concurrent
    request with the same key waits for the first to commit, then finds its record.
    """
    if connection.vendor != "postgresql":
        return True
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [_advisory_lock_id(principal, key)])
        row = cursor.fetchone()
    return bool(row and row[0])


def replay(record: IdempotencyRecord) -> HttpResponse:
    response = HttpResponse(
        bytes(record.body), status=record.status_code, content_type=record.content_type
    )
    if record.location:
        response["Location"] = record.location
    response[REPLAYED_HEADER] = "true"
    return response


def run_idempotent(
    request: HttpRequest,
    key: str,
    principal: str,
    get_response: Callable[[HttpRequest], HttpResponse],
    *,
    now: datetime | None = None,
) -> HttpResponse:
    """Run ``get_response`` once per (principal, key) — see the module docstring."""
    try:
        request_hash = fingerprint(request)
    except RequestDataTooBig:
        return error_response(
            413, "payload_too_large", _("La requête est trop volumineuse pour être traitée.")
        )
    now = now or timezone.now()
    with transaction.atomic():
        if not _claim(principal, key):
            return error_response(
                409,
                "idempotency_in_progress",
                _("Une requête avec la même clé d'idempotence est en cours : réessayez."),
            )
        record = IdempotencyRecord.objects.filter(principal=principal, key=key).first()
        if record is not None and record.created_at <= now - RETENTION:
            record.delete()  # expired: the key is free again
            record = None
        if record is not None:
            if record.request_hash != request_hash:
                return error_response(
                    422,
                    "idempotency_key_reused",
                    _(
                        "Cette clé d'idempotence a déjà servi pour une autre requête : "
                        "utilisez une nouvelle clé."
                    ),
                )
            return replay(record)
        response = get_response(request)
        status = response.status_code
        if status >= 500:
            transaction.set_rollback(True)  # a server error leaves nothing half-written
            return response
        if is_stored(status) and not response.streaming:
            IdempotencyRecord.objects.create(
                principal=principal,
                key=key,
                request_hash=request_hash,
                status_code=status,
                content_type=response.get("Content-Type", "application/json")[:100],
                location=response.get("Location", "")[:500],
                body=response.content,
                created_at=now,
            )
        return response


def purge_expired(now: datetime) -> int:
    deleted, _by_model = IdempotencyRecord.objects.filter(created_at__lte=now - RETENTION).delete()
    return deleted


def handle(request: HttpRequest, get_response: Callable[[HttpRequest], Any]) -> HttpResponse:
    """Entry point of the middleware for every request."""
    if request.method != "POST" or not request.path.startswith(API_PREFIX):
        return get_response(request)
    key = request.headers.get(HEADER)
    if key is None:
        return get_response(request)
    if not is_valid_key(key):
        return error_response(
            400,
            "invalid_idempotency_key",
            _("L'en-tête Idempotency-Key doit compter de 1 à %(max)d caractères ASCII visibles.")
            % {"max": MAX_KEY_LENGTH},
        )
    principal = principal_key(request)
    if principal is None:
        return get_response(request)
    return run_idempotent(request, key, principal, get_response)
