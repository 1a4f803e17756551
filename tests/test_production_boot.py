"""The production-like run, booted from a virtual environment of requirements.txt alone.

`make test` builds that environment outside the checkout (RUNTIME_VENV) and this
test starts what `make run` starts, with DEBUG off, on PostgreSQL and Redis: a
runtime dependency that only the development requirements bring, or a start-up
step that needs what production does not have, fails here.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg2  # type: ignore[import-untyped]  # no stubs in the test requirements
import pytest
from cryptography.fernet import Fernet
from psycopg2 import sql

from tests.helpers import ROOT, free_port

RUNTIME_VENV = os.environ.get("RUNTIME_VENV", "")

pytestmark = [
    pytest.mark.skipif(not RUNTIME_VENV, reason="make test builds the runtime-only environment (RUNTIME_VENV)"),
    pytest.mark.timeout(420),
]


@pytest.fixture
def fresh_database() -> Iterator[str]:
    """An empty PostgreSQL database of its own, as on a new machine; dropped afterwards."""
    base = urlsplit(os.environ["DATABASE_URL"])
    name = f"{base.path.lstrip('/')}_boot"
    admin = psycopg2.connect(urlunsplit(base._replace(path="/postgres")))
    admin.autocommit = True

    def drop() -> None:
        with admin.cursor() as cursor:
            cursor.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))

    drop()
    with admin.cursor() as cursor:
        cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield urlunsplit(base._replace(path=f"/{name}"))
    finally:
        drop()
        admin.close()


def _get(url: str) -> tuple[int, Any]:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:  # noqa: S310  # our own server on loopback
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(errors="replace")


def _get_status(url: str) -> int:
    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: Any, **kwargs: Any) -> None:
            return None

    try:
        with urllib.request.build_opener(NoRedirect).open(url, timeout=30) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return error.code


def _wait_for(url: str, process: subprocess.Popen[bytes], log: Path, seconds: float) -> tuple[int, Any]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the run stopped with {process.returncode}:\n{log.read_text()[-4000:]}")
        try:
            return _get(url)
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.5)
    pytest.fail(f"{url} did not answer in {seconds} s:\n{log.read_text()[-4000:]}")


def test_the_production_like_run_boots_from_the_runtime_requirements_alone(fresh_database, tmp_path):
    port = free_port()
    redis = urlsplit(os.environ["REDIS_URL"])._replace(path="/13").geturl()  # a database of its own
    subprocess.run(["redis-cli", "-u", redis, "flushdb"], check=True, capture_output=True)  # noqa: S607
    environment = {
        "PATH": os.environ["PATH"],
        "HOME": os.environ.get("HOME", str(tmp_path)),
        "LANG": "C.UTF-8",
        "VENV": RUNTIME_VENV,
        "DEBUG": "false",
        "DEMO_APP": "false",  # production may leave the demo app out: nothing else needs it
        "SECRET_KEY": Fernet.generate_key().decode() * 2,
        "FIELD_ENCRYPTION_KEY": Fernet.generate_key().decode(),
        "IDP_OIDC_PRIVATE_KEY": os.environ["IDP_OIDC_PRIVATE_KEY"],  # the test key of tests/settings.py
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DATABASE_URL": fresh_database,
        "REDIS_URL": redis,
        "CELERY_BROKER_URL": redis,
        "VAR_DIR": str(tmp_path / "var"),
        "STATIC_ROOT": str(tmp_path / "static"),
        "PORT": str(port),
        "WEB_CONCURRENCY": "2",
        "WORKER_CONCURRENCY": "1",
    }
    log = tmp_path / "run.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [str(ROOT / "bin" / "run"), "--prepare"],
            cwd=ROOT,
            env=environment,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        health = _wait_for(f"http://127.0.0.1:{port}/healthz", process, log, seconds=240)
        worker = _get(f"http://127.0.0.1:{port}/healthz/worker")
        for _ in range(6):  # the worker may still be starting: each check waits WORKER_PING_TIMEOUT for it
            if worker[0] == 200:
                break
            time.sleep(2)
            worker = _get(f"http://127.0.0.1:{port}/healthz/worker")
        refused_plain_http = _get_status(f"http://127.0.0.1:{port}/")
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=60)

    assert health == (200, {"database": "ok", "broker": "ok", "cache": "ok"})
    assert worker[0] == 200, worker
    assert set(worker[1]["queues"]) == {"routing", "notifications", "payments", "sla", "reports"}
    assert refused_plain_http == 301  # production: pages only over HTTPS (the health checks are exempt)
    said = log.read_text()
    assert "DEBUG is off, so no demo data was loaded" in said
    assert "Traceback" not in said
