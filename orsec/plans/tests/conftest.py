"""Fixtures of the plans tests: the inondation plan of Indre-et-Loire, approved."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from orsec.plans.actions import do_approve_version, do_copy_template, do_submit_for_review
from orsec.plans.models import Plan, PlanVersion
from orsec.territories.models import Territory, TerritoryKind


def departement(code: str) -> Territory:
    return Territory.objects.get(kind=TerritoryKind.DEPARTEMENT, code=code)


def approve(version: PlanVersion, personas: Any, number: str = "2026-PREF-001") -> PlanVersion:
    do_submit_for_review(
        personas.room_lead37.user, version, reviewers=[personas.liaison_sdis37.user]
    )
    return do_approve_version(
        personas.director37.user,
        version,
        decree_number=number,
        decree_date=date(2026, 3, 2),
    )


@pytest.fixture
def draft_plan37(personas: Any) -> Plan:
    return do_copy_template(personas.room_lead37.user, "inondation", territory=departement("37"))


@pytest.fixture
def approved_version37(draft_plan37: Plan, personas: Any) -> PlanVersion:
    return approve(draft_plan37.versions.get(), personas)
