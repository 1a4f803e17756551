"""The in-site inbox: one row per message, its words rendered when it is read."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from interaction import events


class Message(models.Model):
    """A message to one user about one event.

    Only the event's code and its plain context are stored: the subject and body are
    rendered at display time, in the reader's language, from the event's templates.
    """

    # The indexes below lead with the recipient, so the foreign key needs none of its own.
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recipient"),
        on_delete=models.CASCADE,
        related_name="inbox_messages",
        db_index=False,
    )
    event = models.CharField(_("event"), max_length=64)
    context = models.JSONField(_("context"), default=dict, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)

    class Meta:
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        ordering = ["-created_at", "-pk"]
        indexes = [
            # The unread count on every page and the "unread" filter.
            models.Index(fields=["recipient", "read_at", "-created_at"], name="interaction_inbox_unread"),
            # The whole inbox, newest first.
            models.Index(fields=["recipient", "-created_at"], name="interaction_inbox_all"),
        ]

    def __str__(self) -> str:
        return f"{self.event} → {self.recipient_id}"

    @property
    def is_read(self) -> bool:
        return self.read_at is not None

    @property
    def subject(self) -> str:
        return events.render_subject(self.event, self.context, message_id=self.pk)

    @property
    def body(self) -> str:
        return events.render_body(self.event, self.context, message_id=self.pk)

    @property
    def url(self) -> str:
        """The page the message is about, in the reader's language; empty when there is none."""
        return events.render_url(self.event, self.context)
