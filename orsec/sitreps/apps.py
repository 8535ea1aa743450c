from django.apps import AppConfig


class SitrepsConfig(AppConfig):
    name = "orsec.sitreps"
    label = "sitreps"
    verbose_name = "Points de situation (SITREP)"
