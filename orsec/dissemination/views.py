"""Dissemination pages: thin views — parse, access, act, render.

Opening an item of the inbox is a POST (the "Ouvrir" button) that marks it read and redirects to
it: no state changes on GET (S12). The detail page itself never writes.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from orsec.directory.access import organisations_visible_to
from orsec.dissemination.access import (
    access_delivery_by_id,
    access_event_entry_by_id,
    access_trace_event_by_id,
    deliveries_of_event,
    get_delivery_abilities,
    is_acting_recipient,
)
from orsec.dissemination.actions import (
    DisseminationError,
    do_acknowledge_delivery,
    do_disseminate_entry,
    do_mark_delivery_read,
    entry_summary,
)
from orsec.dissemination.forms import AcknowledgeForm, DisseminateForm
from orsec.dissemination.models import Delivery
from orsec.dissemination.queries import disseminable_entries, inbox_for
from orsec.dissemination.routing import route_entry
from orsec.events.access import access_event_by_id, get_event_abilities
from orsec.live.hub import current_cursor

PAGE_SIZE = 25
STATE_FILTERS = {
    "pending": _("À prendre en compte"),
    "": _("Toutes"),
}


def _delivery_context(request: HttpRequest, delivery: Delivery, form: AcknowledgeForm) -> dict:
    return {
        "title": _("Information reçue — %(event)s") % {"event": delivery.event.title},
        "nav": "dissemination",
        "delivery": delivery,
        "event": delivery.event,
        "entry": delivery.entry,
        "abilities": get_delivery_abilities(request.user, delivery),
        "form": form,
    }


#: the inbox's live stream (``orsec.dashboards.live.InboxChannel``): one per filter
INBOX_LIVE_STATES = {"pending": "en-attente", "": "toutes"}


def inbox_context(user: Any, state: str, page_number: Any) -> dict[str, Any]:
    """The inbox's list and count for ``user`` (the page, and its live re-renderings)."""
    queryset = inbox_for(user, state=state)
    page = Paginator(queryset, PAGE_SIZE).get_page(page_number)
    rows = [
        {
            "delivery": d,
            "summary": entry_summary(d.entry),
            "abilities": get_delivery_abilities(user, d),
        }
        for d in page.object_list
    ]
    return {
        "page": page,
        "rows": rows,
        "state": state,
        "pending_count": inbox_for(user, state="pending").count(),
    }


@require_safe
@login_required
def inbox(request: HttpRequest) -> HttpResponse:
    # read before the data: the live stream replays whatever comes after it
    live_after = current_cursor()
    state = request.GET.get("etat", "pending")
    if state not in ("pending", ""):
        state = "pending"
    context = inbox_context(request.user, state, request.GET.get("page"))
    page = context["page"]
    context |= {
        "title": _("À prendre en compte"),
        "nav": "dissemination",
        "live_url": f"/live/a-prendre-en-compte/{INBOX_LIVE_STATES[state]}/{page.number}/",
        "live_after": live_after,
    }
    return render(request, "dissemination/inbox.html", context)


@require_safe
@login_required
def delivery_detail(request: HttpRequest, delivery_id: int) -> HttpResponse:
    delivery = access_delivery_by_id(request.user, delivery_id)
    return render(
        request,
        "dissemination/delivery_detail.html",
        _delivery_context(request, delivery, AcknowledgeForm()),
    )


@require_POST
@login_required
def delivery_open(request: HttpRequest, delivery_id: int) -> HttpResponse:
    """Open an item of the inbox: a recipient's opening marks it read, then shows it."""
    delivery = access_delivery_by_id(request.user, delivery_id)
    if get_delivery_abilities(request.user, delivery)["read"]:
        do_mark_delivery_read(request.user, delivery, request=request)
    return HttpResponseRedirect(reverse("dissemination:delivery", args=[delivery.pk]))


@require_POST
@login_required
def delivery_acknowledge(request: HttpRequest, delivery_id: int) -> HttpResponse:
    delivery = access_delivery_by_id(request.user, delivery_id)
    if is_acting_recipient(request.user, delivery):  # acknowledged already: 409 below
        form = AcknowledgeForm(request.POST)
        if not form.is_valid():
            context = _delivery_context(request, delivery, form)
            return render(request, "dissemination/delivery_detail.html", context, status=400)
        try:
            do_acknowledge_delivery(
                request.user, delivery, comment=form.cleaned_data["comment"], request=request
            )
        except DisseminationError as error:
            form.add_error(None, str(error))
            delivery.refresh_from_db()
            context = _delivery_context(request, delivery, form)
            return render(request, "dissemination/delivery_detail.html", context, status=409)
        messages.success(request, _("Prise en compte enregistrée."))
        return HttpResponseRedirect(reverse("dissemination:delivery", args=[delivery.pk]))
    raise PermissionDenied


@require_safe
@login_required
def event_trace(request: HttpRequest, event_id: int) -> HttpResponse:
    event = access_trace_event_by_id(request.user, event_id)
    event_abilities = get_event_abilities(request.user, event)
    deliveries = list(deliveries_of_event(event).order_by("-sent_at", "organisation__name")[:500])
    context = {
        "title": _("Diffusions et prises en compte — %(event)s") % {"event": event.title},
        "nav": "dissemination",
        "event": event,
        "deliveries": [{"delivery": d, "summary": entry_summary(d.entry)} for d in deliveries],
        "event_abilities": event_abilities,
        "entries": disseminable_entries(event, view_restricted=event_abilities["view_restricted"])
        if event_abilities["disseminate"]
        else [],
    }
    return render(request, "dissemination/event_trace.html", context)


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def disseminate_entry(request: HttpRequest, event_id: int, entry_id: int) -> HttpResponse:
    event = access_event_by_id(request.user, event_id)
    abilities = get_event_abilities(request.user, event)
    if not abilities["disseminate"]:
        raise PermissionDenied
    entry = access_event_entry_by_id(request.user, event, entry_id)
    organisations = organisations_visible_to(request.user).order_by(
        "territory__path", "kind", "name"
    )
    routing = route_entry(event, entry)
    status = 200
    if request.method == "POST":
        form = DisseminateForm(request.POST, organisations=organisations)
        if form.is_valid():
            try:
                dissemination = do_disseminate_entry(
                    request.user,
                    entry,
                    event=event,
                    organisations=list(form.cleaned_data["organisations"]),
                    use_rules=form.cleaned_data["use_rules"],
                    note=form.cleaned_data["note"],
                    request=request,
                )
            except DisseminationError as error:
                form.add_error(None, str(error))
                status = 409 if error.code == "already_disseminated" else 400
            else:
                skipped = getattr(dissemination, "skipped", [])
                messages.success(request, _("Information diffusée."))
                if skipped:
                    messages.warning(
                        request,
                        _("Déjà destinataires, non renvoyé : %(names)s.")
                        % {"names": ", ".join(o.short_name or o.name for o in skipped)},
                    )
                return HttpResponseRedirect(reverse("dissemination:trace", args=[event.pk]))
        else:
            status = 400
    else:
        form = DisseminateForm(organisations=organisations, initial={"use_rules": True})
    context = {
        "title": _("Diffuser une information — %(event)s") % {"event": event.title},
        "nav": "dissemination",
        "event": event,
        "entry": entry,
        "form": form,
        "routing": routing,
        "already": set(
            Delivery.objects.filter(entry=entry, user__isnull=True).values_list(
                "organisation_id", flat=True
            )
        ),
    }
    return render(request, "dissemination/disseminate.html", context, status=status)
