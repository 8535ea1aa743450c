"""Partner pages: tokens for administrators, and « Envoyer en EMSI » on an event. Thin views —
parse, access, act, render.

Only verified staff reach them; each sees the tokens of the organisations they administer
(:func:`orsec.partners.access.tokens_administered_by`), any other token answers 404.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_safe

from orsec.core.api import VERBS
from orsec.directory.access import organisations_administered_by
from orsec.events.access import access_event_by_id, get_event_abilities
from orsec.partners.access import access_token_by_id, get_token_abilities, tokens_administered_by
from orsec.partners.actions import (
    OutboundError,
    do_issue_token,
    do_revoke_token,
    do_send_event_emsi,
    emsi_recipients,
)
from orsec.partners.forms import IssueTokenForm


def _require_administrator(request: HttpRequest) -> None:
    user: Any = request.user
    if not (user.is_staff and user.is_verified()):
        raise Http404


@require_safe
@login_required
def token_list(request: HttpRequest) -> HttpResponse:
    _require_administrator(request)
    now = timezone.now()
    tokens = list(tokens_administered_by(request.user).order_by("-created_at", "-pk")[:500])
    rows = [(token, token.status(now)) for token in tokens]
    context = {"title": _("Systèmes partenaires (API)"), "nav": "partners", "rows": rows}
    return render(request, "partners/token_list.html", context)


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def token_create(request: HttpRequest) -> HttpResponse:
    _require_administrator(request)
    organisations = organisations_administered_by(request.user)
    form = IssueTokenForm(request.POST or None, organisations=organisations)
    if request.method == "POST" and form.is_valid():
        try:
            token, plaintext = do_issue_token(
                request.user,
                organisation=form.cleaned_data["organisation"],
                territory=form.cleaned_data["territory"],
                verbs=form.cleaned_data["verbs"],
                name=form.cleaned_data["name"],
                expires_at=form.expires_at(),
                request=request,
            )
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            # Shown once, in this response only: never stored, never in a redirect or a message.
            context = {
                "title": _("Jeton créé"),
                "nav": "partners",
                "token": token,
                "plaintext": plaintext,
                "verbs": VERBS,
            }
            response = render(request, "partners/token_created.html", context)
            response["Cache-Control"] = "no-store"
            return response
    context = {"title": _("Nouveau jeton d'API"), "nav": "partners", "form": form}
    return render(request, "partners/token_form.html", context, status=400 if form.errors else 200)


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def token_revoke(request: HttpRequest, token_id: int) -> HttpResponse:
    _require_administrator(request)
    token = access_token_by_id(request.user, token_id)
    abilities = get_token_abilities(request.user, token, now=timezone.now())
    if request.method == "POST":
        if abilities["revoke"]:
            do_revoke_token(request.user, token, request=request)
        messages.success(request, _("Le jeton « %(name)s » est révoqué.") % {"name": token.name})
        return redirect("partners:list")
    context = {
        "title": _("Révoquer un jeton"),
        "nav": "partners",
        "token": token,
        "abilities": abilities,
    }
    return render(request, "partners/token_revoke.html", context)


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def event_emsi(request: HttpRequest, event_id: int) -> HttpResponse:
    """« Envoyer en EMSI »: the recipients, then the sending (``disseminate`` ability)."""
    event = access_event_by_id(request.user, event_id)
    abilities = get_event_abilities(request.user, event)
    if not abilities["disseminate"]:
        raise PermissionDenied
    status = 200
    error = ""
    if request.method == "POST":
        try:
            queued = do_send_event_emsi(request.user, event, request=request)
        except OutboundError as exc:
            error, status = str(exc), 409
        else:
            messages.success(
                request,
                ngettext(
                    "Situation EMSI mise en file pour %(n)s système partenaire.",
                    "Situation EMSI mise en file pour %(n)s systèmes partenaires.",
                    len(queued),
                )
                % {"n": len(queued)},
            )
            return redirect("dashboards:event", event.pk)
    context = {
        "title": _("Envoyer en EMSI"),
        "event": event,
        "abilities": abilities,
        "recipients": emsi_recipients(event),
        "error": error,
    }
    return render(request, "partners/event_emsi.html", context, status=status)
