"""Directory pages through HTTP, with personas from different territories and roles."""

from __future__ import annotations

import pytest
from django.db import connection
from django.http import HttpResponse
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from orsec.accounts.testing import log_in_verified
from orsec.core.testing import comparable_body
from orsec.directory.models import Organisation

pytestmark = pytest.mark.django_db


def names(response: HttpResponse) -> str:
    return response.content.decode()


def test_operator_37_lists_own_departement_and_chain_above_but_not_loiret(personas) -> None:
    client = personas.client_for("operator37")
    body = names(client.get(reverse("directory:list")))
    assert "SDIS 37" in body
    assert "Mairie de Tours" in body
    assert "COZ Ouest" in body  # the zone above
    assert "COGIC" in body  # national, above
    assert "ARS CVL" in body  # the région above
    assert "COD 45" not in body
    assert "Préfecture du Loiret" not in body


def test_mayor_of_tours_sees_prefecture_but_not_another_commune(personas) -> None:
    client = personas.client_for("mayor_tours")
    body = names(client.get(reverse("directory:list")))
    assert "Préfecture 37" in body
    assert "Mairie de Tours" in body
    assert "Mairie d&#x27;Amboise" not in body
    assert "Mairie d'Amboise" not in body
    amboise = personas.organisations["mairie_amboise"]
    assert client.get(reverse("directory:detail", args=[amboise.pk])).status_code == 404


def test_zone_officer_ouest_sees_both_departements_of_the_zone(personas) -> None:
    client = personas.client_for("zone_ouest")
    body = names(client.get(reverse("directory:list") + "?q=COD"))
    assert "COD 37" in body
    assert "COD 45" in body


def test_national_officer_sees_everything(personas) -> None:
    client = personas.client_for("national")
    response = client.get(reverse("directory:list"))
    assert response.context["page"].paginator.count == Organisation.objects.count()


def test_other_departement_organisation_gets_the_same_404_as_an_absent_one(personas) -> None:
    client = personas.client_for("operator45")
    sdis37 = personas.organisations["sdis37"]
    forbidden = client.get(reverse("directory:detail", args=[sdis37.pk]))
    absent = client.get(reverse("directory:detail", args=[999_999]))
    assert forbidden.status_code == absent.status_code == 404
    assert comparable_body(forbidden) == comparable_body(absent)
    card = client.get(reverse("directory:card", args=[sdis37.pk]))
    assert card.status_code == 404


def test_detail_shows_contacts_and_functions(personas) -> None:
    client = personas.client_for("operator37")
    sdis37 = personas.organisations["sdis37"]
    body = names(client.get(reverse("directory:detail", args=[sdis37.pk])))
    assert "02 99 00 37 18" in body
    assert "Officier CODIS" in body
    assert 'href="tel:0299003718"' in body


def test_card_fragment_is_the_partial_only(personas) -> None:
    client = personas.client_for("operator37")
    sdis37 = personas.organisations["sdis37"]
    response = client.get(reverse("directory:card", args=[sdis37.pk]))
    assert response.status_code == 200
    body = names(response)
    assert f'id="fiche-{sdis37.pk}"' in body
    assert "<html" not in body


def test_filter_by_kind_and_text(personas) -> None:
    client = personas.client_for("national")
    body = names(client.get(reverse("directory:list") + "?type=mairie"))
    assert "Mairie de Tours" in body
    assert "SDIS 37" not in body
    body = names(client.get(reverse("directory:list") + "?q=Loiret"))
    assert "COD 45" in body
    assert "SDIS 37" not in body
    # An unknown kind is ignored rather than failing.
    assert client.get(reverse("directory:list") + "?type=%3Cscript%3E").status_code == 200


def test_anonymous_is_sent_to_login(personas) -> None:
    response = Client().get(reverse("directory:list"))
    assert response.status_code == 302
    assert reverse("accounts:login") in response["Location"]


