"""The benchmark harness: ``make bench`` (full) and ``make bench-quick`` (reduced), see bench/README.md.

    .venv/bin/python -m bench.run [--quick] [--port 8100] [--profile]

It sets up its own PostgreSQL databases (``portal_bench`` or ``portal_bench_quick``,
and ``portal_bench_1k`` for the 1,000-item query count) and uses Redis database 1
(broker and cache, under a key prefix of its own each run). It runs the portal
with production settings (``DEBUG=false``, HTTPS, behind a proxy, gunicorn with
the README's four workers on ``BENCH_PORT``, a separate Celery worker), sends the
load from a separate process (bench/load.py, locust) to loopback only, writes
``bench/results.json`` and prints a table. Every throughput is a ratio against
a floor measured in the same run; every latency is a percentile, with its
min/median/max over the repeats.

This module runs the steps in order and writes the results; bench/harness.py starts the
databases, processes and load, bench/prepare.py the data, bench/figures.py measures.
"""

from __future__ import annotations

import argparse
import datetime
import json
import logging
import os
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from bench.figures import (
    check_rate_limits,
    latency_figures,
    memory_figures,
    profile_misses,
    query_figures,
    routing_figures,
    submit_figures,
    throughput_figures,
)
from bench.harness import (
    FULL,
    QUICK,
    RESULTS,
    ROOT,
    WORKER_COMMAND,
    Server,
    bench_environment,
    log,
    peak_rss_mb,
    start_web,
    start_worker,
    wait_for_worker,
)
from bench.prepare import Context, describe_machine, prepare_data, prepare_databases, versions

# --- results -------------------------------------------------------------------------------

ORDER = (
    "floor_rps",
    "guide_page_rps",
    "guide_page_ratio",
    "guide_page_queries_1k",
    "guide_page_queries_100k",
    "catalogue_facets_p95_ms",
    "search_p95_ms",
    "track_p95_ms",
    "my_applications_p95_ms",
    "queue_p95_ms",
    "queue_queries",
    "submit_p95_ms",
    "submit_to_queue_p95_ms",
    "submissions_lost",
    "routing_per_s",
    "noop_tasks_per_s",
    "routing_ratio",
    "web_rss_mb",
    "worker_rss_mb",
)


def write_results(context: Context, rate_limits: dict[str, Any], started: float) -> dict[str, Any]:
    context.machine["load_average_at_end"] = [round(value, 2) for value in os.getloadavg()]
    context.machine["duration_s"] = round(time.time() - started)
    context.machine["measured_at"] = datetime.datetime.now(tz=datetime.UTC).isoformat(timespec="seconds")
    results = {
        "machine": context.machine,
        "versions": versions(),
        "figures": {name: context.figures[name].as_json() for name in ORDER if name in context.figures},
        "rate_limits": rate_limits,
        "profiles": context.profiles,
        "notes": context.notes,
    }
    RESULTS.write_text(json.dumps(results, ensure_ascii=False, indent=2) + "\n")
    return results


def print_table(results: dict[str, Any]) -> None:
    print()
    print(f"{'figure':<26} {'value':>10} {'min':>10} {'median':>10} {'max':>10}  {'unit':<15} target")
    for name, figure in results["figures"].items():
        verdict = {True: "met", False: "MISSED", None: ""}[figure["met"]]
        print(
            f"{name:<26} {figure['value']:>10} {figure['min']:>10} {figure['median']:>10} {figure['max']:>10}  "
            f"{figure['unit']:<15} {figure['target']} {verdict}"
        )
    print(f"rate limits hold without the benchmark's raise: {results['rate_limits'].get('hold')}")
    print(f"results: {RESULTS.relative_to(ROOT)}")


@contextmanager
def servers(context: Context) -> Iterator[tuple[Server, Server]]:
    web = start_web(context.environment, context.port)
    worker = start_worker(context.environment, "main", WORKER_COMMAND)
    try:
        wait_for_worker("main")
        yield web, worker
    finally:
        context.rss_web.update(peak_rss_mb(web.process.pid))
        context.rss_worker.update(peak_rss_mb(worker.process.pid))
        worker.stop()
        web.stop()


def main(arguments: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="the reduced run (make bench-quick)")
    parser.add_argument("--port", type=int, default=int(os.environ.get("BENCH_PORT", "8100")))
    parser.add_argument("--profile", action="store_true", help="profile what misses its target (bench/profiles/)")
    parser.add_argument("--count-guide-queries", metavar="CODE", help=argparse.SUPPRESS)
    options = parser.parse_args(arguments)
    if options.count_guide_queries:
        import django

        django.setup()
        from bench import fixtures

        miss, hit = fixtures.count_page_queries(f"/services/{options.count_guide_queries}/")
        print(miss, hit)
        return

    started = time.time()
    scale = QUICK if options.quick else FULL
    run_id = uuid.uuid4().hex[:8]
    log(f"{scale.name} run {run_id}: preparing {scale.database} (reused between runs)")
    prepare_databases(scale, port=options.port, run_id=run_id)
    environment = bench_environment(scale.database, port=options.port, run_id=run_id)
    os.environ.update(environment)
    import django

    django.setup()
    # The in-process requests (query counts, profiles) would log a line each, as the servers do in their logs.
    logging.getLogger("portal.request").setLevel(logging.WARNING)
    from portal.celery import app

    context = Context(scale=scale, port=options.port, environment=environment, run_id=run_id)
    describe_machine(context)
    app.control.purge()  # what an interrupted run left in the benchmark's queues
    data = prepare_data(context)
    context.machine["queue_open_tasks"] = data.queue_open_tasks
    query_figures(context, data)
    with servers(context):
        throughput_figures(context, data)
        latency_figures(context, data)
        submit_figures(context, data)
    routing_figures(context, data)
    memory_figures(context)
    rate_limits = check_rate_limits(context, data)
    if options.profile:
        profile_misses(context, data)
    results = write_results(context, rate_limits, started)
    print_table(results)
    log(f"done in {time.time() - started:.0f} s")
    if not rate_limits["hold"]:
        raise SystemExit("a rate limit did not hold without the benchmark's raise")


if __name__ == "__main__":
    main()
