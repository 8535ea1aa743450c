"""Who sees and changes which plans, versions, activations and checklist items (``docs/plans.md``).

A plan is visible to a user when:

* the plan's territory is inside the user's scope (their territory and below; a zone officer's
  zone; national: everything);
* or the plan's territory is *above* the user's (the département's ORSEC plan for a mayor, the
  zonal plan for a COD): a service must read the fiches réflexes it will be handed.

A plan of another département is invisible: 404, the same as an absent id.

Editing (drafts, review, exercises) belongs to the owning level: the mayor for a communal plan
(PCS/PICS), the COD room lead and the préfet's staff for a départemental plan, zone officers and
zone staff for a zonal plan — with a membership on the plan's own territory. Approving belongs to
the authority that signs the arrêté: the mayor for a PCS, the préfet's staff (``director_staff``)
otherwise. Named reviewers may comment a version in review.

Activation on an event: those with ``change_phase`` or ``decide_sharing`` on the event (the
room lead and the préfet's staff of the owning level — the people who direct the response).
Ticking an item: a writing member of the item's organisation, or a COD operator who may
``qualify`` on the event (recording what a service reported by phone).
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from django.http import Http404

from orsec.accounts.access import scope_of
from orsec.accounts.models import Membership, Role, User
from orsec.audit.actions import record_access_denied
from orsec.events.access import access_event_by_id, get_event_abilities
from orsec.events.models import Event
from orsec.plans.models import (
    Activation,
    ChecklistItem,
    Plan,
    PlanDocument,
    PlanLevel,
    PlanVersion,
    VersionState,
)

#: Roles that edit a plan of their own territory, by plan level.
EDITING_ROLES: dict[str, frozenset[str]] = {
    PlanLevel.COMMUNE: frozenset({Role.MAYOR}),
    PlanLevel.EPCI: frozenset({Role.MAYOR}),
    PlanLevel.DEPARTEMENT: frozenset({Role.ROOM_LEAD, Role.DIRECTOR_STAFF}),
    PlanLevel.ZONE: frozenset({Role.ZONE_OFFICER, Role.DIRECTOR_STAFF}),
}
#: Roles that approve (sign the arrêté), by plan level.
APPROVING_ROLES: dict[str, frozenset[str]] = {
    PlanLevel.COMMUNE: frozenset({Role.MAYOR}),
    PlanLevel.EPCI: frozenset({Role.MAYOR}),
    PlanLevel.DEPARTEMENT: frozenset({Role.DIRECTOR_STAFF}),
    PlanLevel.ZONE: frozenset({Role.DIRECTOR_STAFF}),
}


def _visible_q(user: Any) -> Q:
    scope = scope_of(user)
    # inside the user's scope (own territory and below)
    condition = scope.q("territory_path")
    # a territory above the user's (the plans the user's services must apply)
    if scope.ancestor_paths:
        condition |= Q(territory_path__in=sorted(scope.ancestor_paths))
    return condition


def plans_visible_to(user: Any) -> QuerySet[Plan]:
    if scope_of(user).is_empty:
        return Plan.objects.none()
    return Plan.objects.filter(_visible_q(user)).select_related("territory", "owner")


def plan_visible(user: Any, plan: Plan) -> bool:
    scope = scope_of(user)
    return scope.covers(plan.territory_path) or plan.territory_path in scope.ancestor_paths


def access_plan_by_id(user: Any, plan_id: int) -> Plan:
    """The plan if the user may see it; Http404 when absent *or* forbidden (audited)."""
    plan = Plan.objects.select_related("territory", "owner").filter(pk=plan_id).first()
    if plan is None or scope_of(user).is_empty:
        raise Http404
    if not plan_visible(user, plan):
        record_access_denied(user, Plan, plan_id)
        raise Http404
    return plan


def access_version_by_id(user: Any, version_id: int) -> PlanVersion:
    version = PlanVersion.objects.select_related("plan").filter(pk=version_id).first()
    if version is None:
        raise Http404
    access_plan_by_id(user, version.plan_id)  # the plan's visibility decides
    return version


def access_document_by_id(user: Any, document_id: int) -> PlanDocument:
    document = PlanDocument.objects.filter(pk=document_id).first()
    if document is None:
        raise Http404
    access_version_by_id(user, document.version_id)
    return document


def _roles_on(user: Any, territory_path: str) -> set[str]:
    """The user's roles in active organisations of exactly this territory."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return set()
    return set(
        Membership.objects.filter(
            user=user,
            is_active=True,
            organisation__is_active=True,
            organisation__territory__path=territory_path,
        ).values_list("role", flat=True)
    )


