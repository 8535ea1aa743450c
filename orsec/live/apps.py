from django.apps import AppConfig


class LiveConfig(AppConfig):
    name = "orsec.live"
    label = "live"
    verbose_name = "Diffusion en direct"
