from django.apps import AppConfig


class OncallConfig(AppConfig):
    name = "orsec.oncall"
    label = "oncall"
    verbose_name = "Astreintes et schémas d'alerte"
