from django.apps import AppConfig


class JournalConfig(AppConfig):
    name = "orsec.journal"
    label = "journal"
    verbose_name = "Main courante"
