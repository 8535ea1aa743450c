from django.apps import AppConfig


class InteropConfig(AppConfig):
    name = "orsec.interop"
    label = "interop"
    verbose_name = "Interopérabilité (CAP, EDXL-DE, CISU, EMSI)"
