"""Directory pages: thin views — parse, access, render."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.paginator import Paginator
from django.db.models import prefetch_related_objects
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from orsec.directory.access import access_organisation_by_id, get_organisation_abilities
from orsec.directory.models import OrganisationKind
from orsec.directory.queries import CONTACT_CARD_RELATED, search_organisations

PAGE_SIZE = 25
CARD_CACHE_SECONDS = 600


@require_safe
@login_required
def organisation_list(request: HttpRequest) -> HttpResponse:
    text = request.GET.get("q", "").strip()[:100]
    kind = request.GET.get("type", "")
    if kind not in OrganisationKind.values:
        kind = ""
    queryset = search_organisations(request.user, text=text, kind=kind)
    page = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "title": _("Annuaire ORSEC"),
        "nav": "directory",
        "page": page,
        "q": text,
        "kind": kind,
        "kinds": OrganisationKind.choices,
    }
    return render(request, "directory/organisation_list.html", context)


@require_safe
@login_required
def organisation_detail(request: HttpRequest, organisation_id: int) -> HttpResponse:
    organisation = access_organisation_by_id(
        request.user, organisation_id, related=(*CONTACT_CARD_RELATED, "parent")
    )
    context = {
        "title": organisation.name,
        "nav": "directory",
        "organisation": organisation,
        "abilities": get_organisation_abilities(request.user, organisation),
    }
    return render(request, "directory/organisation_detail.html", context)


@require_safe
@login_required
def organisation_card(request: HttpRequest, organisation_id: int) -> HttpResponse:
    """The organisation's contact card alone (template partial), for htmx and wall screens.

    The rendered card is cached per process under a key made of the organisation's revision
    (bumped by every write action) and the viewer's abilities: a hit costs the access check only,
    and a change is visible at once because it changes the key.
    """
    organisation = access_organisation_by_id(request.user, organisation_id)
    abilities = get_organisation_abilities(request.user, organisation)
    flags = "".join("1" if abilities[name] else "0" for name in sorted(abilities))
    key = f"directory:card:{organisation.pk}:{organisation.revision}:{flags}"
    html = cache.get(key)
    if html is None:
        prefetch_related_objects([organisation], *CONTACT_CARD_RELATED, "parent")
        context = {"organisation": organisation, "abilities": abilities}
        html = render_to_string("directory/organisation_detail.html#card", context, request)
        cache.set(key, html, CARD_CACHE_SECONDS)
    return HttpResponse(html)
