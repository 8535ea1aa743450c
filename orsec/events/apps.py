from django.apps import AppConfig


class EventsConfig(AppConfig):
    name = "orsec.events"
    label = "events"
    verbose_name = "Événements"
