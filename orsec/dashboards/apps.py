from django.apps import AppConfig


class DashboardsConfig(AppConfig):
    name = "orsec.dashboards"
    label = "dashboards"
    verbose_name = "Tableaux de bord"

    def ready(self) -> None:
        from orsec.dashboards.live import CHANNELS
        from orsec.live.stream import register_channel

        for channel in CHANNELS:
            register_channel(channel)
