"""The only writers of the directory; each write is audited in the same transaction.

Every write also bumps the organisation's ``revision``, which keys the cached contact cards
(``views.organisation_card``): a change is visible at once in every process.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import F
from django.http import HttpRequest

from orsec.audit.actions import record_audit
from orsec.directory.models import ContactPoint, Function, Organisation


def _bump_revision(organisation_id: int) -> None:
    Organisation.objects.filter(pk=organisation_id).update(revision=F("revision") + 1)


@transaction.atomic
def do_save_organisation(
    actor: Any,
    organisation: Organisation,
    *,
    changed: list[str],
    request: HttpRequest | None = None,
) -> Organisation:
    created = organisation.pk is None
    organisation.save()
    if not created:
        _bump_revision(organisation.pk)
    record_audit(
        "directory.organisation.created" if created else "directory.organisation.changed",
        actor=actor,
        request=request,
        target=organisation,
        data={"fields": sorted(changed)},
    )
    return organisation


@transaction.atomic
def do_delete_organisation(
    actor: Any, organisation: Organisation, *, request: HttpRequest | None = None
) -> None:
    record_audit(
        "directory.organisation.deleted",
        actor=actor,
        request=request,
        target=organisation,
        data={"name": organisation.name},
    )
    organisation.delete()


@transaction.atomic
def do_save_contact_item(
    actor: Any,
    item: ContactPoint | Function,
    *,
    request: HttpRequest | None = None,
    delete: bool = False,
) -> None:
    """Create, change or delete a contact point or a function of an organisation."""
    kind = "contact_point" if isinstance(item, ContactPoint) else "function"
    verb = "deleted" if delete else ("created" if item.pk is None else "changed")
    if delete:
        record_audit(f"directory.{kind}.{verb}", actor=actor, request=request, target=item)
        item.delete()
    else:
        item.save()
        record_audit(f"directory.{kind}.{verb}", actor=actor, request=request, target=item)
    _bump_revision(item.organisation_id)
