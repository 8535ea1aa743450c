from django.urls import path

from orsec.partners import views

app_name = "partners"
urlpatterns = [
    path("", views.token_list, name="list"),
    path("nouveau/", views.token_create, name="create"),
    path("<int:token_id>/revoquer/", views.token_revoke, name="revoke"),
    path("evenements/<int:event_id>/emsi/", views.event_emsi, name="event_emsi"),
]
