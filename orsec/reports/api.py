"""Field reports API: submit, list, read, qualify, and an event's key figures.

Thin endpoints: verb → access (``events.access`` / ``reports.access``, 404 for another
territory's ids) → ability (403) → action (``ReportError`` → 409 for a conflict or a final
state, 422 otherwise, with the action's stable code and French message).

The submission contract (``POST /events/{event_id}/reports``) is used by ``bench/ingest.py``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Path, Query, Router, Schema, Status
from pydantic import StrictInt

from orsec.accounts.models import User
from orsec.core.api import ApiError, cursor_page, principal, require_verb
from orsec.events.access import access_event_by_id, get_event_abilities
from orsec.journal.models import Channel
from orsec.reports.access import (
    access_report_by_id,
    get_report_abilities,
    may_qualify,
    reports_visible_to,
)
from orsec.reports.actions import (
    ReportError,
    do_assign_report,
    do_confirm_report,
    do_grade_report,
    do_merge_reports,
    do_refute_report,
    do_start_check,
    do_submit_report,
)
from orsec.reports.models import (
    MAX_TEXT,
    FieldReport,
    Priority,
    Reliability,
    ReportState,
    Template,
)
from orsec.reports.queries import key_figures

router = Router(tags=["Remontées d'information"])

MAX_ID = 2**53
MAX_LIMIT = 200
#: ReportError codes answered with 409 (the report changed or is final), the rest with 422.
CONFLICT_CODES = frozenset({"conflict", "already_final", "invalid_transition", "duplicate"})

EventId = Annotated[int, Path(ge=1, le=MAX_ID, description="Identifiant de l'événement")]
ReportId = Annotated[int, Path(ge=1, le=MAX_ID, description="Identifiant de la remontée")]
Count = Annotated[StrictInt, Field(ge=-(2**31), le=2**31)]
FigureValue = (
    Count
    | None
    | Annotated[list[Annotated[str, Field(max_length=200)]], Field(max_length=50)]
    | Annotated[dict[str, Count | None], Field(max_length=4)]
)


def _api_error(error: ReportError) -> ApiError:
    status = 409 if error.code in CONFLICT_CODES else 422
    return ApiError(status, error.code, str(error))


# --- Schemas --------------------------------------------------------------------------------


class PointIn(Schema):
    type: Literal["Point"]
    coordinates: list[float] = Field(..., min_length=2, max_length=3)


class ReportIn(Schema):
    template: Template
    text: str = Field("", max_length=MAX_TEXT)
    occurred_at: datetime | None = Field(
        None, description="Heure de l'observation (avec fuseau) ; maintenant par défaut"
    )
    location: PointIn | None = None
    figures: dict[Annotated[str, Field(max_length=60)], FigureValue] = Field(
        default_factory=dict,
        max_length=20,
        description=(
            "Chiffres du modèle : casualties (dead, absolute, relative, involved, missing, "
            "evacuated, sheltered), networks (homes_without_power, homes_without_water, "
            "homes_without_phone, roads_closed, roads_closed_list), evacuation (evacuated, "
            "sheltered, shelters_open), resources ({service: {personnel, vehicles}}), "
            "general (aucun). Entiers de 0 à 1 000 000."
        ),
    )
    channel: Channel = Channel.API


class ReportOut(Schema):
    id: int
    event_id: int | None
    mode: str
    template: str
    template_label: str
    figures: dict[str, Any]
    text: str
    location: dict[str, Any] | None
    occurred_at: datetime
    created_at: datetime
    author: str
    organisation_id: int | None
    organisation: str
    channel: str
    state: str
    state_label: str
    reliability: str
    credibility: int | None
    priority: str
    assigned_to_id: int | None
    duplicate_of_id: int | None
    refute_reason: str
    revision: int
    entry_id: int | None
    abilities: dict[str, bool]

    @staticmethod
    def resolve_template_label(obj: FieldReport) -> str:
        return str(obj.get_template_display())

    @staticmethod
    def resolve_state_label(obj: FieldReport) -> str:
        return str(obj.get_state_display())

    @staticmethod
    def resolve_author(obj: FieldReport) -> str:
        return obj.author_label

    @staticmethod
    def resolve_organisation(obj: FieldReport) -> str:
        org = obj.organisation
        return (org.short_name or org.name) if org is not None else ""

    @staticmethod
    def resolve_abilities(obj: FieldReport, context: dict[str, Any]) -> dict[str, bool]:
        return get_report_abilities(principal(context["request"]), obj)


class ReportPage(Schema):
    items: list[ReportOut]
    next_cursor: str | None


class ReportFilters(Schema):
    state: ReportState | None = None
    template: Template | None = None
    cursor: str | None = Field(None, max_length=40)
    limit: int = Field(50, ge=1, le=MAX_LIMIT)


class QualificationIn(Schema):
    action: Literal["start_check", "confirm", "refute", "assign", "merge", "grade"]
    expected_revision: int = Field(
        ..., ge=0, le=2**31, description="La révision lue : 409 si quelqu'un a agi entre-temps"
    )
    reason: str = Field("", max_length=1000)
    reliability: Reliability | None = None
    credibility: int | None = Field(None, ge=1, le=6)
    priority: Priority | None = None
    assignee_id: int | None = Field(
        None, ge=1, le=MAX_ID, description="assign : la personne ; absent = retirer l'attribution"
    )
    duplicate_of_id: int | None = Field(None, ge=1, le=MAX_ID, description="merge : l'original")


class KeyFigureOut(Schema):
    key: str
    label: str
    value: int
    report_id: int
    organisation: str
    occurred_at: datetime


class KeyFiguresOut(Schema):
    event_id: int
    mode: str
    items: list[KeyFigureOut]


# --- Endpoints ------------------------------------------------------------------------------


@router.post(
    "/events/{event_id}/reports",
    response={201: ReportOut},
    summary="Déposer une remontée d'information",
    operation_id="reports_submit",
)
def submit_report(request: HttpRequest, event_id: EventId, payload: ReportIn) -> Any:
    require_verb(request, "reports:write")
    user = principal(request)
    event = access_event_by_id(user, event_id)
    if not get_event_abilities(user, event)["submit_report"]:
        raise ApiError(
            403, "submit_denied", _("Vous ne pouvez pas déposer de remontée sur cet événement.")
        )
    try:
        report = do_submit_report(
            user,
            event=event,
            template=payload.template.value,
            figures=payload.figures,
            text=payload.text,
            location=payload.location.model_dump() if payload.location else None,
            occurred_at=payload.occurred_at,
            channel=payload.channel.value,
            request=request,
        )
    except ReportError as error:
        raise _api_error(error) from None
    return Status(201, report)


@router.get(
    "/events/{event_id}/reports",
    response=ReportPage,
    summary="Remontées d'un événement",
    operation_id="reports_list",
)
def list_reports(
    request: HttpRequest, event_id: EventId, filters: Query[ReportFilters]
) -> dict[str, Any]:
    """The event's reports, newest first (cursor pagination), filtered by state and template."""
    require_verb(request, "reports:read")
    user = principal(request)
    event = access_event_by_id(user, event_id)
    queryset = reports_visible_to(user).filter(event=event).select_related("event", "organisation")
    if filters.state is not None:
        queryset = queryset.filter(state=filters.state.value)
    if filters.template is not None:
        queryset = queryset.filter(template=filters.template.value)
    items, next_cursor = cursor_page(queryset, filters.cursor, filters.limit)
    return {"items": items, "next_cursor": next_cursor}


