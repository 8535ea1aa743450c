from django.apps import AppConfig


class MapsConfig(AppConfig):
    name = "orsec.maps"
    label = "maps"
    verbose_name = "Cartes"
