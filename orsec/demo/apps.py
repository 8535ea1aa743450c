from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "orsec.demo"
    label = "demo"
    verbose_name = "Scénario de démonstration"
