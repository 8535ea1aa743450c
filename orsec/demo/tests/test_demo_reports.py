"""The demo's field reports: built once, qualified, and the journal chain still verifies."""

from __future__ import annotations

from typing import Any

import pytest

from orsec.demo.demo_reports import build_reports_demo
from orsec.journal.chain import verify_chain
from orsec.reports.models import FieldReport
from orsec.reports.queries import key_figures

pytestmark = pytest.mark.django_db


def test_demo_reports_are_built_once_with_one_confirmed_one_raw_one_refuted_duplicate(
    personas: Any, flood_event: Any
) -> None:
    people = {p.key: p.user for p in personas.all()}
    bilan, networks, duplicate = build_reports_demo(flood_event, people)
    assert build_reports_demo(flood_event, people) == []  # idempotent
    assert FieldReport.objects.filter(event=flood_event).count() == 3
    states = dict(FieldReport.objects.values_list("pk", "state"))
    assert states == {bilan.pk: "confirmed", networks.pk: "raw", duplicate.pk: "refuted"}
    assert FieldReport.objects.get(pk=duplicate.pk).duplicate_of_id == bilan.pk
    assert {f.key: f.value for f in key_figures(flood_event)}["sheltered"] == 95
    assert verify_chain(flood_event.chain)[1] is None
