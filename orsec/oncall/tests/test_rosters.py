"""Rosters and shifts: overlap refused (action and database), who is on call, gaps, export."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from orsec.audit.models import AuditRecord
from orsec.oncall.actions import OncallError, do_add_shift, escape_cell
from orsec.oncall.models import Shift
from orsec.oncall.queries import who_is_on_call

pytestmark = pytest.mark.django_db


def test_overlapping_shift_is_refused_with_a_clear_error_and_nothing_written(
    personas: Any, oncall: Any
) -> None:
    before = Shift.objects.filter(roster=oncall.codis).count()
    with pytest.raises(OncallError) as raised:
        do_add_shift(
            personas.room_lead37.user,
            oncall.codis,
            person_name="Cdt Luc Renard",
            phone="06 99 00 37 23",
            start=oncall.now + timedelta(hours=13),
            end=oncall.now + timedelta(hours=20),
        )
    assert raised.value.code == "shift_overlap"
    assert "chevauche celui de Cdt Eric Vasseur" in str(raised.value)
    assert Shift.objects.filter(roster=oncall.codis).count() == before


def test_adjacent_shifts_are_allowed(personas: Any, oncall: Any) -> None:
    shift = do_add_shift(
        personas.room_lead37.user,
        oncall.codis,
        person_name="Cdt Luc Renard",
        phone="06 99 00 37 23",
        start=oncall.now + timedelta(hours=38),  # the end of Cne Colin's shift
        end=oncall.now + timedelta(hours=62),
    )
    assert shift.pk


@pytest.mark.parametrize(
    ("start_h", "end_h", "phone", "code"),
    [
        (50, 40, "06 99 00 37 23", "end_before_start"),
        (50, 50 + 24 * 40, "06 99 00 37 23", "shift_too_long"),
        (50, 60, "=cmd|' /C calc'!A0", "phone_invalid"),
        (50, 60, "", "phone_required"),
    ],
)
def test_bad_shift_input_gets_a_precise_error(
    personas: Any, oncall: Any, start_h: int, end_h: int, phone: str, code: str
) -> None:
    with pytest.raises(OncallError) as raised:
        do_add_shift(
            personas.room_lead37.user,
            oncall.codis,
            person_name="X",
            phone=phone,
            start=oncall.now + timedelta(hours=start_h),
            end=oncall.now + timedelta(hours=end_h),
        )
    assert raised.value.code == code


def test_naive_datetimes_are_refused(personas: Any, oncall: Any) -> None:
    with pytest.raises(OncallError) as raised:
        do_add_shift(
            personas.room_lead37.user,
            oncall.codis,
            person_name="X",
            phone="0600000000",
            start=datetime(2030, 1, 1, 8),  # noqa: DTZ001 - naive on purpose
            end=datetime(2030, 1, 2, 8),  # noqa: DTZ001
        )
    assert raised.value.code == "naive_datetime"


def test_database_refuses_an_overlap_written_around_the_action(oncall: Any) -> None:
    """PostgreSQL's exclusion constraint, SQLite's triggers: the last line of defence."""
    with pytest.raises(IntegrityError), transaction.atomic():
        Shift.objects.create(
            roster=oncall.codis,
            person_name="Intrus",
            phone="0600000000",
            start=oncall.now,
            end=oncall.now + timedelta(hours=1),
        )
    # adjacent rows pass the database too
    Shift.objects.create(
        roster=oncall.codis,
        person_name="Suivant",
        phone="0600000000",
        start=oncall.now + timedelta(hours=38),
        end=oncall.now + timedelta(hours=40),
    )


def _name(shift: Shift | None) -> str | None:
    return shift.person_name if shift is not None else None


def test_who_is_on_call_at_various_instants_and_gap(oncall: Any) -> None:
    now = oncall.now
    [codis] = who_is_on_call(oncall.codis, now)
    assert _name(codis.current) == "Cdt Eric Vasseur"
    assert _name(codis.next) == "Cne Sarah Colin"
    [later] = who_is_on_call(oncall.codis, now + timedelta(hours=14))  # the boundary: next one
    assert _name(later.current) == "Cne Sarah Colin"
    [after] = who_is_on_call(oncall.codis, now + timedelta(hours=40))
    assert after.is_gap
    assert after.next is None
    [pref] = who_is_on_call(oncall.prefecture.organisation, now)
    assert pref.is_gap
    assert _name(pref.next) == "Anne Delaunay"
    [pref_later] = who_is_on_call(oncall.prefecture.organisation, now + timedelta(hours=3))
    assert _name(pref_later.current) == "Anne Delaunay"


def test_escape_cell_neutralises_formulas() -> None:
    assert escape_cell("=1+1") == "'=1+1"
    assert escape_cell("+33 6") == "'+33 6"
    assert escape_cell("-2") == "'-2"
    assert escape_cell("@SUM(A1)") == "'@SUM(A1)"
    assert escape_cell("Cdt Vasseur") == "Cdt Vasseur"


def test_operator37_exports_roster_csv_audited_and_formula_escaped(
    personas: Any, oncall: Any
) -> None:
    Shift.objects.filter(roster=oncall.codis, person_name="Cne Sarah Colin").update(
        person_name='=HYPERLINK("http://evil")'
    )
    client = personas.client_for("operator37")
    response = client.get(f"/astreintes/astreinte/{oncall.codis.pk}/export.csv")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    body = response.content.decode("utf-8-sig")
    assert "Cdt Eric Vasseur" in body
    assert "'=HYPERLINK" in body
    assert ";=HYPERLINK" not in body
    record = AuditRecord.objects.filter(
        action="oncall.roster.exported", target_id=str(oncall.codis.pk)
    ).get()
    assert record.actor == personas.operator37.user
    assert record.data["rows"] == 2


def test_operator45_gets_404_on_every_roster_page(personas: Any, oncall: Any) -> None:
    client = personas.client_for("operator45")
    shift = Shift.objects.filter(roster=oncall.codis).earliest("start")
    assert client.get(f"/astreintes/astreinte/{oncall.codis.pk}/").status_code == 404
    assert client.get(f"/astreintes/astreinte/{oncall.codis.pk}/export.csv").status_code == 404
    response = client.post(
        f"/astreintes/astreinte/{oncall.codis.pk}/creneau/",
        {
            "person_name": "X",
            "phone": "0600000000",
            "start": "2030-01-01T08:00",
            "end": "2030-01-02T08:00",
        },
    )
    assert response.status_code == 404
    assert client.post(f"/astreintes/creneau/{shift.pk}/supprimer/").status_code == 404
    assert client.get(f"/astreintes/schemas/{oncall.scheme.pk}/").status_code == 404
    page = client.get("/astreintes/").content.decode()
    assert "Officier CODIS" not in page
    assert not AuditRecord.objects.filter(action="oncall.roster.exported").exists()


def test_room_lead_adds_overlapping_shift_through_page_gets_form_error(
    personas: Any, oncall: Any
) -> None:
    client = personas.client_for("room_lead37")
    before = Shift.objects.count()
    start = timezone.localtime(oncall.now).strftime("%Y-%m-%dT%H:%M")
    end = timezone.localtime(oncall.now + timedelta(hours=20)).strftime("%Y-%m-%dT%H:%M")
    response = client.post(
        f"/astreintes/astreinte/{oncall.codis.pk}/creneau/",
        {"person_name": "Cdt Luc Renard", "phone": "06 99 00 37 23", "start": start, "end": end},
    )
    assert response.status_code == 400
    assert "chevauche" in response.content.decode()
    assert Shift.objects.count() == before


def test_liaison_sdis37_adds_then_removes_a_shift_of_own_roster(personas: Any, oncall: Any) -> None:
    client = personas.client_for("liaison_sdis37")
    response = client.post(
        f"/astreintes/astreinte/{oncall.codis.pk}/creneau/",
        {
            "person_name": "Cdt Luc Renard",
            "phone": "06 99 00 37 23",
            "start": "2099-01-01T08:00",
            "end": "2099-01-02T08:00",
        },
    )
    assert response.status_code == 302
    shift = Shift.objects.get(roster=oncall.codis, person_name="Cdt Luc Renard")
    assert shift.start.year == 2099
    assert AuditRecord.objects.filter(action="oncall.shift.added", target_id=str(shift.pk))
    assert client.post(f"/astreintes/creneau/{shift.pk}/supprimer/").status_code == 302
    assert not Shift.objects.filter(pk=shift.pk).exists()
    assert AuditRecord.objects.filter(action="oncall.shift.removed").exists()


def test_mayor_sees_duty_phone_but_not_names_nor_roster(personas: Any, oncall: Any) -> None:
    client = personas.client_for("mayor_tours")
    page = client.get("/astreintes/").content.decode()
    assert "Officier CODIS" in page
    assert "06 99 00 37 21" in page  # the duty's phone now
    assert "Vasseur" not in page
    assert "Colin" not in page
    assert "Aucune personne d'astreinte en ce moment" in page  # the préfecture's gap
    assert client.get(f"/astreintes/astreinte/{oncall.codis.pk}/").status_code == 404
    assert client.get(f"/astreintes/astreinte/{oncall.codis.pk}/export.csv").status_code == 404


def test_observer_sees_duty_only_and_cannot_change(personas: Any, oncall: Any) -> None:
    client = personas.client_for("observer37")
    page = client.get("/astreintes/").content.decode()
    assert "06 99 00 37 21" in page
    assert "Vasseur" not in page
    assert client.get(f"/astreintes/astreinte/{oncall.prefecture.pk}/").status_code == 404


def test_operator37_sees_names_next_shift_and_gap_warning(personas: Any, oncall: Any) -> None:
    page = personas.client_for("operator37").get("/astreintes/").content.decode()
    assert "Cdt Eric Vasseur" in page
    assert "Prochain créneau : Cne Sarah Colin" in page
    assert "1 astreinte sans personne de permanence" in page
    detail = personas.client_for("operator37").get(f"/astreintes/astreinte/{oncall.codis.pk}/")
    assert detail.status_code == 200
    assert "Ajouter un créneau" in detail.content.decode()


def test_zone_officer_sees_rosters_of_zone_organisations(personas: Any, oncall: Any) -> None:
    client = personas.client_for("zone_ouest")
    assert client.get(f"/astreintes/astreinte/{oncall.codis.pk}/").status_code == 200


def test_api_on_call_per_organisation_full_and_minimal_views(personas: Any, oncall: Any) -> None:
    sdis = personas.organisations["sdis37"]
    url = f"/api/v1/organisations/{sdis.pk}/on-call"
    full = personas.client_for("operator37").get(url).json()
    [duty] = full["duties"]
    assert duty["full_view"]
    assert duty["current"]["person_name"] == "Cdt Eric Vasseur"
    assert duty["next"]["person_name"] == "Cne Sarah Colin"
    minimal = personas.client_for("mayor_tours").get(url).json()
    [duty] = minimal["duties"]
    assert not duty["full_view"]
    assert duty["current"] == {
        "person_name": None,
        "phone": "06 99 00 37 21",
        "start": duty["current"]["start"],
        "end": duty["current"]["end"],
    }
    assert duty["next"] is None
    pref = personas.organisations["pref37"]
    gap = personas.client_for("operator37").get(f"/api/v1/organisations/{pref.pk}/on-call")
    assert gap.json()["duties"][0]["is_gap"] is True
    other = personas.client_for("operator45").get(url)
    assert other.status_code == 404
    assert other.json()["code"] == "not_found"
