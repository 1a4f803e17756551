"""Fixtures every test may use: the named users, a real Celery worker, a real browser."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from django.conf import settings

from accounts.models import User
from tests.factories import UserFactory

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")


# --- The named test users (STYLE.md). Their roles arrive with [accounts]. ---


@pytest.fixture
def citizen(db: None) -> User:
    return UserFactory.create(username="citizen", last_name="王", first_name="小明")


@pytest.fixture
def other_citizen(db: None) -> User:
    return UserFactory.create(username="citizen2", last_name="赵", first_name="丽")


@pytest.fixture
def enterprise_agent(db: None) -> User:
    return UserFactory.create(username="agent", last_name="李", first_name="娜")


@pytest.fixture
def clerk(db: None) -> User:
    return UserFactory.create(username="clerk", last_name="陈", first_name="静", is_staff=True)


@pytest.fixture
def other_clerk(db: None) -> User:
    return UserFactory.create(username="clerk2", last_name="孙", first_name="浩", is_staff=True)


@pytest.fixture
def supervisor(db: None) -> User:
    return UserFactory.create(username="supervisor", last_name="刘", first_name="伟", is_staff=True)


@pytest.fixture(autouse=True)
def _own_cache_namespace(settings: Any) -> None:
    """Each test sees an empty cache of its own on the shared Redis, without flushing anyone else's keys."""
    caches = {alias: dict(config) for alias, config in settings.CACHES.items()}
    for config in caches.values():
        config["KEY_PREFIX"] = f"test-{uuid.uuid4().hex}"
    settings.CACHES = caches


# --- A real Celery worker on the Redis broker. ---


@pytest.fixture
def celery_worker(transactional_db: None) -> Iterator[Any]:
    """A worker thread consuming every queue, as `make run` and production do.

    Needs transactional database access: the worker's own connection cannot
    see rows a test wrote inside an open transaction.
    """
    from celery.contrib.testing.worker import start_worker

    from portal.celery import app

    assert not settings.BROKER_IS_FILESYSTEM, "integration tests run on the Redis broker"
    app.control.purge()  # messages left by an interrupted run would be answered first
    with start_worker(app, pool="solo", perform_ping_check=False, loglevel="WARNING", shutdown_timeout=20) as worker:
        yield worker


# --- A real browser. ---


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Headless Chromium driven by Playwright; the machine's own Chromium, never a download."""
    from playwright.sync_api import sync_playwright

    if not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium package (.ci/run does).")
    # Playwright's sync API runs an event loop in this thread; the live server's
    # database calls happen in its own thread, so Django's async guard does not apply.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield chromium
        chromium.close()
    if previous is None:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    else:
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def page(browser: Any, live_server: Any) -> Iterator[Any]:
    """A fresh browser page (own cookies) whose relative URLs go to the live server."""
    context = browser.new_context(base_url=live_server.url, locale="zh-CN", viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()
