"""The portal's own words in its account mails and messages, in Chinese and English, not allauth's defaults."""

from __future__ import annotations

import pytest
from django.core import mail

from tests.accounts.helpers import last_mailed_code
from tests.factories import PASSWORD, email_user

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "Zhejiang-portal-2026"
SIGNUP = {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "privacy_consent": "on"}


def test_the_signup_code_mail_speaks_as_the_portal_in_chinese(client):
    client.post("/accounts/signup/", {"email": "zhou@example.com", **SIGNUP})

    (message,) = mail.outbox
    code = last_mailed_code("zhou@example.com")
    assert message.subject == "[一网通办] 您的邮箱验证码"
    assert message.body.startswith("您好：")
    assert f"您在一网通办的验证码是：\n\n{code}\n" in message.body
    assert "本邮件由一网通办自动发送" in message.body
    # allauth's default named the host the request came through ("来自testserver的 Hello!").
    assert "testserver" not in message.body
    assert "Hello" not in message.body


def test_the_signup_code_mail_is_english_under_en(client):
    client.post("/en/accounts/signup/", {"email": "zhou@example.com", **SIGNUP})

    (message,) = mail.outbox
    assert message.subject == "[一网通办] Your e-mail verification code"
    assert message.body.startswith("Hello,")
    assert "Your verification code for One-Stop Government Services is:" in message.body
    assert "testserver" not in message.body


@pytest.mark.parametrize(("prefix", "banner"), [("", "您已登录。"), ("/en", "You are signed in.")])
def test_the_login_banner_does_not_show_the_generated_username(client, prefix, banner):
    email_user("wang@example.com")

    response = client.post(
        f"{prefix}/accounts/login/", {"login": "wang@example.com", "password": PASSWORD}, follow=True
    )

    # allauth's default banner was "以 <username> 成功登录", showing a name the portal made up.
    assert f'<p class="notice">{banner}</p>' in response.content.decode()
