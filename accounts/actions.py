"""Every write to accounts: named <entity>_<verb>, keyword-only, atomic."""

from __future__ import annotations

from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import RealNameLevel, User
from datahub import registries
from datahub.identity import mask_id, normalize_identity_number, normalize_phone, validate_identity_number
from datahub.models import ID_NUMBER_HASH_PURPOSE
from portal import crypto
from portal.errors import Conflict, DomainError

REAL_NAME_BASIC_PURPOSE = "实名认证（初级）"


def user_verify_real_name(
    *, user_id: int, full_name: str, id_type: str, id_number: str, phone: str, actor: AbstractBaseUser
) -> User:
    """初级实名: the population registry confirms this name, document and phone; the account reaches level 2.

    Refused, changing nothing but the registry's access log, when the document is malformed,
    the registry does not match, the document already belongs to another account, or the
    account is already verified.
    """
    full_name = (full_name or "").strip()
    number = normalize_identity_number(id_number)
    phone = normalize_phone(phone)
    if not full_name:
        raise DomainError(
            _("Please enter your name."),
            code="full_name_required",
            fields={"full_name": [_("Please enter your name.")]},
        )
    try:
        validate_identity_number(id_type, number)
    except ValidationError as error:
        field = "id_type" if error.code == "id_type" else "id_number"
        raise DomainError(error.messages[0], code=error.code or "id_number", fields={field: error.messages}) from None
    if len(phone) != 11 or not phone.startswith("1"):
        message = _("A mobile phone number has 11 digits and starts with 1.")
        raise DomainError(message, code="phone", fields={"phone": [message]})

    number_hash = crypto.keyed_hash(number, purpose=ID_NUMBER_HASH_PURPOSE)
    # The registry read is logged whatever the outcome, so it runs in its own transaction
    # and a refusal below does not undo the log row.
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user_id)
        if user.real_name_level >= RealNameLevel.BASIC:
            raise Conflict(_("This account is already real-name verified."), code="already_verified")
    matches = registries.person_verify(
        name=full_name, id_type=id_type, id_number=number, phone=phone, actor=actor, purpose=REAL_NAME_BASIC_PURPOSE
    )
    if not matches:
        raise DomainError(
            _(
                "The population registry does not confirm this name, document number and phone number. "
                "Please check them and try again."
            ),
            code="registry_mismatch",
        )
    return _store_verified_identity(
        user_id=user_id, full_name=full_name, id_type=id_type, number=number, number_hash=number_hash, phone=phone
    )


def _store_verified_identity(
    *, user_id: int, full_name: str, id_type: str, number: str, number_hash: str, phone: str
) -> User:
    taken = Conflict(
        _("This identity document is already linked to another account. One document has one account."),
        code="document_taken",
        fields={"id_number": [_("This identity document is already linked to another account.")]},
    )
    try:
        with transaction.atomic():
            user = User.objects.select_for_update().get(pk=user_id)
            if user.real_name_level >= RealNameLevel.BASIC:
                raise Conflict(_("This account is already real-name verified."), code="already_verified")
            hashes = crypto.keyed_hashes(number, purpose=ID_NUMBER_HASH_PURPOSE)
            if User.objects.select_for_update().filter(id_number_hash__in=hashes).exclude(pk=user_id).exists():
                raise taken
            user.full_name = full_name
            user.id_type = id_type
            user.id_number_hash = number_hash
            user.id_number_encrypted = crypto.encrypt(number)
            user.id_number_masked = mask_id(number)
            user.phone = phone
            user.real_name_level = RealNameLevel.BASIC
            user.real_name_verified_at = timezone.now()
            user.save(
                update_fields=[
                    "full_name",
                    "id_type",
                    "id_number_hash",
                    "id_number_encrypted",
                    "id_number_masked",
                    "phone",
                    "real_name_level",
                    "real_name_verified_at",
                ]
            )
    except IntegrityError:
        # Two accounts raced for the same document: the unique constraint decided.
        raise taken from None
    return user
