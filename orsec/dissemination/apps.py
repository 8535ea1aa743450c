from django.apps import AppConfig


class DisseminationConfig(AppConfig):
    name = "orsec.dissemination"
    label = "dissemination"
    verbose_name = "Diffusion et prise en compte"