@router.get(
    "/reports/{report_id}",
    response=ReportOut,
    summary="Une remontée d'information",
    operation_id="reports_get",
)
def get_report(request: HttpRequest, report_id: ReportId) -> FieldReport:
    require_verb(request, "reports:read")
    return access_report_by_id(principal(request), report_id)


def _required(value: Any, field: str, message: str) -> Any:
    if value is None or value == "":
        raise ApiError(422, f"{field}_required", message)
    return value


@router.post(
    "/reports/{report_id}/qualification",
    response=ReportOut,
    summary="Qualifier une remontée",
    operation_id="reports_qualify",
)
def qualify_report(request: HttpRequest, report_id: ReportId, payload: QualificationIn) -> Any:
    """One qualification action; ``expected_revision`` is the revision the caller read (a
    concurrent decision by someone else gives 409 ``conflict``)."""
    require_verb(request, "reports:qualify")
    user = principal(request)
    report = access_report_by_id(user, report_id)
    if not may_qualify(user, report):
        raise ApiError(403, "qualify_denied", _("Vous ne pouvez pas qualifier cette remontée."))
    common: dict[str, Any] = {"expected_revision": payload.expected_revision, "request": request}
    grading: dict[str, Any] = {
        "reliability": payload.reliability.value if payload.reliability else None,
        "credibility": payload.credibility,
        "priority": payload.priority.value if payload.priority else None,
    }
    try:
        if payload.action == "start_check":
            report = do_start_check(user, report, **common)
        elif payload.action == "confirm":
            report = do_confirm_report(user, report, **grading, **common)
        elif payload.action == "grade":
            report = do_grade_report(user, report, **grading, **common)
        elif payload.action == "refute":
            _required(payload.reason.strip(), "reason", _("Indiquez le motif de l'infirmation."))
            report = do_refute_report(user, report, payload.reason, **common)
        elif payload.action == "assign":
            assignee = None
            if payload.assignee_id is not None:
                assignee = _assignee(payload.assignee_id)
            report = do_assign_report(user, report, assignee, **common)
        else:
            into_id = _required(
                payload.duplicate_of_id,
                "duplicate_of_id",
                _("Indiquez la remontée originale (duplicate_of_id)."),
            )
            into = access_report_by_id(user, into_id)
            report = do_merge_reports(user, report, into, reason=payload.reason, **common)
    except ReportError as error:
        raise _api_error(error) from None
    return access_report_by_id(user, report.pk)


def _assignee(user_id: int) -> Any:
    assignee = User.objects.filter(pk=user_id, is_active=True).first()
    if assignee is None:
        raise ApiError(
            422, "invalid_assignee", _("Cette personne ne peut pas qualifier cette remontée.")
        )
    return assignee


@router.get(
    "/events/{event_id}/key-figures",
    response=KeyFiguresOut,
    summary="Chiffres clés confirmés d'un événement",
    operation_id="reports_key_figures",
)
def get_key_figures(request: HttpRequest, event_id: EventId) -> dict[str, Any]:
    """The latest confirmed value per category (never raw, refuted or duplicate reports)."""
    require_verb(request, "events:read")
    event = access_event_by_id(principal(request), event_id)
    return {"event_id": event.pk, "mode": event.mode, "items": key_figures(event)}
