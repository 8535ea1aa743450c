from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "orsec.audit"
    label = "audit"
    verbose_name = "Journal d'audit"
