"""Settings of the portal: one module, every deploy-time value from the environment.

The defaults give the embedded setup (SQLite under ``var/``, Celery's filesystem
broker, a local-memory cache). Production differs only by environment variables;
see the README for the list.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import dj_database_url
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _
from kombu import Exchange, Queue

from core.crypto import parse_keys
from core.env import env_bool, env_choice, env_int, env_list, env_required, env_str, env_url, missing_settings
from portal.signing_keys import development_rsa_key, parse_rsa_private_key

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("VAR_DIR", str(BASE_DIR / "var")) or BASE_DIR / "var")

DEBUG = env_bool("DEBUG", False)

# With DEBUG off, these must come from the environment; every missing one is named in one message, so an operator
# does not find them one start at a time.
if not DEBUG:
    missing_settings(
        {
            "SECRET_KEY": "signs sessions and tokens",
            "FIELD_ENCRYPTION_KEY": "encrypts identity numbers and other personal data",
            "ALLOWED_HOSTS": "the host names the portal answers to",
            "IDP_OIDC_PRIVATE_KEY": "signs the ID tokens given to departments' systems",
        }
    )

if DEBUG:
    # Only for local runs: never a production secret, and refused when DEBUG is off.
    SECRET_KEY = env_str("SECRET_KEY", "insecure-development-key-only-for-debug-mode") or ""
else:
    SECRET_KEY = env_required("SECRET_KEY", "it signs sessions and tokens, and DEBUG is off")
    if SECRET_KEY.startswith("insecure-") or len(SECRET_KEY) < 50:
        raise ImproperlyConfigured("SECRET_KEY must be a random value of at least 50 characters when DEBUG is off.")

# Encrypts personal data at rest (core.crypto): comma-separated Fernet keys; the first encrypts, all decrypt,
# so a key is rotated by putting a new one first. Without one in DEBUG, core.crypto derives a key from
# SECRET_KEY: for local runs only.
if DEBUG:
    FIELD_ENCRYPTION_KEY = env_str("FIELD_ENCRYPTION_KEY", "") or ""
else:
    FIELD_ENCRYPTION_KEY = env_required(
        "FIELD_ENCRYPTION_KEY", "it encrypts identity numbers and other personal data, and DEBUG is off"
    )
if FIELD_ENCRYPTION_KEY:
    parse_keys(FIELD_ENCRYPTION_KEY)  # a malformed key stops the start, not the first write

# Signs the ID tokens of the OpenID Connect provider (departments' systems log users in through the portal):
# an RSA private key in PEM ("\n" may stand for the line breaks). Without one in DEBUG, a development key is made
# once under VAR_DIR and kept there, so local OIDC logins work and survive restarts.
if DEBUG:
    IDP_OIDC_PRIVATE_KEY = (env_str("IDP_OIDC_PRIVATE_KEY", "") or "").replace("\\n", "\n")
    if not IDP_OIDC_PRIVATE_KEY:
        IDP_OIDC_PRIVATE_KEY = development_rsa_key(VAR_DIR / "oidc-development-key.pem")
else:
    IDP_OIDC_PRIVATE_KEY = env_required(
        "IDP_OIDC_PRIVATE_KEY", "it signs the ID tokens given to departments' systems, and DEBUG is off"
    ).replace("\\n", "\n")
parse_rsa_private_key(IDP_OIDC_PRIVATE_KEY)  # a malformed key stops the start, not the first login

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.humanize",  # allauth's session list (/accounts/sessions/) loads it
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_celery_beat",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "allauth.usersessions",
    "allauth.headless",
    "allauth.idp.oidc",
    "core",
    "portal",
    "accounts",
    "services",
    "approvals",
    "payments",
    "interaction",
    "ratings",
    "certificates",
    "datahub",
]
# The demo data and its `seed_demo` command. Nothing at run time needs them: a production installation may leave
# them out (DEMO_APP=false), and `make run` with DEBUG or DEMO_ACCOUNTS needs them in.
if env_bool("DEMO_APP", True):
    INSTALLED_APPS.append("demo")

MIDDLEWARE = [
    "portal.middleware.RequestLogMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "portal.middleware.SecurityHeadersMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "portal.middleware.SessionRenewalMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    # Anonymous pages from the cache: after the language is known, before everything a page for nobody needs.
    "core.page_cache.PageCacheMiddleware",
    "portal.middleware.ApiLanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Unreadable or unstorable input (deep JSON, null characters, oversized bodies) refused in each endpoint's format.
    "core.input_guards.BadInputMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "allauth.usersessions.middleware.UserSessionsMiddleware",
    "accounts.middleware.StaffMFAMiddleware",
    "accounts.middleware.PrivacyConsentMiddleware",
    "portal.middleware.DomainErrorMiddleware",
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"
ASGI_APPLICATION = "portal.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "portal.context_processors.site",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------

SQLITE_PATH = VAR_DIR / "portal.sqlite3"
DATABASE_URL = env_url(
    "DATABASE_URL",
    f"sqlite:///{SQLITE_PATH}",
    schemes={"sqlite", "postgres", "postgresql", "pgsql", "postgis"},
)
try:
    _database: dict[str, Any] = dj_database_url.parse(  # type: ignore[assignment]
        DATABASE_URL or "",
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60, minimum=0),
        conn_health_checks=True,
    )
except ValueError as error:
    raise ImproperlyConfigured(f"DATABASE_URL could not be read: {error}") from None

DATABASE_IS_SQLITE = _database["ENGINE"] == "django.db.backends.sqlite3"
if DATABASE_IS_SQLITE:
    # The web server and the worker write the same file: WAL lets readers work
    # beside a writer, IMMEDIATE takes the write lock at BEGIN (so two writers
    # queue instead of failing half-way), and the timeout is how long they queue.
    SQLITE_PATH.parent.mkdir(parents=True, exist_ok=True)
    _database["CONN_MAX_AGE"] = 0
    _database["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
    }
else:
    _database.setdefault("OPTIONS", {})
    _database["OPTIONS"].setdefault("connect_timeout", 5)
DATABASES: dict[str, dict[str, Any]] = {"default": _database}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache and sessions ---------------------------------------------------

REDIS_URL = env_url("REDIS_URL", None, schemes={"redis", "rediss", "unix"})
if REDIS_URL:
    CACHES: dict[str, dict[str, Any]] = {
        "default": {
            "BACKEND": "core.cache.RedisCache",  # Django's, keeping its redis-py client
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env_str("CACHE_KEY_PREFIX", "portal") or "portal",
            "TIMEOUT": 300,
        }
    }
    # Sessions are read from Redis and kept in the database, so a restart of Redis logs nobody out.
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
else:
    # The embedded setup runs several processes (web workers, the Celery worker): what one of them caches, counts or
    # deletes must hold for all, so the cache is a folder under VAR_DIR that all share, and sessions live in the
    # database alone (a per-process copy would outlive a logout in another process). Limits count in the database
    # (core.limits).
    CACHES = {
        "default": {
            "BACKEND": "core.cache.SharedFileCache",
            "LOCATION": str(VAR_DIR / "cache"),
            "TIMEOUT": 300,
            "OPTIONS": {"MAX_ENTRIES": 5000},
        }
    }
    SESSION_ENGINE = "django.contrib.sessions.backends.db"

SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 30 * 60, minimum=60)
# An idle timeout rather than a fixed lifetime: portal.middleware.SessionRenewalMiddleware saves a session
# again once this often while it is used (not on every request, which would be a database write each).
SESSION_SAVE_EVERY_REQUEST = False
SESSION_RENEWAL_SECONDS = min(env_int("SESSION_RENEWAL_SECONDS", 60, minimum=1), SESSION_COOKIE_AGE // 2)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"

# --- Users ----------------------------------------------------------------

AUTH_USER_MODEL = "accounts.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "accounts:me"
ACCOUNT_LOGOUT_REDIRECT_URL = "home"

# django-allauth: one account per e-mail address, verified by a code before the first login; a mobile
# number verified by an SMS code is a second way to log in (one verified number, one account).
ACCOUNT_ADAPTER = "accounts.adapters.AccountAdapter"
ACCOUNT_LOGIN_METHODS = {"email", "phone"}
ACCOUNT_FORMS = {
    "signup": "accounts.phone_forms.PhoneSignupForm",
    "verify_phone": "accounts.phone_forms.RecycledPhoneVerifyForm",
    "change_phone": "accounts.phone_forms.RecycledPhoneChangeForm",
}
ACCOUNT_SIGNUP_FORM_CLASS = "accounts.forms.PrivacyConsentSignupForm"
# The privacy notice (PIPL) people consent to; a new version asks everyone again at their next visit.
PRIVACY_NOTICE_VERSION = "2026-11"
# The phone is optional at signup: accounts made before it existed have none, and the e-mail stays the
# required way in. A number given at signup is verified by an SMS code before the account is used.
ACCOUNT_SIGNUP_FIELDS = ["email*", "phone", "password1*", "password2*"]
ACCOUNT_PHONE_VERIFICATION_TIMEOUT = 10 * 60  # the SMS says "10 分钟内有效"
ACCOUNT_PHONE_VERIFICATION_CODE_FORMAT = {"numeric": True, "length": 6, "dashed": False}
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_EMAIL_VERIFICATION_BY_CODE_ENABLED = True
# The code page's "resend" mails a new code (twice at most), within the confirm_email rate limit below.
ACCOUNT_EMAIL_VERIFICATION_SUPPORTS_RESEND = True
ACCOUNT_LOGIN_BY_CODE_ENABLED = False
ACCOUNT_LOGOUT_ON_GET = False
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = True
ACCOUNT_SESSION_REMEMBER = False  # sessions end with the idle timeout below, never "remember me"
ACCOUNT_PREVENT_ENUMERATION = True
# allauth's defaults, stated: five wrong passwords for one address lock it for five minutes, ten a minute per IP.
ACCOUNT_RATE_LIMITS = {
    "login_failed": "10/m/ip,5/300s/key",
    "login": "30/m/ip",
    "signup": "20/m/ip",
    "reset_password": "20/m/ip,5/m/key",
    "change_password": "5/m/user",
    "confirm_email": "1/10s/key",
}
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[一网通办] "
# Where text messages go: the demo sender keeps them in the staff outbox (/me/sms-outbox/); a gateway's
# class implements accounts.sms.SmsSender.
SMS_SENDER = env_str("SMS_SENDER", "accounts.sms.ConsoleOutboxSmsSender") or "accounts.sms.ConsoleOutboxSmsSender"
# The demo sender with DEBUG off is an error of `check --deploy` unless allowed here (a demo installation).
SMS_DEMO_ALLOWED = env_bool("SMS_DEMO_ALLOWED", False)
MFA_ADAPTER = "accounts.adapters.MFAAdapter"
# A staff member's first authenticator needs a one-time enrolment code from a platform admin.
MFA_FORMS = {"activate_totp": "accounts.mfa_forms.StaffActivateTOTPForm"}
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "一网通办"
# Sessions are recorded at login; tracking every request would cost a write per page view.
USERSESSIONS_TRACK_ACTIVITY = False
# allauth's headless API (/_allauth/) for the mobile app (session token in X-Session-Token) and single-page
# front ends; the portal keeps its own HTML pages, so e-mail links keep pointing at them (no FRONTEND_URLS).
HEADLESS_CLIENTS = ("app", "browser")
HEADLESS_ONLY = False
# The OpenID Connect provider: which claims a department's system receives is decided by the adapter.
IDP_OIDC_ADAPTER = "accounts.adapters.OIDCAdapter"

# --- E-mail ---------------------------------------------------------------

EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend" if DEBUG else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = env_str("EMAIL_HOST", "localhost") or "localhost"
EMAIL_PORT = env_int("EMAIL_PORT", 25, minimum=1)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "") or ""
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "") or ""
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10, minimum=1)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "一网通办 <noreply@zwfw.invalid>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Language and time ----------------------------------------------------

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

# --- Static and uploaded files ---------------------------------------------

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "staticfiles")) or BASE_DIR / "staticfiles")
# Uploads live outside the web root and are served only through views that check access.
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(VAR_DIR / "media")) or VAR_DIR / "media")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_AUTOREFRESH = DEBUG

# --- Security -------------------------------------------------------------

HTTPS = env_bool("HTTPS", not DEBUG)
SECURE_SSL_REDIRECT = HTTPS
SECURE_REDIRECT_EXEMPT = [r"^healthz"]  # load balancers probe over plain HTTP
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31_536_000 if HTTPS else 0, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = HTTPS
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
BEHIND_PROXY = env_bool("BEHIND_PROXY", False)
if BEHIND_PROXY:
    # Only behind a proxy that sets this header itself and strips it from clients.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# How many reverse proxies stand between clients and the web server, each appending to X-Forwarded-For: the client's
# address is the entry the nearest one wrote (core.addresses). 0 reads the socket and ignores the header, which any
# client can write. Every limit, lock-out and log line uses this one address.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 1 if BEHIND_PROXY else 0, minimum=0)
ALLAUTH_TRUSTED_PROXY_COUNT = TRUSTED_PROXY_COUNT  # allauth's own reading; the account adapter uses ours
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'self'; object-src 'none'"
)

# --- API -----------------------------------------------------------------

REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        # The app's session token from allauth's headless login, sent as X-Session-Token.
        "allauth.headless.contrib.rest_framework.authentication.XSessionTokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_PAGINATION_CLASS": "core.api.StableCursorPagination",
    # OPTIONS describes what it can, never asking a view without a serializer for one.
    "DEFAULT_METADATA_CLASS": "core.api_metadata.ApiMetadata",
    "PAGE_SIZE": 20,
    "NUM_PROXIES": TRUSTED_PROXY_COUNT,  # the throttles read core.addresses; this keeps DRF's own reading the same
    "EXCEPTION_HANDLER": "core.api.exception_handler",
    "DEFAULT_THROTTLE_CLASSES": [
        # DRF's rates and sliding window, kept in a Redis sorted set (one round trip; see portal/throttling.py).
        "core.throttling.AnonRateThrottle",
        "core.throttling.SignedInRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env_str("API_ANON_RATE", "120/minute"),
        "user": env_str("API_USER_RATE", "600/minute"),
    },
}
SPECTACULAR_SETTINGS = {
    "TITLE": "一网通办 API",
    "DESCRIPTION": "The public API of the unified government services portal. Errors are "
    '{"code": "...", "message": "...", "fields": {...}}; lists are paginated as {"results", "next", "previous"}.',
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Every operation also declares the API's common error answers (core.api_schema).
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "core.api_schema.declare_common_errors",
    ],
    "ENUM_NAME_OVERRIDES": {
        "DayUnitEnum": "services.models.DayUnit",
        "ApplicationStatusEnum": "approvals.models.Application.Status",
        "ApplicationEventActionEnum": "approvals.models.ApplicationEvent.Action",
        "TaskStatusEnum": "approvals.models.WorkflowTask.Status",
        "BundleApplicationStatusEnum": "approvals.models.BundleApplication.Status",
        "AuthorisationScopeEnum": "accounts.models.AuthorisationScope",
    },
}

# --- Celery ---------------------------------------------------------------

CELERY_QUEUES = ("routing", "notifications", "payments", "sla", "reports")
BROKER_DIR = VAR_DIR / "broker"
CELERY_BROKER_URL = env_url(
    "CELERY_BROKER_URL", "filesystem://localhost/", schemes={"filesystem", "redis", "rediss", "amqp", "amqps"}
)
BROKER_IS_FILESYSTEM = (CELERY_BROKER_URL or "").startswith("filesystem:")
# Redis redelivers an unacknowledged message after this many seconds: keep it
# a few minutes above the longest task's hard time limit.
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 300, minimum=1)
CELERY_TASK_SOFT_TIME_LIMIT = CELERY_TASK_TIME_LIMIT - 30 if CELERY_TASK_TIME_LIMIT > 60 else None
if BROKER_IS_FILESYSTEM:
    CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, Any] = {
        "data_folder_in": str(BROKER_DIR / "messages"),
        "data_folder_out": str(BROKER_DIR / "messages"),
        "control_folder": str(BROKER_DIR / "control"),
        "store_processed": False,
        # The worker lists the folder this often: a short wait for a quick answer.
        "polling_interval": 0.2,
    }
    for _folder in ("messages", "control"):
        (BROKER_DIR / _folder).mkdir(parents=True, exist_ok=True)
else:
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": CELERY_TASK_TIME_LIMIT + 300}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Celery closes the database connections around every task unless told to reuse them; portal.celery keeps
# them as Django does between requests (DATABASE_CONN_MAX_AGE, health checks), and Celery closes them
# itself only after this many tasks.
CELERY_DB_REUSE_MAX = 1000
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
# State lives in our own rows, never in a result backend.
CELERY_TASK_IGNORE_RESULT = True
CELERY_RESULT_BACKEND = None
# Each queue its own exchange and key, so a message lands in exactly one queue.
# A worker started without --queues consumes all of them.
CELERY_TASK_QUEUES = [Queue(name, Exchange(name, type="direct"), routing_key=name) for name in CELERY_QUEUES]
CELERY_TASK_DEFAULT_QUEUE = "routing"
# First match wins: periodic sweeps and reports by the verb, the rest by the app.
CELERY_TASK_ROUTES = {
    "*.tasks.sweep_*": {"queue": "sla"},
    "*.tasks.report_*": {"queue": "reports"},
    "*.tasks.notify_*": {"queue": "notifications"},
    "interaction.tasks.*": {"queue": "notifications"},
    "payments.tasks.*": {"queue": "payments"},
    "approvals.tasks.*": {"queue": "routing"},
}
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_BEAT_SCHEDULE = {
    "sweep-scheduled-versions": {
        "task": "services.tasks.sweep_scheduled_versions",
        "schedule": crontab(minute="1", hour="0"),
    },
    "sweep-rate-counters": {"task": "core.tasks.sweep_rate_counters", "schedule": crontab(minute="29")},
    "sweep-worker-pings": {
        "task": "portal.tasks.sweep_worker_pings",
        "schedule": crontab(minute="17", hour="3"),
    },
    "sweep-enterprise-representatives": {
        "task": "accounts.tasks.sweep_enterprise_representatives",
        "schedule": crontab(minute="41", hour="2"),
    },
    "sweep-drafts": {
        "task": "approvals.tasks.sweep_drafts",
        "schedule": crontab(minute="17"),
    },
    "sweep-outbox": {"task": "approvals.tasks.sweep_outbox", "schedule": crontab()},
    "sweep-deadlines": {"task": "approvals.tasks.sweep_deadlines", "schedule": crontab()},
    "sweep-acceptance": {"task": "approvals.tasks.sweep_acceptance", "schedule": crontab(minute="23")},
}
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

# Health check of the workers: how long /healthz/worker waits for an answer.
WORKER_PING_TIMEOUT = env_int("WORKER_PING_TIMEOUT", 10, minimum=1)

# --- Logging --------------------------------------------------------------

LOG_FORMAT = env_choice("LOG_FORMAT", "text", choices={"text", "json"})
LOG_LEVEL = env_choice("LOG_LEVEL", "info", choices={"debug", "info", "warning", "error"}).upper()
LOGGING: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "text": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
            "timestamp": False,
        },
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        "celery": {"level": LOG_LEVEL},
    },
}

# 高级实名 by face check: the provider class (implements accounts.face_check.FaceCheckProvider) and the key its signed
# results are checked with. The default demo provider is a page of the portal, open only with DEBUG or FACE_CHECK_DEMO.
FACE_CHECK_PROVIDER = (
    env_str("FACE_CHECK_PROVIDER", "accounts.face_check.DemoFaceCheckProvider")
    or "accounts.face_check.DemoFaceCheckProvider"
)
FACE_CHECK_SECRET = env_str("FACE_CHECK_SECRET", "") or ""
FACE_CHECK_DEMO = env_bool("FACE_CHECK_DEMO", False)

# 初级实名 asks the population registry whether a name, document and phone match: attempts per account and per client
# address in a window, so that the check cannot be used to test identities one after the other.
REAL_NAME_ATTEMPTS_PER_ACCOUNT = env_int("REAL_NAME_ATTEMPTS_PER_ACCOUNT", 5, minimum=1)
REAL_NAME_ATTEMPTS_PER_ADDRESS = env_int("REAL_NAME_ATTEMPTS_PER_ADDRESS", 20, minimum=1)
REAL_NAME_ATTEMPT_WINDOW_SECONDS = env_int("REAL_NAME_ATTEMPT_WINDOW_SECONDS", 3600, minimum=60)

# --- Applications (approvals) ----------------------------------------------

# A draft lives this many days after its last change; its owner is reminded this many days before it goes.
DRAFT_TTL_DAYS = env_int("DRAFT_TTL_DAYS", 30, minimum=1)
DRAFT_REMINDER_DAYS = env_int("DRAFT_REMINDER_DAYS", 3, minimum=0)
# Public tracking (/track/): wrong query passwords per application number before it locks for TRACK_LOCKOUT_SECONDS,
# and attempts per client address in the same window.
TRACK_FAILURES_PER_NUMBER = env_int("TRACK_FAILURES_PER_NUMBER", 5, minimum=1)
TRACK_ATTEMPTS_PER_ADDRESS = env_int("TRACK_ATTEMPTS_PER_ADDRESS", 30, minimum=1)
TRACK_LOCKOUT_SECONDS = env_int("TRACK_LOCKOUT_SECONDS", 900, minimum=60)

# --- Uploaded materials (approvals.uploads) --------------------------------

# Applicants' files are judged by content, limited in size, virus-scanned by clamd when CLAMD_ADDRESS names one
# (unix:///run/clamav/clamd.ctl or tcp://host:3310), encrypted with FIELD_ENCRYPTION_KEY and kept under UPLOAD_ROOT,
# outside STATIC_ROOT and MEDIA_ROOT: no web server serves it, only views that check who asks.
UPLOAD_MAX_BYTES = env_int("UPLOAD_MAX_BYTES", 10 * 1024 * 1024, minimum=1)
UPLOAD_ROOT = Path(env_str("UPLOAD_ROOT", str(VAR_DIR / "uploads")) or VAR_DIR / "uploads")
CLAMD_ADDRESS = env_url("CLAMD_ADDRESS", "", schemes={"unix", "tcp"}) or ""
CLAMD_TIMEOUT = env_int("CLAMD_TIMEOUT", 30, minimum=1)
# Without clamd, uploads are kept unscanned and the log says so once; with it, a file clamd cannot scan is refused.
_default_scanner = "approvals.uploads.ClamdScanner" if CLAMD_ADDRESS else "approvals.uploads.NoScanner"
UPLOAD_SCANNER = env_str("UPLOAD_SCANNER", _default_scanner) or _default_scanner
