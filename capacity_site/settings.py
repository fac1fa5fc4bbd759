"""Settings for the capacity platform, read from the environment and an optional `.env`."""

from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
# The process environment wins over the file; ENV_FILE names another file (e.g. /etc/capacity/env).
environ.Env.read_env(env.str("ENV_FILE", default=str(BASE_DIR / ".env")), overwrite=False)

DEBUG = env.bool("DEBUG", default=False)

SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY is not set (only DEBUG=true runs with a development key).")
    SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production"

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])


def _proxy_ssl_header(value: str) -> tuple[str, str] | None:
    """`HEADER,value` -> ("HTTP_HEADER", "value"); the header may be given as sent (X-Forwarded-Proto)."""
    if not value.strip():
        return None
    parts = [part.strip() for part in value.split(",")]
    if len(parts) != 2 or not all(parts):
        raise ImproperlyConfigured(
            f"SECURE_PROXY_SSL_HEADER must be 'HEADER,value' (e.g. HTTP_X_FORWARDED_PROTO,https), got {value!r}."
        )
    header = parts[0].upper().replace("-", "_")
    return (header if header.startswith("HTTP_") else f"HTTP_{header}", parts[1])


# Production behind a TLS-terminating proxy (see docs/production.env.example). All off by default,
# so `scripts/run.sh` and DEBUG keep working over plain HTTP on the local address.
SECURE_PROXY_SSL_HEADER = _proxy_ssl_header(env.str("SECURE_PROXY_SSL_HEADER", default=""))
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=False)
# Prometheus scrapes /metrics over plain HTTP inside the network: never redirected (METRICS_TOKEN guards it).
SECURE_REDIRECT_EXEMPT = [r"^metrics$"]
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=False)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=False)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=False)
if SECURE_HSTS_SECONDS < 0:
    raise ImproperlyConfigured(f"SECURE_HSTS_SECONDS must be 0 or more, got {SECURE_HSTS_SECONDS}.")

# Bounds on what an API request may carry (common.api.parsers): over them a 413 or 400, never a 500.
API_MAX_BODY_BYTES = env.int("API_MAX_BODY_BYTES", default=1024 * 1024)
API_MAX_JSON_DEPTH = env.int("API_MAX_JSON_DEPTH", default=32)
if API_MAX_BODY_BYTES < 1024 or not 2 <= API_MAX_JSON_DEPTH <= 200:
    raise ImproperlyConfigured(
        "API_MAX_BODY_BYTES must be at least 1024 and API_MAX_JSON_DEPTH between 2 and 200, "
        f"got {API_MAX_BODY_BYTES} and {API_MAX_JSON_DEPTH}."
    )
# The OpenAPI schema and its docs follow the API's authentication unless opened on purpose.
API_DOCS_PUBLIC = env.bool("API_DOCS_PUBLIC", default=False)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_q",
    "instances",
    "capacity",
    "sync_sessions",
    "alerting",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "capacity_site.urls"

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
                "django.template.context_processors.i18n",
            ],
        },
    },
]

WSGI_APPLICATION = "capacity_site.wsgi.application"
ASGI_APPLICATION = "capacity_site.asgi.application"

