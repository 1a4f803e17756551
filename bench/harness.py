"""The benchmark's machinery: its settings and scales, the databases and processes it starts, and the load it
sends (bench/load.py in a process of its own)."""

from __future__ import annotations

import base64
import hashlib
import http.client
import importlib
import json
import math
import os
import signal
import statistics
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

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