def get_plan_abilities(user: Any, plan: Plan) -> dict[str, bool]:
    roles = _roles_on(user, plan.territory_path)
    edit = bool(roles & EDITING_ROLES[plan.level])
    return {
        "view": True,
        "edit": edit,
        "approve": bool(roles & APPROVING_ROLES[plan.level]),
        "record_exercise": edit,
    }


def get_version_abilities(user: Any, version: PlanVersion) -> dict[str, bool]:
    plan_abilities = get_plan_abilities(user, version.plan)
    is_reviewer = version.reviewers.filter(pk=user.pk).exists()
    edit = plan_abilities["edit"]
    draft = version.state == VersionState.DRAFT
    review = version.state == VersionState.REVIEW
    return {
        "view": True,
        "edit": edit and draft,
        "submit_review": edit and draft,
        "comment": review and (edit or is_reviewer or plan_abilities["approve"]),
        "return_to_draft": review and (edit or plan_abilities["approve"]),
        "approve": review and plan_abilities["approve"],
        "is_reviewer": is_reviewer,
    }


def users_for_review(plan: Plan) -> QuerySet[Any]:
    """People who may be named reviewers: members of an organisation of the plan's territory,
    above it or below it."""

    path = plan.territory_path
    ancestors = []
    parts = path.split("/")
    for index in range(1, len(parts) + 1):
        ancestors.append("/".join(parts[:index]))
    return (
        User.objects.filter(
            is_active=True,
            memberships__is_active=True,
            memberships__organisation__is_active=True,
        )
        .filter(
            Q(memberships__organisation__territory__path__in=ancestors)
            | Q(memberships__organisation__territory__path__startswith=path + "/")
        )
        .distinct()
        .order_by("last_name", "first_name", "pk")
    )


# --- Activation and checklists ----------------------------------------------------------------


def may_activate(abilities: dict[str, bool]) -> bool:
    """Activation directs the response: the event's directing abilities."""
    return bool(abilities.get("change_phase") or abilities.get("decide_sharing"))


def access_activation_by_id(user: Any, activation_id: int) -> tuple[Activation, Event]:
    activation = Activation.objects.select_related("version__plan").filter(pk=activation_id).first()
    if activation is None:
        raise Http404
    event = access_event_by_id(user, activation.event_id)
    return activation, event


def access_item_by_id(user: Any, item_id: int) -> tuple[ChecklistItem, Event]:
    item = ChecklistItem.objects.select_related("organisation", "activation").filter(pk=item_id)
    found = item.first()
    if found is None:
        raise Http404
    event = access_event_by_id(user, found.event_id)
    return found, event


def get_item_abilities(user: Any, item: ChecklistItem, event: Event) -> dict[str, bool]:
    event_abilities = get_event_abilities(user, event)
    scope = scope_of(user)
    member = (
        item.organisation_id is not None
        and item.organisation_id in scope.organisation_ids
        and not scope.is_read_only
    )
    writable = event.is_open and item.activation.is_active and event_abilities["write_journal"]
    allowed = writable and (member or event_abilities["qualify"])
    return {"tick": allowed, "comment": allowed}


def editable_territories(user: Any) -> list[Any]:
    """Territories on which the user may create a plan (a membership with an editing role)."""
    roles = set().union(*EDITING_ROLES.values())
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return []
    memberships = (
        Membership.objects.filter(
            user=user, is_active=True, organisation__is_active=True, role__in=sorted(roles)
        )
        .select_related("organisation__territory")
        .order_by("organisation__territory__path")
    )
    seen: dict[int, Any] = {}
    for membership in memberships:
        seen.setdefault(membership.organisation.territory_id, membership.organisation.territory)
    return list(seen.values())


def may_create_plan(user: Any, territory: Any, level: str) -> bool:
    return bool(_roles_on(user, territory.path) & EDITING_ROLES[PlanLevel(level)])
