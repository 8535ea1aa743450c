from django.urls import path

from orsec.core import views

app_name = "core"
urlpatterns = [
    path("accessibilite/", views.accessibility, name="accessibility"),
    path("sante/", views.health, name="health"),
]
