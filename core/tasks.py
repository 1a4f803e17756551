"""The kernel's periodic work."""

from celery import shared_task

from core import limits


@shared_task(name="core.tasks.sweep_rate_counters")
def sweep_rate_counters() -> None:
    """Delete limit counters whose windows ended (only the embedded setup keeps them in the database)."""
    limits.sweep_expired()
