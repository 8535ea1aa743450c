"""Read-side queries of the directory."""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch, Q, QuerySet

from orsec.directory.access import organisations_visible_to
from orsec.directory.models import ContactPoint, Organisation

#: What a contact card shows besides the organisation itself (``access_organisation_by_id``).
CONTACT_CARD_RELATED: tuple[Any, ...] = (
    "functions",
    Prefetch("contact_points", queryset=ContactPoint.objects.select_related("function")),
)


def search_organisations(user: Any, *, text: str = "", kind: str = "") -> QuerySet[Organisation]:
    queryset = organisations_visible_to(user)
    if kind:
        queryset = queryset.filter(kind=kind)
    if text:
        queryset = queryset.filter(
            Q(name__icontains=text)
            | Q(short_name__icontains=text)
            | Q(territory__name__icontains=text)
            | Q(territory__code=text)
        )
    return queryset.order_by("territory__path", "kind", "name")
