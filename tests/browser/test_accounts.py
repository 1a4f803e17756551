"""A newcomer signs up, verifies the e-mail by its code, verifies their real name, logs out and in again."""

import pytest
from django.core import mail

from accounts.models import RealNameLevel, User
from demo.registries import seed_registries
from demo.registry_data import WANG_XIAOMING
from tests.accounts.helpers import last_mailed_code

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "Zhejiang-portal-2026"


def test_sign_up_verify_upgrade_log_out_and_in(page):
    seed_registries()

    page.goto("/accounts/signup/")
    page.locator("#id_email").fill("wang@example.com")
    page.locator("#id_password1").fill(PASSWORD)
    page.locator("#id_password2").fill(PASSWORD)
    page.locator("#id_privacy_consent").check()
    page.locator("main form button[type=submit]").click()
    page.wait_for_url("**/accounts/confirm-email/")
    assert len(mail.outbox) == 1

    page.locator("#id_code").fill(last_mailed_code("wang@example.com"))
    page.locator("main form button[type=submit]").first.click()
    page.wait_for_url("**/me/")
    assert page.get_by_role("heading", level=1).inner_text() == "我的账号"

    page.goto("/me/verify/")
    page.locator("#id_full_name").fill(WANG_XIAOMING.name)
    page.locator("#id_id_type").select_option("111")
    page.locator("#id_id_number").fill(WANG_XIAOMING.id_number)
    page.locator("#id_phone").fill(WANG_XIAOMING.phone)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url("**/me/")
    assert page.locator("#id-number").inner_text() == WANG_XIAOMING.id_number
    assert page.locator(".account-nav a").first.inner_text() == "*小明"
    assert User.objects.get(email="wang@example.com").real_name_level == RealNameLevel.BASIC

    page.locator(".account-nav button[type=submit]").click()
    page.wait_for_url(lambda url: url.endswith("/"))
    assert page.locator(".account-nav a[href='/accounts/login/']").is_visible()

    page.goto("/accounts/login/")
    page.locator("#id_login").fill("wang@example.com")
    page.locator("#id_password").fill(PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url("**/me/")
    assert page.locator("#full-name").inner_text() == "王小明"
