from django.apps import AppConfig


class DirectoryConfig(AppConfig):
    name = "orsec.directory"
    label = "directory"
    verbose_name = "Annuaire"
