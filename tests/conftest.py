"""Fixtures every test may use: the named users, a real Celery worker, a real browser."""

from __future__ import annotations

import functools
import importlib.resources
import os
import re
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import transaction
from django.test import Client
from django.utils import translation

from accounts import actions as account_actions
from accounts.models import Enterprise, RealNameLevel, StaffRole, User
from demo.registry_data import LI_JIANGUO, LI_NA, WANG_XIAOMING, YIWANG_TECHNOLOGY, ZHAO_LI
from services.models import Department, ServiceItem
from tests.approvals.builders import make_applicable_item
from tests.datahub.builders import make_wang_household, make_yiwang_technology
from tests.factories import UserFactory, email_user, enroll_totp, give_identity, staff_member
from tests.services.factories import DepartmentFactory, region

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")


# --- The named test users (STYLE.md): e-mail accounts with their real-name levels and roles. ---


@pytest.fixture
def citizen(db: None) -> User:
    """王小明, 高级实名, his identity the population registry's."""
    return give_identity(
        email_user("citizen@example.com", last_name="王", first_name="小明"),
        WANG_XIAOMING,
        level=RealNameLevel.ADVANCED,
    )


@pytest.fixture
def other_citizen(db: None) -> User:
    return give_identity(email_user("citizen2@example.com", last_name="赵", first_name="丽"), ZHAO_LI)


@pytest.fixture
def enterprise_agent(db: None) -> User:
    return give_identity(email_user("agent@example.com", last_name="李", first_name="娜"), LI_NA)


@pytest.fixture
def legal_rep(db: None) -> User:
    """李建国, the legal representative of 杭州一网科技有限公司 in the registry."""
    return give_identity(email_user("legalrep@example.com", last_name="李", first_name="建国"), LI_JIANGUO)


@pytest.fixture
def department(db: None) -> Department:
    return DepartmentFactory.create(name="杭州市市场监督管理局")


@pytest.fixture
def other_department(db: None) -> Department:
    return DepartmentFactory.create(name="宁波市民政局", region=region("330200000000", "宁波市"))


@pytest.fixture
def clerk(department: Department) -> User:
    return staff_member("clerk@example.com", department, StaffRole.CLERK, last_name="陈", first_name="静")


@pytest.fixture
def other_clerk(other_department: Department) -> User:
    return staff_member("clerk2@example.com", other_department, StaffRole.CLERK, last_name="孙", first_name="浩")


@pytest.fixture
def supervisor(department: Department) -> User:
    return staff_member("supervisor@example.com", department, StaffRole.SUPERVISOR, last_name="刘", first_name="伟")


# --- What many tests start from ---


@pytest.fixture
def enterprise(legal_rep: User) -> Enterprise:
    """杭州一网科技有限公司, claimed by 李建国, its legal representative in the registry."""
    make_yiwang_technology()
    return account_actions.enterprise_claim(uscc=YIWANG_TECHNOLOGY.uscc, actor=legal_rep)


@pytest.fixture
def item(department: Department) -> ServiceItem:
    """The residence certificate service of the department, with 王小明's household in the population registry."""
    make_wang_household()
    return make_applicable_item(department=department)


@pytest.fixture
def upload_root(settings: Any, tmp_path: Path) -> Path:
    """Uploads kept in the test's own folder, and not scanned (no scanner runs in tests)."""
    settings.UPLOAD_ROOT = tmp_path / "uploads"
    settings.UPLOAD_SCANNER = "approvals.uploads.NoScanner"
    return settings.UPLOAD_ROOT


@pytest.fixture(scope="module")
def seeded(django_db_setup: None, django_db_blocker: Any) -> Iterator[dict[str, int]]:
    """The demo catalogue, seeded once for the test module inside a transaction rolled back at its end (seeding
    checks every item against the JSON Schema meta-schema, which takes seconds); the counts of what it made."""
    from demo import catalogue

    with django_db_blocker.unblock(), transaction.atomic():
        counts = catalogue.seed_catalogue()
        yield counts
        transaction.set_rollback(True)


@pytest.fixture
def admin_client_with_mfa(db: None) -> Client:
    """A platform administrator in the Django admin (staff reach it only with MFA)."""
    admin = UserFactory.create(username="root", email="root@example.com", is_staff=True, is_superuser=True)
    enroll_totp(admin)
    client = Client()
    client.force_login(admin)
    return client


