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
"""

from __future__ import annotations

import argparse
import base64
import datetime
import hashlib
import http.client
import importlib
import json
import logging
import math
import os
import platform
import signal
import statistics
import subprocess
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / ".venv" / "bin"
VAR = ROOT / "var" / "bench"
RESULTS = ROOT / "bench" / "results.json"
PROFILES = ROOT / "bench" / "profiles"

# Bench-only keys: they encrypt the synthetic data of the benchmark databases and nothing else.
BENCH_SECRET_KEY = "bench-only-secret-key-for-the-benchmark-databases-never-deployed-0123456789"  # noqa: S105
BENCH_FIELD_ENCRYPTION_KEY = base64.urlsafe_b64encode(hashlib.sha256(b"portal benchmarks only").digest()).decode()
# Raised for the benchmark's own gunicorn only (its one client is the load on loopback); check_rate_limits()
# shows that the defaults hold on a gunicorn started without them.
RAISED_LIMITS = {
    "API_ANON_RATE": "10000000/minute",
    "API_USER_RATE": "10000000/minute",
    "TRACK_ATTEMPTS_PER_ADDRESS": "1000000000",
}
WEB_WORKERS = 4  # the README's production command: about 2 × cores
WORKER_COMMAND = ["--queues", "routing,notifications", "--concurrency", "4"]  # the README's first worker
SMALL_DATABASE = "portal_bench_1k"
SMALL_ITEMS = 1000
CITIZEN_EMAIL = "bench-citizen@bench.invalid"  # bench/fixtures.py's

CHINESE_QUERIES = (
    "结婚登记",
    "社保",
    "营业执照",
    "身份证",
    "公积金提取",
    "不动产登记",
    "食品经营许可证",
    "户口迁移",
    "出生医学证明",
    "烟花爆竹",
    "民宿",
    "危险化学品",
    "托育机构",
    "医疗器械经营",
    "行政处罚",
    "二手车交易",
)


@dataclass(frozen=True)
class Scale:
    """How big a run is."""

    name: str
    database: str
    items: int
    applications: int
    repeats: int
    seconds: float  # each repeat of a web figure
    warmup_seconds: float
    submit_seconds: float
    routing_batch: int
    throughput_users: int = 8
    latency_users: int = 2  # one client per core: latency without a queue in front of the server
    submit_rate: float = 50.0
    submit_users: int = 16
    queue_tasks: int = 10_000
    my_applications: int = 200


FULL = Scale("full", "portal_bench", 100_000, 1_000_000, 3, 20, 5, 60, 2000)
QUICK = Scale("quick", "portal_bench_quick", 3_000, 30_000, 3, 3, 1, 6, 150)


# --- small helpers ------------------------------------------------------------------------


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S', time.gmtime())}Z] {message}", flush=True)


def percentile(values: Sequence[float], share: float) -> float:
    """Nearest-rank percentile."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(share * len(ordered)) - 1))]


def spread(values: Sequence[float]) -> dict[str, float]:
    return {"min": min(values), "median": statistics.median(values), "max": max(values)}


def rounded(value: float, digits: int = 1) -> float:
    return round(value, digits) if math.isfinite(value) else value


@dataclass
class Figure:
    value: float
    unit: str
    target: str
    samples: list[float]
    is_met: bool | None = None  # None: no target to meet, only reported
    details: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        digits = 3 if self.unit == "ratio" else 1
        data: dict[str, Any] = {
            "value": rounded(self.value, digits),
            "unit": self.unit,
            **{key: rounded(value, digits) for key, value in spread(self.samples).items()},
            "target": self.target,
            "met": self.is_met,
        }
        if self.details:
            data["details"] = self.details
        return data


# --- environment, databases, processes -------------------------------------------------------


