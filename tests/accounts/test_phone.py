"""A verified mobile number is a second way to log in; codes go out through the SMS sender; a number has one account."""

from __future__ import annotations

import re

import pytest
from allauth.account.models import EmailAddress
from django.core import mail

from accounts import phone_numbers
from accounts.models import SmsOutboxMessage, User
from accounts.sms import ConsoleOutboxSmsSender, get_sms_sender
from tests.accounts.helpers import last_mailed_code
from tests.factories import PASSWORD, email_user, enroll_totp, staff_member

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "Zhejiang-portal-2026"
PHONE = "13712349050"


def _last_sms_code(phone: str) -> str:
    message = SmsOutboxMessage.objects.filter(phone=phone).latest("sent_at", "pk")
    match = re.fullmatch(r"【一网通办】您的验证码是 (\d{6})，10 分钟内有效。", message.text)
    assert match, message.text
    return match.group(1)


def _sign_up_with_phone(client, email: str, phone: str):
    return client.post(
        "/accounts/signup/",
        {
            "email": email,
            "phone": phone,
            "password1": NEW_PASSWORD,
            "password2": NEW_PASSWORD,
            "privacy_consent": "on",
        },
    )


def test_the_default_sender_is_the_console_outbox(settings):
    assert settings.SMS_SENDER == "accounts.sms.ConsoleOutboxSmsSender"
    assert isinstance(get_sms_sender(), ConsoleOutboxSmsSender)


@pytest.mark.parametrize("typed", ["13712349050", "137 1234 9050", "+86 137-1234-9050"])
def test_a_verified_number_logs_in_with_the_password(client, typed):
    email_user("wang@example.com", phone=PHONE, phone_verified=True)

    response = client.post("/accounts/login/", {"login": typed, "password": PASSWORD})

    assert response.status_code == 302
    assert response["Location"] == "/me/"
    assert client.get("/me/").status_code == 200


def test_an_unverified_number_logs_nobody_in(client):
    email_user("wang@example.com", phone=PHONE, phone_verified=False)

    response = client.post("/accounts/login/", {"login": PHONE, "password": PASSWORD})

    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


def test_a_number_given_at_signup_is_verified_by_an_sms_code_then_the_email_by_its_code(client):
    response = _sign_up_with_phone(client, "zhou@example.com", "137 1234 9050")

    assert response.status_code == 302
    assert response["Location"] == "/accounts/phone/verify/"
    user = User.objects.get(email="zhou@example.com")
    assert (user.phone, user.phone_verified) == (PHONE, False)
    assert SmsOutboxMessage.objects.count() == 1
    assert SmsOutboxMessage.objects.get().phone == PHONE

    response = client.post("/accounts/phone/verify/", {"action": "verify", "code": _last_sms_code(PHONE)})

    assert response.status_code == 302
    assert response["Location"] == "/accounts/confirm-email/"
    user.refresh_from_db()
    assert (user.phone, user.phone_verified) == (PHONE, True)

    response = client.post("/accounts/confirm-email/", {"code": last_mailed_code("zhou@example.com")})

    assert response.status_code == 302
    assert EmailAddress.objects.get(user=user).verified is True
    assert client.get("/me/").status_code == 200


def test_a_wrong_sms_code_verifies_nothing(client):
    _sign_up_with_phone(client, "zhou@example.com", PHONE)

    response = client.post("/accounts/phone/verify/", {"action": "verify", "code": "000000"})

    assert response.status_code == 200
    assert User.objects.get(email="zhou@example.com").phone_verified is False


def test_a_number_that_is_not_a_mainland_mobile_is_refused(client):
    response = _sign_up_with_phone(client, "zhou@example.com", "+44 20 7946 0958")

    assert response.status_code == 200
    assert list(response.context["form"].errors) == ["phone"]
    assert not User.objects.filter(email="zhou@example.com").exists()
    assert SmsOutboxMessage.objects.count() == 0


def test_a_recycled_number_verified_by_its_new_holder_moves_and_the_former_account_is_mailed(
    client, django_capture_on_commit_callbacks
):
    former = email_user("former@example.com", phone=PHONE, phone_verified=True)

    response = _sign_up_with_phone(client, "newholder@example.com", PHONE)
    assert response["Location"] == "/accounts/phone/verify/"
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/accounts/phone/verify/", {"action": "verify", "code": _last_sms_code(PHONE)})

    assert response.status_code == 302
    new_holder = User.objects.get(email="newholder@example.com")
    former.refresh_from_db()
    assert (new_holder.phone, new_holder.phone_verified) == (PHONE, True)
    assert (former.phone, former.phone_verified) == ("", False)
    told = [message for message in mail.outbox if message.to == ["former@example.com"]]
    assert len(told) == 1
    assert "您账号绑定的手机号已被他人验证并绑定" in told[0].subject
    assert "137****9050" in told[0].body
    assert PHONE not in told[0].body


