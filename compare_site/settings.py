"""
Settings for compare_site: one module, read from the environment.

A fresh checkout needs no configuration: DEBUG is off unless DJANGO_DEBUG=1,
the database is a SQLite file in the project, email goes to the console and
the cache lives in process memory. Production sets SECRET_KEY, ALLOWED_HOSTS,
DATABASE_URL (PostgreSQL), REDIS_URL and the SMTP variables; bad values stop
the process at start-up instead of misbehaving later.
"""

import os
from datetime import timedelta
from email.utils import parseaddr
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

BASE_DIR = Path(__file__).resolve().parent.parent

# Not a secret: the key local development uses; refused whenever DEBUG is off.
DEVELOPMENT_SECRET_KEY = "django-insecure-development-only-never-use-in-production"  # noqa: S105


def env(name, default=""):
    return os.environ.get(name, default).strip()


def env_bool(name, default=False):
    """Read a 0/1 style flag; anything else is a configuration error."""
    value = env(name).lower()
    if not value:
        return default
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise ImproperlyConfigured(f"{name} must be 0 or 1, not {value!r}.")


def env_int(name, default):
    value = env(name)
    if not value:
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {value!r}.") from None


def env_list(name, default=()):
    value = env(name)
    if not value:
        return list(default)
    return [item.strip() for item in value.split(",") if item.strip()]


DEBUG = env_bool("DJANGO_DEBUG", default=False)

SECRET_KEY = env("SECRET_KEY") or DEVELOPMENT_SECRET_KEY
if not DEBUG and SECRET_KEY == DEVELOPMENT_SECRET_KEY:
    raise ImproperlyConfigured(
        "SECRET_KEY is not set. Set it to a long random value, or set DJANGO_DEBUG=1 "
        "for local development."
    )

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

# Public address used in emails, feeds and canonical links, without a trailing slash.
# Unset, it follows the port being served (`PORT=8080 make run`).
SITE_URL = (env("SITE_URL") or f"http://127.0.0.1:{env('PORT') or '8000'}").rstrip("/")

# The only pages anyone signs in to are the admin's; a refused or missing
# `next=` lands there rather than on Django's default /accounts/profile/ (a 404).
LOGIN_REDIRECT_URL = "admin:index"

INSTALLED_APPS = [
    # Content in every language of LANGUAGES (comparisons/translation.py); before the
    # admin, so that its admin integration loads first.
    "modeltranslation",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.sitemaps",
    # Full-text search and trigram lookups (comparisons/search.py); its
    # PostgreSQL parts stay unused on SQLite, where the app is harmless.
    "django.contrib.postgres",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "crispy_forms",
    "crispy_bootstrap5",
    "reversion",
    # Failed sign-ins counted and locked out (see "Sign-in lockout" below).
    "axes",
    # Tasks as database rows, run by `manage.py db_worker`; `manage.py crontask`
    # enqueues the scheduled ones (see "Background work" below).
    "django_tasks_db",
    "crontask",
    "comparisons",
    "consultations",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Above the page cache, so that cached pages carry these headers too.
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Which language a request gets, and the first visit's redirect: above the page
    # cache, which keys pages by it (compare_site/languages.py).
    "compare_site.languages.LanguageMiddleware",
    # Answers cache hits for public pages before the rest runs.
    "comparisons.caching.CachedPageMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # Last, as axes asks: it turns the lockout flag set during sign-in into the
    # lockout page after every other middleware has run.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "compare_site.urls"
WSGI_APPLICATION = "compare_site.wsgi.application"

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
                "django.template.context_processors.csp",
            ],
        },
    },
]

