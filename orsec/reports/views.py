"""Report pages: the phone-sized report form, a report's page, the "à qualifier" queue.

Thin views: parse (form) → access (``events.access`` / ``reports.access``) → action → render.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from orsec.accounts.access import scope_of
from orsec.accounts.models import Membership, User
from orsec.events.access import REPORTING_ROLES, access_event_by_id, get_event_abilities
from orsec.events.models import Event
from orsec.journal.access import access_watch_territory
from orsec.journal.models import Attachment
from orsec.reports.access import (
    access_report_by_id,
    assignable_users,
    get_report_abilities,
    get_watch_abilities,
    may_qualify,
    reports_qualifiable_by,
    reports_visible_to,
)
from orsec.reports.actions import (
    ReportError,
    do_assign_report,
    do_bulk_qualify,
    do_confirm_report,
    do_grade_report,
    do_merge_reports,
    do_refute_report,
    do_start_check,
    do_submit_report,
)
from orsec.reports.forms import BulkForm, QualificationForm, ReportForm, TemplateChoiceForm
from orsec.reports.models import (
    OPEN_STATES,
    FieldReport,
    Priority,
    ReportState,
    ReportTransition,
    Template,
)
from orsec.reports.queries import qualification_queue

QUEUE_PAGE_SIZE = 50


def _organisations(user: Any) -> list[Any]:
    """The organisations the user may report for (memberships with a reporting role)."""
    memberships = (
        Membership.objects.filter(
            user=user,
            is_active=True,
            organisation__is_active=True,
            role__in=sorted(REPORTING_ROLES),
        )
        .select_related("organisation")
        .order_by("pk")
    )
    seen: dict[int, Any] = {}
    for membership in memberships:
        seen.setdefault(membership.organisation_id, membership.organisation)
    return list(seen.values())


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def report_new(request: HttpRequest, event_id: int) -> HttpResponse:
    event = access_event_by_id(request.user, event_id)
    if not get_event_abilities(request.user, event)["submit_report"]:
        raise PermissionDenied
    return _report_form(
        request, event=event, territory=None, form_url=reverse("reports:new", args=[event.pk])
    )


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def watch_report_new(request: HttpRequest, territory_id: int) -> HttpResponse:
    """A report in a territory's watch log, before any event is opened."""
    territory = access_watch_territory(request.user, territory_id)
    if not get_watch_abilities(request.user, territory)["submit_report"]:
        raise PermissionDenied
    return _report_form(
        request,
        event=None,
        territory=territory,
        form_url=reverse("reports:watch_new", args=[territory.pk]),
    )


def _report_form(
    request: HttpRequest, *, event: Any, territory: Any, form_url: str
) -> HttpResponse:
    template = request.POST.get("template") or request.GET.get("modele") or ""
    context: dict[str, Any] = {
        "title": _("Nouvelle remontée"),
        "nav": "reports",
        "event": event,
        "watch_territory": territory,
        "form_url": form_url,
    }
    if template not in Template.values:
        choice = TemplateChoiceForm(request.GET if "modele" in request.GET else None)
        context["choice_form"] = choice
        return render(request, "reports/report_new.html", context)
    organisations = _organisations(request.user)
    if request.method == "POST":
        form = ReportForm(
            request.POST, request.FILES, template=template, organisations=organisations
        )
        if form.is_valid():
            try:
                report = do_submit_report(
                    request.user,
                    event=event,
                    territory=territory,
                    template=template,
                    figures=form.figures(),
                    text=form.cleaned_data["text"],
                    location=form.location(),
                    occurred_at=form.cleaned_data["occurred_at"],
                    channel=form.cleaned_data["channel"],
                    organisation=form.organisation(),
                    photos=form.cleaned_data["photos"],
                    request=request,
                )
            except ReportError as error:
                form.add_error(form.field_for_error(error.field), str(error))
            else:
                messages.success(
                    request,
                    _("Remontée n° %(id)s enregistrée : elle attend sa qualification par le COD.")
                    % {"id": report.pk},
                )
                return HttpResponseRedirect(reverse("reports:detail", args=[report.pk]))
    else:
        form = ReportForm(template=template, organisations=organisations)
    context.update(
        {
            "form": form,
            "template": template,
            "template_label": Template(template).label,
        }
    )
    status = 422 if form.is_bound else 200
    return render(request, "reports/report_form.html", context, status=status)


