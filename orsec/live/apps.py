from django.apps import AppConfig


class LiveConfig(AppConfig):
    name = "orsec.live"
    label = "live"
    verbose_name = "Diffusion en direct"

    def ready(self) -> None:
        from orsec.live.hub import install_wakeup_hook

        # After every commit that queued live messages: publish the wake-up (Redis) and wake
        # this process's hub. Channels are registered by the apps that own the pages.
        install_wakeup_hook()