# Database: a SQLite file by default so that a first run needs nothing;
# production and CI point DATABASE_URL at PostgreSQL.
DATABASES = {
    "default": dj_database_url.parse(
        env("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=env_int("DB_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # SQLite keeps no connection worth reusing across requests, and the
    # development server's threads must not share one.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    # Each transaction takes the write lock as it begins, so one that reads and
    # then writes (a booking holding a slot) waits its turn instead of failing
    # with "database is locked" (SlotHoldQuerySet.take relies on it).
    DATABASES["default"].setdefault("OPTIONS", {})["transaction_mode"] = "IMMEDIATE"
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Fail fast: a database that hangs gives visitors the 503 page within
    # seconds instead of holding every worker thread. connect_timeout covers
    # the TCP connection and the start-up handshake (libpq treats 1 as 2);
    # statement_timeout stops a query PostgreSQL is slow to answer (0: never).
    # On a connection already open (CONN_MAX_AGE keeps them), a server that
    # vanishes (a dead host, a dropped route) would leave the worker waiting for
    # a reply forever: the kernel gives up when sent data stays unacknowledged
    # for DB_TCP_USER_TIMEOUT_MS, and keepalives find an idle connection dead.
    _database_options = DATABASES["default"].setdefault("OPTIONS", {})
    _database_options.setdefault("connect_timeout", env_int("DB_CONNECT_TIMEOUT", 3))
    _database_options.setdefault("tcp_user_timeout", env_int("DB_TCP_USER_TIMEOUT_MS", 5000))
    _database_options.setdefault("keepalives", 1)
    _database_options.setdefault("keepalives_idle", 30)
    _database_options.setdefault("keepalives_interval", 5)
    _database_options.setdefault("keepalives_count", 3)
    _database_options["options"] = (
        f"{_database_options.get('options', '')} "
        f"-c statement_timeout={env_int('DB_STATEMENT_TIMEOUT', 5)}s"
    ).strip()

# Cache: Redis when REDIS_URL is set (shared by every app server), otherwise
# process memory, which is only right for a single process. Redis fails open
# (compare_site/cache.py): each call gives up after REDIS_TIMEOUT_MS, once,
# and the process then skips Redis for REDIS_RETRY_SECONDS.
REDIS_URL = env("REDIS_URL")


def fail_open_redis_cache(location, *, timeout_seconds, retry_seconds, key_prefix=""):
    """The CACHES entry for Redis at ``location`` (the fault tests build theirs here too)."""
    return {
        "BACKEND": "compare_site.cache.FailOpenRedisCache",
        "LOCATION": location,
        "KEY_PREFIX": key_prefix,
        "RETRY_SECONDS": retry_seconds,
        "OPTIONS": {
            "socket_connect_timeout": timeout_seconds,
            "socket_timeout": timeout_seconds,
            # One attempt per call (redis-py's default with a pool, said here):
            # a retry would double the wait, and the backend retries later anyway.
            "retry": None,
        },
    }


REDIS_TIMEOUT_SECONDS = env_int("REDIS_TIMEOUT_MS", 100) / 1000
if REDIS_URL:
    CACHES = {
        "default": fail_open_redis_cache(
            REDIS_URL,
            timeout_seconds=REDIS_TIMEOUT_SECONDS,
            retry_seconds=env_int("REDIS_RETRY_SECONDS", 5),
            key_prefix=env("CACHE_KEY_PREFIX", "compare"),
        )
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Languages: English at today's addresses, German under /de/ (i18n_patterns in
# compare_site/urls.py). Which one a request gets, and when a first visit is
# sent to German, is decided in one place: compare_site/languages.py. The
# interface's German is locale/de/LC_MESSAGES/django.po, compiled by `make
# messages` (which `make run` and `make test` run); see "Languages" in the README.
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("de", "Deutsch")]
# Content (comparisons/translation.py): English is the source every other language
# is translated from, and what a field with no translation falls back to.
MODELTRANSLATION_DEFAULT_LANGUAGE = "en"
MODELTRANSLATION_FALLBACK_LANGUAGES = ("en",)
LOCALE_PATHS = [BASE_DIR / "locale"]
# The reader's choice, once made (the switcher, or a first visit's Accept-Language).
LANGUAGE_COOKIE_AGE = 365 * 24 * 60 * 60
LANGUAGE_COOKIE_SAMESITE = "Lax"
LANGUAGE_COOKIE_SECURE = not DEBUG
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
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

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# Email: the console unless an SMTP host is configured.
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", "Compare <hello@compare.example>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# How long one SMTP step (connect, each command, the message) may take.
EMAIL_TIMEOUT_SECONDS = env_int("EMAIL_TIMEOUT_SECONDS", 10)
if env("EMAIL_HOST"):
    MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {
                "host": env("EMAIL_HOST"),
                "port": env_int("EMAIL_PORT", 587),
                "username": env("EMAIL_HOST_USER"),
                "password": env("EMAIL_HOST_PASSWORD"),
                "use_tls": env_bool("EMAIL_USE_TLS", default=True),
                "timeout": EMAIL_TIMEOUT_SECONDS,
            },
        }
    }
else:
    MAILERS = {"default": {"BACKEND": "django.core.mail.backends.console.EmailBackend"}}
# Test-only: a dotted path to another mail backend class, e.g. the failing one the
# load-and-fault test gives its workers (tests/support/flaky_mail.py). Never set in production.
if env("EMAIL_BACKEND_PATH"):
    MAILERS = {"default": {"BACKEND": env("EMAIL_BACKEND_PATH")}}

# Consultations: who triages, and the booking form's abuse limits (see README).
CONSULTATION_TRIAGE_EMAIL = env("TRIAGE_EMAIL")
CONSULTATION_ORGANIZER_EMAIL = parseaddr(DEFAULT_FROM_EMAIL)[1] or "hello@compare.example"
# The promise to every visitor: a person replies within this many hours
# (respond_by); the pages, emails and the report all say this number.
CONSULTATION_REPLY_HOURS = env_int("CONSULTATION_REPLY_HOURS", 24)
# A form sent back faster than this after it was shown is a bot's.
CONSULTATION_MIN_FILL_SECONDS = env_int("CONSULTATION_MIN_FILL_SECONDS", 3)
# A booking form shown longer ago than this is refused (with the visitor's input
# kept) and must be sent again; each form shown books at most once.
CONSULTATION_FORM_MAX_AGE = timedelta(hours=env_int("CONSULTATION_FORM_MAX_AGE_HOURS", 4))
# Bookings per hour; the benchmark raises both (bench/run.py).
CONSULTATION_BOOKINGS_PER_IP_HOUR = env_int("CONSULTATION_BOOKINGS_PER_IP_HOUR", 20)
CONSULTATION_BOOKINGS_PER_EMAIL_HOUR = env_int("CONSULTATION_BOOKINGS_PER_EMAIL_HOUR", 5)
# Readers' accuracy reports (comparisons/reports.py) per client address per hour;
# they share the booking form's fill time and maximum age above.
ACCURACY_REPORTS_PER_IP_HOUR = env_int("ACCURACY_REPORTS_PER_IP_HOUR", 10)
# Closed requests older than this are anonymised by `manage.py anonymise_requests`.
CONSULTATION_RETENTION_DAYS = env_int("CONSULTATION_RETENTION_DAYS", 365)
# How many proxies in front of the site append to X-Forwarded-For; 0 means
# the client address is REMOTE_ADDR and the header is ignored.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)

# Security. Behind a TLS-terminating proxy set SECURE_PROXY_SSL_HEADER_ENABLED=1.
if env_bool("SECURE_PROXY_SSL_HEADER_ENABLED"):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SESSION_COOKIE_HTTPONLY = True
# A visitor's session holds only the references of the requests this browser
# sent (so that their confirmation page shows the details), a staff member's
# their sign-in. Twelve hours covers a visit and a working day in the admin,
# after which staff sign in again; a stolen or planted cookie is soon worth
# nothing. The key also changes at every booking (consultations.views.booked).
SESSION_COOKIE_AGE = 12 * 60 * 60
# Database sessions that skip a look-up and a repeated write (compare_site/sessions.py).
SESSION_ENGINE = "compare_site.sessions"
# A form refused by the CSRF check gets our page, saying what to do.
CSRF_FAILURE_VIEW = "compare_site.views.csrf_failure"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "strict-origin-when-cross-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
}


