"""The embedded default (SQLite, no Redis) run as `make run` runs it: several web processes, one shared state.

Two web servers, each a process of its own, serve the same VAR_DIR; the test's
browser-like session sends its requests to one and then the other. What one
process knows of a session, a login failure or a tracking attempt, the other
must know too: nothing may live in one process's memory.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.helpers import ROOT, free_port

pytestmark = pytest.mark.timeout(300)

PASSWORD = "demo-pass-2026"  # the demo accounts' published password
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
SUBMIT_TOKEN = re.compile(r'name="submit_token" value="([^"]+)"')


def _embedded_environment(var_dir: Path) -> dict[str, str]:
    """What `make run` sees on a machine with nothing configured: no DATABASE_URL, REDIS_URL or broker."""
    return {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", str(var_dir)), "LANG": "C.UTF-8",
            "DEBUG": "true", "VAR_DIR": str(var_dir)}  # fmt: skip


def _manage(environment: dict[str, str], *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=180,
        check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return result.stdout


class Servers:
    """Two web processes on one embedded setup, and a session of one person sent to them in turn."""

    def __init__(self, ports: list[int], environment: dict[str, str]) -> None:
        self.ports = ports
        self.environment = environment
        self.turn = 0

    def url(self, path: str, *, port: int | None = None) -> str:
        """The next server's address (they take turns), or the one given."""
        if port is None:
            port = self.ports[self.turn % len(self.ports)]
            self.turn += 1
        return f"http://127.0.0.1:{port}{path}"

    def form(self, session: requests.Session, path: str, data: dict[str, str]) -> requests.Response:
        """GET the form from one process and POST it to the other; the next form starts where this one ended."""
        first, second = self.ports[self.turn % 2], self.ports[(self.turn + 1) % 2]
        self.turn += 1
        page = session.get(self.url(path, port=first))
        token = CSRF.search(page.text)
        assert token, f"no CSRF token on {path}: {page.status_code}"
        return session.post(
            self.url(path, port=second), data={"csrfmiddlewaretoken": token.group(1), **data}, allow_redirects=False
        )

    @staticmethod
    def new_session() -> requests.Session:
        """A browser's session. Both servers are named by one host, as behind a load balancer: allauth counts login
        failures per site and login, and the site is the Host header (with its port, which differs here)."""
        session = requests.Session()
        session.headers["Host"] = "127.0.0.1"
        return session

    def log_in(self, email: str, password: str = PASSWORD) -> tuple[requests.Session, requests.Response]:
        session = self.new_session()
        response = self.form(session, "/en/accounts/login/", {"login": email, "password": password})
        return session, response


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    var_dir = tmp_path_factory.mktemp("embedded-var")
    environment = _embedded_environment(var_dir)
    _manage(environment, "migrate", "--noinput")
    _manage(environment, "seed_demo")
    ports = [free_port(), free_port()]
    gunicorn = shutil.which("gunicorn", path=str(Path(sys.executable).parent))
    assert gunicorn
    processes = [_web_process(gunicorn, port, environment) for port in ports]
    try:
        for port in ports:
            _wait_until_up(port)
        yield Servers(ports, environment)
    finally:
        for process in processes:
            os.killpg(process.pid, signal.SIGTERM)
        for process in processes:
            process.wait(timeout=30)


def _web_process(gunicorn: str, port: int, environment: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [gunicorn, "portal.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "1"],
        cwd=ROOT,
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def _wait_until_up(port: int) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            requests.get(f"http://127.0.0.1:{port}/healthz", timeout=5)
            return
        except requests.ConnectionError:
            time.sleep(0.3)
    pytest.fail(f"the web server on {port} did not start")


def _is_signed_in(servers: Servers, session: requests.Session, port: int) -> bool:
    response = session.get(servers.url("/en/me/", port=port), allow_redirects=False)
    return response.status_code == 200


def test_a_session_ended_in_one_process_is_ended_in_every_process(servers: Servers) -> None:
    session, response = servers.log_in("citizen@example.com")
    assert response.status_code == 302
    old_cookie = session.cookies.get("sessionid")
    assert all(_is_signed_in(servers, session, port) for port in servers.ports)  # each has read it

    servers.form(session, "/en/accounts/logout/", {})
    replay = servers.new_session()
    replay.cookies.set("sessionid", old_cookie)

    answers = [replay.get(servers.url("/en/me/"), allow_redirects=False).status_code for _ in range(20)]
    assert answers == [302] * 20  # to the login page, from both processes, every time


def test_five_wrong_passwords_lock_the_account_in_every_process(servers: Servers) -> None:
    for _ in range(5):
        _, wrong = servers.log_in("agent@example.com", "not-the-password")
        assert wrong.status_code == 200
        assert "The email address and/or password you specified are not correct." in wrong.text

    refused = [servers.log_in("agent@example.com")[1] for _ in servers.ports]  # now even the right one, on both

    assert [response.status_code for response in refused] == [200, 200]  # the form again, not a session
    assert all("Too many failed login attempts. Try again later." in response.text for response in refused)
    assert all("sessionid" not in response.cookies for response in refused)


def test_tracking_locks_a_number_after_five_wrong_passwords_in_every_process(servers: Servers) -> None:
    number = "1133000000000001992330110001000202612070001"

    def attempt() -> str:
        session = servers.new_session()
        return servers.form(session, "/en/track/", {"number": number, "password": "000000"}).text

    answers = [attempt() for _ in range(7)]

    assert ["No application matches" in answer for answer in answers] == [True] * 5 + [False] * 2
    assert all("Too many attempts" in answer for answer in answers[5:])


def test_a_choice_made_in_one_process_is_seen_by_the_other(servers: Servers) -> None:
    session, _ = servers.log_in("legalrep@example.com")
    page = session.get(servers.url("/en/me/acting-for/"))
    enterprise = re.search(r'name="enterprise" value="(\d+)"', page.text)
    assert enterprise

    servers.form(session, "/en/me/acting-for/", {"enterprise": enterprise.group(1)})

    for port in servers.ports:
        shown = session.get(servers.url("/en/me/acting-for/", port=port)).text
        assert re.search(rf'value="{enterprise.group(1)}" checked', shown), port


def test_a_submit_token_given_by_one_process_is_honoured_by_the_other(servers: Servers) -> None:
    session, _ = servers.log_in("citizen@example.com")
    code = "1133000000000001992330110001000"  # 政府信息依申请公开, open to every citizen
    started = servers.form(session, f"/en/services/{code}/apply/", {})
    assert started.status_code == 302
    check = started.headers["Location"].rstrip("/") + "/check/"
    page = session.get(servers.url(check, port=servers.ports[0]))
    token = SUBMIT_TOKEN.search(page.text)
    csrf = CSRF.search(page.text)
    assert token
    assert csrf

    # Sent to the other process without the declaration: it must know the token and answer with the form's
    # own problem, not "this page had expired".
    answer: Any = session.post(
        servers.url(check, port=servers.ports[1]),
        data={"csrfmiddlewaretoken": csrf.group(1), "submit_token": token.group(1)},
        allow_redirects=False,
    )

    assert answer.status_code == 400
    assert "Confirm the declaration to submit." in answer.text
    assert "This page had expired" not in answer.text
