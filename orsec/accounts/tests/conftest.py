"""Fixtures of the accounts tests. Personas come from the project's root ``conftest.py``."""

from __future__ import annotations

import pytest
from django.utils import timezone

from orsec.accounts.tests.helpers import Clock


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """Freeze ``django.utils.timezone.now`` and move it by hand (TOTP keeps the real clock)."""
    clock = Clock(timezone.now())
    monkeypatch.setattr("django.utils.timezone.now", clock.now)
    return clock
