"""Directory API (``/api/v1/organisations``): thin endpoints — parse, access, serialise.

Every fetch goes through :mod:`orsec.directory.access`; an organisation of another territory
answers the same 404 as an absent one. The principal is ``request.auth`` (the verified
portal user, or a partner token's service account whose token must hold ``directory:read``).
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from orsec.core.api import require_verb
from orsec.directory.access import access_organisation_by_id, get_organisation_abilities
from orsec.directory.models import ContactPoint, Organisation, OrganisationKind
from orsec.directory.queries import CONTACT_CARD_RELATED, search_organisations

router = Router(tags=["Annuaire"])

MAX_LIMIT = 200


def _principal(request: HttpRequest) -> Any:
    """Who calls: set by the API's authenticators (``config.api.API_AUTH``)."""
    return getattr(request, "auth", None)


class TerritoryOut(Schema):
    kind: str
    code: str
    name: str


class OrganisationSummaryOut(Schema):
    id: int
    name: str
    short_name: str
    kind: OrganisationKind
    kind_label: str
    territory: TerritoryOut
    parent_id: int | None

    @staticmethod
    def resolve_kind_label(obj: Organisation) -> str:
        return str(obj.get_kind_display())


class FunctionOut(Schema):
    id: int
    title: str
    description: str


class ContactPointOut(Schema):
    kind: str
    kind_label: str
    label: str
    value: str
    available_24_7: bool
    function: str | None

    @staticmethod
    def resolve_kind_label(obj: ContactPoint) -> str:
        return str(obj.get_kind_display())

    @staticmethod
    def resolve_function(obj: ContactPoint) -> str | None:
        return obj.function.title if obj.function is not None else None


class OrganisationOut(OrganisationSummaryOut):
    address: str
    functions: list[FunctionOut]
    contact_points: list[ContactPointOut]
    abilities: dict[str, bool]

    @staticmethod
    def resolve_functions(obj: Organisation) -> list[Any]:
        return list(obj.functions.all())

    @staticmethod
    def resolve_contact_points(obj: Organisation, context: dict[str, Any]) -> list[Any]:
        abilities = get_organisation_abilities(_principal(context["request"]), obj)
        return list(obj.contact_points.all()) if abilities["view_contacts"] else []

    @staticmethod
    def resolve_abilities(obj: Organisation, context: dict[str, Any]) -> dict[str, bool]:
        return get_organisation_abilities(_principal(context["request"]), obj)


class OrganisationFilters(Schema):
    kind: OrganisationKind | None = Field(None, description="Type d'organisation")
    q: str = Field("", max_length=100, description="Texte cherché (nom, sigle, territoire)")
    limit: int = Field(50, ge=1, le=MAX_LIMIT)
    offset: int = Field(0, ge=0)


class OrganisationPage(Schema):
    count: int
    limit: int
    offset: int
    items: list[OrganisationSummaryOut]


@router.get(
    "/organisations",
    response=OrganisationPage,
    summary="Organisations visibles",
    operation_id="directory_list_organisations",
)
def list_organisations(request: HttpRequest, filters: Query[OrganisationFilters]) -> dict[str, Any]:
    """Organisations visible to the caller, by territory then type, paginated (limit/offset)."""
    require_verb(request, "directory:read")
    queryset = search_organisations(
        _principal(request), text=filters.q.strip(), kind=filters.kind.value if filters.kind else ""
    )
    items = list(queryset[filters.offset : filters.offset + filters.limit])
    count = queryset.count() if filters.offset or len(items) == filters.limit else len(items)
    return {"count": count, "limit": filters.limit, "offset": filters.offset, "items": items}


@router.get(
    "/organisations/{organisation_id}",
    response=OrganisationOut,
    summary="Fiche d'une organisation",
    operation_id="directory_get_organisation",
)
def get_organisation(request: HttpRequest, organisation_id: int) -> Organisation:
    require_verb(request, "directory:read")
    return access_organisation_by_id(
        _principal(request), organisation_id, related=CONTACT_CARD_RELATED
    )
