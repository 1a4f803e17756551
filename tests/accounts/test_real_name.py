"""初级实名: the population registry confirms name, document and phone; one document, one account."""

from __future__ import annotations

import pytest

from accounts import real_name
from accounts.models import RealNameLevel, User
from core import crypto
from core.errors import DomainError, TooManyAttempts
from datahub.identity import IdentityType
from datahub.models import ID_NUMBER_HASH_PURPOSE, AccessResult, DataAccessLog
from demo.registries import seed_registries
from demo.registry_data import WANG_XIAOMING, ZHOU_XINYU
from tests.factories import email_user, give_identity

pytestmark = pytest.mark.django_db

RESIDENT_ID = IdentityType.RESIDENT_ID.value
IDENTITY_FIELDS = (
    "real_name_level",
    "full_name",
    "id_type",
    "id_number_hash",
    "id_number_encrypted",
    "id_number_masked",
    "phone",
    "real_name_verified_at",
)


@pytest.fixture
def registries(db):
    seed_registries()


@pytest.fixture
def newcomer(db) -> User:
    return email_user("zhou@example.com")


def _identity(user: User) -> tuple:
    return User.objects.filter(pk=user.pk).values_list(*IDENTITY_FIELDS).get()


def _verify(user: User, **overrides: str) -> User:
    data = {
        "full_name": ZHOU_XINYU.name,
        "id_type": RESIDENT_ID,
        "id_number": ZHOU_XINYU.id_number,
        "phone": ZHOU_XINYU.phone,
        "address": "198.51.100.20",
    } | overrides
    return real_name.user_verify_real_name(user_id=user.pk, actor=user, **data)


def test_a_registry_match_raises_the_account_to_level_2_and_stores_the_document_protected(registries, newcomer):
    user = _verify(newcomer)

    user.refresh_from_db()
    assert user.real_name_level == RealNameLevel.BASIC
    assert user.full_name == "周新宇"
    assert user.id_type == "111"
    assert user.id_number_masked == "3****************5"
    assert user.id_number_hash == crypto.keyed_hash("330302200102200575", purpose=ID_NUMBER_HASH_PURPOSE)
    assert crypto.decrypt(user.id_number_encrypted) == "330302200102200575"
    assert "330302200102200575" not in user.id_number_encrypted
    assert user.phone == "18857729031"
    assert user.real_name_verified_at is not None
    log = DataAccessLog.objects.get()
    assert (log.actor_id, log.purpose, log.result, log.record_key) == (
        newcomer.pk,
        "实名认证（初级）",
        AccessResult.MATCH,
        "3****************5",
    )


def test_a_phone_proven_by_sms_is_not_replaced_by_the_registry_number(registries, newcomer):
    User.objects.filter(pk=newcomer.pk).update(phone="13900001111", phone_verified=True)

    user = _verify(newcomer)

    user.refresh_from_db()
    assert user.real_name_level == RealNameLevel.BASIC
    assert (user.phone, user.phone_verified) == ("13900001111", True)


def test_without_a_proven_phone_the_registry_number_is_kept_unverified(registries, newcomer):
    User.objects.filter(pk=newcomer.pk).update(phone="13900001111", phone_verified=False)

    user = _verify(newcomer)

    user.refresh_from_db()
    assert (user.phone, user.phone_verified) == (ZHOU_XINYU.phone, False)


def test_a_registry_mismatch_changes_nothing_but_is_logged(registries, newcomer):
    before = _identity(newcomer)

    with pytest.raises(DomainError) as refused:
        _verify(newcomer, full_name="周新")

    assert refused.value.code == "registry_mismatch"
    assert _identity(newcomer) == before
    assert list(DataAccessLog.objects.values_list("result", flat=True)) == [AccessResult.MISMATCH]


def test_a_wrong_phone_is_a_mismatch(registries, newcomer):
    with pytest.raises(DomainError) as refused:
        _verify(newcomer, phone="13800000000")

    assert refused.value.code == "registry_mismatch"
    assert User.objects.get(pk=newcomer.pk).real_name_level == RealNameLevel.UNVERIFIED


def test_a_document_of_another_account_is_refused(registries, newcomer):
    holder = give_identity(email_user("first@example.com"), ZHOU_XINYU)
    before = _identity(newcomer)

    with pytest.raises(DomainError) as refused:
        _verify(newcomer)

    assert refused.value.code == "document_taken"
    assert _identity(newcomer) == before
    assert User.objects.filter(id_number_hash=holder.id_number_hash).count() == 1


def test_a_malformed_number_is_refused_before_the_registry_is_read(registries, newcomer):
    before = _identity(newcomer)

    with pytest.raises(DomainError) as refused:
        _verify(newcomer, id_number="330302200102200576")

    assert refused.value.code == "id_number_check"
    assert refused.value.fields == {"id_number": ["证件号码的校验位（最后一位）有误，请核对后重新填写。"]}
    assert _identity(newcomer) == before
    assert DataAccessLog.objects.count() == 0


def test_an_account_already_verified_is_not_verified_again(registries, citizen):
    before = _identity(citizen)

    with pytest.raises(DomainError) as refused:
        _verify(citizen)

    assert refused.value.code == "already_verified"
    assert _identity(citizen) == before
    assert DataAccessLog.objects.count() == 0


# --- The page /me/verify/ ---


def test_the_page_needs_a_login(client):
    response = client.get("/me/verify/")

    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/me/verify/"