def _detail_context(request: HttpRequest, report: FieldReport) -> dict[str, Any]:
    abilities = get_report_abilities(request.user, report)
    context: dict[str, Any] = {
        "title": _("Remontée n° %(id)s") % {"id": report.pk},
        "nav": "reports",
        "report": report,
        "abilities": abilities,
        "transitions": ReportTransition.objects.filter(report=report).order_by("at", "id"),
        "photos": (
            list(Attachment.objects.filter(entry_id=report.entry_id)) if report.entry_id else []
        ),
        "duplicates": list(report.duplicates.order_by("pk").values_list("pk", flat=True)),
        "reliabilities": QualificationForm.base_fields["reliability"].choices,  # type: ignore[attr-defined]
        "credibilities": QualificationForm.base_fields["credibility"].choices,  # type: ignore[attr-defined]
        "priorities": QualificationForm.base_fields["priority"].choices,  # type: ignore[attr-defined]
    }
    if abilities["assign"]:
        context["assignees"] = list(assignable_users(report)[:100])
    if abilities["merge"]:
        candidates = reports_visible_to(request.user).filter(
            territory_path=report.territory_path, duplicate_of__isnull=True
        )
        if report.event_id is None:
            candidates = candidates.filter(event__isnull=True)
        else:
            candidates = candidates.filter(event_id=report.event_id)
        context["merge_candidates"] = list(
            candidates.exclude(pk=report.pk)
            .order_by("-pk")
            .only("pk", "template", "author_label", "occurred_at")[:50]
        )
    return context


@require_safe
@login_required
def report_detail(request: HttpRequest, report_id: int) -> HttpResponse:
    report = access_report_by_id(request.user, report_id)
    return render(request, "reports/report_detail.html", _detail_context(request, report))


@require_POST
@login_required
def report_qualify(request: HttpRequest, report_id: int) -> HttpResponse:
    report = access_report_by_id(request.user, report_id)
    if not may_qualify(request.user, report):
        raise PermissionDenied
    form = QualificationForm(request.POST)
    error: ReportError | None = None
    if not form.is_valid():
        errors = "; ".join(str(e) for field_errors in form.errors.values() for e in field_errors)
        error = ReportError(_("Saisie invalide : %(errors)s") % {"errors": errors}, "invalid")
    else:
        data = form.cleaned_data
        common: dict[str, Any] = {
            "expected_revision": data["expected_revision"],
            "request": request,
        }
        grading: dict[str, Any] = {
            "reliability": data["reliability"] or None,
            "credibility": data["credibility"],
            "priority": data["priority"] or None,
        }
        try:
            action = data["action"]
            if action == "start_check":
                do_start_check(request.user, report, **common)
            elif action == "confirm":
                do_confirm_report(request.user, report, **grading, **common)
            elif action == "grade":
                do_grade_report(request.user, report, **grading, **common)
            elif action == "refute":
                do_refute_report(request.user, report, data["reason"], **common)
            elif action == "assign":
                assignee = None
                if data["assignee"]:
                    assignee = User.objects.filter(pk=data["assignee"]).first()
                    if assignee is None:
                        raise ReportError(_("Personne inconnue."), "invalid_assignee")
                do_assign_report(request.user, report, assignee, **common)
            else:
                if not data["duplicate_of"]:
                    raise ReportError(_("Choisissez la remontée originale."), "invalid_merge")
                try:
                    into = access_report_by_id(request.user, data["duplicate_of"])
                except Http404:
                    raise ReportError(
                        _("Remontée originale introuvable."), "invalid_merge"
                    ) from None
                do_merge_reports(request.user, report, into, reason=data["reason"], **common)
        except ReportError as raised:
            error = raised
    if error is None:
        messages.success(request, _("Qualification enregistrée."))
        return HttpResponseRedirect(reverse("reports:detail", args=[report.pk]))
    report = access_report_by_id(request.user, report_id)  # fresh state for the page
    context = _detail_context(request, report)
    context["error"] = str(error)
    return render(
        request,
        "reports/report_detail.html",
        context,
        status=409 if error.code == "conflict" else 422,
    )