def test_after_the_move_the_number_logs_in_to_the_new_holder_only(client):
    former = email_user("former@example.com", phone=PHONE, phone_verified=True)
    new_holder = email_user("newholder@example.com")

    phone_numbers.user_phone_verify(user_id=new_holder.pk, phone=PHONE)

    response = client.post("/accounts/login/", {"login": PHONE, "password": PASSWORD})

    assert response.status_code == 302
    assert int(client.session["_auth_user_id"]) == new_holder.pk
    assert int(client.session["_auth_user_id"]) != former.pk


def test_the_outbox_sends_anonymous_visitors_to_the_login(client):
    response = client.get("/me/sms-outbox/")

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_the_outbox_is_not_found_for_a_citizen(client, citizen):
    client.force_login(citizen)

    assert client.get("/me/sms-outbox/").status_code == 404


def test_the_outbox_is_not_found_for_a_clerk_even_with_totp(client, department):
    ConsoleOutboxSmsSender().send(phone=PHONE, text="【一网通办】您的验证码是 123456，10 分钟内有效。")
    clerk = staff_member("clerk-outbox@example.com", department)
    enroll_totp(clerk)
    client.force_login(clerk)

    response = client.get("/me/sms-outbox/")

    assert response.status_code == 404
    assert "123456" not in response.content.decode()


def test_the_outbox_is_not_found_for_a_clerk_without_totp(client, department):
    client.force_login(staff_member("clerk-no-totp@example.com", department))

    assert client.get("/me/sms-outbox/").status_code == 404


def test_the_outbox_asks_a_platform_admin_without_totp_to_enrol_first(client):
    client.force_login(email_user("root@example.com", is_staff=True, is_superuser=True))

    response = client.get("/me/sms-outbox/")

    assert response.status_code == 302
    assert response["Location"] == "/accounts/2fa/totp/activate/"


def test_a_platform_admin_with_totp_sees_masked_numbers_and_readable_codes(client):
    ConsoleOutboxSmsSender().send(phone=PHONE, text="【一网通办】您的验证码是 123456，10 分钟内有效。")
    admin = email_user("root@example.com", is_staff=True, is_superuser=True)
    enroll_totp(admin)
    client.force_login(admin)

    response = client.get("/me/sms-outbox/")

    page = response.content.decode()
    assert response.status_code == 200
    assert "137****9050" in page
    assert PHONE not in page
    assert "123456" in page
    assert len(response.context["messages_sent"]) == 1


def test_a_signup_over_the_sms_limit_shows_the_wait_and_creates_no_account(client):
    first = _sign_up_with_phone(client, "zhou@example.com", PHONE)
    assert first["Location"] == "/accounts/phone/verify/"
    client.logout()

    response = _sign_up_with_phone(client, "qian@example.com", PHONE)

    assert response.status_code == 200
    errors = response.context["form"].errors
    assert list(errors) == ["phone"]
    assert re.fullmatch(r"短信发送过于频繁，请 (\d+) 秒后再试。", errors["phone"][0])
    assert 25 <= int(re.search(r"\d+", errors["phone"][0]).group()) <= 30  # allauth's 1 code per number per 30 s
    assert not User.objects.filter(email="qian@example.com").exists()
    assert SmsOutboxMessage.objects.count() == 1


def test_a_signup_that_races_past_the_forms_check_is_undone(client, monkeypatch):
    _sign_up_with_phone(client, "zhou@example.com", PHONE)
    client.logout()
    # A second sign-up for the number that passed the form's check in the same instant as the first.
    monkeypatch.setattr("accounts.phone_forms.wait_seconds", lambda *args, **kwargs: 0)

    response = _sign_up_with_phone(client, "qian@example.com", PHONE)

    assert response.status_code == 429
    assert not User.objects.filter(email="qian@example.com").exists()
    assert not EmailAddress.objects.filter(email="qian@example.com").exists()
    assert "_auth_user_id" not in client.session
    assert SmsOutboxMessage.objects.count() == 1
