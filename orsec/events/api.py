"""Events and main courante API (``/api/v1/events…``, ``/api/v1/escalations…``).

Thin endpoints: verb → parse (schemas) → access (404 for absent *and* forbidden) → ability
(403) → action → serialise. Rule errors map to 409 (state conflict), 422 (content refused) or
400 with their stable codes (:mod:`orsec.events.errors`). Journal endpoints live here because the
journal app sits below events and never decides event access.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from pydantic import field_validator

from orsec.core.api import ApiError, cursor_page, principal, require_verb
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
    do_share_event,
)
from orsec.events.errors import RuleError, error_code, error_status
from orsec.events.models import (
    EscalationProposal,
    Event,
    EventCommune,
    EventType,
    Mode,
    Phase,
    Visibility,
)
from orsec.events.queries import entries_for_reader, filter_entries_by, filter_events
from orsec.journal.access import watch_territories_of
from orsec.journal.actions import (
    MAX_REASON_LENGTH,
    MAX_TEXT_LENGTH,
    acting_organisation,
    do_add_entry,
)
from orsec.journal.chain import chain_for_event
from orsec.journal.export import audit_export, build_json
from orsec.journal.models import (
    Channel,
    Confidentiality,
    EntryKind,
    JournalEntry,
    QualificationState,
)
from orsec.journal.verify import verify_chain_report
from orsec.territories.models import Territory

router = Router(tags=["Événements et main courante"])

MAX_LIMIT = 200
MAX_ID = 2**31 - 1

UserChannel = Literal["phone", "radio", "email", "field", "portal", "api", "partner", "fax"]
UserKind = Literal[
    "information", "decision", "request", "action", "bilan", "situation", "incoming", "outgoing"
]


def _rule_error(error: Exception) -> ApiError:
    return ApiError(error_status(error), error_code(error), str(error))


def _event(request: HttpRequest, event_id: int, need: str | None = None) -> tuple[Event, dict]:
    user = principal(request)
    event = access_event_by_id(user, event_id)
    abilities = get_event_abilities(user, event)
    if need is not None and not abilities.get(need):
        raise ApiError(403, "permission_denied", _("Vous n'avez pas les droits pour cette action."))
    return event, abilities


class InSchema(Schema):
    """Input schemas: no NUL character in any string (PostgreSQL refuses them)."""

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        if isinstance(value, str) and "\x00" in value:
            raise ValueError("caractère nul interdit")
        return value


# --- Schemas ------------------------------------------------------------------------------------


class TerritoryRef(Schema):
    kind: str
    code: str
    name: str


class EventSummaryOut(Schema):
    id: int
    title: str
    event_type: str
    event_type_label: str
    mode: str
    mode_marker: str = Field(description="« EXERCICE », « TEST » ou vide pour un événement réel")
    gravity: int
    phase: str
    phase_label: str
    visibility: str
    territory: TerritoryRef
    opened_at: datetime
    closed_at: datetime | None
    is_open: bool

    @staticmethod
    def resolve_event_type_label(obj: Event) -> str:
        return str(obj.get_event_type_display())

    @staticmethod
    def resolve_phase_label(obj: Event) -> str:
        return str(obj.get_phase_display())

    @staticmethod
    def resolve_mode_marker(obj: Event) -> str:
        return obj.mode_marker()


class CommuneOut(Schema):
    code: str
    name: str


class EventOut(EventSummaryOut):
    description: str
    director: str
    location: dict[str, Any] | None
    communes: list[CommuneOut]
    final_summary: str
    revision: int
    parent_id: int | None
    abilities: dict[str, bool]

    @staticmethod
    def resolve_communes(obj: Event) -> list[dict[str, str]]:
        return list(getattr(obj, "api_communes", []))

    @staticmethod
    def resolve_abilities(obj: Event) -> dict[str, bool]:
        return dict(getattr(obj, "api_abilities", {}))


class EventPage(Schema):
    items: list[EventSummaryOut]
    next_cursor: str | None


class EventFilters(InSchema):
    mode: Mode = Field(Mode.REAL, description="Un seul mode à la fois : jamais mélangés")
    phase: Phase | None = None
    open: bool | None = Field(None, description="Vrai : en cours ; faux : clos ; absent : tous")
    cursor: str | None = Field(None, max_length=40)
    limit: int = Field(50, ge=1, le=MAX_LIMIT)


class GeometryIn(InSchema):
    type: Literal["Point", "Polygon"]
    coordinates: list[Any] = Field(..., max_length=50)


class EventIn(InSchema):
    title: str = Field(..., min_length=1, max_length=200)
    event_type: EventType
    mode: Mode = Mode.REAL
    gravity: int = Field(1, ge=1, le=5)
    phase: Phase = Phase.WATCH
    territory_code: str | None = Field(
        None,
        max_length=10,
        description="Code du territoire responsable parmi les vôtres (défaut : le premier)",
    )
    description: str = Field("", max_length=MAX_TEXT_LENGTH)
    director: str = Field("", max_length=200)
    location: GeometryIn | None = None
    parent_id: int | None = Field(
        None, ge=1, le=2**53, description="Événement parent (visible par vous, ouvert, même mode)"
    )


class PhaseIn(InSchema):
    phase: Phase
    reason: str = Field(..., min_length=1, max_length=MAX_REASON_LENGTH)


class GravityIn(InSchema):
    gravity: int = Field(..., ge=1, le=5)
    reason: str = Field("", max_length=MAX_REASON_LENGTH)


class ShareIn(InSchema):
    visibility: Literal["zone", "national"]
    reason: str = Field(..., min_length=1, max_length=MAX_REASON_LENGTH)


class CloseIn(InSchema):
    final_summary: str = Field("", max_length=MAX_TEXT_LENGTH)


class ReopenIn(InSchema):
    reason: str = Field(..., min_length=1, max_length=MAX_REASON_LENGTH)


class AttachmentOut(Schema):
    id: int
    filename: str
    content_type: str
    size: int
    sha256: str


class EntryOut(Schema):
    id: int
    seq: int
    mode: str
    occurred_at: datetime
    recorded_at: datetime
    author: str
    organisation: str
    channel: str
    kind: str
    text: str
    qualification: str
    confidentiality: str
    corrects: int | None = Field(description="Numéro (seq) de l'entrée corrigée")
    corrected_by: list[int] = Field(description="Numéros (seq) des corrections visibles")
    highlight: bool
    subject: str
    attachments: list[AttachmentOut]
    prev_hash: str
    hash: str

    @staticmethod
    def resolve_author(obj: JournalEntry) -> str:
        return obj.author_label

    @staticmethod
    def resolve_organisation(obj: JournalEntry) -> str:
        return obj.organisation_label

    @staticmethod
    def resolve_corrects(obj: JournalEntry) -> int | None:
        return obj.corrects.seq if obj.corrects_id and obj.corrects else None

    @staticmethod
    def resolve_corrected_by(obj: JournalEntry) -> list[int]:
        return [c.seq for c in obj.corrections.all()]

    @staticmethod
    def resolve_highlight(obj: JournalEntry) -> bool:
        return bool(obj.is_highlight or getattr(obj, "pinned", False))

    @staticmethod
    def resolve_subject(obj: JournalEntry) -> str:
        return f"{obj.subject_type}:{obj.subject_id}" if obj.subject_type else ""

    @staticmethod
    def resolve_attachments(obj: JournalEntry) -> list[Any]:
        return list(obj.attachments.all())


class EntryPage(Schema):
    items: list[EntryOut]
    next_cursor: str | None


class EntryFilters(InSchema):
    kind: EntryKind | None = None
    channel: Channel | None = None
    qualification: QualificationState | None = None
    highlights: bool = False
    q: str = Field("", max_length=100)
    cursor: str | None = Field(None, max_length=40)
    limit: int = Field(50, ge=1, le=MAX_LIMIT)


class EntryIn(InSchema):
    kind: UserKind = "information"
    channel: UserChannel = "api"
    text: str = Field(..., max_length=MAX_TEXT_LENGTH)
    occurred_at: datetime | None = Field(
        None, description="Avec fuseau horaire ; ni dans le futur, ni avant l'ouverture moins 24 h"
    )
    confidentiality: Confidentiality = Confidentiality.INTERNAL


class ProblemOut(Schema):
    seq: int | None
    reason: str


class VerifyOut(Schema):
    ok: bool
    checked: int
    problem: ProblemOut | None


class ExportHead(Schema):
    last_seq: int
    last_hash: str


class ExportRow(Schema):
    v: int | None
    chain: int | None
    seq: int
    event: int | None
    territory: str | None
    mode: str | None
    occurred_at: str | None
    recorded_at: str | None
    author: str | None
    organisation: str | None
    channel: str | None
    kind: str | None
    text: str | None
    qualification: str | None
    confidentiality: str | None
    corrects: int | None
    highlight: bool | None
    subject: str | None
    data: Any
    attachments: list[str] | None
    prev_hash: str
    hash: str
    redacted: bool
    marker: str


class ExportOut(Schema):
    format: str
    format_version: int
    hash_version: int
    hash_algorithm: str
    canonical_form: str
    canonical_fields: list[str]
    genesis_hash: str
    chain: int
    event: int | None
    event_title: str
    territory: str
    mode: str
    marker: str
    head: ExportHead
    redacted_entries: int
    exported_at: str
    entries: list[ExportRow]


class EscalationOut(Schema):
    id: int
    event_id: int
    rule: str
    target: str
    state: str
    proposed_at: datetime
    decided_at: datetime | None
    reason: str

    @staticmethod
    def resolve_rule(obj: EscalationProposal) -> str:
        return obj.rule.name


class EscalationDecisionIn(InSchema):
    accept: bool
    reason: str = Field("", max_length=MAX_REASON_LENGTH)


def _event_out(request: HttpRequest, event: Event, abilities: dict[str, bool]) -> Event:
    """The event with what :class:`EventOut` reads besides its fields."""
    links = EventCommune.objects.filter(event=event).select_related("commune")
    event.api_communes = [  # type: ignore[attr-defined]
        {"code": link.commune.code, "name": link.commune.name} for link in links[:500]
    ]
    event.api_abilities = abilities  # type: ignore[attr-defined]
    return event


# --- Events -------------------------------------------------------------------------------------


@router.get(
    "/events", response=EventPage, summary="Événements visibles", operation_id="events_list"
)
def list_events(request: HttpRequest, filters: Query[EventFilters]) -> dict[str, Any]:
    """One mode per call (réel by default): modes are never mixed; each item carries its marker."""
    require_verb(request, "events:read")
    state = "all" if filters.open is None else ("open" if filters.open else "closed")
    queryset = filter_events(
        events_visible_to(principal(request)),
        mode=filters.mode.value,
        phase=filters.phase.value if filters.phase else "",
        state=state,
    )
    items, next_cursor = cursor_page(queryset, filters.cursor, filters.limit)
    return {"items": items, "next_cursor": next_cursor}


@router.post(
    "/events",
    response={201: EventOut},
    summary="Ouvrir un événement",
    operation_id="events_open",
)
def open_event(request: HttpRequest, payload: EventIn) -> Status[Event]:
    require_verb(request, "events:write")
    user = principal(request)
    if not get_open_abilities(user)["open_event"]:
        raise ApiError(
            403, "permission_denied", _("Vous n'avez pas les droits pour ouvrir un événement.")
        )
    territories = watch_territories_of(user)
    territory: Territory | None
    if payload.territory_code:
        territory = territories.filter(code=payload.territory_code).first()
        if territory is None:
            raise ApiError(
                422,
                "invalid_territory",
                _("Le territoire « %(code)s » n'est pas l'un des vôtres.")
                % {"code": payload.territory_code},
            )
    else:
        territory = territories.first()
    if territory is None:
        raise ApiError(403, "permission_denied", _("Aucun territoire à votre main."))
    parent = None
    if payload.parent_id is not None:
        try:
            parent = access_event_by_id(user, payload.parent_id)
        except Http404:
            raise ApiError(
                422, "invalid_parent", _("Cet événement parent n'est pas accessible.")
            ) from None
    try:
        event = do_open_event(
            user,
            title=payload.title.strip(),
            event_type=payload.event_type.value,
            territory=territory,
            mode=payload.mode.value,
            gravity=payload.gravity,
            phase=payload.phase.value,
            description=payload.description,
            director=payload.director,
            location=payload.location.model_dump() if payload.location else None,
            parent=parent,
            organisation=acting_organisation(user),
            request=request,
        )
    except RuleError as error:
        raise _rule_error(error) from error
    event = access_event_by_id(user, event.pk)
    return Status(201, _event_out(request, event, get_event_abilities(user, event)))


@router.get(
    "/events/{event_id}", response=EventOut, summary="Un événement", operation_id="events_get"
)
def get_event(request: HttpRequest, event_id: int) -> Event:
    require_verb(request, "events:read")
    event, abilities = _event(request, event_id)
    return _event_out(request, event, abilities)


def _event_change(request: HttpRequest, event_id: int, need: str, change: Any) -> Event:
    require_verb(request, "events:write")
    event, _abilities = _event(request, event_id, need)
    user = principal(request)
    try:
        change(user, event)
    except RuleError as error:
        raise _rule_error(error) from error
    event = access_event_by_id(user, event_id)
    return _event_out(request, event, get_event_abilities(user, event))


@router.post(
    "/events/{event_id}/phase",
    response=EventOut,
    summary="Changer de phase",
    operation_id="events_phase",
)
def change_phase(request: HttpRequest, event_id: int, payload: PhaseIn) -> Event:
    return _event_change(
        request,
        event_id,
        "change_phase",
        lambda user, event: do_change_phase(
            user,
            event,
            payload.phase.value,
            reason=payload.reason.strip(),
            organisation=acting_organisation(user),
            request=request,
        ),
    )


@router.post(
    "/events/{event_id}/gravity",
    response=EventOut,
    summary="Changer la gravité",
    operation_id="events_gravity",
)
def change_gravity(request: HttpRequest, event_id: int, payload: GravityIn) -> Event:
    return _event_change(
        request,
        event_id,
        "change_gravity",
        lambda user, event: do_change_gravity(
            user,
            event,
            payload.gravity,
            reason=payload.reason.strip(),
            organisation=acting_organisation(user),
            request=request,
        ),
    )


@router.post(
    "/events/{event_id}/share",
    response=EventOut,
    summary="Partager (zone, national)",
    operation_id="events_share",
)
def share_event(request: HttpRequest, event_id: int, payload: ShareIn) -> Event:
    return _event_change(
        request,
        event_id,
        "decide_sharing",
        lambda user, event: do_share_event(
            user,
            event,
            Visibility(payload.visibility).value,
            reason=payload.reason.strip(),
            organisation=acting_organisation(user),
            request=request,
        ),
    )


@router.post(
    "/events/{event_id}/close",
    response=EventOut,
    summary="Clore (bilan final obligatoire)",
    operation_id="events_close",
)
def close_event(request: HttpRequest, event_id: int, payload: CloseIn) -> Event:
    return _event_change(
        request,
        event_id,
        "close",
        lambda user, event: do_close_event(
            user,
            event,
            payload.final_summary,
            organisation=acting_organisation(user),
            request=request,
        ),
    )


@router.post(
    "/events/{event_id}/reopen",
    response=EventOut,
    summary="Rouvrir (motif obligatoire)",
    operation_id="events_reopen",
)
def reopen_event(request: HttpRequest, event_id: int, payload: ReopenIn) -> Event:
    return _event_change(
        request,
        event_id,
        "reopen",
        lambda user, event: do_reopen_event(
            user, event, payload.reason, organisation=acting_organisation(user), request=request
        ),
    )


# --- Main courante ------------------------------------------------------------------------------


@router.get(
    "/events/{event_id}/journal",
    response=EntryPage,
    summary="Main courante (plus récentes d'abord)",
    operation_id="journal_list",
)
def list_entries(
    request: HttpRequest, event_id: int, filters: Query[EntryFilters]
) -> dict[str, Any]:
    require_verb(request, "journal:read")
    event, abilities = _event(request, event_id)
    queryset = filter_entries_by(
        entries_for_reader(event, abilities),
        kind=filters.kind.value if filters.kind else "",
        channel=filters.channel.value if filters.channel else "",
        qualification=filters.qualification.value if filters.qualification else "",
        highlights=filters.highlights,
        text=filters.q.strip(),
    )
    items, next_cursor = cursor_page(queryset, filters.cursor, filters.limit)
    return {"items": items, "next_cursor": next_cursor}


@router.post(
    "/events/{event_id}/journal",
    response={201: EntryOut},
    summary="Écrire une entrée (JSON, sans pièce jointe)",
    operation_id="journal_add",
)
def add_entry(request: HttpRequest, event_id: int, payload: EntryIn) -> Status[JournalEntry]:
    require_verb(request, "journal:write")
    event, abilities = _event(request, event_id, "write_journal")
    if payload.confidentiality == Confidentiality.RESTRICTED and not abilities["view_restricted"]:
        raise ApiError(
            403,
            "permission_denied",
            _("Vous ne pouvez pas écrire une entrée en diffusion restreinte."),
        )
    user = principal(request)
    try:
        entry = do_add_entry(
            user,
            chain_for_event(event),
            kind=payload.kind,
            text=payload.text,
            channel=payload.channel,
            occurred_at=payload.occurred_at,
            confidentiality=payload.confidentiality.value,
            organisation=acting_organisation(user),
            request=request,
        )
    except RuleError as error:
        raise _rule_error(error) from error
    return Status(201, entries_for_reader(event, abilities).get(pk=entry.pk))


@router.get(
    "/events/{event_id}/journal/verify",
    response=VerifyOut,
    summary="Vérifier le chaînage de la main courante",
    operation_id="journal_verify",
)
def verify_journal(request: HttpRequest, event_id: int) -> dict[str, Any]:
    require_verb(request, "journal:read")
    event, _abilities = _event(request, event_id)
    return verify_chain_report(chain_for_event(event))


@router.get(
    "/events/{event_id}/journal/export",
    response=ExportOut,
    summary="Export JSON vérifiable de la main courante",
    operation_id="journal_export",
)
def export_journal(request: HttpRequest, event_id: int) -> dict[str, Any]:
    require_verb(request, "journal:read")
    event, abilities = _event(request, event_id)
    chain = chain_for_event(event)
    document = build_json(chain, abilities)
    audit_export(principal(request), chain, abilities, "json", request=request)
    return document


# --- Escalations ----------------------------------------------------------------------------


@router.get(
    "/events/{event_id}/escalations",
    response=list[EscalationOut],
    summary="Propositions de remontée de l'événement",
    operation_id="events_escalations",
)
def list_escalations(request: HttpRequest, event_id: int) -> list[EscalationProposal]:
    require_verb(request, "events:read")
    event, _abilities = _event(request, event_id)
    return list(
        EscalationProposal.objects.filter(event=event)
        .select_related("rule")
        .order_by("-proposed_at", "-pk")[:MAX_LIMIT]
    )


@router.post(
    "/escalations/{proposal_id}/decision",
    response=EscalationOut,
    summary="Accepter ou refuser une proposition de remontée",
    operation_id="escalations_decide",
)
def decide_escalation(
    request: HttpRequest, proposal_id: int, payload: EscalationDecisionIn
) -> EscalationProposal:
    require_verb(request, "events:write")
    user = principal(request)
    event_id = (
        EscalationProposal.objects.filter(pk=proposal_id).values_list("event_id", flat=True).first()
    )
    if event_id is None:
        raise ApiError(
            404,
            "not_found",
            _("Cette ressource n'existe pas ou vous n'avez pas les droits pour la consulter."),
        )
    _event(request, event_id, "decide_sharing")
    proposal = EscalationProposal.objects.get(pk=proposal_id)
    try:
        decided = do_decide_escalation(
            user,
            proposal,
            accept=payload.accept,
            reason=payload.reason.strip(),
            organisation=acting_organisation(user),
            request=request,
        )
    except RuleError as error:
        raise _rule_error(error) from error
    return EscalationProposal.objects.select_related("rule").get(pk=decided.pk)
