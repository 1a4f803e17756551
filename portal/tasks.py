"""Tasks of the site shell: answering health pings and pruning them."""

from celery import shared_task

from portal import actions


@shared_task(name="portal.tasks.answer_worker_ping", bind=True)
def answer_worker_ping(self, ping_id: int) -> None:  # type: ignore[no-untyped-def]
    actions.worker_ping_answer(ping_id=ping_id, hostname=self.request.hostname or "")


@shared_task(name="portal.tasks.sweep_worker_pings")
def sweep_worker_pings() -> None:
    actions.worker_pings_prune()
