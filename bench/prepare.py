"""Before the figures: the benchmark databases, the machine described, and the data every figure uses."""

from __future__ import annotations

import importlib
import json
import math
import os
import platform
import subprocess
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from bench.harness import (
    BIN,
    CHINESE_QUERIES,
    ROOT,
    SMALL_DATABASE,
    SMALL_ITEMS,
    VAR,
    WEB_WORKERS,
    WORKER_COMMAND,
    Figure,
    Scale,
    bench_environment,
    create_database,
    database_exists,
    log,
    manage,
)


@dataclass
class Context:
    scale: Scale
    port: int
    environment: dict[str, str]
    run_id: str
    figures: dict[str, Figure] = field(default_factory=dict)
    machine: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    rss_web: dict[int, float] = field(default_factory=dict)
    rss_worker: dict[int, float] = field(default_factory=dict)
    profiles: dict[str, str] = field(default_factory=dict)


# seed_scale's own applications (its SCALE set): the range of their public ids, to count them without Django.
SCALE_PUBLIC_IDS = (str(uuid.UUID(int=0x5CA1E000 << 96)), str(uuid.UUID(int=(0x5CA1E000 << 96) | ((1 << 64) - 1))))


def seeded(database: str) -> tuple[int, int]:
    """(synthetic items, seed_scale's applications) already in a benchmark database."""
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
        manage(small, "seed_scale", "--items", str(SMALL_ITEMS), "--allow-production")
    main = bench_environment(scale.database, port=port, run_id=run_id)
    if not database_exists(scale.database):
        log(f"creating {scale.database} from {SMALL_DATABASE}")
        create_database(scale.database, template=SMALL_DATABASE)
    manage(main, "migrate", "--noinput", "--verbosity", "0")
    items, applications = seeded(scale.database)
    if items < scale.items or applications < scale.applications:
        log(f"seeding {scale.database}: {scale.items:,} items, {scale.applications:,} applications (top-up)")
        manage(
            main,
            "seed_scale",
            "--items",
            str(scale.items),
            "--applications",
            str(scale.applications),
            "--allow-production",
        )
    if not static_is_current():
        manage(main, "collectstatic", "--noinput", "--verbosity", "0")


def guide_queries_on(database: str, code: str, *, port: int, run_id: str) -> tuple[int, int]:
    """The guide page's query counts (page-cache miss, hit) on another database, in a process of its own."""
    # A cache key prefix of its own: the same page of the other database must not be served from the cache.
    environment = bench_environment(database, port=port, run_id=f"{run_id}-{database}")
    output = subprocess.run(
        [str(BIN / "python"), "-m", "bench.run", "--count-guide-queries", code],
        cwd=ROOT,
        env=environment,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    miss, hit = output.strip().splitlines()[-1].split()
    return int(miss), int(hit)


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


@dataclass
class Data:
    """What the load asks for, prepared in the database before the servers start."""

    guide_paths: list[str]
    catalogue_paths: list[str]
    search_paths: list[str]
    track_bodies: list[str]
    clerk_session: str
    citizen_token: str
    queue_open_tasks: int
    queue_department: str
    submitter_tokens: list[str]
    drafts: list[list[str]]
    draft_ids: dict[str, int]
    synthetic_code: str
    excluded_department_id: int
    demo_code: str


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
