"""SITREP pages: thin views — parse, access, act, render. No state change on GET (S12)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from orsec.events.access import access_event_by_id
from orsec.journal.files import AttachmentError, storage_path
from orsec.sitreps.access import (
    access_sitrep_by_id,
    access_zone_by_id,
    get_event_sitrep_abilities,
    get_sitrep_abilities,
    get_zone_abilities,
    recent_sitreps_for,
    sitreps_of_event_for,
    zone_departement_sitreps_for,
    zone_syntheses_for,
    zones_of,
)
from orsec.sitreps.actions import (
    SitrepError,
    do_approve_sitrep,
    do_compile_sitrep,
    do_compile_zone_synthesis,
    do_edit_sitrep,
)
from orsec.sitreps.forms import ApproveForm, SitrepEditForm
from orsec.sitreps.models import Sitrep


def _edit_form(sitrep: Sitrep) -> SitrepEditForm:
    initial: dict[str, Any] = {name: text for name, _title, text in sitrep.sections()}
    initial["expected_revision"] = sitrep.revision
    if sitrep.next_point_at:
        initial["next_point_at"] = timezone.localtime(sitrep.next_point_at)
    return SitrepEditForm(initial=initial)


def _detail(
    request: HttpRequest,
    sitrep: Sitrep,
    *,
    form: SitrepEditForm | None = None,
    error: str = "",
    status: int = 200,
) -> HttpResponse:
    abilities = get_sitrep_abilities(request.user, sitrep)
    context = {
        "title": _("Point de situation n° %(n)s — %(title)s")
        % {"n": sitrep.number, "title": sitrep.title},
        "nav": "events",
        "sitrep": sitrep,
        "abilities": abilities,
        "form": form or (_edit_form(sitrep) if abilities["edit"] else None),
        "error": error,
        "transitions": sitrep.transitions.select_related("actor"),
    }
    return render(request, "sitreps/detail.html", context, status=status)


@require_safe
@login_required
def event_sitreps(request: HttpRequest, event_id: int) -> HttpResponse:
    event = access_event_by_id(request.user, event_id)
    return _event_list(request, event)


def _event_list(
    request: HttpRequest, event: Any, error: str = "", status: int = 200
) -> HttpResponse:
    context = {
        "title": _("Points de situation — %(event)s") % {"event": event.title},
        "nav": "events",
        "event": event,
        "sitreps": sitreps_of_event_for(request.user, event),
        "event_abilities": get_event_sitrep_abilities(request.user, event),
        "error": error,
    }
    return render(request, "sitreps/event_list.html", context, status=status)


@require_POST
@login_required
def compile_sitrep(request: HttpRequest, event_id: int) -> HttpResponse:
    event = access_event_by_id(request.user, event_id)
    if not get_event_sitrep_abilities(request.user, event)["compile"]:
        raise PermissionDenied
    try:
        sitrep = do_compile_sitrep(request.user, event, request=request)
    except SitrepError as error:
        return _event_list(request, event, str(error), error.status)
    messages.success(
        request, _("Projet de point de situation n° %(n)s compilé.") % {"n": sitrep.number}
    )
    return HttpResponseRedirect(reverse("sitreps:detail", args=[sitrep.pk]))


@require_safe
@login_required
def sitrep_detail(request: HttpRequest, sitrep_id: int) -> HttpResponse:
    return _detail(request, access_sitrep_by_id(request.user, sitrep_id))


@require_POST
@login_required
def sitrep_edit(request: HttpRequest, sitrep_id: int) -> HttpResponse:
    sitrep = access_sitrep_by_id(request.user, sitrep_id)
    if not get_sitrep_abilities(request.user, sitrep)["edit"]:
        if sitrep.is_frozen or sitrep.approved_at:
            error = _(
                "Le point de situation n° %(n)s est approuvé et figé : "
                "il ne peut plus être modifié."
            ) % {"n": sitrep.number}
            return _detail(request, sitrep, error=error, status=409)
        raise PermissionDenied
    form = SitrepEditForm(request.POST)
    if not form.is_valid():
        return _detail(request, sitrep, form=form, status=400)
    try:
        do_edit_sitrep(
            request.user,
            sitrep,
            expected_revision=form.cleaned_data["expected_revision"],
            sections=form.section_values(),
            next_point_at=form.cleaned_data["next_point_at"],
            request=request,
        )
    except SitrepError as error:
        if error.field and error.field in form.fields:
            form.add_error(error.field, str(error))
        else:
            form.add_error(None, str(error))
        sitrep.refresh_from_db()
        return _detail(request, sitrep, form=form, status=error.status)
    messages.success(request, _("Projet enregistré."))
    return HttpResponseRedirect(reverse("sitreps:detail", args=[sitrep.pk]))


@require_POST
@login_required
def sitrep_approve(request: HttpRequest, sitrep_id: int) -> HttpResponse:
    sitrep = access_sitrep_by_id(request.user, sitrep_id)
    abilities = get_sitrep_abilities(request.user, sitrep)
    form = ApproveForm(request.POST)
    if not abilities["approve"] and sitrep.approved_at is None:
        raise PermissionDenied  # an approved one gets the clear 409 of the action below
    if not form.is_valid():
        return _detail(
            request, sitrep, error=_("Formulaire invalide : rechargez la page."), status=400
        )
    try:
        do_approve_sitrep(
            request.user,
            sitrep,
            expected_revision=form.cleaned_data.get("expected_revision"),
            request=request,
        )
    except SitrepError as error:
        sitrep.refresh_from_db()
        return _detail(request, sitrep, error=str(error), status=error.status)
    messages.success(
        request,
        _("Point de situation n° %(n)s approuvé, figé et transmis.") % {"n": sitrep.number},
    )
    return HttpResponseRedirect(reverse("sitreps:detail", args=[sitrep.pk]))


def serve_pdf(sitrep: Sitrep) -> FileResponse:
    attachment = sitrep.pdf
    if attachment is None:
        raise Http404
    try:
        handle = storage_path(attachment.storage_name).open("rb")
    except (OSError, AttachmentError):
        raise Http404 from None
    response = FileResponse(
        handle, as_attachment=True, filename=attachment.filename, content_type="application/pdf"
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "sandbox"
    response["Cache-Control"] = "private, no-store"
    return response


@require_safe
@login_required
def sitrep_pdf(request: HttpRequest, sitrep_id: int) -> FileResponse:
    sitrep = access_sitrep_by_id(request.user, sitrep_id)
    if not get_sitrep_abilities(request.user, sitrep)["download"]:
        raise Http404  # a draft has no document
    return serve_pdf(sitrep)


@require_safe
@login_required
def zone_index(request: HttpRequest) -> HttpResponse:
    """The "Points de situation" entry of the menu: a zone's officer lands on the zone's
    overview; anyone else sees the latest SITREPs of the events they see."""
    zones = zones_of(request.user)
    if zones:
        return HttpResponseRedirect(reverse("sitreps:zone", args=[zones[0].pk]))
    context = {
        "title": _("Points de situation"),
        "nav": "sitreps",
        "sitreps": recent_sitreps_for(request.user),
    }
    return render(request, "sitreps/index.html", context)


def _zone_page(request: HttpRequest, zone: Any, error: str = "", status: int = 200) -> HttpResponse:
    context = {
        "title": _("Points de situation de la zone %(zone)s") % {"zone": zone.name},
        "nav": "sitreps",
        "zone": zone,
        "zones": zones_of(request.user),
        "sitreps": zone_departement_sitreps_for(request.user, zone),
        "syntheses": zone_syntheses_for(request.user, zone),
        "abilities": get_zone_abilities(request.user, zone),
        "error": error,
    }
    return render(request, "sitreps/zone.html", context, status=status)


@require_safe
@login_required
def zone_overview(request: HttpRequest, zone_id: int) -> HttpResponse:
    return _zone_page(request, access_zone_by_id(request.user, zone_id))


@require_POST
@login_required
def zone_compile(request: HttpRequest, zone_id: int) -> HttpResponse:
    zone = access_zone_by_id(request.user, zone_id)
    if not get_zone_abilities(request.user, zone)["compile"]:
        raise PermissionDenied
    try:
        sitrep = do_compile_zone_synthesis(request.user, zone, request=request)
    except SitrepError as error:
        return _zone_page(request, zone, str(error), error.status)
    messages.success(
        request, _("Projet de synthèse zonale n° %(n)s compilé.") % {"n": sitrep.number}
    )
    return HttpResponseRedirect(reverse("sitreps:detail", args=[sitrep.pk]))
