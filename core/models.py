"""The kernel's own rows: the working-day calendar's exceptions and the counters of limits without Redis."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Holiday(models.Model):
    """A day the working-day calendar treats differently: a public holiday, or a weekend day worked (调休)."""

    day = models.DateField(_("day"), unique=True)
    is_working_day = models.BooleanField(_("working day"), default=False)
    name = models.CharField(_("name"), max_length=40, blank=True)

    class Meta:
        verbose_name = _("holiday or working weekend")
        verbose_name_plural = _("holiday calendar")
        ordering = ["day"]
        # The table kept the name it had when the calendar lived in approvals: the move kept its rows.
        db_table = "approvals_holiday"

    def __str__(self) -> str:
        return f"{self.day} {self.name}"


class RateCounter(models.Model):
    """A counter of attempts in a window, for the limits of a setup without Redis (``core.limits``).

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
        # The table kept the name it had when the counter lived in the site shell: the move kept its rows.
        db_table = "portal_ratecounter"
        indexes = [models.Index(fields=["expires_at"], name="portal_counter_expires_idx")]

    def __str__(self) -> str:
        return f"{self.name}: {self.count}"
