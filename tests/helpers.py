"""Helpers shared by tests."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

if TYPE_CHECKING:
    from accounts.models import User

# The clerk's queue page (/workbench/) costs this many queries, whatever the queue's length, with the services to
# filter by kept or not yet kept (tests/approvals/workbench/: test_queue.py, test_queue_services_kept.py).
QUEUE_QUERIES = 9


def free_port() -> int:
    """A TCP port on the loopback address that nothing listens on now, for a server a test starts."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def logged_in(user: User) -> Client:
    """A test client signed in as ``user``."""
    client = Client()
    client.force_login(user)
    return client


def get_counting_queries(client: Client, url: str, **extra: Any) -> tuple[Any, list[str]]:
    """GET ``url`` and return the response with the SQL it ran, to pin query counts in page tests."""
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, **extra)
    return response, [query["sql"] for query in captured.captured_queries]


def assert_query_count(queries: list[str], expected: int) -> None:
    """Fail with the queries listed, so a regression shows what was added."""
    if len(queries) != expected:
        listing = "\n".join(f"  {number}. {sql}" for number, sql in enumerate(queries, 1))
        raise AssertionError(f"expected {expected} queries, ran {len(queries)}:\n{listing}")


ROOT = Path(__file__).resolve().parent.parent
# Variables this test run sets for itself, which a fresh process must not inherit.
_TEST_ONLY_ENV = {
    "DJANGO_SETTINGS_MODULE",
    "DJANGO_ALLOW_ASYNC_UNSAFE",
    "DEBUG",
    "SECRET_KEY",
    "FIELD_ENCRYPTION_KEY",
    "IDP_OIDC_PRIVATE_KEY",
    "HTTPS",
    "ALLOWED_HOSTS",
}


# What production sets (``check --deploy`` passes on it); a test changes one variable to see a check fail.
PRODUCTION_ENV = {
    "DEBUG": "false",
    "SECRET_KEY": "a7Jq-3vN_pX9wLr2Tb8Ke5Yh0Zc4Gm6Fd1Sa-Ux7Wi3Oo9Pt2Rn5Ve8Qj4Hk6Bl0",
    "FIELD_ENCRYPTION_KEY": "Q2hlY2stZGVwbG95LW9ubHkta2V5LTAxMjM0NTY3ODk=",
    "ALLOWED_HOSTS": "zwfw.example.gov.cn",
    "CSRF_TRUSTED_ORIGINS": "https://zwfw.example.gov.cn",
    "BEHIND_PROXY": "true",
    "IDP_OIDC_PRIVATE_KEY": os.environ["IDP_OIDC_PRIVATE_KEY"],  # the test key of tests/settings.py
    "SMS_SENDER": "tests.accounts.sms_gateway.GatewaySmsSender",  # a gateway, not the demo outbox
}


def run_python(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """Run ``python args`` in the project folder as a fresh process would, with ``env`` added."""
    environment = {key: value for key, value in os.environ.items() if key not in _TEST_ONLY_ENV}
    environment.update(env)
    return subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
