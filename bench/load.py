"""Load from a separate process: locust's FastHttpUser, driven as a library, against loopback only.

    .venv/bin/python -m bench.load SPEC.json

The spec (written by bench/run.py) names a ``host`` (an http://127.x or localhost
address: anything else is refused) and ``phases`` run one after the other (a
warm-up, then the repeats), in one process so that starting locust is paid once.
Each phase is bounded by time and by a number of requests, and stops by itself.
Every response is recorded with its start time, duration (ms, as locust measures
it), status and tag, and written to the spec's ``out`` file as JSON::

    {"phases": {"name": [[start epoch, ms, status, tag, X-Page-Cache], ...], ...}}

Phase keys: ``name``, ``users`` (concurrent clients), ``seconds``,
``max_requests``, ``rate_per_user`` (requests per second per client; none: as
fast as answers come), ``headers`` (sent with every request), and either
``requests`` (a list every client picks from at random) or ``per_user`` (one list
per client, sent in order, each once). A request is
``{"method", "path", "headers", "body", "tag"}``.

Bench-only packages (locust, gevent) are imported by name at run time, so that
the project's type check does not need them installed.
"""

from __future__ import annotations

import importlib
import json
import random
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

LOOPBACK_HOSTS = {"localhost", "::1"}


def _is_loopback(host: str) -> bool:
    hostname = urlsplit(host).hostname or ""
    return hostname in LOOPBACK_HOSTS or hostname.startswith("127.")


def run_phase(phase: dict[str, Any], host: str) -> list[list[Any]]:
    """One phase of load: its clients for its time (or until its requests run out); what was recorded."""
    locust = importlib.import_module("locust")  # first: it patches the standard library for gevent
    gevent = importlib.import_module("gevent")
    environment_module = importlib.import_module("locust.env")
    exception_module = importlib.import_module("locust.exception")

    users = int(phase["users"])
    common_headers = dict(phase.get("headers") or {})
    shared = list(phase.get("requests") or [])
    per_user = [list(each) for each in phase.get("per_user") or []]
    if per_user and len(per_user) != users:
        raise SystemExit("per_user needs one list of requests per user")
    records: list[list[Any]] = []
    max_requests = int(phase.get("max_requests") or 1_000_000)
    state = {"next_user": 0, "finished": 0}
    randomiser = random.Random(phase.get("seed", 1))  # which page to ask for, not a secret
    rate = phase.get("rate_per_user")

    class Client(locust.FastHttpUser):  # type: ignore[name-defined]
        wait_time = locust.constant_throughput(rate) if rate else locust.constant(0)
        network_timeout = 30.0
        connection_timeout = 10.0

        def on_start(self) -> None:
            self.index = state["next_user"]
            state["next_user"] += 1
            self.queue = per_user[self.index] if per_user else []

        @locust.task
        def send(self) -> None:
            if per_user:
                if not self.queue:
                    state["finished"] += 1
                    if state["finished"] >= users:
                        gevent.spawn(environment.runner.quit)
                    raise exception_module.StopUser()
                request = self.queue.pop(0)
            else:
                request = shared[randomiser.randrange(len(shared))]
            headers = {**common_headers, **(request.get("headers") or {})}
            self.client.request(
                request.get("method", "GET"),
                request["path"],
                headers=headers,
                data=request.get("body"),
                name=request.get("tag", request["path"]),
                allow_redirects=False,
                context={"tag": request.get("tag", "")},
            )

    Client.host = host
    environment = environment_module.Environment(user_classes=[Client])

    def on_request(
        response_time: float,
        response: Any,
        context: dict[str, Any],
        start_time: float,
        **_kwargs: Any,
    ) -> None:
        status = getattr(response, "status_code", 0) or 0
        headers = getattr(response, "headers", None) or {}
        page_cache = headers.get("X-Page-Cache", "") if hasattr(headers, "get") else ""
        records.append([start_time, response_time, int(status), context.get("tag", ""), page_cache or ""])
        if len(records) == max_requests:
            gevent.spawn(environment.runner.quit)

    environment.events.request.add_listener(on_request)
    runner = environment.create_local_runner()
    runner.start(users, spawn_rate=users)
    stopper = gevent.spawn_later(float(phase["seconds"]), runner.quit)
    runner.greenlet.join()
    stopper.kill()
    return records


def run(spec: dict[str, Any]) -> dict[str, Any]:
    """Run the spec's phases one after the other; the records of each, by name."""
    if not _is_loopback(spec["host"]):
        raise SystemExit(f"refusing to load {spec['host']}: benchmarks send traffic to loopback only")
    phases = {}
    for phase in spec["phases"]:
        phases[phase["name"]] = run_phase(phase, spec["host"])
        if phase.get("pause"):
            time.sleep(float(phase["pause"]))
    return {"phases": phases}


def main() -> None:
    spec_path = Path(sys.argv[1])
    spec = json.loads(spec_path.read_text())
    result = run(spec)
    Path(spec["out"]).write_text(json.dumps(result))


if __name__ == "__main__":
    main()
