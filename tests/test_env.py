"""The settings helpers refuse malformed values with a message that names the variable."""

import subprocess

import pytest
from django.core.exceptions import ImproperlyConfigured

from core.env import env_bool, env_choice, env_int, env_list, env_required, env_str, env_url
from tests.helpers import run_python


def test_env_bool_reads_the_usual_spellings(monkeypatch):
    monkeypatch.setenv("FLAG", "Yes")
    assert env_bool("FLAG", False) is True
    monkeypatch.setenv("FLAG", "off")
    assert env_bool("FLAG", True) is False
    monkeypatch.delenv("FLAG")
    assert env_bool("FLAG", True) is True


def test_env_bool_refuses_anything_else(monkeypatch):
    monkeypatch.setenv("FLAG", "maybe")
    with pytest.raises(ImproperlyConfigured, match="FLAG must be true or false, not 'maybe'"):
        env_bool("FLAG", False)


def test_env_int_checks_number_and_minimum(monkeypatch):
    monkeypatch.setenv("COUNT", "12")
    assert env_int("COUNT", 3) == 12
    monkeypatch.setenv("COUNT", "twelve")
    with pytest.raises(ImproperlyConfigured, match="COUNT must be a whole number, not 'twelve'"):
        env_int("COUNT", 3)
    monkeypatch.setenv("COUNT", "-1")
    with pytest.raises(ImproperlyConfigured, match="COUNT must be at least 0, not -1"):
        env_int("COUNT", 3, minimum=0)


def test_env_list_splits_and_refuses_empty_items(monkeypatch):
    monkeypatch.setenv("HOSTS", " a.example , b.example")
    assert env_list("HOSTS", []) == ["a.example", "b.example"]
    monkeypatch.setenv("HOSTS", "a.example,,b.example")
    with pytest.raises(ImproperlyConfigured, match="HOSTS must be a comma-separated list"):
        env_list("HOSTS", [])


def test_env_url_checks_the_scheme(monkeypatch):
    monkeypatch.setenv("BROKER", "redis://127.0.0.1:6379/0")
    assert env_url("BROKER", None, schemes={"redis"}) == "redis://127.0.0.1:6379/0"
    monkeypatch.setenv("BROKER", "127.0.0.1:6379")
    with pytest.raises(ImproperlyConfigured, match="BROKER must be a URL starting with one of redis"):
        env_url("BROKER", None, schemes={"redis"})


def test_env_choice_and_strings(monkeypatch):
    monkeypatch.setenv("FORMAT", "JSON")
    assert env_choice("FORMAT", "text", choices={"text", "json"}) == "json"
    monkeypatch.setenv("FORMAT", "xml")
    with pytest.raises(ImproperlyConfigured, match="FORMAT must be one of json, text, not 'xml'"):
        env_choice("FORMAT", "text", choices={"text", "json"})
    monkeypatch.setenv("NAME", "  ")
    assert env_str("NAME", "fallback") == "fallback"
    with pytest.raises(ImproperlyConfigured, match="NAME must be set: it is needed"):
        env_required("NAME", "it is needed")


def _import_settings(**env: str) -> subprocess.CompletedProcess[str]:
    return run_python("-c", "import portal.settings", **env)


def test_settings_name_every_missing_production_setting_in_one_message():
    result = _import_settings(DEBUG="false")

    assert result.returncode != 0
    message = result.stderr.strip().splitlines()[-1]
    assert "DEBUG is off, and these settings must come from the environment:" in message
    for name in ("SECRET_KEY", "FIELD_ENCRYPTION_KEY", "ALLOWED_HOSTS", "IDP_OIDC_PRIVATE_KEY"):
        assert f"{name} (" in message


def test_settings_name_only_what_is_missing():
    result = _import_settings(DEBUG="false", SECRET_KEY="x" * 60, ALLOWED_HOSTS="zwfw.example.gov.cn")

    message = result.stderr.strip().splitlines()[-1]
    assert "FIELD_ENCRYPTION_KEY (" in message
    assert "IDP_OIDC_PRIVATE_KEY (" in message
    assert "SECRET_KEY (" not in message
    assert "ALLOWED_HOSTS (" not in message


def test_debug_runs_make_an_oidc_key_once_and_keep_it(tmp_path):
    script = "from django.conf import settings; import portal.settings as s; print(s.IDP_OIDC_PRIVATE_KEY)"

    first = run_python("-c", script, DEBUG="true", VAR_DIR=str(tmp_path))
    second = run_python("-c", script, DEBUG="true", VAR_DIR=str(tmp_path))

    assert first.returncode == 0, first.stderr
    assert "BEGIN PRIVATE KEY" in first.stdout
    assert first.stdout == second.stdout
    key_file = tmp_path / "oidc-development-key.pem"
    assert key_file.read_text() == first.stdout.rstrip("\n") + "\n"
    assert key_file.stat().st_mode & 0o777 == 0o600


def test_settings_refuse_a_malformed_database_url():
    result = _import_settings(DEBUG="true", DATABASE_URL="mysql-ish://nowhere")
    assert result.returncode != 0
    assert "DATABASE_URL must be a URL starting with one of" in result.stderr
