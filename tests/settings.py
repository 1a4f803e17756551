"""Settings for the test suite: PostgreSQL and Redis, as in production.

Override the services with DATABASE_URL, REDIS_URL and CELERY_BROKER_URL.
"""

import os

os.environ.setdefault("DEBUG", "false")
os.environ.setdefault("SECRET_KEY", "test-only-secret-key-that-is-long-enough-for-django-checks-0123456789")
os.environ.setdefault("FIELD_ENCRYPTION_KEY", "yxZAPCdty0nnVudb8NgbEylFas68VAwFrP18BC1KAiI=")  # test only
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/portal")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/0")
os.environ.setdefault("CELERY_BROKER_URL", os.environ["REDIS_URL"])
os.environ.setdefault("HTTPS", "false")
os.environ.setdefault("ALLOWED_HOSTS", "testserver,localhost,127.0.0.1")

from portal.settings import *  # noqa: F403
from portal.settings import CACHES, DATABASES, STORAGES

# Tests close every connection they open, so the test database can be dropped.
DATABASES["default"]["CONN_MAX_AGE"] = 0
CACHES["default"]["KEY_PREFIX"] = "portal-test"
# Hashing passwords at full strength makes every login in a test slow, and tells nothing.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# The manifest is built by collectstatic, which tests do not run.
STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
WHITENOISE_USE_FINDERS = True
WORKER_PING_TIMEOUT = 10
STATIC_ROOT = None  # type: ignore[assignment]  # served from the finders; nothing is collected in tests
