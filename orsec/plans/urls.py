from django.urls import path

from orsec.plans import views

app_name = "plans"
urlpatterns = [
    path("", views.plan_list, name="list"),
    path("depuis-un-modele/", views.plan_from_template, name="from_template"),
    path("importer/", views.plan_import, name="import"),
    path("<int:plan_id>/", views.plan_detail, name="detail"),
    path("<int:plan_id>/nouvelle-version/", views.plan_new_version, name="new_version"),
    path("<int:plan_id>/importer-version/", views.plan_import_version, name="import_version"),
    path("<int:plan_id>/exercices/", views.plan_exercise, name="exercise"),
    path("version/<int:version_id>/", views.version_detail, name="version"),
    path("version/<int:version_id>/etat/", views.version_transition, name="transition"),
    path("version/<int:version_id>/export.json", views.version_export, name="export"),
    path("version/<int:version_id>/json/", views.version_json, name="version_json"),
    path("version/<int:version_id>/documents/", views.document_upload, name="document_upload"),
    path("version/<int:version_id>/comparer/<int:other_id>/", views.version_diff, name="diff"),
    path(
        "version/<int:version_id>/section/<int:section_id>/",
        views.section_edit,
        name="section_edit",
    ),
    path("version/<int:version_id>/fiche/<int:sheet_id>/action/", views.item_add, name="item_add"),
    path(
        "version/<int:version_id>/action/<int:item_id>/supprimer/",
        views.item_remove,
        name="item_remove",
    ),
    path("document/<int:document_id>/", views.document_download, name="document"),
    path("evenement/<int:event_id>/", views.event_plans, name="event"),
    path("evenement/<int:event_id>/activer/", views.event_activate, name="activate"),
    path(
        "evenement/<int:event_id>/fiches/<int:organisation_id>/",
        views.checklist,
        name="checklist",
    ),
    path("activation/<int:activation_id>/desactiver/", views.activation_end, name="deactivate"),
    path("action/<int:item_id>/cocher/", views.item_tick, name="tick"),
    path("action/<int:item_id>/commentaire/", views.item_comment, name="item_comment"),
]