# --- Queue ----------------------------------------------------------------------------------


def _queue_filters(request: HttpRequest) -> dict[str, str]:
    """The queue's filters from the query string; unknown values are dropped."""
    params = request.GET if request.method != "POST" else request.POST
    filters: dict[str, str] = {}
    state = params.get("etat", "")
    if state in OPEN_STATES:
        filters["etat"] = state
    priority = params.get("priorite", "")
    if priority in (*Priority.values, "none"):
        filters["priorite"] = priority
    template = params.get("modele", "")
    if template in Template.values:
        filters["modele"] = template
    assigned = params.get("attribution", "")
    if assigned in ("me", "none"):
        filters["attribution"] = assigned
    event = params.get("evenement", "")
    if event.isdigit() and len(event) < 16:
        filters["evenement"] = event
    return filters


@require_safe
@login_required
def queue(request: HttpRequest) -> HttpResponse:
    filters = _queue_filters(request)
    queryset = qualification_queue(
        request.user,
        state=filters.get("etat"),
        event=int(filters["evenement"]) if "evenement" in filters else None,
        priority=filters.get("priorite"),
        template=filters.get("modele"),
        assigned=filters.get("attribution"),
    )
    page = Paginator(queryset, QUEUE_PAGE_SIZE).get_page(request.GET.get("page"))
    events = (
        Event.objects.filter(
            pk__in=reports_qualifiable_by(request.user)
            .filter(state__in=list(OPEN_STATES))
            .values("event_id")
        )
        .only("pk", "title", "mode")
        .order_by("-opened_at")[:50]
    )
    scope = scope_of(request.user)
    context = {
        "title": _("Remontées à qualifier"),
        "nav": "reports",
        "page": page,
        "filters": filters,
        "query": urlencode(filters),
        "events": events,
        "states": [(s.value, s.label) for s in OPEN_STATES],
        "priorities": [*Priority.choices, ("none", _("Non cotée"))],
        "templates": Template.choices,
        "bulk_form": BulkForm(),
        "may_qualify": not scope.is_read_only and bool(scope.roles),
        "ReportState": ReportState,
    }
    return render(request, "reports/queue.html", context)


@require_POST
@login_required
def queue_bulk(request: HttpRequest) -> HttpResponse:
    filters = _queue_filters(request)
    target = reverse("reports:queue") + (f"?{urlencode(filters)}" if filters else "")
    form = BulkForm(request.POST)
    if not form.is_valid():
        if "ids" in form.errors:
            messages.error(request, _("Cochez au moins une remontée (100 au plus)."))
        else:
            messages.error(request, _("Action groupée invalide."))
        return HttpResponseRedirect(target)
    data = form.cleaned_data
    reports: list[FieldReport] = []
    refused: list[int] = []
    for report_id in dict.fromkeys(data["ids"]):
        try:
            report = access_report_by_id(request.user, report_id)
        except Http404:
            refused.append(report_id)
            continue
        if not may_qualify(request.user, report):
            refused.append(report_id)
            continue
        reports.append(report)
    if not reports and refused and len(refused) == len(data["ids"]):
        raise PermissionDenied
    try:
        outcomes = do_bulk_qualify(
            request.user,
            reports,
            data["action"],
            reliability=data["reliability"] or None,
            credibility=data["credibility"],
            priority=data["priority"] or None,
            reason=data["reason"],
            request=request,
        )
    except ReportError as error:
        messages.error(request, str(error))
        return HttpResponseRedirect(target)
    done = [o for o in outcomes if o.ok]
    if done:
        messages.success(
            request,
            _("%(n)s remontée(s) traitée(s) : n° %(ids)s.")
            % {"n": len(done), "ids": ", ".join(str(o.report_id) for o in done)},
        )
    for outcome in outcomes:
        if not outcome.ok:
            messages.error(request, outcome.message)
    for report_id in refused:
        messages.error(
            request,
            _("Remontée n° %(id)s : introuvable ou hors de votre périmètre de qualification.")
            % {"id": report_id},
        )
    return HttpResponseRedirect(target)