@pytest.fixture
def english() -> Iterator[None]:
    """English messages, for tests that read them."""
    with translation.override("en"):
        yield


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests of concurrent row locks run on PostgreSQL only (SQLite's test database is one shared-cache memory)."""
    if settings.DATABASES["default"]["ENGINE"].endswith("postgresql"):
        return
    skip = pytest.mark.skip(reason="concurrent row locks need PostgreSQL")
    for item in items:
        if "postgresql_only" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _fresh_process_state() -> Iterator[None]:
    """Each test starts in the default language and with the broker thought reachable, whatever ran before."""
    from django.utils import translation

    from core import queueing

    translation.activate(settings.LANGUAGE_CODE)
    queueing._broker_down_until = 0.0
    yield
    queueing._broker_down_until = 0.0
    translation.activate(settings.LANGUAGE_CODE)


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


DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 375, "height": 740}
# axe-core as a package ships it (requirements-dev.txt): never fetched from a CDN.
AXE_SCRIPT = importlib.resources.files("axe_playwright_python") / "axe.min.js"
BLOCKING_IMPACTS = ("serious", "critical")
# A folder to keep a screenshot of each page the phone pass visits, to look at them (SCREENSHOTS=/tmp/shots pytest …).
SCREENSHOTS = os.environ.get("SCREENSHOTS", "")
# The elements that reach past the window's right edge, deepest first: what a failure names.
TOO_WIDE_SCRIPT = """() => {
  const limit = document.documentElement.clientWidth;
  const wide = [...document.body.querySelectorAll("*")].filter(
    (element) => element.getBoundingClientRect().right > limit + 0.5 && !element.closest(".table-scroll"));
  const classes = (element) => (typeof element.className === "string" ? element.className.trim().split(/ +/) : []);
  const name = (element) => [element.tagName.toLowerCase() + (element.id ? "#" + element.id : ""), ...classes(element)]
    .filter(Boolean).join(".");
  return wide.filter((element) => !wide.some((other) => other !== element && element.contains(other)))
    .slice(0, 5).map((element) => `${name(element)} (${Math.round(element.getBoundingClientRect().right)} px)`);
}"""


@functools.cache
def axe_script() -> str:
    return AXE_SCRIPT.read_text(encoding="utf-8")


def page_problems(page: Any) -> list[str]:
    """What keeps the page in front of ``page`` from fitting its window or passing axe-core: its serious and
    critical violations, and a document wider than the window (sideways scrolling). Empty when there is none."""
    if page.evaluate("typeof window.axe") != "object":
        page.evaluate(axe_script())  # evaluated, not a <script>: the site's Content-Security-Policy allows none inline
    results = page.evaluate("() => axe.run(document, {resultTypes: ['violations']})")
    problems = [
        f"{page.url}: {violation['id']} ({violation['impact']}): {violation['help']}: "
        + ", ".join(" ".join(node["target"]) for node in violation["nodes"][:5])
        for violation in results["violations"]
        if violation["impact"] in BLOCKING_IMPACTS
    ]
    scroll_width, inner_width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    if scroll_width > inner_width:
        problems.append(
            f"{page.url}: {scroll_width} px wide in a {inner_width} px window: "
            + ", ".join(page.evaluate(TOO_WIDE_SCRIPT))
        )
    return problems


def page_shape(url: str) -> str:
    """The URL with its ids (numbers, UUIDs, 办件编号) made placeholders: which page it is, whoever's it is."""
    path, separator, query = url.partition("?")
    path = re.sub(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "<uuid>", path)
    return re.sub(r"/[0-9A-Z]*[0-9][0-9A-Z]*/", "/<id>/", path) + separator + query


# The page shapes already checked at 375 px in this test run: a template is checked once, by the first test to show it.
PHONE_CHECKED: set[str] = set()


@pytest.fixture
def open_context(browser: Any, live_server: Any) -> Iterator[Callable[..., Any]]:
    """Opens browser contexts (windows with cookies of their own) on the live server, and at the end of the test
    visits again every page each of them showed, with its cookies, in a 375 px phone window: each must pass
    axe-core with no serious or critical violation and fit the window without sideways scrolling. A page shape
    another test of the run checked already is not checked again (``PHONE_CHECKED``)."""
    opened: list[tuple[Any, list[str]]] = []

    def open_one(**options: Any) -> Any:
        options = {"locale": "zh-CN", "viewport": DESKTOP} | options
        context = browser.new_context(base_url=live_server.url, **options)
        visited: list[str] = []

        def watch(page: Any) -> None:
            def navigated(frame: Any) -> None:
                if frame == page.main_frame:
                    visited.append(frame.url)

            page.on("framenavigated", navigated)

        context.on("page", watch)
        opened.append((context, visited))
        return context

    yield open_one
    problems: list[str] = []
    for context, visited in opened:
        state = context.storage_state()
        context.close()
        # One page of each shape (/workbench/tasks/<id>/, …) in the run: the same template, checked once, in time.
        pages = []
        for url in visited:
            if url.startswith(live_server.url) and page_shape(url) not in PHONE_CHECKED:
                PHONE_CHECKED.add(page_shape(url))
                pages.append(url)
        if not pages:
            continue
        phone = browser.new_context(base_url=live_server.url, locale="zh-CN", viewport=PHONE, storage_state=state)
        try:
            page = phone.new_page()
            for url in pages:
                response = page.goto(url)
                if response is not None and response.headers.get("content-type", "").startswith("text/html"):
                    problems.extend(page_problems(page))
                    if SCREENSHOTS:
                        name = re.sub(r"[^\w]+", "-", url.removeprefix(live_server.url)).strip("-") or "home"
                        page.screenshot(path=Path(SCREENSHOTS) / f"375-{name}.png", full_page=True)
        finally:
            phone.close()
    assert not problems, "At 375 px:\n" + "\n".join(dict.fromkeys(problems))


@pytest.fixture
def page(open_context: Callable[..., Any]) -> Any:
    """A fresh browser page (own cookies) whose relative URLs go to the live server; checked on a phone at the end."""
    page = open_context().new_page()
    page.set_default_timeout(10_000)
    return page
