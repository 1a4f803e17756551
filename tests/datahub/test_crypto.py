"""core.crypto: encryption at rest with key rotation, keyed hashes by purpose, and the key setting."""

from __future__ import annotations

import os

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured

from core import crypto
from tests.helpers import run_python

pytestmark = pytest.mark.both_databases

OLD_KEY = Fernet.generate_key().decode()
NEW_KEY = Fernet.generate_key().decode()
PRODUCTION_SECRET = "a7Jq-3vN_pX9wLr2Tb8Ke5Yh0Zc4Gm6Fd1Sa-Ux7Wi3Oo9Pt2Rn5Ve8Qj4Hk6Bl0"


@pytest.fixture
def old_key(settings):
    settings.FIELD_ENCRYPTION_KEY = OLD_KEY


def test_a_text_survives_the_round_trip_and_is_not_readable_in_between(old_key):
    token = crypto.encrypt("330106198805120314")
    assert "330106198805120314" not in token
    assert crypto.decrypt(token) == "330106198805120314"
    assert crypto.decrypt(crypto.encrypt("王小明 · ")) == "王小明 · "


def test_the_same_text_encrypts_differently_each_time(old_key):
    assert crypto.encrypt("123456") != crypto.encrypt("123456")


def test_after_rotation_the_new_key_encrypts_and_the_old_key_still_decrypts(settings):
    settings.FIELD_ENCRYPTION_KEY = OLD_KEY
    old_token = crypto.encrypt("secret")
    settings.FIELD_ENCRYPTION_KEY = f"{NEW_KEY}, {OLD_KEY}"
    new_token = crypto.encrypt("secret")
    assert crypto.decrypt(old_token) == "secret"
    assert crypto.decrypt(new_token) == "secret"
    settings.FIELD_ENCRYPTION_KEY = NEW_KEY
    assert crypto.decrypt(new_token) == "secret"
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt(old_token)


def test_reencrypt_moves_a_token_to_the_first_key(settings):
    settings.FIELD_ENCRYPTION_KEY = OLD_KEY
    old_token = crypto.encrypt("secret")
    settings.FIELD_ENCRYPTION_KEY = f"{NEW_KEY},{OLD_KEY}"
    moved = crypto.reencrypt(old_token)
    settings.FIELD_ENCRYPTION_KEY = NEW_KEY
    assert crypto.decrypt(moved) == "secret"


def test_an_altered_token_is_refused(old_key):
    token = crypto.encrypt("secret")
    altered = token[:-6] + ("AAAAAA" if not token.endswith("AAAAAA") else "BBBBBB")
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt(altered)
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt("not a token at all")


def test_keyed_hashes_are_stable_and_differ_by_purpose_and_by_key(settings):
    settings.FIELD_ENCRYPTION_KEY = OLD_KEY
    id_hash = crypto.keyed_hash("330106198805120314", purpose="id-number")
    assert len(id_hash) == 64
    assert int(id_hash, 16) >= 0
    assert crypto.keyed_hash("330106198805120314", purpose="id-number") == id_hash
    assert crypto.keyed_hash("330106198805120314", purpose="phone") != id_hash
    assert crypto.keyed_hash("330106198805120315", purpose="id-number") != id_hash
    settings.FIELD_ENCRYPTION_KEY = NEW_KEY
    assert crypto.keyed_hash("330106198805120314", purpose="id-number") != id_hash


def test_keyed_hashes_give_the_hash_under_every_key_first_key_first(settings):
    settings.FIELD_ENCRYPTION_KEY = OLD_KEY
    old_hash = crypto.keyed_hash("13712349050", purpose="phone")
    settings.FIELD_ENCRYPTION_KEY = f"{NEW_KEY},{OLD_KEY}"
    new_hash = crypto.keyed_hash("13712349050", purpose="phone")
    assert crypto.keyed_hashes("13712349050", purpose="phone") == [new_hash, old_hash]
    assert new_hash != old_hash


