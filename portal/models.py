from django.db import models
from django.utils.translation import gettext_lazy as _


class WorkerPing(models.Model):
    """One round trip from a web process through the broker to a worker and back.

    The health check writes a row per queue, a worker marks it answered; the
    row, not Celery's result backend, says whether the round trip happened.
    """

    queue = models.CharField(_("queue"), max_length=40)
    sent_at = models.DateTimeField(_("sent at"), auto_now_add=True)
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    answered_by = models.CharField(_("answered by"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("worker ping")
        verbose_name_plural = _("worker pings")
        indexes = [models.Index(fields=["sent_at"], name="portal_ping_sent_idx")]

    def __str__(self) -> str:
        return f"{self.queue} #{self.pk}"
