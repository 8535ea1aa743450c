"""Who reads which main courante entries: confidentiality labels, watch logs.

The journal decides nothing about *event* visibility (``orsec.events.access`` does, and callers
pass the event's abilities). It decides, from those abilities, which entries of a visible
chain a user may read:

* ``public`` and ``internal`` entries: anyone who can see the event (or the watch log);
* ``restricted`` (diffusion restreinte): only when ``abilities["view_restricted"]`` (room lead,
  préfet's staff, zone, national — see ``orsec.events.access.RESTRICTED_ROLES``).

A hidden entry is hidden everywhere: page list and counts, exports (a redacted row, hash only),
API, attachment download (404), corrections and pins pointing to it. Watch logs (the main
courante of a territory before an event exists) are visible to the users whose scope covers the
territory (:func:`access_watch_territory`).
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from django.http import Http404

from orsec.accounts.access import scope_of
from orsec.accounts.models import Role
from orsec.audit.actions import record_access_denied
from orsec.journal.models import Attachment, Confidentiality, JournalChain, JournalEntry
from orsec.territories.models import Territory

#: Roles that read restricted entries of a watch log they can see (same as events' rule).
WATCH_RESTRICTED_ROLES = frozenset(
    {Role.ROOM_LEAD, Role.DIRECTOR_STAFF, Role.ZONE_OFFICER, Role.NATIONAL_OFFICER}
)
#: Roles that write in a watch log.
WATCH_WRITING_ROLES = frozenset(
    {
        Role.COD_OPERATOR,
        Role.ROOM_LEAD,
        Role.DIRECTOR_STAFF,
        Role.LIAISON_OFFICER,
        Role.MAYOR,
        Role.ZONE_OFFICER,
        Role.NATIONAL_OFFICER,
    }
)


def entries_visible_q(abilities: dict[str, bool]) -> Q:
    """The filter on :class:`JournalEntry` matching what ``abilities`` allow to read."""
    if abilities.get("view_restricted"):
        return Q()
    return ~Q(confidentiality=Confidentiality.RESTRICTED)


def filter_entries(
    queryset: QuerySet[JournalEntry], abilities: dict[str, bool]
) -> QuerySet[JournalEntry]:
    if not abilities.get("view"):
        return queryset.none()
    return queryset.filter(entries_visible_q(abilities))


def can_read_entry(entry: JournalEntry, abilities: dict[str, bool]) -> bool:
    if not abilities.get("view"):
        return False
    return entry.confidentiality != Confidentiality.RESTRICTED or bool(
        abilities.get("view_restricted")
    )


def access_entry_in_chain(
    user: Any, chain_id: int, entry_id: int, abilities: dict[str, bool]
) -> JournalEntry:
    """An entry of a chain the caller already may see; 404 when absent, of another chain, or
    hidden by its confidentiality label (audited)."""
    entry = (
        JournalEntry.objects.filter(pk=entry_id, chain_id=chain_id)
        .select_related("chain", "chain__event", "corrects")
        .first()
    )
    if entry is None:
        raise Http404
    if not can_read_entry(entry, abilities):
        record_access_denied(user, JournalEntry, entry_id)
        raise Http404
    return entry


def access_attachment_in_chain(
    user: Any, chain_id: int, attachment_id: int, abilities: dict[str, bool]
) -> Attachment:
    """An attachment of an entry of the chain the caller may read; 404 otherwise (audited)."""
    attachment = (
        Attachment.objects.filter(pk=attachment_id, entry__chain_id=chain_id)
        .select_related("entry")
        .first()
    )
    if attachment is None:
        raise Http404
    if not can_read_entry(attachment.entry, abilities):
        record_access_denied(user, Attachment, attachment_id)
        raise Http404
    return attachment


# --- Watch logs --------------------------------------------------------------------------------


def access_watch_territory(user: Any, territory_id: int) -> Territory:
    """A territory whose watch log the user may read: inside their scope; 404 otherwise.

    Territories are public reference data: a watch log is *absent* until its first entry, so a
    refusal is audited only when the watch log exists (forbidden, not absent).
    """
    scope = scope_of(user)
    territory = Territory.objects.filter(pk=territory_id).defer("boundary").first()
    if territory is None:
        raise Http404
    if not scope.covers(territory.path):
        if JournalChain.objects.filter(event=None, territory_id=territory_id).exists():
            record_access_denied(user, JournalChain, territory_id)
        raise Http404
    return territory


def watch_territories_of(user: Any) -> QuerySet[Territory]:
    """The territories at the top of the user's scope (their watch logs), by path."""
    scope = scope_of(user)
    return Territory.objects.filter(path__in=scope.paths).defer("boundary").order_by("path")


def get_watch_abilities(user: Any, territory: Territory) -> dict[str, bool]:
    """Abilities on a territory's watch log, in the shape of the event abilities."""
    scope = scope_of(user)
    covered = scope.covers(territory.path)
    writable = covered and not scope.is_read_only
    return {
        "view": covered,
        "write_journal": writable and bool(scope.roles & WATCH_WRITING_ROLES),
        "view_restricted": covered and bool(scope.roles & WATCH_RESTRICTED_ROLES),
    }
