"""Plans API: list and read plans, export and import the ``orsec-plan/1`` JSON document, an
event's activation status, tick a checklist item.

Thin endpoints: verb → access (``plans.access`` / ``events.access``, 404 for another
territory's ids) → ability (403) → action (:class:`PlanError` → 409 for a conflict, 422 for a
rule, with the action's stable code and French message). A partner token reads with
``events:read`` and ticks with ``journal:write`` (a tick writes the main courante).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Path, Router, Schema, Status

from orsec.core.api import ApiError, principal, require_verb
from orsec.events.access import access_event_by_id
from orsec.plans.access import (
    access_item_by_id,
    access_plan_by_id,
    access_version_by_id,
    get_item_abilities,
    get_plan_abilities,
    may_create_plan,
    plans_visible_to,
)
from orsec.plans.actions import (
    CONFLICT_CODES,
    PlanError,
    do_create_plan,
    do_import_version,
    do_tick_item,
)
from orsec.plans.content import PlanContentError, serialize_version, validate_document
from orsec.plans.queries import active_activations, plan_rows, progress_by_actor
from orsec.territories.models import Territory

router = Router(tags=["Plans ORSEC"])

MAX_ID = 2**53
PlanId = Annotated[int, Path(ge=1, le=MAX_ID, description="Identifiant du plan")]
VersionId = Annotated[int, Path(ge=1, le=MAX_ID, description="Identifiant de la version")]
EventId = Annotated[int, Path(ge=1, le=MAX_ID, description="Identifiant de l'événement")]
ItemId = Annotated[int, Path(ge=1, le=MAX_ID, description="Identifiant de l'action")]


def _plan_error(error: PlanError) -> ApiError:
    return ApiError(409 if error.code in CONFLICT_CODES else 422, error.code, str(error))


def _content_error(error: PlanContentError) -> ApiError:
    return ApiError(422, error.code, str(error))


class VersionOut(Schema):
    id: int
    number: int
    state: str
    decree_number: str
    decree_date: date | None
    approved_at: datetime | None


class PlanOut(Schema):
    id: int
    title: str
    level: str
    territory: str
    territory_name: str
    review_due: date | None
    exercise_due: date | None
    exercise_overdue: bool
    review_is_due: bool


class PlanDetailOut(PlanOut):
    versions: list[VersionOut]
    abilities: dict[str, bool]


def _plan_out(plan: Any, today: date) -> dict[str, Any]:
    return {
        "id": plan.pk,
        "title": plan.title,
        "level": plan.level,
        "territory": plan.territory_path,
        "territory_name": plan.territory.name,
        "review_due": plan.review_due,
        "exercise_due": plan.exercise_due(),
        "exercise_overdue": plan.exercise_overdue(today),
        "review_is_due": plan.review_is_due(today),
    }


@router.get("/plans", response=list[PlanOut], summary="Plans visibles")
def list_plans(request: HttpRequest) -> list[dict[str, Any]]:
    require_verb(request, "events:read")
    today = timezone.localdate()
    rows = plan_rows(plans_visible_to(principal(request)).order_by("territory_path", "pk"), today)
    return [_plan_out(row.plan, today) for row in rows]


@router.get("/plans/{int:plan_id}", response=PlanDetailOut, summary="Un plan et ses versions")
def get_plan(request: HttpRequest, plan_id: PlanId) -> dict[str, Any]:
    require_verb(request, "events:read")
    user = principal(request)
    plan = access_plan_by_id(user, plan_id)
    data = _plan_out(plan, timezone.localdate())
    data["versions"] = list(plan.versions.order_by("-number"))
    data["abilities"] = get_plan_abilities(user, plan)
    return data


@router.get(
    "/plans/versions/{int:version_id}/export",
    response=dict[str, Any],
    summary="Exporter une version (orsec-plan/1)",
)
def export_version(request: HttpRequest, version_id: VersionId) -> dict[str, Any]:
    require_verb(request, "events:read")
    return serialize_version(access_version_by_id(principal(request), version_id))


class ImportIn(Schema):
    territory_id: int | None = Field(
        None, ge=1, le=MAX_ID, description="Territoire du nouveau plan (sans plan_id)"
    )
    plan_id: int | None = Field(
        None, ge=1, le=MAX_ID, description="Plan existant : le document devient une version"
    )
    document: dict[str, Any] = Field(..., description="Document orsec-plan/1")


class ImportOut(Schema):
    plan_id: int
    version_id: int
    number: int


@router.post(
    "/plans/import",
    response={201: ImportOut},
    summary="Importer un plan ou une nouvelle version (orsec-plan/1)",
)
def import_plan(request: HttpRequest, payload: ImportIn) -> Status[dict[str, Any]]:
    require_verb(request, "events:write")
    user = principal(request)
    try:
        document = validate_document(payload.document)
    except PlanContentError as error:
        raise _content_error(error) from error
    try:
        if payload.plan_id is not None:
            plan = access_plan_by_id(user, payload.plan_id)
            if not get_plan_abilities(user, plan)["edit"]:
                raise ApiError(403, "permission_denied", _("Vous ne pouvez pas modifier ce plan."))
            version = do_import_version(user, plan, document, request=request)
        else:
            territory = Territory.objects.filter(pk=payload.territory_id or 0).first()
            if territory is None or not may_create_plan(user, territory, document["level"]):
                raise ApiError(
                    403,
                    "permission_denied",
                    _("Vous ne pouvez pas créer de plan de ce niveau sur ce territoire."),
                )
            plan = do_create_plan(user, document, territory=territory, request=request)
            version = plan.versions.get()
    except PlanError as error:
        raise _plan_error(error) from error
    return Status(201, {"plan_id": plan.pk, "version_id": version.pk, "number": version.number})


class ActorProgressOut(Schema):
    organisation_id: int | None
    label: str
    done: int
    total: int


class ActivationOut(Schema):
    id: int
    plan_id: int
    plan: str
    version_id: int
    version: int
    sections: list[str]
    activated_at: datetime


class ActivationStatusOut(Schema):
    event_id: int
    activations: list[ActivationOut]
    progress: list[ActorProgressOut]


@router.get(
    "/events/{int:event_id}/plans",
    response=ActivationStatusOut,
    summary="Plans activés sur un événement et avancement par acteur",
)
def activation_status(request: HttpRequest, event_id: EventId) -> dict[str, Any]:
    require_verb(request, "events:read")
    event = access_event_by_id(principal(request), event_id)
    return {
        "event_id": event.pk,
        "activations": [
            {
                "id": a.pk,
                "plan_id": a.version.plan_id,
                "plan": a.version.plan.title,
                "version_id": a.version_id,
                "version": a.version.number,
                "sections": [s.title for s in a.sections.all()],
                "activated_at": a.activated_at,
            }
            for a in active_activations(event)
        ],
        "progress": [row.__dict__ for row in progress_by_actor(event)],
    }


class TickIn(Schema):
    done: bool
    expected_revision: int = Field(..., ge=0, le=2**31)
    comment: str = Field("", max_length=2000)


class ItemOut(Schema):
    id: int
    done: bool
    revision: int
    done_at: datetime | None
    organisation_id: int | None


@router.post(
    "/plans/checklist-items/{int:item_id}/tick",
    response=ItemOut,
    summary="Cocher (ou décocher) une action d'une fiche réflexe",
)
def tick_item(request: HttpRequest, item_id: ItemId, payload: TickIn) -> Any:
    require_verb(request, "journal:write")
    user = principal(request)
    item, event = access_item_by_id(user, item_id)
    if not get_item_abilities(user, item, event)["tick"]:
        raise ApiError(
            403, "permission_denied", _("Cette action n'est pas assignée à votre organisation.")
        )
    try:
        return do_tick_item(
            user,
            item,
            done=payload.done,
            expected_revision=payload.expected_revision,
            comment=payload.comment,
            request=request,
        )
    except PlanError as error:
        raise _plan_error(error) from error
