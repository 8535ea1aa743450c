"""The HTTP API of the portal (django-ninja), mounted at ``/api/v1/`` by ``config/urls.py``.

* Documentation: ``/api/v1/docs``; OpenAPI document: ``/api/v1/openapi.json``.
* Authentication: :data:`API_AUTH`, tried in order; the first that returns a principal wins: the
  portal session of a user whose second factor is verified (django-otp), with CSRF on unsafe
  methods, then a partner token (``Authorization: Bearer orsec_…``,
  :class:`orsec.partners.auth.PartnerTokenAuth`). Each authenticator returns ``None`` when its
  credential is absent, so the next one gets its turn.
* ``Idempotency-Key`` on every POST (``orsec.partners.idempotency``), documented on each POST
  operation of the OpenAPI document.
* Errors: always ``{"code": "<stable code>", "message": "<French text>"}`` (plus ``errors`` for
  422), whatever raised them; the codes are listed in :data:`ERROR_CODES` and documented on every
  operation of the OpenAPI document.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.openapi.schema import OpenAPISchema
from ninja.security import APIKeyCookie
from ninja.utils import check_csrf

from orsec.core.api import ApiError
from orsec.directory.api import router as directory_router
from orsec.dissemination.api import router as dissemination_router
from orsec.events.api import router as events_router
from orsec.interop.api import router as interop_router
from orsec.maps.api import router as maps_router
from orsec.oncall.api import router as oncall_router
from orsec.partners.api import router as partners_router
from orsec.partners.auth import PartnerTokenAuth
from orsec.partners.idempotency import HEADER as IDEMPOTENCY_HEADER
from orsec.partners.idempotency import MAX_KEY_LENGTH as IDEMPOTENCY_KEY_MAX_LENGTH
from orsec.plans.api import router as plans_router
from orsec.reports.api import router as reports_router
from orsec.sitreps.api import router as sitreps_router

logger = logging.getLogger("orsec.api")


# --- Errors -------------------------------------------------------------------------------------


class ErrorOut(Schema):
    code: str
    message: str
    errors: list[dict[str, Any]] | None = None


ERROR_CODES: dict[int, str] = {
    400: "bad_request",
    401: "not_authenticated",
    403: "permission_denied",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    422: "validation_error",
    429: "throttled",
    500: "server_error",
}


def _default_message(status: int) -> str:
    messages = {
        400: _("La requête est invalide."),
        401: _("Authentification requise : connectez-vous au portail."),
        403: _("Vous n'avez pas les droits pour cette action."),
        404: _("Cette ressource n'existe pas ou vous n'avez pas les droits pour la consulter."),
        405: _("Cette méthode n'est pas permise sur cette ressource."),
        409: _("La requête est en conflit avec l'état de la ressource."),
        413: _("La requête est trop volumineuse pour être traitée."),
        422: _("Les paramètres de la requête sont invalides."),
        429: _("Trop de requêtes : réessayez dans quelques instants."),
        500: _("Une erreur est survenue. L'équipe technique a été prévenue."),
    }
    return messages.get(status, _("La requête n'a pas pu aboutir."))


def second_factor_required() -> ApiError:
    return ApiError(
        403,
        "second_factor_required",
        _("Validez votre second facteur d'authentification sur le portail pour utiliser l'API."),
    )


def csrf_failed() -> ApiError:
    return ApiError(
        403, "csrf_failed", _("Jeton CSRF absent ou invalide : rechargez la page du portail.")
    )


# --- Authentication -------------------------------------------------------------------------


class VerifiedSessionAuth(APIKeyCookie):
    """The portal session of an active user whose second factor is verified.

    No session cookie → ``None`` (the next authenticator, or 401); a session without a verified
    second factor → 403 ``second_factor_required``; an unsafe method without a valid CSRF token
    → 403 ``csrf_failed``.
    """

    param_name = settings.SESSION_COOKIE_NAME

    def __init__(self) -> None:
        super().__init__(csrf=True)

    def _get_key(self, request: HttpRequest) -> str | None:
        key = request.COOKIES.get(settings.SESSION_COOKIE_NAME)
        if not key:
            return None  # no ambient credential: nothing for CSRF to protect
        exempt = getattr(request, "_ninja_csrf_exempt", False)
        if self.csrf and not exempt and check_csrf(request) is not None:
            raise csrf_failed()
        return key

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        if key is None:
            return None
        user = request.user
        if not user.is_authenticated or not user.is_active:
            return None  # expired or ended session: 401
        is_verified = getattr(user, "is_verified", None)  # set by django_otp's middleware
        if is_verified is None or not is_verified():
            raise second_factor_required()
        return user


#: Authenticators tried in order: the portal session, then a partner token (scoped, stored hashed).
API_AUTH: list[Callable[[HttpRequest], Any]] = [VerifiedSessionAuth(), PartnerTokenAuth()]


# --- The API --------------------------------------------------------------------------------


_REF_TEMPLATE = "#/components/schemas/{model}"
IDEMPOTENCY_PARAMETER: dict[str, Any] = {
    "name": IDEMPOTENCY_HEADER,
    "in": "header",
    "required": False,
    "description": (
        "Clé choisie par le client (par exemple un UUID) : une requête rejouée avec la même clé "
        "et le même corps renvoie la réponse enregistrée (en-tête `Idempotent-Replayed: true`) "
        "sans être exécutée deux fois. Conservée 24 h."
    ),
    "schema": {
        "type": "string",
        "minLength": 1,
        "maxLength": IDEMPOTENCY_KEY_MAX_LENGTH,
        "pattern": "^[\\x21-\\x7e]+$",
    },
}
_ERROR_REF = "#/components/schemas/Error"


class OrsecAPI(NinjaAPI):
    """NinjaAPI whose OpenAPI document declares the error envelope on every operation."""

    def get_openapi_schema(
        self, *, path_prefix: str | None = None, path_params: dict[str, Any] | None = None
    ) -> OpenAPISchema:
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        components["Error"] = ErrorOut.model_json_schema(ref_template=_REF_TEMPLATE)
        error_ref = {"content": {"application/json": {"schema": {"$ref": _ERROR_REF}}}}
        for path, operations in schema.get("paths", {}).items():
            for method, operation in operations.items():
                responses = operation.setdefault("responses", {})
                codes = [401, 403, 422, 429, 500]
                if "{" in path:
                    codes.append(404)
                if "requestBody" in operation or method.lower() == "post":
                    codes += [400, 413]  # malformed or oversized body; invalid Idempotency-Key
                elif any(p.get("name") == "cursor" for p in operation.get("parameters", [])):
                    codes.append(400)  # a forged pagination cursor
                if method.lower() == "post":
                    codes.append(409)  # a request with the same Idempotency-Key in progress
                    operation.setdefault("parameters", []).append(IDEMPOTENCY_PARAMETER)
                for status in codes:
                    responses.setdefault(
                        str(status), {"description": ERROR_CODES[status], **error_ref}
                    )
        return schema


api = OrsecAPI(
    title="Portail ORSEC API",
    version="1",
    description=(
        "API du Portail ORSEC. Authentification : session du portail avec second facteur "
        "vérifié (jeton CSRF pour les méthodes d'écriture), ou jeton de système partenaire "
        "(`Authorization: Bearer orsec_…`) limité à une organisation, un territoire et des "
        "droits. En-tête `Idempotency-Key` accepté sur chaque POST. Erreurs : "
        '`{"code": "…", "message": "…"}`. Documentation : docs/api.md.'
    ),
    urls_namespace="api",
    docs_url="/docs",
    openapi_url="/openapi.json",
    auth=API_AUTH,
)


def _error(
    request: HttpRequest,
    status: int,
    code: str | None = None,
    message: str | None = None,
    errors: list[dict[str, Any]] | None = None,
) -> HttpResponse:
    payload: dict[str, Any] = {
        "code": code or ERROR_CODES.get(status, "error"),
        "message": message or _default_message(status),
    }
    if errors is not None:
        payload["errors"] = errors
    return api.create_response(request, payload, status=status)


# ninja types a handler's exception as ``E | type[E]``: the handlers take ``Any``.


def _on_http_error(request: HttpRequest, exc: Any) -> HttpResponse:
    if isinstance(exc, ApiError):
        response = _error(request, exc.status_code, exc.code, exc.message)
        for name, value in exc.headers.items():
            response[name] = value
        return response
    return _error(request, exc.status_code)  # ninja's English messages are not shown


def _on_authentication_error(request: HttpRequest, exc: Any) -> HttpResponse:
    response = _error(request, 401)
    response["WWW-Authenticate"] = 'Bearer realm="Portail ORSEC", Cookie realm="Portail ORSEC"'
    return response


def _on_validation_error(request: HttpRequest, exc: Any) -> HttpResponse:
    errors = [
        {"loc": list(error.get("loc", ())), "type": error.get("type", ""), "msg": error.get("msg")}
        for error in exc.errors
    ]
    return _error(request, 422, errors=errors)


def _on_not_found(request: HttpRequest, exc: Any) -> HttpResponse:
    return _error(request, 404)  # same body for "absent" and "forbidden"


def _on_permission_denied(request: HttpRequest, exc: Any) -> HttpResponse:
    return _error(request, 403)


def _on_too_big(request: HttpRequest, exc: Any) -> HttpResponse:
    return _error(request, 413)  # body above DATA_UPLOAD_MAX_MEMORY_SIZE: nothing was read


def _on_unexpected(request: HttpRequest, exc: Any) -> HttpResponse:
    logger.exception("api_unexpected_error", extra={"path": request.path[:200]})
    return _error(request, 500)


api.add_exception_handler(Exception, _on_unexpected)
api.add_exception_handler(HttpError, _on_http_error)
api.add_exception_handler(AuthenticationError, _on_authentication_error)
api.add_exception_handler(ValidationError, _on_validation_error)
api.add_exception_handler(Http404, _on_not_found)
api.add_exception_handler(PermissionDenied, _on_permission_denied)
api.add_exception_handler(RequestDataTooBig, _on_too_big)

api.add_router("/", directory_router)
api.add_router("/", events_router)
api.add_router("/", reports_router)
api.add_router("/", dissemination_router)
api.add_router("/", partners_router)
api.add_router("/", interop_router)
api.add_router("/", oncall_router)
api.add_router("/", plans_router)
api.add_router("/", sitreps_router)
api.add_router("/", maps_router)
