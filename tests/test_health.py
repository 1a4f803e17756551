"""/healthz reports the database, the broker and the cache, on the real services."""

import json

import pytest
from django.test import override_settings

from portal import health
from portal.celery import app as celery_app


@pytest.mark.django_db
def test_healthz_is_ok_when_every_service_answers(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert json.loads(response.content) == {"database": "ok", "broker": "ok", "cache": "ok"}
    assert "no-cache" in response.headers["Cache-Control"]


@pytest.mark.django_db
def test_healthz_names_the_broker_when_it_is_down(client, monkeypatch):
    # Nothing listens on port 1: the connection is refused at once.
    monkeypatch.setattr(celery_app.conf, "broker_write_url", "redis://127.0.0.1:1/0")
    response = client.get("/healthz")
    body = json.loads(response.content)
    assert response.status_code == 503
    assert body["database"] == "ok"
    assert body["cache"] == "ok"
    assert body["broker"].startswith("error: ")


@pytest.mark.django_db
def test_healthz_names_the_cache_when_it_is_down(client):
    broken_cache = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://127.0.0.1:1/0"}
    }
    with override_settings(CACHES=broken_cache):
        response = client.get("/healthz")
    body = json.loads(response.content)
    assert response.status_code == 503
    assert body["cache"].startswith("error: ")
    assert body["database"] == "ok"


def test_filesystem_broker_check_needs_writable_folders(tmp_path):
    messages, control = tmp_path / "messages", tmp_path / "control"
    options = {"data_folder_in": str(messages), "control_folder": str(control)}
    with override_settings(BROKER_IS_FILESYSTEM=True, CELERY_BROKER_TRANSPORT_OPTIONS=options):
        with pytest.raises(RuntimeError, match=r"data_folder_in .* is not a writable folder"):
            health.check_broker()
        messages.mkdir()
        control.mkdir()
        health.check_broker()
