"""Fixtures of the territories tests: the real bundled files, loaded once per test package.

When nothing loaded them before (the project's root ``conftest.py`` loads them once per test
database), the load runs inside a transaction rolled back when this package's tests are done: the
test database, also with ``--reuse-db``, is left as it was found. When they are already there,
the load is a no-op (same digest). Each ``django_db`` test then runs in a savepoint, as usual, so
tests that edit territories do not leak."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.db import transaction
from pytest_django import DjangoDbBlocker

from orsec.territories.loader import LoadResult, load_reference_territories
from orsec.territories.queries import clear_geometry_cache


@pytest.fixture(scope="package")
def reference_territories(
    django_db_setup: None, django_db_blocker: DjangoDbBlocker
) -> Iterator[LoadResult]:
    with django_db_blocker.unblock():
        with transaction.atomic():
            result = load_reference_territories()
            yield result
            transaction.set_rollback(True)
        clear_geometry_cache()
