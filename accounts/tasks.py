"""Periodic work of accounts."""

from celery import shared_task

from accounts import actions


@shared_task(name="accounts.tasks.sweep_enterprise_representatives")
def sweep_enterprise_representatives() -> int:
    """Compare every claimed enterprise's legal representative with the registry (daily); return claims ended."""
    return actions.enterprises_compare_all()
