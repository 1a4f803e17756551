"""The Celery application shared by the web processes, the workers and beat."""

import os
from typing import Any

from celery import Celery
from celery.signals import task_postrun, task_prerun
from django.db import close_old_connections

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

app = Celery("portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@task_prerun.connect
@task_postrun.connect
def _connections_as_between_requests(task: Any = None, **_kwargs: Any) -> None:
    """Keep or drop database connections around a task as Django does around a request.

    Celery's own fixup would close them around every task (``CELERY_DB_REUSE_MAX`` is
    set high so that it does not): a new PostgreSQL connection costs more than most
    tasks. Here a connection lives for ``DATABASE_CONN_MAX_AGE`` and is checked before
    its next use; one left in a broken state is dropped. Eager tasks run inside their
    caller's transaction and are left alone.
    """
    if task is not None and getattr(task.request, "is_eager", False):
        return
    close_old_connections()
