"""Who may manage which partner tokens, and what a token's service account may reach.

* A token is managed by the verified staff who administer its organisation
  (:func:`orsec.directory.access.organisations_administered_by`); any other token answers 404,
  like an absent one (audited).
* A token's territory lies inside its organisation's territory (the organisation's territory or
  below it): the service account, a liaison officer of the organisation, would reach no further.
* A request made with a token sees the intersection of the organisation's scope and the token's
  territory (:func:`token_scope`), installed on the service user for the request.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import Http404

from orsec.accounts.access import Scope, compute_scope
from orsec.audit.actions import record_access_denied
from orsec.directory.access import organisations_administered_by
from orsec.directory.models import Organisation
from orsec.partners.models import PartnerToken
from orsec.territories.models import Territory, path_ancestors, path_covers


def tokens_administered_by(user: Any) -> QuerySet[PartnerToken]:
    organisations = organisations_administered_by(user)
    return (
        PartnerToken.objects.filter(organisation__in=organisations.values("pk"))
        .select_related("organisation", "territory", "created_by", "revoked_by")
        .defer("territory__boundary")
    )


def access_token_by_id(user: Any, token_id: int) -> PartnerToken:
    """The token if the user administers its organisation; Http404 when absent *or* forbidden."""
    token = tokens_administered_by(user).filter(pk=token_id).first()
    if token is None:
        if PartnerToken.objects.filter(pk=token_id).exists():  # forbidden, not absent
            record_access_denied(user, PartnerToken, token_id)
        raise Http404
    return token


def get_token_abilities(user: Any, token: PartnerToken, *, now: Any) -> dict[str, bool]:
    """On a token obtained through :func:`access_token_by_id`."""
    return {
        "view": True,
        "revoke": token.revoked_at is None,
        "is_active": token.is_usable(now),
    }


def get_partner_abilities(user: Any) -> dict[str, bool]:
    """May the user issue tokens at all (navigation, list page)?"""
    return {"issue": organisations_administered_by(user).exists()}


def territory_fits_organisation(territory: Territory, organisation: Organisation) -> bool:
    """The token's territory is the organisation's territory or lies below it."""
    return path_covers(organisation.territory.path, territory.path)


def token_scope(base: Scope, territory_path: str) -> Scope:
    """``base`` (the service account's scope) narrowed to the territory at ``territory_path``."""
    if base.covers(territory_path):
        paths: tuple[str, ...] = (territory_path,)
    else:  # the organisation moved below the token's territory: keep what lies inside both
        paths = tuple(p for p in base.paths if path_covers(territory_path, p))
    if not paths:
        return Scope()
    ancestors = {a for p in paths for a in path_ancestors(p)}
    return Scope(
        paths=paths,
        ancestor_paths=frozenset(ancestors),
        roles=base.roles,
        organisation_ids=base.organisation_ids,
    )


def install_token_scope(token: PartnerToken) -> Any:
    """The token's service user, its scope for this request narrowed to the token's territory."""
    user: Any = token.service_user
    user._orsec_scope = token_scope(compute_scope(user), token.territory.path)
    return user
