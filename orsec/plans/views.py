"""Plan pages: list, detail, versions (review, approval, edition of a draft), diff, import and
export, and the event-bound pages (activation, checklist per actor).

Thin views: parse → ``access`` (404 for another territory) → ability (403) → action
(:class:`PlanError` → a French message on the page) → redirect or render.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from orsec.events.access import access_event_by_id, get_event_abilities
from orsec.plans.access import (
    access_activation_by_id,
    access_document_by_id,
    access_item_by_id,
    access_plan_by_id,
    access_version_by_id,
    editable_territories,
    get_item_abilities,
    get_plan_abilities,
    get_version_abilities,
    may_activate,
    may_create_plan,
    plans_visible_to,
    users_for_review,
)
from orsec.plans.actions import (
    PlanError,
    do_activate_plan,
    do_add_item,
    do_approve_version,
    do_attach_document,
    do_comment_item,
    do_comment_version,
    do_copy_template,
    do_create_plan,
    do_deactivate_plan,
    do_import_version,
    do_new_version,
    do_record_exercise,
    do_remove_item,
    do_replace_version_content,
    do_return_to_draft,
    do_submit_for_review,
    do_tick_item,
    do_update_section,
)
from orsec.plans.content import (
    MAX_IMPORT_BYTES,
    PlanContentError,
    diff_documents,
    parse_document,
    plan_templates,
    serialize_version,
)
from orsec.plans.models import (
    PHASE_ORDER,
    Activation,
    Phase,
    PlanVersion,
    ReflexItem,
    ReflexSheet,
    Section,
    VersionState,
)
from orsec.plans.queries import (
    activable_versions,
    checklist_for,
    plan_rows,
    progress_by_actor,
)
from orsec.territories.models import Territory


def _int(value: Any) -> int | None:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if 0 <= number < 2**53 else None


def _date(value: Any) -> date | None:
    try:
        return date.fromisoformat(str(value or ""))
    except ValueError:
        return None


def _fail(request: HttpRequest, error: PlanError | PlanContentError) -> None:
    messages.error(request, str(error))


# --- Plans ------------------------------------------------------------------------------------


@require_safe
@login_required
def plan_list(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    plans = plans_visible_to(request.user)
    territory_filter = (request.GET.get("territoire") or "").strip()[:120]
    if territory_filter:
        plans = plans.filter(territory_path=territory_filter)
    rows = plan_rows(plans.order_by("territory_path", "title"), today)
    territories = editable_territories(request.user)
    return render(
        request,
        "plans/plan_list.html",
        {
            "nav": "plans",
            "rows": rows,
            "overdue": [r for r in rows if r.exercise_overdue],
            "review_due": [r for r in rows if r.review_due],
            "territories": territories,
            "templates": list(plan_templates().values()),
            "territory_filter": territory_filter,
            "all_territories": sorted(
                {(r.plan.territory_path, r.plan.territory.name) for r in rows}
            )
            if not territory_filter
            else [],
        },
    )


def _editable_territory(request: HttpRequest, level: str) -> Territory:
    territory_id = _int(request.POST.get("territory"))
    territory = next((t for t in editable_territories(request.user) if t.pk == territory_id), None)
    if territory is None:
        raise Http404
    if not may_create_plan(request.user, territory, level):
        raise PermissionDenied
    return territory


@require_POST
@login_required
def plan_from_template(request: HttpRequest) -> HttpResponse:
    template = plan_templates().get(request.POST.get("template", ""))
    if template is None:
        messages.error(request, _("Choisissez un modèle de plan."))
        return HttpResponseRedirect(reverse("plans:list"))
    territory = _editable_territory(request, template.level)
    try:
        plan = do_copy_template(
            request.user,
            template.key,
            territory=territory,
            title=request.POST.get("title", ""),
            request=request,
        )
    except PlanError as error:
        _fail(request, error)
        return HttpResponseRedirect(reverse("plans:list"))
    messages.success(request, _("Plan créé depuis le modèle : version 1 en brouillon."))
    return HttpResponseRedirect(reverse("plans:detail", args=[plan.pk]))


def _read_upload(request: HttpRequest) -> bytes:
    upload = request.FILES.get("document")
    if upload is None:
        return (request.POST.get("content") or "").encode("utf-8")
    if upload.size and upload.size > MAX_IMPORT_BYTES:
        raise PlanContentError(
            [("", _("Le document dépasse %(max)s Mo.") % {"max": MAX_IMPORT_BYTES // 2**20})]
        )
    return upload.read(MAX_IMPORT_BYTES + 1)


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def plan_import(request: HttpRequest) -> HttpResponse:
    territories = editable_territories(request.user)
    errors: list[tuple[str, str]] = []
    if request.method == "POST":
        try:
            document = parse_document(_read_upload(request))
            territory = _editable_territory(request, document["level"])
            plan = do_create_plan(request.user, document, territory=territory, request=request)
        except PlanContentError as error:
            errors = error.errors
        except PlanError as error:
            errors = [("", str(error))]
        else:
            messages.success(request, _("Plan importé : version 1 en brouillon."))
            return HttpResponseRedirect(reverse("plans:detail", args=[plan.pk]))
    status = 422 if errors else 200
    return render(
        request,
        "plans/plan_import.html",
        {"nav": "plans", "territories": territories, "errors": errors},
        status=status,
    )


@require_safe
@login_required
def plan_detail(request: HttpRequest, plan_id: int) -> HttpResponse:
    plan = access_plan_by_id(request.user, plan_id)
    today = timezone.localdate()
    versions = list(plan.versions.select_related("approved_by").order_by("-number"))
    return render(
        request,
        "plans/plan_detail.html",
        {
            "nav": "plans",
            "plan": plan,
            "versions": versions,
            "exercises": list(plan.exercises.select_related("recorded_by")),
            "abilities": get_plan_abilities(request.user, plan),
            "exercise_due": plan.exercise_due(),
            "exercise_overdue": plan.exercise_overdue(today),
            "review_is_due": plan.review_is_due(today),
            "today": today.isoformat(),
        },
    )


def _require(abilities: dict[str, bool], key: str) -> None:
    if not abilities.get(key):
        raise PermissionDenied


@require_POST
@login_required
def plan_new_version(request: HttpRequest, plan_id: int) -> HttpResponse:
    plan = access_plan_by_id(request.user, plan_id)
    _require(get_plan_abilities(request.user, plan), "edit")
    try:
        version = do_new_version(request.user, plan, request=request)
    except PlanError as error:
        _fail(request, error)
        return HttpResponseRedirect(reverse("plans:detail", args=[plan.pk]))
    return HttpResponseRedirect(reverse("plans:version", args=[version.pk]))


@require_POST
@login_required
def plan_import_version(request: HttpRequest, plan_id: int) -> HttpResponse:
    plan = access_plan_by_id(request.user, plan_id)
    _require(get_plan_abilities(request.user, plan), "edit")
    try:
        document = parse_document(_read_upload(request))
        version = do_import_version(request.user, plan, document, request=request)
    except (PlanError, PlanContentError) as error:
        _fail(request, error)
        return HttpResponseRedirect(reverse("plans:detail", args=[plan.pk]))
    messages.success(request, _("Document importé comme nouvelle version en brouillon."))
    return HttpResponseRedirect(reverse("plans:version", args=[version.pk]))


@require_POST
@login_required
def plan_exercise(request: HttpRequest, plan_id: int) -> HttpResponse:
    plan = access_plan_by_id(request.user, plan_id)
    _require(get_plan_abilities(request.user, plan), "record_exercise")
    held_on = _date(request.POST.get("held_on"))
    try:
        if held_on is None:
            raise PlanError(_("Indiquez la date de l'exercice (AAAA-MM-JJ)."), "held_on_invalid")
        do_record_exercise(
            request.user,
            plan,
            held_on=held_on,
            title=request.POST.get("title", ""),
            notes=request.POST.get("notes", ""),
            request=request,
        )
    except PlanError as error:
        _fail(request, error)
    else:
        messages.success(request, _("Exercice enregistré."))
    return HttpResponseRedirect(reverse("plans:detail", args=[plan.pk]))


# --- Versions ---------------------------------------------------------------------------------


def _sheets_by_section(version: PlanVersion) -> list[tuple[Section, list[ReflexSheet]]]:
    sections = list(version.sections.all())
    sheets = list(version.sheets.prefetch_related("items"))
    grouped = []
    for section in sections:
        mine = [s for s in sheets if s.section_id == section.pk]
        mine.sort(key=lambda s: (PHASE_ORDER.get(s.phase, 9), s.order))
        grouped.append((section, mine))
    return grouped


@require_safe
@login_required
def version_detail(request: HttpRequest, version_id: int) -> HttpResponse:
    version = access_version_by_id(request.user, version_id)
    abilities = get_version_abilities(request.user, version)
    others = list(version.plan.versions.exclude(pk=version.pk).order_by("-number"))
    return render(
        request,
        "plans/version_detail.html",
        {
            "nav": "plans",
            "version": version,
            "plan": version.plan,
            "sections": _sheets_by_section(version),
            "documents": list(version.documents.defer("content")),
            "comments": list(version.comments.select_related("author")),
            "transitions": list(version.transitions.select_related("actor")),
            "reviewers": list(version.reviewers.all()),
            "candidates": list(users_for_review(version.plan)[:200])
            if abilities["submit_review"]
            else [],
            "abilities": abilities,
            "others": others,
            "phases": Phase.choices,
            "today": timezone.localdate().isoformat(),
            "json_content": json.dumps(serialize_version(version), ensure_ascii=False, indent=2)
            if abilities["edit"]
            else "",
        },
    )


@require_POST
@login_required
def version_transition(request: HttpRequest, version_id: int) -> HttpResponse:
    version = access_version_by_id(request.user, version_id)
    abilities = get_version_abilities(request.user, version)
    action = request.POST.get("action", "")
    user = request.user
    try:
        if action == "review":
            _require(abilities, "submit_review")
            ids = [i for i in (_int(v) for v in request.POST.getlist("reviewers")) if i]
            reviewers = list(users_for_review(version.plan).filter(pk__in=ids))
            do_submit_for_review(
                user,
                version,
                reviewers=reviewers,
                note=request.POST.get("note", ""),
                request=request,
            )
            messages.success(request, _("Version soumise en relecture."))
        elif action == "comment":
            _require(abilities, "comment")
            do_comment_version(user, version, text=request.POST.get("text", ""), request=request)
            messages.success(request, _("Commentaire enregistré."))
        elif action == "return":
            _require(abilities, "return_to_draft")
            do_return_to_draft(
                user, version, reason=request.POST.get("reason", ""), request=request
            )
            messages.success(request, _("Version renvoyée en brouillon."))
        elif action == "approve":
            _require(abilities, "approve")
            decree_date = _date(request.POST.get("decree_date"))
            if decree_date is None:
                raise PlanError(
                    _("Indiquez la date de l'arrêté (AAAA-MM-JJ)."), "decree_date_required"
                )
            do_approve_version(
                user,
                version,
                decree_number=request.POST.get("decree_number", ""),
                decree_date=decree_date,
                request=request,
            )
            messages.success(request, _("Version approuvée."))
        else:
            raise PermissionDenied
    except PlanError as error:
        _fail(request, error)
    return HttpResponseRedirect(reverse("plans:version", args=[version.pk]))


def _edit_target(request: HttpRequest, version_id: int) -> tuple[PlanVersion, int | None]:
    version = access_version_by_id(request.user, version_id)
    if not get_plan_abilities(request.user, version.plan)["edit"]:
        raise PermissionDenied
    return version, _int(request.POST.get("expected_revision"))


@require_POST
@login_required
def section_edit(request: HttpRequest, version_id: int, section_id: int) -> HttpResponse:
    version, revision = _edit_target(request, version_id)
    section = Section.objects.filter(pk=section_id, version=version).first()
    if section is None:
        raise Http404
    try:
        do_update_section(
            request.user,
            section,
            title=request.POST.get("title", ""),
            body=request.POST.get("body", ""),
            trigger=request.POST.get("trigger", ""),
            expected_revision=revision,
            request=request,
        )
    except PlanError as error:
        _fail(request, error)
    return HttpResponseRedirect(reverse("plans:version", args=[version.pk]) + f"#s-{section_id}")


@require_POST
@login_required
def item_add(request: HttpRequest, version_id: int, sheet_id: int) -> HttpResponse:
    version, revision = _edit_target(request, version_id)
    sheet = ReflexSheet.objects.filter(pk=sheet_id, version=version).first()
    if sheet is None:
        raise Http404
    try:
        do_add_item(
            request.user,
            sheet,
            text=request.POST.get("text", ""),
            expected_revision=revision,
            request=request,
        )
    except PlanError as error:
        _fail(request, error)
    return HttpResponseRedirect(reverse("plans:version", args=[version.pk]) + f"#f-{sheet_id}")


@require_POST
@login_required
def item_remove(request: HttpRequest, version_id: int, item_id: int) -> HttpResponse:
    version, revision = _edit_target(request, version_id)
    item = ReflexItem.objects.filter(pk=item_id, sheet__version=version).first()
    if item is None:
        raise Http404
    try:
        do_remove_item(request.user, item, expected_revision=revision, request=request)
    except PlanError as error:
        _fail(request, error)
    return HttpResponseRedirect(reverse("plans:version", args=[version.pk]))


@require_POST
@login_required
def version_json(request: HttpRequest, version_id: int) -> HttpResponse:
    version, revision = _edit_target(request, version_id)
    try:
        document = parse_document(request.POST.get("content", ""))
        do_replace_version_content(
            request.user, version, document, expected_revision=revision, request=request
        )
    except (PlanError, PlanContentError) as error:
        _fail(request, error)
    else:
        messages.success(request, _("Contenu de la version remplacé."))
    return HttpResponseRedirect(reverse("plans:version", args=[version.pk]))


@require_POST
@login_required
def document_upload(request: HttpRequest, version_id: int) -> HttpResponse:
    version, _revision = _edit_target(request, version_id)
    upload = request.FILES.get("document")
    try:
        if upload is None:
            raise PlanError(_("Choisissez un fichier à joindre."), "document_required")
        do_attach_document(request.user, version, upload, request=request)
    except PlanError as error:
        _fail(request, error)
    else:
        messages.success(request, _("Document joint."))
    return HttpResponseRedirect(reverse("plans:version", args=[version.pk]))


@require_safe
@login_required
def document_download(request: HttpRequest, document_id: int) -> HttpResponse:
    document = access_document_by_id(request.user, document_id)
    response = HttpResponse(bytes(document.content), content_type=document.content_type)
    response["Content-Disposition"] = f'attachment; filename="{document.filename}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


@require_safe
@login_required
def version_export(request: HttpRequest, version_id: int) -> HttpResponse:
    version = access_version_by_id(request.user, version_id)
    payload = json.dumps(serialize_version(version), ensure_ascii=False, indent=2)
    response = HttpResponse(payload, content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="plan-{version.plan_id}-v{version.number}.json"'
    )
    return response


@require_safe
@login_required
def version_diff(request: HttpRequest, version_id: int, other_id: int) -> HttpResponse:
    new = access_version_by_id(request.user, version_id)
    old = access_version_by_id(request.user, other_id)
    if old.plan_id != new.plan_id:
        raise Http404
    if old.number > new.number:
        old, new = new, old
    changes = diff_documents(serialize_version(old), serialize_version(new))
    return render(
        request,
        "plans/version_diff.html",
        {"nav": "plans", "plan": new.plan, "old": old, "new": new, "changes": changes},
    )


# --- Event-bound pages ------------------------------------------------------------------------


@require_safe
@login_required
def event_plans(request: HttpRequest, event_id: int) -> HttpResponse:
    event = access_event_by_id(request.user, event_id)
    abilities = get_event_abilities(request.user, event)
    can_activate = may_activate(abilities)
    activations = list(
        Activation.objects.filter(event=event)
        .select_related("version__plan", "activated_by", "ended_by")
        .prefetch_related("sections")
    )
    return render(
        request,
        "plans/event_plans.html",
        {
            "event": event,
            "nav": "events",
            "activations": activations,
            "progress": progress_by_actor(event),
            "can_activate": can_activate,
            "versions": activable_versions(plans_visible_to(request.user), event)
            if can_activate
            else [],
        },
    )


@require_POST
@login_required
def event_activate(request: HttpRequest, event_id: int) -> HttpResponse:
    event = access_event_by_id(request.user, event_id)
    if not may_activate(get_event_abilities(request.user, event)):
        raise PermissionDenied
    version = access_version_by_id(request.user, _int(request.POST.get("version")) or 0)
    ids = [i for i in (_int(v) for v in request.POST.getlist("sections")) if i]
    sections = list(Section.objects.filter(pk__in=ids, version=version))
    try:
        if version.state != VersionState.APPROVED or len(sections) == len(ids):
            do_activate_plan(request.user, event, version, sections, request=request)
        else:
            raise PlanError(_("Une section choisie n'appartient pas à cette version."))
    except PlanError as error:
        _fail(request, error)
    else:
        messages.success(
            request, _("Plan activé : les fiches réflexes ont été diffusées aux acteurs.")
        )
    return HttpResponseRedirect(reverse("plans:event", args=[event.pk]))


@require_POST
@login_required
def activation_end(request: HttpRequest, activation_id: int) -> HttpResponse:
    activation, event = access_activation_by_id(request.user, activation_id)
    if not may_activate(get_event_abilities(request.user, event)):
        raise PermissionDenied
    try:
        do_deactivate_plan(
            request.user, activation, reason=request.POST.get("reason", ""), request=request
        )
    except PlanError as error:
        _fail(request, error)
    else:
        messages.success(request, _("Plan désactivé."))
    return HttpResponseRedirect(reverse("plans:event", args=[event.pk]))


@require_safe
@login_required
def checklist(request: HttpRequest, event_id: int, organisation_id: int) -> HttpResponse:
    event = access_event_by_id(request.user, event_id)
    items = list(checklist_for(event, organisation_id or None))
    if not items:
        raise Http404
    organisation = items[0].organisation
    rows = [(item, get_item_abilities(request.user, item, event)) for item in items]
    return render(
        request,
        "plans/checklist.html",
        {
            "event": event,
            "nav": "events",
            "organisation": organisation,
            "rows": rows,
            "done": sum(1 for i in items if i.done),
            "total": len(items),
        },
    )


def _back_to_checklist(item: Any) -> HttpResponseRedirect:
    return HttpResponseRedirect(
        reverse("plans:checklist", args=[item.event_id, item.organisation_id or 0])
        + f"#item-{item.pk}"
    )


@require_POST
@login_required
def item_tick(request: HttpRequest, item_id: int) -> HttpResponse:
    item, event = access_item_by_id(request.user, item_id)
    if not get_item_abilities(request.user, item, event)["tick"]:
        raise PermissionDenied
    revision = _int(request.POST.get("expected_revision"))
    try:
        do_tick_item(
            request.user,
            item,
            done=request.POST.get("done") == "1",
            expected_revision=revision if revision is not None else -1,
            comment=request.POST.get("comment", ""),
            request=request,
        )
    except PlanError as error:
        _fail(request, error)
    return _back_to_checklist(item)


@require_POST
@login_required
def item_comment(request: HttpRequest, item_id: int) -> HttpResponse:
    item, event = access_item_by_id(request.user, item_id)
    if not get_item_abilities(request.user, item, event)["comment"]:
        raise PermissionDenied
    try:
        do_comment_item(request.user, item, text=request.POST.get("text", ""), request=request)
    except PlanError as error:
        _fail(request, error)
    return _back_to_checklist(item)
