"""The only writers of partner tokens; every write is audited in the same transaction.

The plaintext token is returned once by :func:`do_issue_token` and never stored, logged or
audited (S22, S29): the audit record carries the token's id, public prefix and scope only.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.contrib.auth.hashers import make_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from orsec.accounts.actions import do_disable_user, do_save_membership, do_save_user
from orsec.accounts.models import Membership, Role, User
from orsec.audit.actions import record_audit
from orsec.core.api import VERBS
from orsec.directory.access import organisations_administered_by
from orsec.directory.models import Organisation
from orsec.partners.access import territory_fits_organisation
from orsec.partners.models import PartnerToken
from orsec.partners.tokens import new_prefix, new_secret
from orsec.territories.models import Territory

#: The role of a token's service account in its organisation: a partner system acts like the
#: service's liaison officer (reads what the service takes part in, files reports, acknowledges
#: deliveries) — never like a COD operator who qualifies or directs.
SERVICE_ROLE = Role.LIAISON_OFFICER
SERVICE_EMAIL_DOMAIN = "partenaires.invalid"


def validate_token_request(
    *,
    organisation: Organisation,
    territory: Territory,
    verbs: list[str],
    name: str,
    expires_at: datetime | None,
    now: datetime,
) -> None:
    """Raise ValidationError (French messages, keyed by field) when the request is not sound."""
    errors: dict[str, str] = {}
    if not name.strip():
        errors["name"] = _("Donnez un nom au système partenaire.")
    if not verbs:
        errors["verbs"] = _("Choisissez au moins un droit.")
    elif unknown := sorted(set(verbs) - set(VERBS)):
        errors["verbs"] = _("Droits inconnus : %(verbs)s.") % {"verbs": ", ".join(unknown)}
    if not territory_fits_organisation(territory, organisation):
        errors["territory"] = _(
            "Le territoire doit être celui de l'organisation (%(name)s) ou l'un de ses territoires."
        ) % {"name": organisation.territory.name}
    if expires_at is not None and expires_at <= now:
        errors["expires_at"] = _("La date d'expiration doit être dans le futur.")
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def do_issue_token(
    actor: Any,
    *,
    organisation: Organisation,
    territory: Territory,
    verbs: list[str],
    name: str,
    expires_at: datetime | None = None,
    request: HttpRequest | None = None,
) -> tuple[PartnerToken, str]:
    """Create a token and its service account; return it with the plaintext, shown once."""
    if not organisations_administered_by(actor).filter(pk=organisation.pk).exists():
        raise PermissionDenied
    now = timezone.now()
    verbs = sorted(set(verbs))
    validate_token_request(
        organisation=organisation,
        territory=territory,
        verbs=verbs,
        name=name,
        expires_at=expires_at,
        now=now,
    )
    prefix = new_prefix()
    while PartnerToken.objects.filter(prefix=prefix).exists():  # 32 bits: rare, but possible
        prefix = new_prefix()
    secret = new_secret(prefix)
    username = f"partenaire-{prefix}"
    service_user = User(
        username=username,
        email=f"{username}@{SERVICE_EMAIL_DOMAIN}",
        first_name=name.strip()[:150],
        last_name=_("(système partenaire)"),
        password=make_password(None),  # unusable: no password login, no reset
        is_active=True,
        is_staff=False,
        is_superuser=False,
    )
    do_save_user(service_user, actor=actor, request=request, created=True)
    do_save_membership(
        Membership(user=service_user, organisation=organisation, role=SERVICE_ROLE),
        actor=actor,
        request=request,
    )
    token = PartnerToken.objects.create(
        name=name.strip(),
        organisation=organisation,
        territory=territory,
        verbs=verbs,
        service_user=service_user,
        prefix=prefix,
        secret_hash=secret.digest,
        created_by=actor,
        created_at=now,
        expires_at=expires_at,
    )
    record_audit(
        "partners.token.issued",
        actor=actor,
        request=request,
        target=token,
        data={
            "prefix": prefix,
            "organisation_id": organisation.pk,
            "territory": territory.path,
            "verbs": verbs,
            "expires_at": expires_at.isoformat() if expires_at else None,
        },
    )
    return token, secret.plaintext


@transaction.atomic
def do_revoke_token(actor: Any, token: PartnerToken, request: HttpRequest | None = None) -> None:
    """Revoke at once: the next request with the token gets 401; the service account is disabled.

    Revoking a revoked token changes nothing (a double click, a retried form).
    """
    locked = PartnerToken.objects.select_for_update().get(pk=token.pk)
    if locked.revoked_at is not None:
        token.revoked_at, token.revoked_by_id = locked.revoked_at, locked.revoked_by_id
        return
    now = timezone.now()
    PartnerToken.objects.filter(pk=token.pk).update(revoked_at=now, revoked_by=actor)
    token.revoked_at, token.revoked_by = now, actor
    do_disable_user(token.service_user, actor=actor, request=request)
    record_audit(
        "partners.token.revoked",
        actor=actor,
        request=request,
        target=token,
        data={"prefix": token.prefix, "organisation_id": token.organisation_id},
    )
