from django.contrib import admin
from django.urls import include, path

from config.api import api
from orsec.accounts.admin_site import protect_admin_site

protect_admin_site(admin.site)

urlpatterns = [
    path("", include("orsec.accounts.urls")),
    path("", include("orsec.core.urls")),
    path("annuaire/", include("orsec.directory.urls")),
    # the event page (/evenements/<id>/) is the dashboards app's; the rest is the events app's
    path("evenements/", include("orsec.dashboards.urls")),
    path("evenements/", include("orsec.events.urls")),
    path("salle-de-veille/", include("orsec.dashboards.urls_watch")),
    path("remontees/", include("orsec.reports.urls")),
    path("diffusion/", include("orsec.dissemination.urls")),
    path("partenaires/", include("orsec.partners.urls")),
    path("alertes/", include("orsec.alerts.urls")),
    path("astreintes/", include("orsec.oncall.urls")),
    path("plans/", include("orsec.plans.urls")),
    path("points-de-situation/", include("orsec.sitreps.urls")),
    path("api/v1/", api.urls),
    path("admin/", admin.site.urls),
]

handler400 = "orsec.core.views.bad_request"
handler403 = "orsec.core.views.permission_denied"
handler404 = "orsec.core.views.page_not_found"
handler500 = "orsec.core.views.server_error"