def bench_environment(database: str, *, port: int, run_id: str, raised_limits: bool = True) -> dict[str, str]:
    """Production settings from the environment, as the README's Production section sets them."""
    cryptography = importlib.import_module("cryptography.hazmat.primitives.asymmetric.rsa")
    serialization = importlib.import_module("cryptography.hazmat.primitives.serialization")
    key = cryptography.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    postgres = os.environ.get("BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432")
    redis = os.environ.get("BENCH_REDIS", "redis://127.0.0.1:6379/1")
    environment = {
        **{key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "PYTEST"))},
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "PYTHONPATH": str(ROOT),
        "DEBUG": "false",
        "SECRET_KEY": BENCH_SECRET_KEY,
        "FIELD_ENCRYPTION_KEY": BENCH_FIELD_ENCRYPTION_KEY,
        "IDP_OIDC_PRIVATE_KEY": pem,
        "DATABASE_URL": f"{postgres}/{database}",
        "REDIS_URL": redis,
        "CELERY_BROKER_URL": redis,
        "CACHE_KEY_PREFIX": f"bench-{run_id}",
        "ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
        "HTTPS": "true",
        "BEHIND_PROXY": "true",
        "LOG_FORMAT": "json",
        "LOG_LEVEL": "info",
        "VAR_DIR": str(VAR / "var"),
        "STATIC_ROOT": str(VAR / "static"),
        # No mail server on the benchmark machine.
        "EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend",
        "BENCH_PORT": str(port),
    }
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"):
        environment.pop(name, None)
    if raised_limits:
        environment.update(RAISED_LIMITS)
    else:
        for name in RAISED_LIMITS:
            environment.pop(name, None)
    return environment


def _postgres_admin() -> Any:
    psycopg2 = importlib.import_module("psycopg2")
    postgres = os.environ.get("BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432")
    connection = psycopg2.connect(f"{postgres}/postgres")
    connection.autocommit = True
    return connection


def database_exists(name: str) -> bool:
    with _postgres_admin() as connection, connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        return cursor.fetchone() is not None