def test_observer_sees_the_directory_but_no_change_link(personas) -> None:
    client = personas.client_for("observer37")
    sdis37 = personas.organisations["sdis37"]
    body = names(client.get(reverse("directory:detail", args=[sdis37.pk])))
    assert "02 99 00 37 18" in body
    assert "Modifier dans" not in body


def test_list_query_count_does_not_grow_with_rows(personas) -> None:
    client = personas.client_for("national")
    client.get(reverse("directory:list"))  # warm caches (content types, session)
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("directory:list"))
    for i in range(10):
        Organisation.objects.create(
            name=f"Association {i}",
            kind="association",
            territory=personas.organisations["sdis37"].territory,
        )
    with CaptureQueriesContext(connection) as more:
        client.get(reverse("directory:list"))
    assert len(more) == len(few)
    assert len(few) <= 10


def test_card_shows_a_contact_change_at_once_despite_the_cache(personas) -> None:
    from orsec.directory.actions import do_save_contact_item
    from orsec.directory.models import ContactPoint

    client = personas.client_for("operator37")
    sdis37 = personas.organisations["sdis37"]
    url = reverse("directory:card", args=[sdis37.pk])
    assert "02 99 00 37 99" not in names(client.get(url))
    contact = ContactPoint(
        organisation=sdis37, kind="phone", label="Nouveau", value="02 99 00 37 99"
    )
    do_save_contact_item(personas.admin.user, contact)
    assert "02 99 00 37 99" in names(client.get(url))


def test_card_hit_costs_only_the_request_and_access_queries(personas) -> None:
    client = personas.client_for("operator37")
    url = reverse("directory:card", args=[personas.organisations["sdis37"].pk])
    client.get(url)  # fills the cache
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    # session, user, OTP device, memberships (scope), the organisation itself
    assert len(queries) == 5, [q["sql"][:80] for q in queries]


def test_other_territory_access_is_audited_and_logged_as_a_denial(personas, caplog) -> None:
    from orsec.audit.models import AuditRecord

    client = personas.client_for("operator45")
    sdis37 = personas.organisations["sdis37"]
    with caplog.at_level("INFO", logger="orsec.audit"):
        assert client.get(reverse("directory:detail", args=[sdis37.pk])).status_code == 404
        assert client.get(reverse("directory:detail", args=[999_999])).status_code == 404
    denial = AuditRecord.objects.filter(action="access.denied").get()
    assert denial.outcome == "failure"
    assert denial.actor == personas.operator45.user
    assert denial.data == {"object": "directory.organisation", "id": str(sdis37.pk)}
    logged = [r for r in caplog.records if getattr(r, "audit", {}).get("action") == "access.denied"]
    assert len(logged) == 1  # the absent id is not a denial


def test_local_administrator_changes_own_departement_not_the_chain_above(personas) -> None:
    from django.contrib.auth.models import Permission

    from orsec.accounts.models import Membership, Role, User

    admin37 = User.objects.create_user(
        "admin37", "admin37@demo-orsec.example", "Administrateur-local-37!", is_staff=True
    )
    Membership.objects.create(
        user=admin37, organisation=personas.organisations["pref37"], role=Role.ADMINISTRATOR
    )
    admin37.user_permissions.set(
        Permission.objects.filter(codename__in=["view_organisation", "change_organisation"])
    )
    client = log_in_verified(Client(), admin37)
    own = personas.organisations["sdis37"]
    above = personas.organisations["cogic"]
    assert client.get(f"/admin/directory/organisation/{own.pk}/change/").status_code == 200
    # Visible in the directory, but not editable: the admin answers as for an unknown object.
    assert client.get(reverse("directory:detail", args=[above.pk])).status_code == 200
    response = client.get(f"/admin/directory/organisation/{above.pk}/change/")
    assert response.status_code == 302
    assert response["Location"] == "/admin/"
    listing = client.get("/admin/directory/organisation/").content.decode()
    assert "SDIS 37" in listing
    assert "gestion interministérielle des crises" not in listing
