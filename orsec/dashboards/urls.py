from django.urls import path

from orsec.dashboards import views

app_name = "dashboards"
urlpatterns = [
    path("<int:event_id>/", views.event_page, name="event"),
    path("<int:event_id>/mur/", views.event_wall, name="wall"),
    path("<int:event_id>/vu/", views.event_seen, name="seen"),
]
