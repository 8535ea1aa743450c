"""S23: the published OpenAPI holds under generated input — 0 server errors, 0 schema violations.

Every operation of ``/api/v1/openapi.json`` is fuzzed in-process (schemathesis over the WSGI
application, same database connection as the test) as a partner system of COD 37 holding every
verb on Indre-et-Loire, with the Loire flood event open. Whatever routers are mounted are
fuzzed: a new operation is covered the day it is published. Reproducible (derandomised) and
bounded (:data:`EXAMPLES` per operation) so that the whole run stays under a minute.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance

from config.wsgi import application
from orsec.core.api import VERBS
from orsec.partners.testing import issue_test_token

EXAMPLES = 15

schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application)


@pytest.fixture
def same_db_connection() -> Iterator[None]:
    """Keep the test's connection across WSGI requests, as django.test.Client does.

    Django closes "old" connections at each request's start and end; inside the test's
    transaction (autocommit off) that would close it on PostgreSQL.
    """
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


@pytest.fixture
def cod37_all_verbs(personas: Any, flood_event: Any, same_db_connection: None) -> Any:
    return issue_test_token(
        personas.admin.user,
        personas.organisations["cod37"],
        verbs=sorted(VERBS),
        name="Fuzzing COD 37",
    )


@pytest.mark.django_db
@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    phases=[Phase.explicit, Phase.generate],
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_api_operation_holds_under_generated_input(case: Any, cod37_all_verbs: Any) -> None:
    case.call_and_validate(
        headers={"Authorization": f"Bearer {cod37_all_verbs.token}"},
        checks=[not_a_server_error, response_schema_conformance, status_code_conformance],
    )
