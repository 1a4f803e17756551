"""Pages and endpoints of the site shell."""

from __future__ import annotations

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from core import input_guards
from portal import actions, health, selectors

# Each round trip writes rows and holds a web worker while it waits: one at a time.
WORKER_CHECK_INTERVAL_SECONDS = 1


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "portal/home.html")


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Database, broker and cache: 200 when all answer, 503 naming what is down."""
    results = health.run_checks()
    status = 200 if all(result == "ok" for result in results.values()) else 503
    return JsonResponse(results, status=status)


@never_cache
@require_GET
def healthz_worker(request: HttpRequest) -> JsonResponse:
    """Send a ping through every queue and wait for the workers to answer it.

    Shows the whole path a real task takes: web process, broker, worker,
    database. 200 when every queue answered in time, 503 otherwise.
    """
    if not cache.add("healthz:worker:running", True, timeout=WORKER_CHECK_INTERVAL_SECONDS):
        response = JsonResponse({"error": "a worker check is already running; try again shortly"}, status=429)
        response["Retry-After"] = str(WORKER_CHECK_INTERVAL_SECONDS)
        return response
    ping_ids = actions.worker_pings_send()
    pings = selectors.worker_pings_wait(ping_ids=ping_ids, timeout=settings.WORKER_PING_TIMEOUT)
    queues: dict[str, dict[str, object]] = {}
    for ping in pings:
        if ping.answered_at is None:
            queues[ping.queue] = {"status": "no answer"}
        else:
            elapsed = (ping.answered_at - ping.sent_at).total_seconds() * 1000
            queues[ping.queue] = {"status": "ok", "ms": round(elapsed, 1), "worker": ping.answered_by}
    is_ok = all(queue["status"] == "ok" for queue in queues.values())
    return JsonResponse({"queues": queues}, status=200 if is_ok else 503)


def headless_not_found(request: HttpRequest, path: str = "") -> HttpResponse:
    """A path under /_allauth/ that allauth does not answer: a 404 in allauth's error body, not the site's page."""
    problem = input_guards.BadInput(_("There is no such API endpoint."), code="not_found", status=404)
    return input_guards.allauth_error(problem, status=404)
