"""Production settings pass Django's deployment checks; logs can be JSON lines."""

import json
import subprocess

from tests.helpers import PRODUCTION_ENV, run_python


def _manage(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return run_python("manage.py", *args, **env)


def test_check_deploy_is_clean_with_production_settings():
    result = _manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION_ENV)
    assert result.returncode == 0, result.stderr + result.stdout
    assert "System check identified no issues" in result.stdout


def test_check_deploy_complains_when_https_is_switched_off():
    result = _manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION_ENV, HTTPS="false")
    assert result.returncode != 0
    assert "security.W008" in result.stderr  # SECURE_SSL_REDIRECT


def test_check_deploy_refuses_the_demo_sms_sender():
    env = {**PRODUCTION_ENV, "SMS_SENDER": "accounts.sms.ConsoleOutboxSmsSender"}

    result = _manage("check", "--deploy", **env)

    assert result.returncode != 0
    assert "accounts.E001" in result.stderr
    assert "SMS_SENDER is the demo sender" in result.stderr


def test_check_deploy_refuses_the_default_sms_sender_when_none_is_set():
    env = {name: value for name, value in PRODUCTION_ENV.items() if name != "SMS_SENDER"}

    result = _manage("check", "--deploy", **env)

    assert result.returncode != 0
    assert "accounts.E001" in result.stderr


def test_check_deploy_allows_the_demo_sms_sender_when_told_to():
    env = {**PRODUCTION_ENV, "SMS_SENDER": "accounts.sms.ConsoleOutboxSmsSender", "SMS_DEMO_ALLOWED": "true"}

    result = _manage("check", "--deploy", "--fail-level", "WARNING", **env)

    assert result.returncode == 0, result.stderr + result.stdout


def test_check_deploy_refuses_an_sms_sender_that_cannot_be_imported():
    result = _manage("check", "--deploy", **{**PRODUCTION_ENV, "SMS_SENDER": "accounts.sms.NoSuchSender"})

    assert result.returncode != 0
    assert "accounts.E002" in result.stderr


def test_json_logs_are_one_object_per_line():
    code = "import logging; logging.getLogger('portal.test').warning('办件 %s 已受理', 'X1')"
    result = _manage("shell", "-c", code, **PRODUCTION_ENV, LOG_FORMAT="json")
    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    records = [json.loads(line) for line in lines]
    ours = [record for record in records if record["logger"] == "portal.test"]
    assert len(ours) == 1
    assert ours[0]["level"] == "WARNING"
    assert ours[0]["message"] == "办件 X1 已受理"
    assert "time" in ours[0]
