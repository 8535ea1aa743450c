"""On-call pages: thin views — parse, access, act, render (``docs/oncall.md``)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from orsec.directory.access import organisations_visible_to
from orsec.events.access import access_event_by_id
from orsec.events.models import EventType
from orsec.oncall.access import (
    access_call_item_by_id,
    access_roster_by_id,
    access_scheme_by_id,
    access_shift_by_id,
    call_lists_of_event,
    duty_rosters_visible_to,
    get_call_list_abilities,
    get_roster_abilities,
    get_scheme_abilities,
    rosters_editable_organisations,
    rosters_visible_to,
    scheme_territories_for,
    schemes_visible_to,
)
from orsec.oncall.actions import (
    OncallError,
    StepSpec,
    do_add_shift,
    do_export_roster,
    do_remove_shift,
    do_save_alert_scheme,
    do_save_roster,
    do_start_call_list,
    do_tick_call_item,
    schemes_for_event,
)
from orsec.oncall.forms import STEP_ROWS, RosterForm, SchemeForm, ShiftForm, StepFormSet, TickForm
from orsec.oncall.models import AlertScheme, CallStatus, Shift
from orsec.oncall.queries import on_call_board
from orsec.territories.models import Territory

#: Past shifts shown on a roster page (older ones are in the CSV export).
PAST_SHIFTS_SHOWN = 10


@require_safe
@login_required
def on_call_now(request: HttpRequest) -> HttpResponse:
    """Qui est d'astreinte ? — per organisation, the current person (or the duty's phone only)
    and the next shift; a gap is a warning."""
    now = timezone.now()
    full_ids = set(rosters_visible_to(request.user).values_list("pk", flat=True))
    rosters = list(duty_rosters_visible_to(request.user).order_by("organisation__name", "label"))
    groups: dict[Any, list[dict[str, Any]]] = {}
    for row in on_call_board(rosters, now):
        groups.setdefault(row.roster.organisation, []).append(
            {"on_call": row, "full": row.roster.pk in full_ids}
        )
    context = {
        "title": _("Qui est d'astreinte ?"),
        "nav": "oncall",
        "now": now,
        "groups": list(groups.items()),
        "gaps": sum(1 for rows in groups.values() for r in rows if r["on_call"].is_gap),
        "can_create": rosters_editable_organisations(request.user).exists(),
        "can_see_schemes": schemes_visible_to(request.user).exists(),
    }
    return render(request, "oncall/now.html", context)


def _roster_context(request: HttpRequest, roster: Any, form: ShiftForm) -> dict[str, Any]:
    now = timezone.now()
    shifts = Shift.objects.filter(roster=roster)
    return {
        "title": roster.label,
        "nav": "oncall",
        "roster": roster,
        "now": now,
        "abilities": get_roster_abilities(request.user, roster),
        "board": on_call_board([roster], now)[0],
        "upcoming": shifts.filter(end__gt=now).order_by("start"),
        "past": shifts.filter(end__lte=now).order_by("-start")[:PAST_SHIFTS_SHOWN],
        "form": form,
    }


@require_safe
@login_required
def roster_detail(request: HttpRequest, roster_id: int) -> HttpResponse:
    roster = access_roster_by_id(request.user, roster_id)
    return render(request, "oncall/roster.html", _roster_context(request, roster, ShiftForm()))


@require_POST
@login_required
def shift_add(request: HttpRequest, roster_id: int) -> HttpResponse:
    roster = access_roster_by_id(request.user, roster_id)
    if not get_roster_abilities(request.user, roster)["change"]:
        raise PermissionDenied
    form = ShiftForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            do_add_shift(
                request.user,
                roster,
                person_name=data["person_name"],
                phone=data["phone"],
                start=data["start"],
                end=data["end"],
                request=request,
            )
        except OncallError as error:
            form.add_error(error.field if error.field in form.fields else None, str(error))
        else:
            messages.success(request, _("Créneau ajouté."))
            return HttpResponseRedirect(reverse("oncall:roster", args=[roster.pk]))
    context = _roster_context(request, roster, form)
    return render(request, "oncall/roster.html", context, status=400)


@require_POST
@login_required
def shift_remove(request: HttpRequest, shift_id: int) -> HttpResponse:
    shift = access_shift_by_id(request.user, shift_id)
    roster = shift.roster
    if not get_roster_abilities(request.user, roster)["change"]:
        raise PermissionDenied
    try:
        do_remove_shift(request.user, shift, request=request)
    except OncallError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("Créneau supprimé."))
    return HttpResponseRedirect(reverse("oncall:roster", args=[roster.pk]))


@require_safe
@login_required
def roster_export(request: HttpRequest, roster_id: int) -> HttpResponse:
    roster = access_roster_by_id(request.user, roster_id)
    content = do_export_roster(request.user, roster, request=request)
    response = HttpResponse("\ufeff" + content, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="astreinte-{roster.pk}.csv"'
    response["Cache-Control"] = "private, no-store"
    return response


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def roster_create(request: HttpRequest) -> HttpResponse:
    organisations = rosters_editable_organisations(request.user)
    if not organisations.exists():
        raise PermissionDenied
    form = RosterForm(request.POST or None, organisations=organisations)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                roster = do_save_roster(
                    request.user,
                    organisation=data["organisation"],
                    label=data["label"],
                    function=data["function"],
                    request=request,
                )
            except OncallError as error:
                form.add_error(error.field if error.field in form.fields else None, str(error))
            else:
                messages.success(request, _("Astreinte créée."))
                return HttpResponseRedirect(reverse("oncall:roster", args=[roster.pk]))
        status = 400
    context = {"title": _("Nouvelle astreinte"), "nav": "oncall", "form": form}
    return render(request, "oncall/roster_form.html", context, status=status)


# --- Alert schemes ---------------------------------------------------------------------------


@require_safe
@login_required
def scheme_list(request: HttpRequest) -> HttpResponse:
    schemes = schemes_visible_to(request.user).prefetch_related("steps")
    context = {
        "title": _("Schémas d'alerte"),
        "nav": "oncall",
        "schemes": schemes,
        "can_create": scheme_territories_for(request.user).exists(),
    }
    return render(request, "oncall/schemes.html", context)


@require_safe
@login_required
def scheme_detail(request: HttpRequest, scheme_id: int) -> HttpResponse:
    scheme = access_scheme_by_id(request.user, scheme_id)
    steps = scheme.steps.select_related("organisation", "roster", "function")
    context = {
        "title": scheme.name,
        "nav": "oncall",
        "scheme": scheme,
        "steps": steps,
        "event_type_labels": [str(EventType(t).label) for t in scheme.event_types],
        "abilities": get_scheme_abilities(request.user, scheme),
    }
    return render(request, "oncall/scheme.html", context)


def _scheme_form_page(
    request: HttpRequest, scheme: AlertScheme | None, territories: Any
) -> HttpResponse:
    organisations = organisations_visible_to(request.user).order_by("territory__path", "name")
    if request.method == "POST":
        form = SchemeForm(request.POST, territories=territories)
        steps = StepFormSet(request.POST, form_kwargs={"organisations": organisations})
        if form.is_valid() and steps.is_valid():
            specs = [
                StepSpec(
                    organisation=row["organisation"],
                    roster=row.get("roster"),
                    function=row.get("function"),
                    instruction=row.get("instruction", ""),
                )
                for row in steps.cleaned_data
                if row and row.get("organisation")
            ]
            data = form.cleaned_data
            try:
                saved = do_save_alert_scheme(
                    request.user,
                    territory=data["territory"],
                    name=data["name"],
                    event_types=data["event_types"],
                    steps=specs,
                    scheme=scheme,
                    is_active=data["is_active"],
                    request=request,
                )
            except OncallError as error:
                form.add_error(error.field if error.field in form.fields else None, str(error))
            else:
                messages.success(request, _("Schéma d'alerte enregistré."))
                return HttpResponseRedirect(reverse("oncall:scheme", args=[saved.pk]))
        status = 400
    else:
        initial: dict[str, Any] = {"is_active": True}
        rows: list[dict[str, Any]] = []
        if scheme is not None:
            initial = {
                "name": scheme.name,
                "territory": scheme.territory_id,
                "event_types": scheme.event_types,
                "is_active": scheme.is_active,
            }
            rows = [
                {
                    "organisation": s.organisation_id,
                    "roster": s.roster_id,
                    "function": s.function_id,
                    "instruction": s.instruction,
                }
                for s in scheme.steps.all()
            ]
        rows += [{}] * max(0, STEP_ROWS - len(rows))
        form = SchemeForm(initial=initial, territories=territories)
        steps = StepFormSet(initial=rows, form_kwargs={"organisations": organisations})
        status = 200
    context = {
        "title": scheme.name if scheme else _("Nouveau schéma d'alerte"),
        "nav": "oncall",
        "scheme": scheme,
        "form": form,
        "steps": steps,
    }
    return render(request, "oncall/scheme_form.html", context, status=status)


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def scheme_create(request: HttpRequest) -> HttpResponse:
    territories = scheme_territories_for(request.user)
    if not territories.exists():
        raise PermissionDenied
    return _scheme_form_page(request, None, territories)


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def scheme_edit(request: HttpRequest, scheme_id: int) -> HttpResponse:
    scheme = access_scheme_by_id(request.user, scheme_id)
    if not get_scheme_abilities(request.user, scheme)["change"]:
        raise PermissionDenied
    territories = scheme_territories_for(request.user) | Territory.objects.filter(
        pk=scheme.territory_id
    )
    return _scheme_form_page(request, scheme, territories.distinct())


# --- Call lists of an event ------------------------------------------------------------------


def _event_context(request: HttpRequest, event: Any) -> dict[str, Any]:
    abilities = get_call_list_abilities(request.user, event)
    call_lists = list(call_lists_of_event(event))
    started = {c.scheme_id for c in call_lists}
    return {
        "title": _("Listes d'appel — %(event)s") % {"event": event.title},
        "nav": "events",
        "event": event,
        "abilities": abilities,
        "call_lists": call_lists,
        "pending_schemes": [s for s in schemes_for_event(event) if s.pk not in started]
        if abilities["start"]
        else [],
        "statuses": [s for s in CallStatus if s != CallStatus.TO_CALL],
    }


@require_safe
@login_required
def event_call_lists(request: HttpRequest, event_id: int) -> HttpResponse:
    event = access_event_by_id(request.user, event_id)
    return render(request, "oncall/event_call_lists.html", _event_context(request, event))


@require_POST
@login_required
def event_start(request: HttpRequest, event_id: int) -> HttpResponse:
    event = access_event_by_id(request.user, event_id)
    if not get_call_list_abilities(request.user, event)["start"]:
        raise PermissionDenied
    scheme_id = request.POST.get("scheme", "")
    scheme = next((s for s in schemes_for_event(event) if str(s.pk) == scheme_id), None)
    if scheme is None:
        messages.error(request, _("Ce schéma d'alerte ne s'applique pas à cet événement."))
    else:
        try:
            do_start_call_list(request.user, event, scheme, request=request)
        except OncallError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, _("Liste d'appel lancée."))
    return HttpResponseRedirect(reverse("oncall:event", args=[event.pk]))


@require_POST
@login_required
def item_tick(request: HttpRequest, item_id: int) -> HttpResponse:
    item, event = access_call_item_by_id(request.user, item_id)
    if not get_call_list_abilities(request.user, event)["tick"]:
        raise PermissionDenied
    form = TickForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, str(error))
        context = _event_context(request, event)
        return render(request, "oncall/event_call_lists.html", context, status=400)
    try:
        do_tick_call_item(
            request.user,
            item,
            form.cleaned_data["status"],
            form.cleaned_data["comment"],
            expected_revision=form.cleaned_data["revision"],
            request=request,
        )
    except OncallError as error:
        messages.error(request, str(error))
        context = _event_context(request, event)
        return render(request, "oncall/event_call_lists.html", context, status=error.status)
    messages.success(request, _("Appel pointé."))
    return HttpResponseRedirect(reverse("oncall:event", args=[event.pk]) + f"#appel-{item.pk}")
