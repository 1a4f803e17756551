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


class RateCounter(models.Model):
    """A counter of attempts in a window, for the limits of a setup without Redis (``portal.limits``).

    Every web and worker process shares it through the database; it is only ever
    changed by one ``INSERT … ON CONFLICT DO UPDATE SET count = count + 1``, so two
    processes counting at once both count.
    """

    name = models.CharField(_("name"), max_length=250, primary_key=True)
    count = models.PositiveIntegerField(_("count"))
    # Seconds since the epoch, as the counting statement compares them.
    expires_at = models.FloatField(_("expires at"))

    class Meta:
        verbose_name = _("rate counter")
        verbose_name_plural = _("rate counters")
        indexes = [models.Index(fields=["expires_at"], name="portal_counter_expires_idx")]

    def __str__(self) -> str:
        return f"{self.name}: {self.count}"
