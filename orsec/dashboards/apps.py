from django.apps import AppConfig


class DashboardsConfig(AppConfig):
    name = "orsec.dashboards"
    label = "dashboards"
    verbose_name = "Tableaux de bord"
