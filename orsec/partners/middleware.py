"""API requests of partner systems and retried POSTs (``config/settings.py`` MIDDLEWARE).

Installed last, after the session and second-factor middleware (``request.user`` and its
``is_verified()`` are known):

* POSTs under ``/api/v1/`` carrying ``Idempotency-Key`` run at most once
  (:mod:`orsec.partners.idempotency`);
* a response to a request carrying a partner token (Bearer) is never stored by a cache
  (``Cache-Control: private, no-store``, as for pages behind the portal login).
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from orsec.partners import idempotency
from orsec.partners.auth import bearer_credential


class PartnerApiMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = idempotency.handle(request, self.get_response)
        if bearer_credential(request) is not None:
            response.headers.setdefault("Cache-Control", "private, no-store")
        return response
