"""What the dashboards remember per user: when each event's page was last seen (watch room)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class EventSeen(models.Model):
    """The main courante position a user had read up to when they last had the event's page
    open: the watch room's unread count is the number of entries visible to them after it."""

    user = models.ForeignKey("accounts.User", on_delete=models.CASCADE, related_name="+")
    event = models.ForeignKey("events.Event", on_delete=models.CASCADE, related_name="+")
    #: the ``seq`` of the last main courante entry of the event when the page was seen
    seen_seq = models.PositiveIntegerField(_("lu jusqu'à l'entrée n°"), default=0)
    seen_at = models.DateTimeField(_("vu le"))

    class Meta:
        verbose_name = _("événement consulté")
        verbose_name_plural = _("événements consultés")
        constraints = [
            models.UniqueConstraint(fields=["user", "event"], name="eventseen_user_event"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} / {self.event_id} : {self.seen_seq}"
