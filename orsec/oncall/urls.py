from django.urls import path

from orsec.oncall import views

app_name = "oncall"
urlpatterns = [
    path("", views.on_call_now, name="now"),
    path("nouvelle/", views.roster_create, name="roster_create"),
    path("astreinte/<int:roster_id>/", views.roster_detail, name="roster"),
    path("astreinte/<int:roster_id>/creneau/", views.shift_add, name="shift_add"),
    path("astreinte/<int:roster_id>/export.csv", views.roster_export, name="export"),
    path("creneau/<int:shift_id>/supprimer/", views.shift_remove, name="shift_remove"),
    path("schemas/", views.scheme_list, name="schemes"),
    path("schemas/nouveau/", views.scheme_create, name="scheme_create"),
    path("schemas/<int:scheme_id>/", views.scheme_detail, name="scheme"),
    path("schemas/<int:scheme_id>/modifier/", views.scheme_edit, name="scheme_edit"),
    path("evenement/<int:event_id>/", views.event_call_lists, name="event"),
    path("evenement/<int:event_id>/lancer/", views.event_start, name="start"),
    path("appel/<int:item_id>/pointer/", views.item_tick, name="tick"),
]
