"""Event and main courante pages: thin views — parse, access, act, render.

Every event-scoped view starts with :func:`access_event_by_id` (404 for absent *and* forbidden)
and decides what it accepts from :func:`get_event_abilities` (403 when the event is visible but
the action is not allowed). The event page itself (``/evenements/<id>/``) is served by
``orsec.dashboards``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from orsec.events import forms
from orsec.events.access import (
    access_event_by_id,
    events_visible_to,
    get_event_abilities,
    get_open_abilities,
)
from orsec.events.actions import (
    do_change_gravity,
    do_change_phase,
    do_close_event,
    do_decide_escalation,
    do_open_event,
    do_reopen_event,
    do_set_location,
    do_share_event,
)
from orsec.events.errors import RuleError, error_status
from orsec.events.models import EscalationProposal, Event, Mode
from orsec.events.queries import (
    chain_entries_for_reader,
    entries_for_reader,
    filter_entries_by,
    filter_events,
    mode_counts,
    visible_events,
)
from orsec.journal.access import (
    access_attachment_in_chain,
    access_entry_in_chain,
    access_watch_territory,
    get_watch_abilities,
    watch_territories_of,
)
from orsec.journal.actions import (
    acting_organisation,
    do_add_entry,
    do_correct_entry,
    do_pin_entry,
    do_unpin_entry,
)
from orsec.journal.chain import chain_for_event, watch_chain_for
from orsec.journal.export import export_chain
from orsec.journal.files import AttachmentError, storage_path
from orsec.journal.models import Attachment, Confidentiality, JournalChain
from orsec.journal.verify import verify_chain_report

EVENTS_PAGE_SIZE = 25
ENTRIES_PAGE_SIZE = 50


def _event_context(event: Event, abilities: dict[str, bool], **extra: Any) -> dict[str, Any]:
    return {"event": event, "abilities": abilities, "nav": "events", **extra}


def _event_and_abilities(
    request: HttpRequest, event_id: int, need: str | None = None
) -> tuple[Event, dict[str, bool]]:
    event = access_event_by_id(request.user, event_id)
    abilities = get_event_abilities(request.user, event)
    if need is not None and not abilities.get(need):
        raise PermissionDenied
    return event, abilities


def event_url(event: Event) -> str:
    return reverse("dashboards:event", args=[event.pk])


# --- Event list and opening ---------------------------------------------------------------------


@require_safe
@login_required
def event_list(request: HttpRequest) -> HttpResponse:
    form = forms.EventFilterForm(request.GET or None)
    filters: dict[str, Any] = {"mode": Mode.REAL, "phase": "", "state": "open", "territory": ""}
    if form.is_bound and form.is_valid():
        filters.update({k: v for k, v in form.cleaned_data.items() if v})
    visible = visible_events(request.user)
    narrowed = {
        "phase": filters["phase"],
        "state": filters["state"],
        "territory_path": filters["territory"],
    }
    others = filter_events(visible, mode=filters["mode"], **narrowed)
    counts = mode_counts(filter_events(visible, mode=None, **narrowed))
    page = Paginator(
        others.select_related("territory").defer("territory__boundary").order_by("-opened_at"),
        EVENTS_PAGE_SIZE,
    ).get_page(request.GET.get("page"))
    territories = sorted(
        set(visible.order_by().values_list("territory_path", "territory__name").distinct()[:200])
    )
    context = {
        "title": _("Événements"),
        "nav": "events",
        "page": page,
        "filters": filters,
        "counts": counts,
        "modes": Mode.choices,
        "phases": forms.Phase.choices,
        "territories": territories,
        "can_open": get_open_abilities(request.user)["open_event"],
        "marker": {Mode.EXERCISE: _("EXERCICE"), Mode.TEST: _("TEST")}.get(filters["mode"], ""),
    }
    return render(request, "events/event_list.html", context)


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def event_open(request: HttpRequest) -> HttpResponse:
    if not get_open_abilities(request.user)["open_event"]:
        raise PermissionDenied
    territories = watch_territories_of(request.user)
    parents = events_visible_to(request.user).filter(closed_at__isnull=True).order_by("-opened_at")
    form = forms.EventOpenForm(request.POST or None, territories=territories, parents=parents)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                event = do_open_event(
                    request.user,
                    title=data["title"].strip(),
                    event_type=data["event_type"],
                    territory=data["territory"],
                    mode=data["mode"],
                    gravity=data["gravity"],
                    phase=data["phase"],
                    description=data["description"],
                    location=data.get("geometry"),
                    director=data["director"],
                    parent=data.get("parent"),
                    organisation=acting_organisation(request.user),
                    request=request,
                )
            except RuleError as error:
                form.add_error(None, str(error))
                status = error_status(error)
            else:
                messages.success(request, _("Événement ouvert."))
                return redirect(event_url(event))
        else:
            status = 400
    context = {"title": _("Ouvrir un événement"), "nav": "events", "form": form}
    return render(request, "events/event_open.html", context, status=status)


# --- Event actions ------------------------------------------------------------------------------


def _event_action(
    request: HttpRequest,
    event_id: int,
    *,
    ability: str,
    form_class: type[Any],
    title: str,
    submit: str,
    perform: Callable[[Event, dict[str, Any]], Any],
    intro: str = "",
    initial: dict[str, Any] | None = None,
) -> HttpResponse:
    event, abilities = _event_and_abilities(request, event_id, ability)
    form = form_class(request.POST or None, initial=initial)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                perform(event, form.cleaned_data)
            except RuleError as error:
                form.add_error(None, str(error))
                status = error_status(error)
            else:
                messages.success(request, _("Modification enregistrée."))
                return redirect(event_url(event))
        else:
            status = 400
    context = _event_context(event, abilities, title=title, form=form, submit=submit, intro=intro)
    return render(request, "events/event_action.html", context, status=status)


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def event_phase(request: HttpRequest, event_id: int) -> HttpResponse:
    def perform(event: Event, data: dict[str, Any]) -> None:
        do_change_phase(
            request.user,
            event,
            data["phase"],
            reason=data["reason"].strip(),
            organisation=acting_organisation(request.user),
            request=request,
        )

    return _event_action(
        request,
        event_id,
        ability="change_phase",
        form_class=forms.PhaseForm,
        title=_("Changer de phase"),
        submit=_("Changer de phase"),
        perform=perform,
        intro=_("On avance vers une phase ultérieure, ou on revient d'une seule phase."),
    )


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def event_gravity(request: HttpRequest, event_id: int) -> HttpResponse:
    def perform(event: Event, data: dict[str, Any]) -> None:
        do_change_gravity(
            request.user,
            event,
            data["gravity"],
            reason=data["reason"].strip(),
            organisation=acting_organisation(request.user),
            request=request,
        )

    return _event_action(
        request,
        event_id,
        ability="change_gravity",
        form_class=forms.GravityForm,
        title=_("Changer la gravité"),
        submit=_("Enregistrer la gravité"),
        perform=perform,
    )


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def event_share(request: HttpRequest, event_id: int) -> HttpResponse:
    def perform(event: Event, data: dict[str, Any]) -> None:
        do_share_event(
            request.user,
            event,
            data["visibility"],
            reason=data["reason"].strip(),
            organisation=acting_organisation(request.user),
            request=request,
        )

    return _event_action(
        request,
        event_id,
        ability="decide_sharing",
        form_class=forms.ShareForm,
        title=_("Partager l'événement"),
        submit=_("Partager"),
        perform=perform,
        intro=_("Le partage rend l'événement visible à la zone, ou au niveau national."),
    )


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def event_close(request: HttpRequest, event_id: int) -> HttpResponse:
    def perform(event: Event, data: dict[str, Any]) -> None:
        do_close_event(
            request.user,
            event,
            data["final_summary"],
            organisation=acting_organisation(request.user),
            request=request,
        )

    return _event_action(
        request,
        event_id,
        ability="close",
        form_class=forms.CloseForm,
        title=_("Clore l'événement"),
        submit=_("Clore l'événement"),
        perform=perform,
        intro=_("La clôture exige un bilan final ; la main courante n'accepte plus d'entrée."),
    )


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def event_reopen(request: HttpRequest, event_id: int) -> HttpResponse:
    def perform(event: Event, data: dict[str, Any]) -> None:
        do_reopen_event(
            request.user,
            event,
            data["reason"],
            organisation=acting_organisation(request.user),
            request=request,
        )

    return _event_action(
        request,
        event_id,
        ability="reopen",
        form_class=forms.ReopenForm,
        title=_("Rouvrir l'événement"),
        submit=_("Rouvrir"),
        perform=perform,
    )


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def event_location(request: HttpRequest, event_id: int) -> HttpResponse:
    def perform(event: Event, data: dict[str, Any]) -> None:
        do_set_location(
            request.user,
            event,
            data.get("geometry"),
            organisation=acting_organisation(request.user),
            request=request,
        )

    return _event_action(
        request,
        event_id,
        ability="change_gravity",  # the room runs the event: same people as gravity
        form_class=forms.LocationFields,
        title=_("Localiser l'événement"),
        submit=_("Enregistrer la localisation"),
        perform=perform,
        intro=_("Les communes concernées et le département sont recalculés."),
    )


@require_POST
@login_required
def escalation_decide(request: HttpRequest, event_id: int, proposal_id: int) -> HttpResponse:
    event, abilities = _event_and_abilities(request, event_id, "decide_sharing")
    proposal = EscalationProposal.objects.filter(pk=proposal_id, event=event).first()
    if proposal is None:
        raise Http404
    form = forms.EscalationDecisionForm(request.POST)
    if form.is_valid():
        try:
            do_decide_escalation(
                request.user,
                proposal,
                accept=form.cleaned_data["decision"] == "accept",
                reason=form.cleaned_data["reason"].strip(),
                organisation=acting_organisation(request.user),
                request=request,
            )
        except RuleError as error:
            form.add_error(None, str(error))
            status = error_status(error)
        else:
            messages.success(request, _("Décision enregistrée."))
            return redirect(event_url(event))
    else:
        status = 400
    context = _event_context(
        event,
        abilities,
        title=_("Proposition de remontée"),
        form=form,
        submit=_("Enregistrer la décision"),
        intro=proposal.rule.name,
    )
    return render(request, "events/event_action.html", context, status=status)


# --- Main courante ------------------------------------------------------------------------------


def _restricted_choice_allowed(form: Any, abilities: dict[str, bool]) -> None:
    """Only readers of restricted entries may write one."""
    if not abilities.get("view_restricted"):
        field = form.fields["confidentiality"]
        field.choices = [c for c in field.choices if c[0] != Confidentiality.RESTRICTED]


def _entry_list_context(request: HttpRequest, queryset: Any) -> dict[str, Any]:
    form = forms.JournalFilterForm(request.GET or None)
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        queryset = filter_entries_by(
            queryset,
            kind=data["kind"],
            channel=data["channel"],
            qualification=data["qualification"],
            highlights=data["highlights"],
            text=data["q"].strip(),
            start=data["start"],
            end=data["end"],
        )
    elif form.is_bound:
        queryset = queryset.none()
    page = Paginator(queryset.order_by("-seq"), ENTRIES_PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return {"filter_form": form, "page": page, "query": query.urlencode()}


@require_safe
@login_required
def journal_list(request: HttpRequest, event_id: int) -> HttpResponse:
    event, abilities = _event_and_abilities(request, event_id)
    context = _event_context(
        event,
        abilities,
        title=_("Main courante — %(title)s") % {"title": event.title},
        **_entry_list_context(request, entries_for_reader(event, abilities)),
    )
    return render(request, "events/journal_list.html", context)


def _add_entry(
    request: HttpRequest, chain: JournalChain, abilities: dict[str, bool], form: Any
) -> tuple[Any, int]:
    """Validate and write an entry from ``form``; (entry or None, status)."""
    if not form.is_valid():
        return None, 400
    data = form.cleaned_data
    try:
        entry = do_add_entry(
            request.user,
            chain,
            kind=data["kind"],
            text=data["text"],
            channel=data["channel"],
            occurred_at=data["occurred_at"],
            confidentiality=data["confidentiality"],
            organisation=acting_organisation(request.user),
            is_highlight=bool(data.get("is_highlight")) and bool(abilities.get("qualify")),
            files=data["attachments"],
            request=request,
        )
    except RuleError as error:
        field = getattr(error, "field", "") or None
        form.add_error(field if field in form.fields else None, str(error))
        return None, error_status(error)
    return entry, 201


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def journal_add(request: HttpRequest, event_id: int) -> HttpResponse:
    event, abilities = _event_and_abilities(request, event_id, "write_journal")
    form = forms.EntryForm(request.POST or None, request.FILES or None)
    _restricted_choice_allowed(form, abilities)
    status = 200
    if request.method == "POST":
        entry, status = _add_entry(request, chain_for_event(event), abilities, form)
        if entry is not None:
            messages.success(request, _("Entrée n° %(seq)s enregistrée.") % {"seq": entry.seq})
            return redirect("events:journal", event.pk)
    context = _event_context(event, abilities, title=_("Nouvelle entrée"), form=form)
    return render(request, "events/journal_entry_form.html", context, status=status)


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def journal_correct(request: HttpRequest, event_id: int, entry_id: int) -> HttpResponse:
    event, abilities = _event_and_abilities(request, event_id, "write_journal")
    chain = chain_for_event(event)
    entry = access_entry_in_chain(request.user, chain.pk, entry_id, abilities)
    if entry.author_id != request.user.pk and not abilities.get("qualify"):
        raise PermissionDenied
    form = forms.CorrectionForm(request.POST or None, initial={"text": entry.text})
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                correction = do_correct_entry(
                    request.user,
                    entry,
                    text=form.cleaned_data["text"],
                    reason=form.cleaned_data["reason"],
                    organisation=acting_organisation(request.user),
                    request=request,
                )
            except RuleError as error:
                field = getattr(error, "field", "") or None
                form.add_error(field if field in form.fields else None, str(error))
                status = error_status(error)
            else:
                messages.success(
                    request,
                    _("Correction enregistrée (entrée n° %(seq)s).") % {"seq": correction.seq},
                )
                return redirect("events:journal", event.pk)
    context = _event_context(
        event, abilities, title=_("Corriger l'entrée n° %(seq)s") % {"seq": entry.seq}
    )
    context.update(form=form, entry=entry)
    return render(request, "events/journal_correct.html", context, status=status)


def _pin(request: HttpRequest, event_id: int, entry_id: int, *, pin: bool) -> HttpResponse:
    event, abilities = _event_and_abilities(request, event_id, "qualify")
    chain = chain_for_event(event)
    entry = access_entry_in_chain(request.user, chain.pk, entry_id, abilities)
    try:
        action = do_pin_entry if pin else do_unpin_entry
        action(request.user, entry, organisation=acting_organisation(request.user), request=request)
    except RuleError as error:
        messages.error(request, str(error))
        response = redirect("events:journal", event.pk)
        response.status_code = 303
        return response
    messages.success(request, _("Fait marquant épinglé.") if pin else _("Fait marquant retiré."))
    return redirect("events:journal", event.pk)


@require_POST
@login_required
def journal_pin(request: HttpRequest, event_id: int, entry_id: int) -> HttpResponse:
    return _pin(request, event_id, entry_id, pin=True)


@require_POST
@login_required
def journal_unpin(request: HttpRequest, event_id: int, entry_id: int) -> HttpResponse:
    return _pin(request, event_id, entry_id, pin=False)


def serve_attachment(attachment: Attachment) -> FileResponse:
    """The stored file as a download with safe headers (S26)."""
    try:
        handle = storage_path(attachment.storage_name).open("rb")
    except (OSError, AttachmentError):
        raise Http404 from None
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=attachment.filename,
        content_type=attachment.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "sandbox"
    response["Cache-Control"] = "private, no-store"
    return response


@require_safe
@login_required
def attachment_download(request: HttpRequest, event_id: int, attachment_id: int) -> FileResponse:
    event, abilities = _event_and_abilities(request, event_id)
    chain = JournalChain.objects.filter(event=event).first()
    if chain is None:
        raise Http404
    return serve_attachment(
        access_attachment_in_chain(request.user, chain.pk, attachment_id, abilities)
    )


@require_safe
@login_required
def journal_export(request: HttpRequest, event_id: int, fmt: str) -> HttpResponse:
    event, abilities = _event_and_abilities(request, event_id)
    export = export_chain(request.user, chain_for_event(event), abilities, fmt, request=request)
    response = HttpResponse(export.content, content_type=export.content_type)
    response["Content-Disposition"] = f'attachment; filename="{export.filename}"'
    response["Cache-Control"] = "private, no-store"
    return response


@require_safe
@login_required
def journal_verify(request: HttpRequest, event_id: int) -> HttpResponse:
    event, abilities = _event_and_abilities(request, event_id)
    report = verify_chain_report(chain_for_event(event))
    context = _event_context(
        event, abilities, title=_("Vérification de la main courante"), report=report
    )
    return render(request, "events/journal_verify.html", context)


# --- Watch logs (main courante de veille) -------------------------------------------------------


@require_safe
@login_required
def watch_list(request: HttpRequest) -> HttpResponse:
    context = {
        "title": _("Mains courantes de veille"),
        "nav": "events",
        "territories": watch_territories_of(request.user),
    }
    return render(request, "events/watch_list.html", context)


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def watch_log(request: HttpRequest, territory_id: int) -> HttpResponse:
    territory = access_watch_territory(request.user, territory_id)
    abilities = get_watch_abilities(request.user, territory)
    form = forms.EntryForm(request.POST or None, request.FILES or None)
    del form.fields["is_highlight"]  # faits marquants belong to events
    _restricted_choice_allowed(form, abilities)
    status = 200
    if request.method == "POST":
        if not abilities["write_journal"]:
            raise PermissionDenied
        entry, status = _add_entry(request, watch_chain_for(territory), abilities, form)
        if entry is not None:
            messages.success(request, _("Entrée n° %(seq)s enregistrée.") % {"seq": entry.seq})
            return redirect("events:watch", territory.pk)
    chain = JournalChain.objects.filter(event=None, territory=territory).first()
    listing = (
        _entry_list_context(request, chain_entries_for_reader(chain.pk, abilities))
        if chain is not None
        else {"page": None, "filter_form": forms.JournalFilterForm(), "query": ""}
    )
    context = {
        "title": _("Main courante de veille — %(name)s") % {"name": territory.name},
        "nav": "events",
        "territory": territory,
        "abilities": abilities,
        "form": form,
        **listing,
    }
    return render(request, "events/watch_log.html", context, status=status)


@require_safe
@login_required
def watch_attachment(request: HttpRequest, territory_id: int, attachment_id: int) -> FileResponse:
    territory = access_watch_territory(request.user, territory_id)
    abilities = get_watch_abilities(request.user, territory)
    chain = JournalChain.objects.filter(event=None, territory=territory).first()
    if chain is None:
        raise Http404
    return serve_attachment(
        access_attachment_in_chain(request.user, chain.pk, attachment_id, abilities)
    )