def create_database(name: str, *, template: str | None = None) -> None:
    if not name.startswith("portal_bench"):
        raise SystemExit(f"refusing to create {name}: benchmark databases are named portal_bench…")
    connection = _postgres_admin()
    try:
        with connection.cursor() as cursor:
            cursor.execute(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
    finally:
        connection.close()


def manage(environment: dict[str, str], *arguments: str) -> None:
    subprocess.run([str(BIN / "python"), "manage.py", *arguments], cwd=ROOT, env=environment, check=True)


@dataclass
class Server:
    name: str
    process: subprocess.Popen[bytes]
    log_path: Path

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start(name: str, command: list[str], environment: dict[str, str]) -> Server:
    (VAR / "logs").mkdir(parents=True, exist_ok=True)
    log_path = VAR / "logs" / f"{name}.log"
    handle = log_path.open("ab")
    process = subprocess.Popen(command, cwd=ROOT, env=environment, stdout=handle, stderr=subprocess.STDOUT)
    return Server(name=name, process=process, log_path=log_path)


def start_web(environment: dict[str, str], port: int, *, workers: int = WEB_WORKERS, name: str = "web") -> Server:
    server = start(
        name,
        [str(BIN / "gunicorn"), "portal.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", str(workers)],
        environment,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise SystemExit(f"gunicorn stopped at start: see {server.log_path}")
        try:
            status, _body = request(port, "GET", "/healthz")
            if status == 200:
                return server
        except OSError:
            pass
        time.sleep(0.3)
    server.stop()
    raise SystemExit(f"gunicorn did not answer /healthz within 60 s: see {server.log_path}")


def start_worker(environment: dict[str, str], name: str, options: list[str]) -> Server:
    return start(
        name,
        [str(BIN / "celery"), "-A", "portal", "worker", "--include", "bench.tasks", "-n", f"{name}@bench", *options],
        environment,
    )


def wait_for_worker(name: str, timeout: float = 60) -> None:
    from portal.celery import app

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if app.control.ping(destination=[f"{name}@bench"], timeout=1.0):
            return
    raise SystemExit(f"the Celery worker {name} did not answer a ping within {timeout} s")


def request(
    port: int,
    method: str,
    path: str,
    *,
    body: str | None = None,
    headers: dict[str, str] | None = None,
    source: str = "127.0.0.1",
) -> tuple[int, bytes]:
    """One request to the local server, marked as forwarded HTTPS, from a loopback address of our choice."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30, source_address=(source, 0))
    try:
        all_headers = {"X-Forwarded-Proto": "https", **(headers or {})}
        if body is not None:
            all_headers.setdefault("Content-Type", "application/json")
        connection.request(method, path, body=body, headers=all_headers)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def peak_rss_mb(process_id: int) -> dict[int, float]:
    """Peak resident memory (VmHWM) of a process and every descendant, in MB."""
    psutil = importlib.import_module("psutil")
    result = {}
    try:
        parent = psutil.Process(process_id)
        processes = [parent, *parent.children(recursive=True)]
    except psutil.NoSuchProcess:
        return {}
    for process in processes:
        try:
            status = Path(f"/proc/{process.pid}/status").read_text()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("VmHWM:"):
                result[process.pid] = int(line.split()[1]) / 1024
    return result


# --- the load -------------------------------------------------------------------------------


@dataclass
class LoadResult:
    records: list[list[Any]]  # [start epoch, ms, status, tag, X-Page-Cache]

    @property
    def ok(self) -> list[list[Any]]:
        return [record for record in self.records if 200 <= record[2] < 300]

    @property
    def errors(self) -> int:
        return len(self.records) - len(self.ok)

    def window(self) -> float:
        if not self.records:
            return math.nan
        first = min(record[0] for record in self.records)
        last = max(record[0] + record[1] / 1000 for record in self.records)
        return last - first

    def rate(self) -> float:
        return len(self.ok) / self.window() if self.records else 0.0

    def p95(self) -> float:
        return percentile([record[1] for record in self.ok], 0.95)

    def page_cache_hits(self) -> float:
        """The share of answers the page cache gave (its X-Page-Cache header said hit)."""
        return sum(1 for record in self.ok if len(record) > 4 and record[4] == "hit") / max(1, len(self.ok))

    def statuses(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for record in self.records:
            counts[str(record[2])] = counts.get(str(record[2]), 0) + 1
        return counts


@dataclass(frozen=True)
class Phase:
    """What bench/load.py sends for a while: a shared list picked at random, or one list per client in order."""

    name: str
    seconds: float
    users: int
    requests: Sequence[dict[str, Any]] = ()
    per_user: Sequence[Sequence[dict[str, Any]]] = ()
    headers: dict[str, str] = field(default_factory=dict)
    rate_per_user: float | None = None
    max_requests: int = 1_000_000

    def as_spec(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "seconds": self.seconds,
            "users": self.users,
            # Bounded in requests as well as in time: more than loopback could serve in the phase's time.
            "max_requests": min(self.max_requests, int(self.seconds * 5000)),
            "rate_per_user": self.rate_per_user,
            "headers": {"X-Forwarded-Proto": "https", **self.headers},
            "requests": list(self.requests),
            "per_user": [list(each) for each in self.per_user],
        }


def run_load(name: str, port: int, phases: Sequence[Phase]) -> dict[str, LoadResult]:
    """Run bench/load.py in its own process (its phases one after the other) and read what it recorded."""
    folder = VAR / "load"
    folder.mkdir(parents=True, exist_ok=True)
    out = folder / f"{name}.out.json"
    spec = {"host": f"http://127.0.0.1:{port}", "phases": [phase.as_spec() for phase in phases], "out": str(out)}
    spec_path = folder / f"{name}.spec.json"
    spec_path.write_text(json.dumps(spec, ensure_ascii=False))
    with (VAR / "logs" / "load.log").open("ab") as errors:
        subprocess.run(
            [str(BIN / "python"), "-m", "bench.load", str(spec_path)],
            cwd=ROOT,
            check=True,
            timeout=sum(phase.seconds for phase in phases) + 120,
            stdout=subprocess.DEVNULL,
            stderr=errors,
        )
    recorded = json.loads(out.read_text())["phases"]
    return {phase: LoadResult(records=records) for phase, records in recorded.items()}


# --- the run ----------------------------------------------------------------------------------


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


def get_requests(paths: Sequence[str], headers: dict[str, str] | None = None) -> list[dict[str, Any]]:
    return [{"method": "GET", "path": path, "tag": path.split("?")[0], "headers": headers or {}} for path in paths]


def throughput_figures(context: Context, data: Data) -> None:
    """Floor and guide page, requests/s at fixed concurrency, repeats interleaved so both see the same noise."""
    scale = context.scale
    pages = {"floor": get_requests(["/bench/floor"]), "guide": get_requests(data.guide_paths)}
    phases = [
        Phase(f"{page}-warmup", scale.warmup_seconds, scale.throughput_users, requests=requests)
        for page, requests in pages.items()
    ]
    for repeat in range(scale.repeats):
        phases += [
            Phase(f"{page}-{repeat}", scale.seconds, scale.throughput_users, requests=requests)
            for page, requests in pages.items()
        ]
    results = run_load("throughput", context.port, phases)
    machine_load = round(os.getloadavg()[0], 2)
    floors, guides, ratios, errors, hits = [], [], [], 0, []
    for repeat in range(scale.repeats):
        floor, guide = results[f"floor-{repeat}"], results[f"guide-{repeat}"]
        errors += floor.errors + guide.errors
        hits.append(round(guide.page_cache_hits(), 3))
        floors.append(floor.rate())
        guides.append(guide.rate())
        ratios.append(guide.rate() / floor.rate())
        log(f"floor {floor.rate():.0f}/s, guide {guide.rate():.0f}/s ({ratios[-1]:.2f})")
    concurrency = f"{scale.throughput_users} concurrent clients, no think time"
    context.figures["floor_rps"] = Figure(
        statistics.median(floors),
        "requests/s",
        "the floor (reference)",
        floors,
        None,
        {
            "concurrency": concurrency,
            "errors": errors,
            "path": "/bench/floor (bench/urls.py)",
            "machine_load_1min_after": machine_load,
        },
    )
    context.figures["guide_page_rps"] = Figure(
        statistics.median(guides),
        "requests/s",
        "≥ 80 % of floor_rps",
        guides,
        None,
        {
            "concurrency": concurrency,
            "pages": f"{len(data.guide_paths)} guides picked at random, anonymous",
            "page_cache_hit_share": hits,
        },
    )
    ratio = statistics.median(ratios)
    context.figures["guide_page_ratio"] = Figure(ratio, "ratio", "≥ 0.80", ratios, ratio >= 0.8)


def query_figures(context: Context, data: Data) -> None:
    """Query counts, in-process through the whole middleware stack: the guide at 1 k and 100 k items, the queue."""
    from bench import fixtures

    large, large_hit = fixtures.count_page_queries(f"/services/{data.synthetic_code}/")
    demo, _demo_hit = fixtures.count_page_queries(f"/services/{data.demo_code}/")
    small, small_hit = guide_queries_on(SMALL_DATABASE, data.synthetic_code, port=context.port, run_id=context.run_id)
    counted = "when the page cache misses (the page renders); details give the count on a hit"
    context.figures["guide_page_queries_1k"] = Figure(
        small,
        "queries",
        "= guide_page_queries_100k",
        [small],
        small == large,
        {"items": SMALL_ITEMS, "page": f"/services/{data.synthetic_code}/", "counted": counted, "on_a_hit": small_hit},
    )
    context.figures["guide_page_queries_100k"] = Figure(
        large,
        "queries",
        "= guide_page_queries_1k",
        [large],
        small == large,
        {
            "items": context.machine["data"]["published_items"],
            "counted": counted,
            "on_a_hit": large_hit,
            "a_demo_item_with_themes_and_bundles": demo,
        },
    )
    queue = fixtures.count_queries("/workbench/", session_key=data.clerk_session)
    context.figures["queue_queries"] = Figure(
        queue, "queries", "≤ 12", [queue], queue <= 12, {"open_tasks": data.queue_open_tasks}
    )


@dataclass(frozen=True)
class LatencyCase:
    name: str
    target_ms: float
    requests: Sequence[dict[str, Any]]
    headers: dict[str, str] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)


def latency_figures(context: Context, data: Data) -> None:
    """p95 at a fixed concurrency (one client per core): a warm-up, then the repeats; one load process for all."""
    scale = context.scale
    cases = [
        LatencyCase(
            "catalogue_facets",
            50,
            get_requests(data.catalogue_paths),
            details={
                "pages": "two facets: audience + 事项类型, audience + city; pages 1–3; facet counts cached",
                "urls": len(data.catalogue_paths),
            },
        ),
        LatencyCase("search", 50, get_requests(data.search_paths), details={"queries": list(CHINESE_QUERIES)}),
        LatencyCase(
            "track",
            15,
            [{"method": "POST", "path": "/api/v1/track/", "body": body, "tag": "track"} for body in data.track_bodies],
            headers={"Content-Type": "application/json"},
            details={
                "endpoint": "POST /api/v1/track/ (number + query password)",
                "applications_in_database": context.machine["data"]["applications"],
                "numbers_asked": len(data.track_bodies),
            },
        ),
        LatencyCase(
            "my_applications",
            15,
            get_requests(["/api/v1/applications/"]),
            headers={"X-Session-Token": data.citizen_token},
            details={
                "endpoint": "GET /api/v1/applications/ (first page of 20)",
                "applications_of_the_user": scale.my_applications,
                "target_note": "the issue gives figure 4 one target (track's); applied here too",
            },
        ),
        LatencyCase(
            "queue",
            50,
            get_requests(["/workbench/"]),
            headers={"Cookie": f"sessionid={data.clerk_session}"},
            details={"open_tasks_in_department": data.queue_open_tasks, "department": data.queue_department},
        ),
    ]
    phases = []
    for case in cases:
        phases.append(
            Phase(f"{case.name}-warmup", scale.warmup_seconds, scale.latency_users, case.requests, headers=case.headers)
        )
        phases += [
            Phase(f"{case.name}-{repeat}", scale.seconds, scale.latency_users, case.requests, headers=case.headers)
            for repeat in range(scale.repeats)
        ]
    results = run_load("latency", context.port, phases)
    machine_load = round(os.getloadavg()[0], 2)
    for case in cases:
        p95s, p50s, rates = [], [], []
        statuses: dict[str, int] = {}
        for repeat in range(scale.repeats):
            result = results[f"{case.name}-{repeat}"]
            if not result.ok:
                raise SystemExit(f"{case.name}: no request succeeded ({result.statuses()}); see {VAR / 'logs'}")
            p95s.append(result.p95())
            p50s.append(percentile([record[1] for record in result.ok], 0.5))
            rates.append(result.rate())
            for status, count in result.statuses().items():
                statuses[status] = statuses.get(status, 0) + count
            log(f"{case.name}: p95 {p95s[-1]:.1f} ms, p50 {p50s[-1]:.1f} ms at {rates[-1]:.0f}/s")
        value = statistics.median(p95s)
        context.figures[f"{case.name}_p95_ms"] = Figure(
            value,
            "ms",
            f"≤ {case.target_ms:g} ms",
            p95s,
            value <= case.target_ms,
            {
                "concurrency": f"{scale.latency_users} concurrent clients, no think time",
                "requests_per_s": rounded(statistics.median(rates)),
                "p50_ms": rounded(statistics.median(p50s)),
                "statuses": statuses,
                "machine_load_1min_after": machine_load,
                **case.details,
            },
        )


class TaskWatcher(threading.Thread):
    """Polls the database: when the first-stage tasks of each watched application became visible (committed).

    Task ids are taken before their transactions commit, so a task may become visible after
    one with a higher id: each poll looks back ``LOOKBACK`` ids below the highest seen. One
    query of a few hundred rows every 25 ms, so that the watching does not load the server.
    """

    LOOKBACK = 500

    def __init__(self, application_ids: Sequence[int], interval: float = 0.025) -> None:
        super().__init__(daemon=True)
        from approvals.models import WorkflowTask

        self.interval = interval
        self.watched = set(application_ids)
        self.seen: dict[int, float] = {}
        self.stop_event = threading.Event()
        self.highest = WorkflowTask.objects.order_by("-pk").values_list("pk", flat=True).first() or 0

    def poll(self) -> None:
        from approvals.models import WorkflowTask

        rows = WorkflowTask.objects.filter(pk__gt=self.highest - self.LOOKBACK, stage_index=0).values_list(
            "pk", "application_id"
        )
        now = time.time()
        for pk, application_id in rows:
            if application_id in self.watched and application_id not in self.seen:
                self.seen[application_id] = now
            self.highest = max(self.highest, pk)

    def run(self) -> None:
        from django.db import connection

        try:
            while not self.stop_event.is_set():
                self.poll()
                time.sleep(self.interval)
        finally:
            connection.close()

    def missing(self, application_ids: Sequence[int]) -> set[int]:
        """Of these applications, those with no first-stage task at all (asked by id: nothing escapes)."""
        from approvals.models import WorkflowTask

        routed = set(
            WorkflowTask.objects.filter(application_id__in=list(application_ids), stage_index=0).values_list(
                "application_id", flat=True
            )
        )
        return set(application_ids) - routed


def submit_figures(context: Context, data: Data) -> None:
    """50 submissions/s offered by 16 clients; submit latency, and submit → first-stage task visible."""
    scale = context.scale
    per_user = math.ceil(scale.submit_rate * scale.submit_seconds / scale.submit_users) + 1
    latencies, visible, rates, lost_total, errors_total = [], [], [], 0, 0
    all_visible: list[float] = []
    machine_loads: list[float] = []
    for repeat in range(scale.repeats):
        per_user_requests: list[list[dict[str, Any]]] = []
        for index, token in enumerate(data.submitter_tokens):
            drafts = data.drafts[index][repeat * per_user : (repeat + 1) * per_user]
            per_user_requests.append(
                [
                    {
                        "method": "POST",
                        "path": f"/api/v1/applications/{public_id}/submit/",
                        "body": "{}",
                        "tag": public_id,
                        "headers": {
                            "X-Session-Token": token,
                            "Idempotency-Key": str(uuid.uuid4()),
                            "Content-Type": "application/json",
                        },
                    }
                    for public_id in drafts
                ]
            )
        watcher = TaskWatcher([data.draft_ids[request["tag"]] for each in per_user_requests for request in each])
        watcher.start()
        phase = Phase(
            f"submit-{repeat}",
            scale.submit_seconds,
            scale.submit_users,
            per_user=per_user_requests,
            rate_per_user=scale.submit_rate / scale.submit_users,
            max_requests=int(scale.submit_rate * scale.submit_seconds),
        )
        result = run_load(f"submit-{repeat}", context.port, [phase])[phase.name]
        machine_loads.append(round(os.getloadavg()[0], 2))
        accepted = {data.draft_ids[record[3]]: record[0] for record in result.ok}
        deadline = time.monotonic() + 60  # then what is still not routed counts as lost
        while time.monotonic() < deadline and not set(accepted) <= set(watcher.seen):
            time.sleep(0.1)
        watcher.stop_event.set()
        watcher.join()
        lost = len(watcher.missing(list(accepted)))
        late = len(set(accepted) - set(watcher.seen)) - lost  # routed, but missed by the polling: not counted
        delays = [(watcher.seen[pk] - started) * 1000 for pk, started in accepted.items() if pk in watcher.seen]
        if late:
            context.notes.append(f"submit repeat {repeat}: {late} routed submissions escaped the watcher's look-back")
        lost_total += lost
        errors_total += result.errors
        latencies.append(result.p95())
        visible.append(percentile(delays, 0.95))
        all_visible.extend(delays)
        rates.append(result.rate())
        log(
            f"submit: {result.rate():.1f}/s achieved, p95 {latencies[-1]:.0f} ms, to queue p95 {visible[-1]:.0f} ms, "
            f"lost {lost}, errors {result.errors} {result.statuses()}"
        )
    offered = f"{scale.submit_rate:g}/s offered for {scale.submit_seconds:g} s by {scale.submit_users} clients"
    context.figures["submit_p95_ms"] = Figure(
        statistics.median(latencies),
        "ms",
        "reported (no target)",
        latencies,
        None,
        {
            "offered": offered,
            "achieved_per_s": [rounded(rate) for rate in rates],
            "errors": errors_total,
            "machine_load_1min_after": machine_loads,
        },
    )
    value = statistics.median(visible)
    context.figures["submit_to_queue_p95_ms"] = Figure(
        value,
        "ms",
        "≤ 500 ms",
        visible,
        value <= 500,
        {
            "measured": "from the submit request's start to the first poll (every 25 ms) that sees the task",
            "p50_ms_all": rounded(percentile(all_visible, 0.5)),
            "worker": context.machine["worker"],
        },
    )
    context.figures["submissions_lost"] = Figure(
        lost_total, "submissions", "0", [lost_total], lost_total == 0, {"errors": errors_total}
    )


def routing_figures(context: Context, data: Data) -> None:
    """Applications routed per second by one worker process, against no-op tasks on the same broker."""
    from django.core.cache import cache

    from approvals.models import Outbox
    from approvals.tasks import route_application
    from bench import fixtures
    from bench.tasks import mark, noop
    from portal.celery import app
    from services.models import Department

    scale = context.scale
    excluded = Department.objects.get(pk=data.excluded_department_id)
    batches = [fixtures.routing_batch(scale.routing_batch, excluded_department=excluded) for _ in range(scale.repeats)]
    app.control.purge()
    key = f"bench:{context.run_id}:mark:"
    with app.producer_or_acquire() as producer:
        for repeat, outbox_ids in enumerate(batches):
            mark.apply_async(args=(f"{key}noop-{repeat}-start",), queue="routing", producer=producer)
            for _ in outbox_ids:
                noop.apply_async(queue="routing", producer=producer)
            mark.apply_async(args=(f"{key}noop-{repeat}-end",), queue="routing", producer=producer)
            mark.apply_async(args=(f"{key}route-{repeat}-start",), queue="routing", producer=producer)
            for outbox_id in outbox_ids:
                route_application.apply_async(args=(outbox_id,), queue="routing", producer=producer)
            mark.apply_async(args=(f"{key}route-{repeat}-end",), queue="routing", producer=producer)
    log(f"routing: {scale.repeats} × ({scale.routing_batch} no-op, {scale.routing_batch} routing) queued")
    worker = start_worker(context.environment, "routing", ["--queues", "routing", "--concurrency", "1"])
    try:
        last = f"{key}route-{scale.repeats - 1}-end"
        deadline = time.monotonic() + 600
        while cache.get(last) is None:
            if time.monotonic() > deadline or worker.process.poll() is not None:
                raise SystemExit(f"routing did not finish; see {worker.log_path}")
            time.sleep(0.2)
        context.rss_worker.update(peak_rss_mb(worker.process.pid))
    finally:
        worker.stop()
    routing_rates, noop_rates, ratios = [], [], []
    for repeat, outbox_ids in enumerate(batches):
        noop_rate = len(outbox_ids) / (cache.get(f"{key}noop-{repeat}-end") - cache.get(f"{key}noop-{repeat}-start"))
        route_rate = len(outbox_ids) / (cache.get(f"{key}route-{repeat}-end") - cache.get(f"{key}route-{repeat}-start"))
        unprocessed = Outbox.objects.filter(pk__in=outbox_ids, processed_at__isnull=True).count()
        if unprocessed:
            raise SystemExit(f"routing left {unprocessed} outbox rows unprocessed")
        noop_rates.append(noop_rate)
        routing_rates.append(route_rate)
        ratios.append(route_rate / noop_rate)
        log(f"routing {route_rate:.0f}/s, no-op {noop_rate:.0f}/s ({ratios[-1]:.2f})")
    pool = "prefork pool, concurrency 1, prefetch 1, acks late (the production settings)"
    context.figures["routing_per_s"] = Figure(
        statistics.median(routing_rates),
        "applications/s",
        "≥ 40 % of noop_tasks_per_s",
        routing_rates,
        None,
        {"batch": scale.routing_batch, "worker": pool},
    )
    context.figures["noop_tasks_per_s"] = Figure(
        statistics.median(noop_rates), "tasks/s", "the floor (reference)", noop_rates, None, {"worker": pool}
    )
    ratio = statistics.median(ratios)
    context.figures["routing_ratio"] = Figure(ratio, "ratio", "≥ 0.40", ratios, ratio >= 0.4)


def memory_figures(context: Context) -> None:
    web = list(context.rss_web.values())
    worker = list(context.rss_worker.values())
    context.figures["web_rss_mb"] = Figure(
        max(web), "MB", "≤ 200 MB", web, max(web) <= 200, {"processes": "gunicorn master and its workers, VmHWM"}
    )
    context.figures["worker_rss_mb"] = Figure(
        max(worker),
        "MB",
        "≤ 250 MB",
        worker,
        max(worker) <= 250,
        {"processes": "both Celery workers (main and routing), parent and pool processes, VmHWM"},
    )


def check_rate_limits(context: Context, data: Data) -> dict[str, Any]:
    """On a gunicorn started without the raised limits, the defaults answer as they should.

    Each check comes from a loopback address of its own (127.0.0.11 …), since the
    limits count per client address.
    """
    port = context.port + 1
    environment = bench_environment(
        context.scale.database, port=port, run_id=f"{context.run_id}-limits", raised_limits=False
    )
    server = start_web(environment, port, workers=1, name="web-limits")
    checks: dict[str, Any] = {}
    try:
        # DRF's anonymous rate (API_ANON_RATE, 120/minute): the 121st request of a minute is refused.
        statuses = [request(port, "GET", "/api/v1/regions/?level=2", source="127.0.0.11")[0] for _ in range(121)]
        checks["api_anonymous_120_per_minute"] = statuses[:120] == [200] * 120 and statuses[120] == 429
        # DRF's user rate (API_USER_RATE, 600/minute) for a signed-in app.
        headers = {"X-Session-Token": data.citizen_token}
        statuses = [request(port, "GET", "/api/v1/me/", headers=headers, source="127.0.0.12")[0] for _ in range(601)]
        checks["api_user_600_per_minute"] = statuses[:600] == [200] * 600 and statuses[600] == 429
        # Tracking: 5 wrong passwords lock the number (TRACK_FAILURES_PER_NUMBER), even for the right password.
        number, password = json.loads(data.track_bodies[0]).values()
        wrong_password = "000000" if password != "000000" else "111111"  # noqa: S105
        wrong = json.dumps({"number": number, "password": wrong_password})
        statuses = [request(port, "POST", "/api/v1/track/", body=wrong, source="127.0.0.13")[0] for _ in range(5)]
        right = json.dumps({"number": number, "password": password})
        locked = request(port, "POST", "/api/v1/track/", body=right, source="127.0.0.14")[0]
        checks["track_number_locked_after_5_failures"] = statuses == [404] * 5 and locked == 429
        # Tracking: each address has 30 attempts in the window (TRACK_ATTEMPTS_PER_ADDRESS).
        statuses = [
            request(
                port,
                "POST",
                "/api/v1/track/",
                body=json.dumps({"number": f"X{attempt:042d}", "password": "123456"}),
                source="127.0.0.15",
            )[0]
            for attempt in range(31)
        ]
        checks["track_30_attempts_per_address"] = statuses[:30] == [404] * 30 and statuses[30] == 429
        # allauth: 5 failed logins of one account in 5 minutes (ACCOUNT_RATE_LIMITS login_failed), then refused.
        body = json.dumps({"email": CITIZEN_EMAIL, "password": "not-the-password"})
        answers = [
            request(port, "POST", "/_allauth/app/v1/auth/login", body=body, source="127.0.0.16") for _ in range(6)
        ]
        codes = [json.loads(answer)["errors"][0]["code"] for _status, answer in answers]
        checks["login_failed_5_per_account"] = (
            codes[:5] == ["email_password_mismatch"] * 5 and codes[5] == "too_many_login_attempts"
        )
    finally:
        server.stop()
    checks["hold"] = all(value is True for value in checks.values())
    log(f"rate limits without the benchmark's raise: {checks}")
    return checks


def memory_profile(environment: dict[str, str]) -> str:
    """bench/memory.py in a fresh process: the resident memory each import adds before the first request."""
    return subprocess.run(
        [str(BIN / "python"), "-m", "bench.memory"],
        cwd=ROOT,
        env=environment,
        check=True,
        capture_output=True,
        text=True,
    ).stdout


def profile_misses(context: Context, data: Data) -> None:
    """Where the time (or memory) of each missed figure goes: pyinstrument in this process, bench/profiles/."""
    from approvals.routing import engine
    from bench import fixtures
    from services.models import Department

    def routing_profile() -> str:
        excluded = Department.objects.get(pk=data.excluded_department_id)
        outbox_ids = iter(fixtures.routing_batch(200, excluded_department=excluded))
        return fixtures.profile(lambda: engine.outbox_process(outbox_id=next(outbox_ids)), repeat=200)

    def submit_profile() -> str:
        drafts = [public_id for each in data.drafts for public_id in each[-10:]]
        tokens = [token for token in data.submitter_tokens for _ in range(10)]
        return fixtures.profile_requests(
            [f"/api/v1/applications/{public_id}/submit/" for public_id in drafts],
            bodies=["{}"] * len(drafts),
            headers=[{"X-Session-Token": token, "Idempotency-Key": str(uuid.uuid4())} for token in tokens],
            warm=False,
        )

    jobs: dict[str, Callable[[], str]] = {
        "guide_page_ratio": lambda: fixtures.profile_requests(data.guide_paths[:200]),
        "catalogue_facets_p95_ms": lambda: fixtures.profile_requests(data.catalogue_paths * 3),
        "search_p95_ms": lambda: fixtures.profile_requests(data.search_paths * 3),
        "track_p95_ms": lambda: fixtures.profile_requests(["/api/v1/track/"] * 200, bodies=data.track_bodies[:200]),
        "my_applications_p95_ms": lambda: fixtures.profile_requests(
            ["/api/v1/applications/"] * 100, headers=[{"X-Session-Token": data.citizen_token}] * 100
        ),
        "queue_p95_ms": lambda: fixtures.profile_requests(["/workbench/"] * 50, session_key=data.clerk_session),
        "submit_to_queue_p95_ms": submit_profile,
        "routing_ratio": routing_profile,
        "web_rss_mb": lambda: memory_profile(context.environment),
        "worker_rss_mb": lambda: memory_profile(context.environment),
    }
    PROFILES.mkdir(exist_ok=True)
    for name, job in jobs.items():
        figure = context.figures.get(name)
        if figure is None or figure.is_met is not False:
            continue
        log(f"profiling {name} (missed its target)")
        path = PROFILES / f"{name}.txt"
        path.write_text(job())
        context.profiles[name] = str(path.relative_to(ROOT))


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
