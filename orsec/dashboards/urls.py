from django.urls import path

from orsec.dashboards import views

app_name = "dashboards"
urlpatterns = [
    path("<int:event_id>/", views.event_page, name="event"),
]