# The platform's own database. SQLite by default; WAL and a busy timeout keep the
# django-q2 ORM broker and concurrent collectors from tripping over "database is locked".
DATABASES = {"default": env.db_url("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"].setdefault("OPTIONS", {})
    DATABASES["default"]["OPTIONS"].update(
        {
            "timeout": 30,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = env.str("LANGUAGE_CODE", default="en")
LANGUAGES = [("en", _("English")), ("zh-hans", _("Simplified Chinese"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Static files (admin, charts, API docs) come from the app itself, so it works with no internet.
WHITENOISE_USE_FINDERS = True

LOGIN_URL = "admin:login"

# Fernet keys for stored target passwords: the first encrypts, every one decrypts.
CREDENTIAL_KEYS = env.list("CREDENTIAL_KEYS", default=[])
if not CREDENTIAL_KEYS:
    if not DEBUG:
        raise ImproperlyConfigured(
            "CREDENTIAL_KEYS is not set: give at least one Fernet key "
            "(python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())')."
        )
    # A fixed development key, so a DEBUG install can still store passwords.
    CREDENTIAL_KEYS = ["ZGV2LW9ubHkta2V5LW5ldmVyLXVzZS1mb3ItcmVhbCE="]

CAPACITY_COLLECT_CRON = env.str("CAPACITY_COLLECT_CRON", default="0 3 * * *")
CAPACITY_CONCURRENCY = env.int("CAPACITY_CONCURRENCY", default=8)
CAPACITY_CONNECT_TIMEOUT = env.int("CAPACITY_CONNECT_TIMEOUT", default=10)
CAPACITY_QUERY_TIMEOUT = env.int("CAPACITY_QUERY_TIMEOUT", default=60)
CAPACITY_RETENTION_DAYS = env.int("CAPACITY_RETENTION_DAYS", default=730)
CAPACITY_CERTS_DIR = env.str("CAPACITY_CERTS_DIR", default=None)  # unset: no engine option may name a file
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
CAPACITY_WEBHOOK_TIMEOUT = env.float("CAPACITY_WEBHOOK_TIMEOUT", default=10.0)
# Hosts, addresses or CIDRs (each optionally :port) that alert webhooks may reach although they are
# loopback, private or link-local: an in-house receiver. Empty: only public addresses (common/net.py).
CAPACITY_WEBHOOK_ALLOWED_NETWORKS = env.list("CAPACITY_WEBHOOK_ALLOWED_NETWORKS", default=[])
REDIS_URL = env.str("REDIS_URL", default="")
# Table sizes: off unless an instance says otherwise; the largest N tables per database and day.
CAPACITY_COLLECT_TABLES = env.bool("CAPACITY_COLLECT_TABLES", default=False)
CAPACITY_TABLES_TOP_N = env.int("CAPACITY_TABLES_TOP_N", default=20)
# Seconds one instance's table read may take, on top of its size collection's limit.
CAPACITY_TABLES_BUDGET_SECONDS = env.int("CAPACITY_TABLES_BUDGET_SECONDS", default=60)

for _name in (
    "CAPACITY_CONCURRENCY",
    "CAPACITY_CONNECT_TIMEOUT",
    "CAPACITY_QUERY_TIMEOUT",
    "CAPACITY_RETENTION_DAYS",
    "CAPACITY_TABLES_TOP_N",
    "CAPACITY_TABLES_BUDGET_SECONDS",
):
    if globals()[_name] < 1:
        raise ImproperlyConfigured(f"{_name} must be a positive whole number, got {globals()[_name]}.")

# The daily jobs after the collection. Empty: 30 and 60 minutes after CAPACITY_COLLECT_CRON
# (04:30 and 05:00 when that cron has no fixed time). `migrate` writes them into django-q2.
CAPACITY_AGGREGATE_CRON = env.str("CAPACITY_AGGREGATE_CRON", default="")
CAPACITY_RETENTION_CRON = env.str("CAPACITY_RETENTION_CRON", default="")
# PostgreSQL: monthly partitions of the size history created this many months ahead.
CAPACITY_PARTITION_MONTHS_AHEAD = env.int("CAPACITY_PARTITION_MONTHS_AHEAD", default=3)

# django-q2: the ORM broker by default (no extra server), Redis when REDIS_URL is set.
# A collection is one task per instance (capacity.tasks.collect_queued_record), each with its
# own `timeout`: the engine's time limit (instances.engines.engine_time_limit, from its bounded
# round trips and CAPACITY_CONNECT/QUERY_TIMEOUT) plus a small margin; past it the worker
# process is killed. Q_TIMEOUT (4 hours by default) bounds every other task (aggregation,
# retention, the nightly dispatch, the sweeper) and caps the per-instance one. `retry` exceeds
# Q_TIMEOUT, so the ORM broker never hands a running task to a second worker; a task it hands
# out again anyway (a killed cluster's) finds its record settled and does nothing. A cluster
# prefetches at most `queue_limit` tasks: what a killed cluster held is queued again by the
# every-minute sweeper. max_attempts 1: a failed instance waits for the next run.
_TASK_TIMEOUT = env.int("Q_TIMEOUT", default=4 * 3600)
if _TASK_TIMEOUT < 60:
    raise ImproperlyConfigured(f"Q_TIMEOUT must be at least 60 seconds, got {_TASK_TIMEOUT}.")
_Q_WORKERS = env.int("Q_WORKERS", default=2)
Q_CLUSTER = {
    "name": "capacity",
    "workers": _Q_WORKERS,
    "timeout": _TASK_TIMEOUT,
    "retry": _TASK_TIMEOUT + 600,
    "max_attempts": 1,
    "queue_limit": _Q_WORKERS * 2,
    "ack_failures": True,
    "catch_up": False,
    "save_limit": 500,
    "label": _("Task queue"),
    "sync": env.bool("Q_SYNC", default=False),
}
if REDIS_URL:
    Q_CLUSTER["redis"] = REDIS_URL
else:
    Q_CLUSTER["orm"] = "default"
    Q_CLUSTER["poll"] = 1

REST_FRAMEWORK = {
    # Token first: DRF takes the WWW-Authenticate header from the first class, so a client with no or
    # a wrong token gets 401 + `WWW-Authenticate: Token` (session authentication has none: it gave 403).
    # Session requests still go through SessionAuthentication's CSRF check.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    # JSON only, read through a parser that bounds body size and nesting before decoding.
    "DEFAULT_PARSER_CLASSES": ["common.api.parsers.BoundedJSONParser"],
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    "DEFAULT_PERMISSION_CLASSES": ["common.api.permissions.ModelViewPermissions"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "common.api.pagination.StandardPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "common.api.exceptions.api_exception_handler",
}

SPECTACULAR_SETTINGS = {
    # Translated lazily; common.api.schema_hooks.translated_info resolves them per request.
    "TITLE": _("Database capacity platform API"),
    "DESCRIPTION": _("Database sizes collected from MySQL/MariaDB, PostgreSQL, SQL Server and Oracle."),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Authenticated users only, unless API_DOCS_PUBLIC (read on every request).
    "SERVE_PERMISSIONS": ["common.api.permissions.ApiDocsPermission"],
    # The 400/401/403/404/409/413 answers every operation can give, with their error bodies.
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "common.api.schema.add_error_responses",
        # Lazily translated TITLE/DESCRIPTION turned into plain text for the request's language.
        "common.api.schema_hooks.translated_info",
    ],
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django_q": {"level": "WARNING"}},
}
