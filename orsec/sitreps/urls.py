from django.urls import path

from orsec.sitreps import views

app_name = "sitreps"
urlpatterns = [
    path("", views.zone_index, name="index"),
    path("evenement/<int:event_id>/", views.event_sitreps, name="event"),
    path("evenement/<int:event_id>/compiler/", views.compile_sitrep, name="compile"),
    path("<int:sitrep_id>/", views.sitrep_detail, name="detail"),
    path("<int:sitrep_id>/modifier/", views.sitrep_edit, name="edit"),
    path("<int:sitrep_id>/approuver/", views.sitrep_approve, name="approve"),
    path("<int:sitrep_id>/pdf/", views.sitrep_pdf, name="pdf"),
    path("zone/", views.zone_index, name="zones"),
    path("zone/<int:zone_id>/", views.zone_overview, name="zone"),
    path("zone/<int:zone_id>/synthese/", views.zone_compile, name="zone_compile"),
]
