"""API requests of partner systems and retried POSTs (``config/settings.py`` MIDDLEWARE).

Installed last, after the session and second-factor middleware (``request.user`` and its
``is_verified()`` are known):

* POSTs under ``/api/v1/`` carrying ``Idempotency-Key`` run at most once
  (:mod:`orsec.partners.idempotency`);
* a response to a request carrying a partner token (Bearer) is never stored by a cache
  (``Cache-Control: private, no-store``, as for pages behind the portal login);
* an error under ``/api/v1/`` that did not come from an operation (no route: Django's HTML 404
  page; a method the route lacks: ninja's plain-text 405) gets the API's JSON error shape
  ``{"code", "message"}`` like every other API error.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _

from orsec.partners import idempotency
from orsec.partners.auth import bearer_credential


class PartnerApiMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = idempotency.handle(request, self.get_response)
        if request.path.startswith(idempotency.API_PREFIX):
            response = _json_error_shape(response)
        if bearer_credential(request) is not None:
            response.headers.setdefault("Cache-Control", "private, no-store")
        return response


def _json_error_shape(response: HttpResponse) -> HttpResponse:
    status = response.status_code
    if status not in (404, 405) or response.get("Content-Type", "").startswith("application/json"):
        return response
    if status == 404:
        code, message = (
            "not_found",
            _("Cette ressource n'existe pas ou vous n'avez pas les droits pour la consulter."),
        )
    else:
        code, message = (
            "method_not_allowed",
            _("Cette méthode n'est pas permise sur cette ressource."),
        )
    replaced = idempotency.error_response(status, code, message)
    if "Allow" in response:
        replaced["Allow"] = response["Allow"]
    return replaced
