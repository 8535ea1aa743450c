from django.apps import AppConfig


class PartnersConfig(AppConfig):
    name = "orsec.partners"
    label = "partners"
    verbose_name = "Systèmes partenaires (API)"
