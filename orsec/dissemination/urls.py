from django.urls import path

from orsec.dissemination import views

app_name = "dissemination"
urlpatterns = [
    path("a-prendre-en-compte/", views.inbox, name="inbox"),
    path("remise/<int:delivery_id>/", views.delivery_detail, name="delivery"),
    path("remise/<int:delivery_id>/ouvrir/", views.delivery_open, name="open"),
    path(
        "remise/<int:delivery_id>/prise-en-compte/", views.delivery_acknowledge, name="acknowledge"
    ),
    path("evenement/<int:event_id>/", views.event_trace, name="trace"),
    path(
        "evenement/<int:event_id>/diffuser/<int:entry_id>/",
        views.disseminate_entry,
        name="disseminate",
    ),
]
