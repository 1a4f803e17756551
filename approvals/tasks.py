"""Background work of approvals: tasks take ids (or nothing), call one action, and return what they did."""

from celery import shared_task

from approvals import outbox
from approvals.applications import actions
from approvals.bundles import actions as bundle_actions
from approvals.routing import deadlines, engine


@shared_task(name="approvals.tasks.route_application")
def route_application(outbox_id: int) -> int:
    """Route the application of one outbox row, and waiting ones with it (sent on commit; again by the sweeper).

    Returns how many rows it routed: 0 when another worker's batch took this one.
    """
    try:
        return engine.outbox_process(outbox_id=outbox_id)
    except Exception:
        outbox.outbox_failed(outbox_id=outbox_id)
        raise


@shared_task(name="approvals.tasks.sweep_outbox")
def sweep_outbox() -> int:
    """Send again the routing promises nobody kept within a minute (every minute)."""
    return outbox.outbox_sweep()


@shared_task(name="approvals.tasks.sweep_deadlines")
def sweep_deadlines() -> tuple[int, int]:
    """黄灯 and 红灯: tell clerks and supervisors of tasks near and past their due time, once (every minute)."""
    return deadlines.deadlines_sweep()


@shared_task(name="approvals.tasks.sweep_acceptance")
def sweep_acceptance() -> int:
    """Applications without a 补正 request 5 working days after receipt count as accepted (hourly)."""
    return deadlines.acceptance_sweep()


@shared_task(name="approvals.tasks.sweep_drafts")
def sweep_drafts() -> tuple[int, int, int]:
    """Remind owners of drafts about to expire and delete expired drafts (hourly).

    Returns (reminded, deleted) of single applications and the 一件事 drafts deleted.
    """
    reminded, deleted = actions.drafts_sweep()
    return reminded, deleted, bundle_actions.bundle_drafts_sweep()
