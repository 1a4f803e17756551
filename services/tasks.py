"""Periodic work of the catalogue."""

from celery import shared_task

from services import actions


@shared_task(name="services.tasks.sweep_scheduled_versions")
def sweep_scheduled_versions() -> int:
    """Publish versions whose effective date has come (runs just after midnight, Asia/Shanghai)."""
    return actions.versions_publish_due()
