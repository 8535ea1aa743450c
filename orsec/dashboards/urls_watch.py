"""The watch room, at ``/salle-de-veille/`` (``config/urls.py``)."""

from django.urls import path

from orsec.dashboards import views

app_name = "watch_room"
urlpatterns = [
    path("", views.watch_room, name="index"),
]
