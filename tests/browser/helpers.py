"""What the browser journeys share: Chinese labels as the pages show them, logging in, waiting for routing."""

from __future__ import annotations

import re
import time
from typing import Any

from django.utils import translation
from django.utils.translation import gettext, ngettext, pgettext
from playwright.sync_api import expect

from tests.accounts.helpers import totp_code
from tests.factories import PASSWORD, TOTP_SECRET

# How long a page is reloaded waiting for the routing worker to open the next task.
ROUTING_SECONDS = 15


def zh(text: str, context: str = "") -> str:
    """What a Chinese page shows for ``text``: its translation, or the English while the catalogue lacks one."""
    with translation.override("zh-hans"):
        return pgettext(context, text) if context else gettext(text)


def zh_plural(singular: str, plural: str, count: int) -> str:
    with translation.override("zh-hans"):
        return ngettext(singular, plural, count) % {"counter": count}


def zh_label(label: Any) -> str:
    """A choice's label (lazy) as the Chinese page shows it."""
    with translation.override("zh-hans"):
        return str(label)


def zh_result(result: str) -> str:
    """A result's label on the task page (workbench_views.RESULT_LABELS), in Chinese."""
    from approvals.workbench.views import RESULT_LABELS

    with translation.override("zh-hans"):
        return str(RESULT_LABELS[result])


def recorded(task: str, number: str, result: str) -> str:
    """The workbench's confirmation once a result is recorded."""
    return zh("%(task)s of application %(number)s: %(result)s. Recorded.") % {
        "task": task,
        "number": number,
        "result": zh_result(result),
    }


def fresh_totp_code() -> str:
    """The authenticator's code, never one about to expire between typing it and the server checking it."""
    if time.time() % 30 > 27:
        time.sleep(30 - time.time() % 30 + 0.1)
    return totp_code(TOTP_SECRET)


def log_in(page: Any, email: str, *, next_path: str, with_totp: bool = False) -> None:
    """Log in through the login page (and the authenticator code page for staff), landing on ``next_path``."""
    page.goto(next_path)
    page.wait_for_url(re.compile(r"/accounts/login/\?next="))
    page.locator("#id_login").fill(email)
    page.locator("#id_password").fill(PASSWORD)
    page.locator("main form button[type=submit]").click()
    if with_totp:
        page.wait_for_url("**/accounts/2fa/authenticate/")
        page.locator("#id_code").fill(fresh_totp_code())
        page.get_by_role("button", name=zh("Sign In"), exact=True).click()
    page.wait_for_url(f"**{next_path}")


def wait_for_task(page: Any, number: str, task_name: str) -> Any:
    """Reload the queue until the routing worker has opened the task; its row."""
    deadline = time.monotonic() + ROUTING_SECONDS
    while True:
        page.goto("/workbench/")
        row = page.locator("table.queue tbody tr").filter(has=page.get_by_role("link", name=number, exact=True))
        row = row.filter(has_text=task_name)
        if row.count() or time.monotonic() > deadline:
            break
        page.wait_for_timeout(200)
    expect(row).to_have_count(1)
    return row


def decide(page: Any, task_name: str, number: str, result: str) -> None:
    """Choose a result that needs no opinion, record it, and see the workbench confirm it."""
    page.get_by_role("radio", name=zh_result(result), exact=True).check()
    page.get_by_role("button", name=zh("Record the result")).click()
    page.wait_for_url(re.compile(r"/workbench/$"))
    expect(page.locator("main [role=status]")).to_have_text(recorded(task_name, number, result))


def summary_value(page: Any, term: str) -> Any:
    """The value of one row of the page's summary list."""
    rows = page.locator("main .summary-list > div")
    return rows.filter(has=page.get_by_text(term, exact=True)).locator("dd")
