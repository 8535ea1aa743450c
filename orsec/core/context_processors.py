from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest


def portal(request: HttpRequest) -> dict[str, Any]:
    return {"PORTAL_NAME": settings.ORSEC_PORTAL_NAME, "DEMO_MODE": settings.DEMO}
