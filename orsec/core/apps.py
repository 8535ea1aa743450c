from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "orsec.core"
    label = "core"
