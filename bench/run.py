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

This module runs the steps; bench/harness.py holds what they share (paths, scales, processes,
the load) and bench/figures.py the measurements.
"""

from __future__ import annotations

import argparse
import datetime
import importlib
import json
import logging
import math
import os
import platform
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

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
    CHINESE_QUERIES,
    FULL,
    QUICK,
    RESULTS,
    ROOT,
    SMALL_DATABASE,
    SMALL_ITEMS,
    VAR,
    WEB_WORKERS,
    WORKER_COMMAND,
    Context,
    Data,
    Scale,
    Server,
    bench_environment,
    create_database,
    database_exists,
    log,
    manage,
    peak_rss_mb,
    seed_scale,
    start_web,
    start_worker,
    wait_for_worker,
)

# --- the run ----------------------------------------------------------------------------------


# bench.scale's own applications (its SCALE set): the range of their public ids, to count them without Django.
SCALE_PUBLIC_IDS = (str(uuid.UUID(int=0x5CA1E000 << 96)), str(uuid.UUID(int=(0x5CA1E000 << 96) | ((1 << 64) - 1))))


def seeded(database: str) -> tuple[int, int]:
    """(synthetic items, bench.scale's applications) already in a benchmark database."""
    psycopg2 = importlib.import_module("psycopg2")
    postgres = os.environ.get("BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432")
    with psycopg2.connect(f"{postgres}/{database}") as connection, connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM services_serviceitem WHERE basic_code LIKE '9%%' AND version = 1")
        items = cursor.fetchone()[0]
        cursor.execute(
            "SELECT count(*) FROM approvals_application WHERE public_id BETWEEN %s AND %s", list(SCALE_PUBLIC_IDS)
        )
        applications = cursor.fetchone()[0]
    connection.close()
    return items, applications


def static_is_current() -> bool:
    """Whether the collected static files (and their manifest) are newer than every source of them."""
    manifest = VAR / "static" / "staticfiles.json"
    if not manifest.exists():
        return False
    sources = [ROOT / "requirements.txt", *ROOT.glob("static/**/*"), *ROOT.glob("*/static/**/*")]
    return all(source.stat().st_mtime < manifest.stat().st_mtime for source in sources if source.is_file())


def prepare_databases(scale: Scale, *, port: int, run_id: str) -> None:
    """Create, migrate and seed what is missing; a database is reused from one run to the next."""
    small = bench_environment(SMALL_DATABASE, port=port, run_id=run_id)
    if not database_exists(SMALL_DATABASE):
        log(f"creating {SMALL_DATABASE}")
        create_database(SMALL_DATABASE)
    manage(small, "migrate", "--noinput", "--verbosity", "0")
    if seeded(SMALL_DATABASE)[0] < SMALL_ITEMS:
        seed_scale(small, "--items", str(SMALL_ITEMS), "--allow-production")
    main = bench_environment(scale.database, port=port, run_id=run_id)
    if not database_exists(scale.database):
        log(f"creating {scale.database} from {SMALL_DATABASE}")
        create_database(scale.database, template=SMALL_DATABASE)
    manage(main, "migrate", "--noinput", "--verbosity", "0")
    items, applications = seeded(scale.database)
    if items < scale.items or applications < scale.applications:
        log(f"seeding {scale.database}: {scale.items:,} items, {scale.applications:,} applications (top-up)")
        seed_scale(
            main,
            "--items",
            str(scale.items),
            "--applications",
            str(scale.applications),
            "--allow-production",
        )
    if not static_is_current():
        manage(main, "collectstatic", "--noinput", "--verbosity", "0")


def describe_machine(context: Context) -> None:
    psutil = importlib.import_module("psutil")
    cpu = ""
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        row = cursor.fetchone()
        postgres_version = row[0] if row else ""
    from approvals.models import Application, ApplicationEvent, WorkflowTask
    from services.models import ServiceItem

    redis = importlib.import_module("redis").Redis.from_url(context.environment["REDIS_URL"])
    published = ServiceItem.objects.published().count()
    data = {
        "published_items": published,
        "applications": Application.objects.count(),
        "application_events": ApplicationEvent.objects.count(),
        "workflow_tasks": WorkflowTask.objects.count(),
    }
    context.machine.update(
        {
            "cpu": cpu,
            "cores": os.cpu_count(),
            "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
            "os": platform.platform(),
            "python": platform.python_version(),
            "postgresql": postgres_version,
            "redis": redis.info("server").get("redis_version", ""),
            "load_average_at_start": [round(value, 2) for value in os.getloadavg()],
            "profile": context.scale.name,
            "scale": asdict(context.scale),
            "data": data,
            "web": f"gunicorn, {WEB_WORKERS} sync workers, 127.0.0.1:{context.port}, DEBUG=false, HTTPS behind a proxy",
            "worker": "celery -A portal worker " + " ".join(WORKER_COMMAND),
            "load": "locust FastHttpUser (bench/load.py) in a separate process, loopback only",
        }
    )
    if context.scale.name == "quick":
        context.machine["note"] = (
            f"quick run: {published:,} published items and {data['applications']:,} applications instead of "
            f"100,000 and 1,000,000 (figures named _100k are measured at {published:,} items), "
            f"{context.scale.seconds:g} s per repeat, submit load for {context.scale.submit_seconds:g} s, "
            f"routing batches of {context.scale.routing_batch}"
        )


def versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    found = {}
    for package in (
        "Django",
        "djangorestframework",
        "django-allauth",
        "celery",
        "kombu",
        "redis",
        "psycopg2-binary",
        "gunicorn",
        "whitenoise",
        "locust",
        "pyinstrument",
    ):
        try:
            found[package] = version(package)
        except PackageNotFoundError:
            found[package] = ""
    return found


def prepare_data(context: Context) -> Data:
    from bench import fixtures
    from services.models import Region, ServiceItem

    scale = context.scale
    log("preparing the benchmark's applications, users and sessions")
    department = fixtures.queue_department()
    queue_open = fixtures.top_up_queue(department, target=scale.queue_tasks)
    clerk = fixtures.clerk_of(department)
    citizen = fixtures.citizen_with_applications(scale.my_applications)
    people = fixtures.submitters(scale.submit_users)
    per_user = math.ceil(scale.submit_rate * scale.submit_seconds / scale.submit_users) + 1
    # Each repeat submits its own drafts; ten more each are left for the submit profile.
    drafts = fixtures.ready_drafts(people, per_user=per_user * scale.repeats + 10, excluded_department=department)
    from approvals.models import Application

    draft_ids = {
        str(public_id): pk
        for public_id, pk in Application.objects.filter(
            public_id__in=[public_id for each in drafts for public_id in each]
        ).values_list("public_id", "pk")
    }
    cities = list(Region.objects.filter(level=3).order_by("code").values_list("code", flat=True))
    catalogue = [
        f"/services/?audience={audience}&item_type={kind}"
        for audience in ("person", "enterprise")
        for kind in ("01", "07", "10", "20")
    ]
    catalogue += [
        f"/services/?audience={audience}&region={city}" for audience in ("person", "enterprise") for city in cities
    ]
    catalogue += [f"{path}&page={page}" for path in catalogue[:8] for page in (2, 3)]
    demo_code = (
        ServiceItem.objects.published()
        .exclude(basic_code__startswith="9")
        .exclude(form_schema={})
        .order_by("implementation_code")
        .values_list("implementation_code", flat=True)
        .first()
    ) or fixtures.first_synthetic_code()
    return Data(
        guide_paths=[f"/services/{code}/" for code in fixtures.guide_codes(2000)],
        catalogue_paths=catalogue,
        search_paths=[f"/search/?{urlencode({'q': query})}" for query in CHINESE_QUERIES],
        track_bodies=[
            json.dumps({"number": number, "password": password}) for number, password in fixtures.track_pairs(2000)
        ],
        clerk_session=fixtures.new_session(clerk, with_totp=True),
        citizen_token=fixtures.new_session(citizen),
        queue_open_tasks=queue_open,
        queue_department=department.uscc,
        submitter_tokens=[fixtures.new_session(person.user) for person in people],
        drafts=drafts,
        draft_ids=draft_ids,
        synthetic_code=fixtures.first_synthetic_code(),
        excluded_department_id=department.pk,
        demo_code=demo_code,
    )


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
