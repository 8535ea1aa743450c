from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from orsec.accounts.access import scope_of
from orsec.alerts.queries import active_vigilances, feed_states


@login_required
def vigilance_list(request: HttpRequest) -> HttpResponse:
    """Vigilances in force in the user's départements (scope), orange and red first."""
    scope = scope_of(request.user)
    vigilances = list(active_vigilances(scope.paths)[:500])
    context = {"vigilances": vigilances, "nav": "vigilances", "feeds": feed_states()}
    return render(request, "alerts/vigilances.html", context)
