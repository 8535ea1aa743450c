from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "orsec.reports"
    label = "reports"
    verbose_name = "Remontées d'information et qualification"
