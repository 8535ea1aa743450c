"""URL configuration used only by the stream handler's authorisation (see :mod:`.views`)."""

from django.urls import path

from orsec.live.views import grant_view

urlpatterns = [
    path("live/<slug:channel>/", grant_view),
    path("live/<slug:channel>/<path:rest>", grant_view),
]
