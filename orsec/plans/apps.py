from django.apps import AppConfig


class PlansConfig(AppConfig):
    name = "orsec.plans"
    label = "plans"
    verbose_name = "Plans ORSEC"