# Where visitors write when the site cannot serve them (the 503 page, the
# lockout page): an address that works even when the database does not.
CONTACT_EMAIL = env("CONTACT_EMAIL", "hello@compare.example")

# Sign-in lockout: django-axes counts failed sign-ins and locks further attempts out.
AUTHENTICATION_BACKENDS = [
    # First, so that a locked-out attempt is refused before any password is checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("AXES_COOLOFF_MINUTES", 30))
# Keyed on the pair: an attacker guessing from one address locks out only
# that username from that address, never every user, nor the user elsewhere.
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "compare_site.views.locked_out"
# The lockout keys on the visitor's address, not the proxy's (shared by all):
# the same TRUSTED_PROXY_COUNT rule as the booking form's rate limits.
AXES_CLIENT_IP_CALLABLE = "compare_site.clients.client_ip"

# Load balancers probe these over plain HTTP; a redirect is not an answer.
SECURE_REDIRECT_EXEMPT = [r"^livez$", r"^healthz$"]

# axes announces itself at every start (each manage.py command): keep its
# warnings and sign-in records, drop the banner.
LOGGING.setdefault("loggers", {})["axes.apps"] = {"level": "WARNING"}


# Background work: tasks are rows in this database, run by `manage.py
# db_worker`; `manage.py crontask` enqueues the scheduled ones
# (consultations/tasks.py). A larger site moves to a broker-backed backend by
# changing TASKS alone; the outbox row stays the record of what was sent,
# whatever runs the tasks.
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
# How long a worker holds a claimed outbox message before another may take it
# over (after a crash). The worker renews the lease once its mail connection is
# open, just before it sends; what follows is at most OUTBOX_SEND_STEPS SMTP
# steps (MAIL, RCPT, DATA, the message, its answer), each allowed
# EMAIL_TIMEOUT_SECONDS, so a shorter lease could run out mid-send and let a
# second worker send the message again.
OUTBOX_LEASE_SECONDS = env_int("OUTBOX_LEASE_SECONDS", 60)
OUTBOX_SEND_STEPS = 5
if OUTBOX_LEASE_SECONDS < OUTBOX_SEND_STEPS * EMAIL_TIMEOUT_SECONDS or OUTBOX_LEASE_SECONDS < 1:
    raise ImproperlyConfigured(
        f"OUTBOX_LEASE_SECONDS ({OUTBOX_LEASE_SECONDS}) must be at least 1 and at least "
        f"{OUTBOX_SEND_STEPS} x EMAIL_TIMEOUT_SECONDS ({EMAIL_TIMEOUT_SECONDS}): one send "
        "must fit in one lease."
    )
# APScheduler (under crontask) logs every wake-up at INFO, every 5 s; keep its warnings.
LOGGING.setdefault("loggers", {})["apscheduler"] = {"level": "WARNING"}

# The shared HTTP cache in front (deploy/varnish/site.vcl; see "HTTP cache" in the
# README). Public pages say how long it may keep them (comparisons/caching.py);
# every change purges the pages showing it through each cache listed here
# (comma-separated URLs that accept PURGE, e.g. http://127.0.0.1:6081/), retried
# from the outbox table until each cache confirms. Empty: no cache to purge.
HTTP_CACHE_MAX_AGE = env_int("HTTP_CACHE_MAX_AGE", 60 * 60)
HTTP_CACHE_STALE_WHILE_REVALIDATE = env_int("HTTP_CACHE_STALE_WHILE_REVALIDATE", 30)
HTTP_CACHE_STALE_IF_ERROR = env_int("HTTP_CACHE_STALE_IF_ERROR", 24 * 60 * 60)
HTTP_CACHE_PURGE_URLS = env_list("HTTP_CACHE_PURGE_URLS")
for _url in HTTP_CACHE_PURGE_URLS:
    if not _url.startswith(("http://", "https://")):
        raise ImproperlyConfigured(f"HTTP_CACHE_PURGE_URLS: {_url!r} is not an http(s) URL.")
# One PURGE may take this long (connect and answer), also while an editor's save waits.
HTTP_CACHE_PURGE_TIMEOUT_SECONDS = env_int("HTTP_CACHE_PURGE_TIMEOUT_MS", 1000) / 1000
# A failed purge is tried again after this, then after twice as long, up to 10 minutes.
HTTP_CACHE_PURGE_RETRY_SECONDS = env_int("HTTP_CACHE_PURGE_RETRY_SECONDS", 5)