def test_a_keyed_hash_needs_a_purpose(old_key):
    with pytest.raises(ValueError, match="purpose"):
        crypto.keyed_hash("x", purpose="")
    with pytest.raises(ValueError, match="purpose"):
        crypto.keyed_hashes("x", purpose="")


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "without empty items"),
        (f"{OLD_KEY},", "without empty items"),
        ("not-a-key", "key 1 is not a Fernet key"),
        (f"{OLD_KEY},{OLD_KEY[:-4]}", "key 2 is not a Fernet key"),
        ("密钥", "key 1 is not a Fernet key"),
    ],
)
def test_malformed_keys_are_refused_by_position_without_showing_them(value, message):
    with pytest.raises(ImproperlyConfigured, match=message) as error:
        crypto.parse_keys(value)
    assert OLD_KEY not in str(error.value)


def test_in_debug_without_a_key_a_development_key_comes_from_the_secret_key(settings):
    settings.DEBUG = True
    settings.FIELD_ENCRYPTION_KEY = ""
    settings.SECRET_KEY = "insecure-development-key-only-for-debug-mode"
    first = crypto.configured_keys()
    assert first == (crypto.development_key("insecure-development-key-only-for-debug-mode"),)
    assert crypto.decrypt(crypto.encrypt("dev")) == "dev"
    settings.SECRET_KEY = "another-secret-key-for-the-development-key-test-0123456789"
    assert crypto.configured_keys() != first


def test_without_debug_a_missing_key_is_refused_at_use(settings):
    settings.DEBUG = False
    settings.FIELD_ENCRYPTION_KEY = ""
    with pytest.raises(ImproperlyConfigured, match="FIELD_ENCRYPTION_KEY must be set"):
        crypto.encrypt("x")


def _import_settings(**env: str):
    # The other keys production needs, from the test settings, so that only the one under test is missing.
    signing_key = os.environ["IDP_OIDC_PRIVATE_KEY"]
    return run_python(
        "-c",
        "import portal.settings",
        DEBUG="false",
        SECRET_KEY=PRODUCTION_SECRET,
        IDP_OIDC_PRIVATE_KEY=signing_key,
        ALLOWED_HOSTS="zwfw.example.gov.cn",
        **env,
    )


def test_settings_refuse_to_start_without_an_encryption_key_when_debug_is_off():
    result = _import_settings(FIELD_ENCRYPTION_KEY="")
    assert result.returncode != 0
    assert "FIELD_ENCRYPTION_KEY (encrypts identity numbers" in result.stderr


def test_settings_refuse_to_start_with_a_malformed_encryption_key():
    result = _import_settings(FIELD_ENCRYPTION_KEY=f"{OLD_KEY},not-a-key")
    assert result.returncode != 0
    assert "FIELD_ENCRYPTION_KEY: key 2 is not a Fernet key" in result.stderr
    assert OLD_KEY not in result.stderr


def test_settings_start_with_a_list_of_keys():
    result = _import_settings(FIELD_ENCRYPTION_KEY=f"{NEW_KEY},{OLD_KEY}")
    assert result.returncode == 0, result.stderr


def test_settings_start_in_debug_without_an_encryption_key():
    result = run_python("-c", "import portal.settings", DEBUG="true", FIELD_ENCRYPTION_KEY="")
    assert result.returncode == 0, result.stderr


def test_what_is_derived_from_a_key_stays_what_it_was_when_rows_were_stored(settings):
    """Every stored hash (identity numbers, query passwords, enrolment codes) and the development key were derived
    under these labels: a change to the derivation (moving the module and renaming its labels, say) would make no
    stored hash match again, so the values are pinned."""
    settings.FIELD_ENCRYPTION_KEY = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="

    assert crypto.keyed_hash("330106198805120314", purpose="datahub.id-number") == (
        "e3f4a4337fac6fd29d539e4c6c690b6eb6eee4e53660a18a59628bc11b2b8a21"
    )
    assert crypto.development_key("some secret") == b"plXal2RP9ft236O7uPdQEt3bbWw0QHQl2t02TpSthbU="
