from django.urls import path

from orsec.reports import views

app_name = "reports"
urlpatterns = [
    path("a-qualifier/", views.queue, name="queue"),
    path("a-qualifier/groupe/", views.queue_bulk, name="bulk"),
    path("evenement/<int:event_id>/nouvelle/", views.report_new, name="new"),
    path("veille/<int:territory_id>/nouvelle/", views.watch_report_new, name="watch_new"),
    path("<int:report_id>/", views.report_detail, name="detail"),
    path("<int:report_id>/qualification/", views.report_qualify, name="qualify"),
]
