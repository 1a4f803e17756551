"""The figures of a run: each function measures some and adds them to the context (see bench/README.md)."""

from __future__ import annotations

import json
import math
import os
import statistics
import subprocess
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from bench.harness import (
    BIN,
    CHINESE_QUERIES,
    CITIZEN_EMAIL,
    PROFILES,
    ROOT,
    SMALL_DATABASE,
    SMALL_ITEMS,
    VAR,
    Context,
    Data,
    Figure,
    Phase,
    bench_environment,
    log,
    peak_rss_mb,
    percentile,
    request,
    rounded,
    run_load,
    start_web,
    start_worker,
)


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
