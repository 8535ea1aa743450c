from django.urls import path

from orsec.events import views

app_name = "events"
urlpatterns = [
    path("", views.event_list, name="list"),
    path("nouveau/", views.event_open, name="open"),
    path("veille/", views.watch_list, name="watch_list"),
    path("veille/<int:territory_id>/", views.watch_log, name="watch"),
    path(
        "veille/<int:territory_id>/pieces-jointes/<int:attachment_id>/",
        views.watch_attachment,
        name="watch_attachment",
    ),
    path("<int:event_id>/phase/", views.event_phase, name="phase"),
    path("<int:event_id>/gravite/", views.event_gravity, name="gravity"),
    path("<int:event_id>/partage/", views.event_share, name="share"),
    path("<int:event_id>/cloture/", views.event_close, name="close"),
    path("<int:event_id>/reouverture/", views.event_reopen, name="reopen"),
    path("<int:event_id>/localisation/", views.event_location, name="location"),
    path(
        "<int:event_id>/remontees/<int:proposal_id>/decision/",
        views.escalation_decide,
        name="escalation_decide",
    ),
    path("<int:event_id>/main-courante/", views.journal_list, name="journal"),
    path("<int:event_id>/main-courante/nouvelle/", views.journal_add, name="journal_add"),
    path(
        "<int:event_id>/main-courante/<int:entry_id>/correction/",
        views.journal_correct,
        name="journal_correct",
    ),
    path(
        "<int:event_id>/main-courante/<int:entry_id>/epingler/",
        views.journal_pin,
        name="journal_pin",
    ),
    path(
        "<int:event_id>/main-courante/<int:entry_id>/desepingler/",
        views.journal_unpin,
        name="journal_unpin",
    ),
    path(
        "<int:event_id>/main-courante/export.csv",
        views.journal_export,
        {"fmt": "csv"},
        name="journal_export_csv",
    ),
    path(
        "<int:event_id>/main-courante/export.json",
        views.journal_export,
        {"fmt": "json"},
        name="journal_export_json",
    ),
    path(
        "<int:event_id>/main-courante/verification/",
        views.journal_verify,
        name="journal_verify",
    ),
    path(
        "<int:event_id>/pieces-jointes/<int:attachment_id>/",
        views.attachment_download,
        name="attachment",
    ),
]
