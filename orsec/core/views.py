"""Pages that belong to no business domain: accessibility statement, health, error pages."""

from __future__ import annotations

from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.template import loader
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe


@require_safe
def accessibility(request: HttpRequest) -> HttpResponse:
    return render(request, "core/accessibility.html", {"title": _("Déclaration d'accessibilité")})


@require_safe
@never_cache
def health(request: HttpRequest) -> JsonResponse:
    """Liveness and database readiness for the reverse proxy; reveals nothing else."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return JsonResponse({"status": "ok"})
    except Exception:
        return JsonResponse({"status": "indisponible"}, status=503)


def _error(request: HttpRequest, status: int, title: str, text: str) -> HttpResponse:
    return render(
        request, "core/error.html", {"title": title, "text": text, "status": status}, status=status
    )


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error(request, 400, _("Requête invalide"), _("La requête n'a pas pu être comprise."))


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error(
        request, 403, _("Accès refusé"), _("Vous n'avez pas les droits pour cette action.")
    )


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error(
        request,
        404,
        _("Page introuvable"),
        _("Cette page n'existe pas ou vous n'avez pas les droits pour la consulter."),
    )


def server_error(request: HttpRequest) -> HttpResponse:
    """A self-contained page: no user, session, database or URL reversing that could fail again
    (the error may be the database going away)."""
    try:
        body = loader.get_template("core/500.html").render({})
    except Exception:
        body = "<!DOCTYPE html><title>Erreur du service</title><p>Erreur du service (500).</p>"
    return HttpResponse(body, status=500, content_type="text/html; charset=utf-8")


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    return _error(
        request,
        403,
        _("Formulaire expiré"),
        _(
            "Le formulaire a expiré ou n'a pas été envoyé depuis le portail. "
            "Rechargez la page et recommencez."
        ),
    )
