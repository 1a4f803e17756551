"""Mobile phone numbers: set, verified by an SMS code, and taken over when another account verifies them."""

from __future__ import annotations

import logging
from functools import partial

from django.core.mail import send_mail
from django.db import transaction
from django.utils.translation import gettext as _

from accounts.models import (
    User,
)
from core.errors import DomainError
from datahub.identity import (
    mask_phone,
    normalize_phone,
)

logger = logging.getLogger(__name__)

PHONE_TAKEN_OVER_SUBJECT = "[一网通办] 您账号绑定的手机号已被他人验证并绑定"
PHONE_TAKEN_OVER_BODY = (
    "您好：\n\n"
    "您账号绑定的手机号已被他人验证并绑定（手机号 %(phone)s）。"
    "号码可能已被运营商回收并转给他人，因此它已从您的账号中移除，不能再用于登录。\n\n"
    "您仍可以用电子邮箱和密码登录，并在账号中绑定新的手机号。\n\n"
    "一网通办"
)


def clean_mainland_phone(phone: str) -> str:
    """The 11-digit mainland mobile number, or a DomainError with a message for the form."""
    number = normalize_phone(phone)
    if len(number) != 11 or not number.startswith("1"):
        message = _("A mobile phone number has 11 digits and starts with 1.")
        raise DomainError(message, code="phone", fields={"phone": [message]})
    return number


@transaction.atomic
def user_phone_set(*, user_id: int, phone: str) -> User:
    """Attach an unverified number to the account: it logs nobody in until its SMS code is entered."""
    number = clean_mainland_phone(phone)
    user = User.objects.select_for_update().get(pk=user_id)
    user.phone = number
    user.phone_verified = False
    user.save(update_fields=["phone", "phone_verified"])
    return user


def user_phone_verify(*, user_id: int, phone: str) -> User:
    """The account's holder proved they hold the number (an SMS code): it becomes the account's verified number.

    One number, one account: an account that had verified the same number before (a number the
    operator has since given to someone else) loses it, and is told by e-mail.
    """
    number = clean_mainland_phone(phone)
    with transaction.atomic():
        previous_holders = list(
            User.objects.select_for_update()
            .filter(phone=number, phone_verified=True)
            .exclude(pk=user_id)
            .order_by("pk")
        )
        for holder in previous_holders:
            holder.phone = ""
            holder.phone_verified = False
            holder.save(update_fields=["phone", "phone_verified"])
        user = User.objects.select_for_update().get(pk=user_id)
        user.phone = number
        user.phone_verified = True
        user.save(update_fields=["phone", "phone_verified"])
        for holder in previous_holders:
            logger.info(
                "Phone %s moved from user %s to user %s; the former holder is told by e-mail",
                mask_phone(number),
                holder.pk,
                user.pk,
            )
            transaction.on_commit(partial(_mail_phone_taken_over, email=holder.email, phone=number))
    return user


def _mail_phone_taken_over(*, email: str, phone: str) -> None:
    if not email:
        return
    try:
        send_mail(PHONE_TAKEN_OVER_SUBJECT, PHONE_TAKEN_OVER_BODY % {"phone": mask_phone(phone)}, None, [email])
    except Exception:  # the number has moved already; a mail server down must not fail the new owner's request
        logger.exception("Could not e-mail the former holder of phone %s", mask_phone(phone))
