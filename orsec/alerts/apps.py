from django.apps import AppConfig


class AlertsConfig(AppConfig):
    name = "orsec.alerts"
    label = "alerts"
    verbose_name = "Vigilances météorologiques (MeteoAlarm)"
