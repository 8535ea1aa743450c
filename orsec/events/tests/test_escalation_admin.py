"""The escalation rules are configured in the admin, through audited actions."""

from __future__ import annotations

import pytest

from orsec.audit.models import AuditRecord
from orsec.events.models import EscalationRule

pytestmark = pytest.mark.django_db

URL = "/admin/events/escalationrule/"


def test_admin_creates_a_rule_and_the_write_is_audited(personas):
    client = personas.client_for("admin")
    response = client.post(
        URL + "add/",
        {
            "name": "Au moins 10 victimes",
            "criterion": "victims_at_least",
            "threshold": "10",
            "target": "national",
            "is_active": "on",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    rule = EscalationRule.objects.get(name="Au moins 10 victimes")
    assert AuditRecord.objects.filter(
        action="events.escalation_rule.created", target_id=str(rule.pk)
    ).exists()


def test_a_threshold_criterion_without_threshold_is_refused(personas):
    client = personas.client_for("admin")
    response = client.post(
        URL + "add/",
        {"name": "Sans seuil", "criterion": "dead_at_least", "target": "zone", "is_active": "on"},
    )
    assert response.status_code == 200
    assert "Ce critère demande un seuil" in response.content.decode()
    assert not EscalationRule.objects.filter(name="Sans seuil").exists()


def test_a_cod_operator_cannot_reach_the_rules(personas):
    response = personas.client_for("operator37").get(URL)
    assert response.status_code in (302, 403, 404)
