"""SITREP API: an event's SITREPs, one SITREP (with its hash for verification), its PDF, and
approval. Thin endpoints: verb → access (404 for another territory's ids) → ability (403) →
action (``SitrepError`` → its status: 409 for a conflict such as a double approval, 422 for
refused content)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from django.http import FileResponse, HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Path, Router, Schema

from orsec.core.api import ApiError, principal, require_verb
from orsec.events.access import access_event_by_id
from orsec.sitreps.access import access_sitrep_by_id, get_sitrep_abilities, sitreps_of_event_for
from orsec.sitreps.actions import SitrepError, do_approve_sitrep
from orsec.sitreps.models import Sitrep
from orsec.sitreps.views import serve_pdf

router = Router(tags=["Points de situation"])

MAX_ID = 2**53
EventId = Annotated[int, Path(ge=1, le=MAX_ID, description="Identifiant de l'événement")]
SitrepId = Annotated[int, Path(ge=1, le=MAX_ID, description="Identifiant du point de situation")]


class SitrepSummaryOut(Schema):
    id: int
    event_id: int | None
    number: int
    state: str
    emitting_level: str
    emitting_path: str
    emitter: str
    mode: str
    period_start: datetime
    period_end: datetime
    frozen_at: datetime | None
    frozen_hash: str
    pdf_available: bool

    @staticmethod
    def resolve_emitter(obj: Sitrep) -> str:
        return obj.emitting_label

    @staticmethod
    def resolve_pdf_available(obj: Sitrep) -> bool:
        return obj.pdf_id is not None and obj.state == "frozen"


class SitrepOut(SitrepSummaryOut):
    title: str
    revision: int
    sections: dict[str, str]
    figures: list[dict[str, Any]]
    next_point_at: datetime | None
    approved_at: datetime | None
    approved_by: str
    pdf_sha256: str | None
    canonical: dict[str, Any] | None = Field(
        None, description="Contenu figé exact couvert par l'empreinte SHA-256 (JSON canonique)"
    )

    @staticmethod
    def resolve_sections(obj: Sitrep) -> dict[str, str]:
        return {name: text for name, _title, text in obj.sections()}

    @staticmethod
    def resolve_approved_by(obj: Sitrep) -> str:
        return obj.approved_by_label

    @staticmethod
    def resolve_pdf_sha256(obj: Sitrep) -> str | None:
        return obj.pdf.sha256 if obj.pdf_id and obj.pdf else None

    @staticmethod
    def resolve_canonical(obj: Sitrep) -> dict[str, Any] | None:
        return obj.canonical() if obj.state == "frozen" else None


class SitrepListOut(Schema):
    items: list[SitrepSummaryOut]


class ApproveIn(Schema):
    expected_revision: int | None = Field(None, ge=0, le=2**31)


@router.get(
    "/events/{event_id}/sitreps",
    response=SitrepListOut,
    summary="Points de situation d'un événement",
    operation_id="sitreps_list",
)
def list_sitreps(request: HttpRequest, event_id: EventId) -> dict[str, Any]:
    """The event's SITREPs the caller may see (drafts only for the emitting territory)."""
    require_verb(request, "events:read")
    user = principal(request)
    event = access_event_by_id(user, event_id)
    return {"items": sitreps_of_event_for(user, event)}


@router.get(
    "/sitreps/{sitrep_id}",
    response=SitrepOut,
    summary="Un point de situation",
    operation_id="sitreps_get",
)
def get_sitrep(request: HttpRequest, sitrep_id: SitrepId) -> Sitrep:
    """A SITREP; once frozen, ``canonical`` is the exact JSON its SHA-256 hash covers."""
    require_verb(request, "events:read")
    return access_sitrep_by_id(principal(request), sitrep_id)


@router.get(
    "/sitreps/{sitrep_id}/pdf",
    summary="Document PDF d'un point de situation figé",
    operation_id="sitreps_pdf",
    response={200: None},
)
def get_sitrep_pdf(request: HttpRequest, sitrep_id: SitrepId) -> FileResponse:
    require_verb(request, "events:read")
    user = principal(request)
    sitrep = access_sitrep_by_id(user, sitrep_id)
    if not get_sitrep_abilities(user, sitrep)["download"]:
        raise ApiError(
            409, "not_frozen", _("Ce point de situation n'est pas encore figé : pas de document.")
        )
    return serve_pdf(sitrep)


@router.post(
    "/sitreps/{sitrep_id}/approve",
    response=SitrepOut,
    summary="Approuver (puis figer et transmettre) un point de situation",
    operation_id="sitreps_approve",
)
def approve_sitrep(request: HttpRequest, sitrep_id: SitrepId, payload: ApproveIn) -> Sitrep:
    """The director's staff approve a draft; it is frozen and sent up at once. A second approval
    (even concurrent) gets 409 ``already_approved``."""
    require_verb(request, "events:write")
    user = principal(request)
    sitrep = access_sitrep_by_id(user, sitrep_id)
    abilities = get_sitrep_abilities(user, sitrep)
    if not abilities["approve"] and sitrep.approved_at is None:
        raise ApiError(
            403, "approve_denied", _("Seul le cabinet du préfet approuve ce point de situation.")
        )
    try:
        do_approve_sitrep(
            user, sitrep, expected_revision=payload.expected_revision, request=request
        )
    except SitrepError as error:
        raise ApiError(error.status, error.code, str(error)) from None
    return access_sitrep_by_id(user, sitrep.pk)
