from django.apps import AppConfig


class TerritoriesConfig(AppConfig):
    name = "orsec.territories"
    label = "territories"
    verbose_name = "Territoires"