def test_the_page_verifies_and_returns_to_a_safe_next(client, registries, newcomer):
    client.force_login(newcomer)

    response = client.post(
        "/me/verify/?next=/services/",
        {
            "full_name": "周新宇",
            "id_type": "111",
            "id_number": "330302200102200575",
            "phone": "18857729031",
            "next": "/services/",
        },
    )

    assert response.status_code == 302
    assert response["Location"] == "/services/"
    assert User.objects.get(pk=newcomer.pk).real_name_level == RealNameLevel.BASIC


def test_the_page_ignores_a_next_to_another_site(client, registries, newcomer):
    client.force_login(newcomer)

    response = client.post(
        "/me/verify/",
        {
            "full_name": "周新宇",
            "id_type": "111",
            "id_number": "330302200102200575",
            "phone": "18857729031",
            "next": "https://evil.example/",
        },
    )

    assert response.status_code == 302
    assert response["Location"] == "/me/"


def test_the_page_shows_a_field_error_next_to_the_field_and_in_the_summary(client, registries, newcomer):
    client.force_login(newcomer)

    response = client.post(
        "/en/me/verify/",
        {"full_name": "周新宇", "id_type": "111", "id_number": "12345", "phone": "18857729031"},
    )

    body = response.content.decode()
    assert response.status_code == 200
    message = "A resident identity card number has 18 characters: 17 digits and a digit or X."
    assert f'<p class="field-error" id="id_id_number-error">{message}</p>' in body
    assert f'<a href="#id_id_number">Identity document number: {message}</a>' in body
    assert 'aria-describedby=" id_id_number-error"' in body
    assert User.objects.get(pk=newcomer.pk).real_name_level == RealNameLevel.UNVERIFIED


def test_the_page_says_when_the_registry_does_not_match(client, registries, newcomer):
    client.force_login(newcomer)

    response = client.post(
        "/en/me/verify/",
        {"full_name": "周新", "id_type": "111", "id_number": "330302200102200575", "phone": "18857729031"},
    )

    assert response.status_code == 200
    assert "The population registry does not confirm this name" in response.content.decode()


# --- Attempts are limited: the registry check must not become a way to test identities ---


def test_an_account_has_five_attempts_an_hour_and_the_sixth_does_not_reach_the_registry(registries, newcomer, caplog):
    caplog.set_level("INFO", logger="accounts.real_name")
    for _ in range(5):
        with pytest.raises(DomainError) as refused:
            _verify(newcomer, full_name="周新")
        assert refused.value.code == "registry_mismatch"
    registry_reads = DataAccessLog.objects.count()

    with pytest.raises(TooManyAttempts) as limited:
        _verify(newcomer)  # even the right answer: the limit comes first

    assert limited.value.status == 429
    assert 3500 < limited.value.retry_after <= 3601
    assert "请等待 60 分钟" in str(limited.value.message)
    assert DataAccessLog.objects.count() == registry_reads
    assert _identity(newcomer)[0] == RealNameLevel.UNVERIFIED
    outcomes = [getattr(record, "outcome", None) for record in caplog.records if record.name == "accounts.real_name"]
    assert outcomes == ["mismatch"] * 5 + ["limited"]


def test_an_address_is_limited_across_accounts(registries, newcomer, settings):
    settings.REAL_NAME_ATTEMPTS_PER_ADDRESS = 3
    others = [email_user(f"probe{number}@example.com") for number in range(4)]
    for user in others[:3]:
        with pytest.raises(DomainError, match="人口库未能核验"):
            _verify(user, full_name="周新")

    with pytest.raises(TooManyAttempts):
        _verify(others[3], full_name="周新")
    verified = _verify(newcomer, address="198.51.100.21")  # another address still may

    assert verified.real_name_level == RealNameLevel.BASIC


def test_the_page_says_how_long_to_wait(client, registries, newcomer, settings):
    settings.REAL_NAME_ATTEMPTS_PER_ACCOUNT = 1
    client.force_login(newcomer)
    wrong = {"full_name": "周新", "id_type": "111", "id_number": "330302200102200575", "phone": "18857729031"}
    client.post("/me/verify/", wrong)

    response = client.post("/me/verify/", wrong)

    assert response.status_code == 429
    assert "验证次数过多" in response.content.decode()
    assert "60 分钟" in response.content.decode()


# --- Who sees the identity whole ---


def test_me_shows_the_owner_their_identity_whole(client, citizen):
    client.force_login(citizen)

    body = client.get("/en/me/").content.decode()

    assert f'<span id="id-number">{WANG_XIAOMING.id_number}</span>' in body
    assert '<dd id="full-name">王小明</dd>' in body
    assert '<dd id="phone">13712349050</dd>' in body
    assert '<dd id="real-name-level">Advanced real-name</dd>' in body


def test_the_header_shows_the_name_masked(client, citizen):
    client.force_login(citizen)

    body = client.get("/").content.decode()

    assert '<a href="/me/">*小明</a>' in body
    assert "王小明" not in body
    assert WANG_XIAOMING.id_number not in body


def test_me_shows_nothing_of_another_account(client, citizen, other_citizen):
    client.force_login(other_citizen)

    body = client.get("/me/").content.decode()

    assert WANG_XIAOMING.id_number not in body
    assert "王小明" not in body


def test_the_anonymous_home_page_has_no_logout_form_and_sets_no_cookie(client):
    response = client.get("/")

    body = response.content.decode()
    assert '<a href="/accounts/login/">' in body
    assert "csrfmiddlewaretoken" not in body
    assert not response.cookies
