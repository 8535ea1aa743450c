"""What every page's navigation needs to know about the user (abilities, never raw roles)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from orsec.accounts.access import get_account_abilities


def abilities(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"account_abilities": {}}
    # lazy: computed only when a template reads it (the scope is memoised for the request)
    return {"account_abilities": SimpleLazyObject(lambda: get_account_abilities(user))}
