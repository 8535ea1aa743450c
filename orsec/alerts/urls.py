from django.urls import path

from orsec.alerts import views

app_name = "alerts"
urlpatterns = [
    path("vigilances/", views.vigilance_list, name="vigilances"),
]
