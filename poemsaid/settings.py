"""POEMSaid settings: one module, configured by environment variables, safe by default.

DEBUG is off unless DEBUG=1. A development secret key exists only with DEBUG
on; production must set SECRET_KEY. SQLite is the zero-setup default;
DATABASE_URL selects PostgreSQL. See .env.example for every variable.
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_bool(name: str, default: bool = False) -> bool:
    """Read a boolean; reject anything that is not clearly yes or no."""
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be one of 1/0/true/false/yes/no/on/off, not {raw!r}")


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG")
SECRET_KEY = os.environ.get("SECRET_KEY", "")
# Without SECRET_KEY the public development key is used, so that management
# commands that sign nothing (makemigrations, check, evaluate) work on a bare
# checkout. Serving is what needs a real key: poemsaid/wsgi.py and asgi.py
# refuse to start with DEBUG off unless ALLOW_INSECURE_KEY=1 (local use only).
# The "django-insecure-" prefix also makes `check --deploy` fail (security.W009).
USING_DEVELOPMENT_KEY = not SECRET_KEY
ALLOW_INSECURE_KEY = env_bool("ALLOW_INSECURE_KEY")
if USING_DEVELOPMENT_KEY:
    SECRET_KEY = "django-insecure-poemsaid-dev-key-do-not-use-in-production-0123456789"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    # Before the admin, as its documentation asks: adds the content models' _ja/_zh_hans columns
    # (checklist/content/translation.py).
    "modeltranslation",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "crispy_forms",
    "crispy_bootstrap5",
    "simple_history",
    "axes",
    "django_htmx",
    "template_partials",
    # Editors correct the interface translations (locale/*.po) in the admin, staff only.
    "rosetta",
    "checklist",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "poemsaid.middleware.PermissionsPolicyMiddleware",
    "poemsaid.middleware.ServiceUnavailableMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "poemsaid.middleware.PublicGZipMiddleware",
    "poemsaid.middleware.CachedCSPMiddleware",  # django-csp's, the policy built once
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "poemsaid.language.LanguageRedirectMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "axes.middleware.AxesMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "poemsaid.urls"
WSGI_APPLICATION = "poemsaid.wsgi.application"

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
                "checklist.web.context_processors.site",
                "django.template.context_processors.i18n",
            ],
            # The tag libraries live in the web room, not in the app's top-level
            # templatetags/ that Django would find by itself.
            "libraries": {
                "checklist_tags": "checklist.web.templatetags.checklist_tags",
                "result_panel": "checklist.web.templatetags.result_panel",
            },
        },
    },
    # The result panel's templates (templates/checklist/_result*.html), rendered on every
    # click of the live result: Jinja2 renders them about three times faster than Django's
    # engine (checklist/web/templatetags/result_panel.py, bench/README.md). Only asked for by
    # name (engines["jinja2"]): every other template is Django's, found by the entry above.
    {
        "BACKEND": "django.template.backends.jinja2.Jinja2",
        "NAME": "jinja2",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": False,
        "OPTIONS": {
            "environment": "checklist.web.jinja.environment",
            "auto_reload": DEBUG,
        },
    },
]


DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
        conn_max_age=int(os.environ.get("CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# The content cache is per process unless CACHE_URL points at a shared Redis,
# which is what lets several app servers drop their copy on one editor save.
if os.environ.get("CACHE_URL"):
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": os.environ["CACHE_URL"],
            # Lets several deployments (or test runs) share one Redis without sharing keys.
            "KEY_PREFIX": os.environ.get("CACHE_KEY_PREFIX", ""),
            # Fail fast when Redis is unreachable: pages answer 503 and /healthz says so,
            # instead of every worker hanging on a connect.
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Without a shared cache, worker processes on one machine learn of a content
# edit through this file's modification time (see checklist/content.py).
# The unit system lab fields start in on the checklist ("SI" or "US"); the page can flip it.
LAB_UNITS = "US" if os.environ.get("LAB_UNITS", "SI").strip().upper() == "US" else "SI"

CONTENT_STAMP_FILE = os.environ.get("CONTENT_STAMP_FILE", str(BASE_DIR / "var" / "content-stamp"))

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Admin login throttling (django-axes): lock a username+IP after 5 failures for an hour.
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = 1  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
# The client address axes locks on. django-ipware is not installed, so axes'
# own AXES_IPWARE_* settings would do nothing and, behind a proxy, every login
# would seem to come from the proxy (one attacker could then lock a username
# out for everyone). PROXY_COUNT is the number of trusted proxies in front of
# the app; see poemsaid.middleware.client_ip.
PROXY_COUNT = int(os.environ.get("PROXY_COUNT", "0"))
AXES_CLIENT_IP_CALLABLE = "poemsaid.middleware.client_ip"

# English (British spelling, as the content is written) at the unprefixed paths; Japanese and
# Chinese (Simplified) under /ja/ and /zh-hans/ (design.md §3.12, poemsaid/language.py).
LANGUAGE_CODE = "en-gb"
LANGUAGES = [("en-gb", "English"), ("ja", "日本語"), ("zh-hans", "简体中文")]
LOCALE_PATHS = [BASE_DIR / "locale"]
# django-rosetta (at <ADMIN_URL>rosetta/): the project's own catalogues only, no outside
# translation service (nothing leaves the server), staff editors only.
ROSETTA_ACCESS_CONTROL_FUNCTION = "checklist.content.permissions.can_translate"
ROSETTA_MESSAGES_SOURCE_LANGUAGE_CODE = "en-gb"
ROSETTA_MESSAGES_SOURCE_LANGUAGE_NAME = "English"
ROSETTA_ENABLE_TRANSLATION_SUGGESTIONS = False
ROSETTA_SHOW_AT_ADMIN_PANEL = True
ROSETTA_LANGUAGES = [("ja", "日本語"), ("zh-hans", "简体中文")]
# django-modeltranslation: one column per translated language beside each English text field
# (name_ja, name_zh_hans). English stays in the original column, which the engine, the API, the
# regression cases and every published release read; so the default language is not one of
# modeltranslation's (no name_en_gb copy), and checklist/content/translation.py keeps the
# original attribute meaning English whatever language is active.
MODELTRANSLATION_LANGUAGES = ("ja", "zh-hans")
MODELTRANSLATION_FALLBACK_LANGUAGES: dict[str, tuple[str, ...]] = {"default": ()}
MODELTRANSLATION_TRANSLATION_FILES = ("checklist.content.translation",)
LANGUAGE_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SAMESITE = "Lax"
TIME_ZONE = os.environ.get("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "staticfiles"))
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG and env_bool("MANIFEST_STATIC", True)
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

FIXTURE_DIRS = [BASE_DIR / "fixtures"]

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

ADMIN_URL = os.environ.get("ADMIN_URL", "admin/").strip("/") + "/"

# API limits: the largest legitimate case is a few KB.
API_MAX_BODY_BYTES = int(os.environ.get("API_MAX_BODY_BYTES", "65536"))
DATA_UPLOAD_MAX_MEMORY_SIZE = 262_144

# EHR integration (design.md §3.8). CDS_HOOKS_CLIENTS is the path of a JSON file mapping each
# trusted issuer to {"jwks": {...}} or {"jwks_url": "..."} (and optionally "fhir_servers": [...]);
# CDS_HOOKS_BASE_URL is the public base URL a client's JWT must name in "aud".
CDS_HOOKS_CLIENTS = os.environ.get("CDS_HOOKS_CLIENTS", "")
CDS_HOOKS_BASE_URL = os.environ.get("CDS_HOOKS_BASE_URL", "").rstrip("/")
# Without a shared cache (CACHE_URL) no CDS Hooks token is accepted, since a replayed jti would
# pass once per process; this allows the per-process cache for one process on purpose
# (runserver, the in-process tests). On with DEBUG by default, never needed in production.
CDS_HOOKS_LOCAL_REPLAY_CACHE = env_bool("CDS_HOOKS_LOCAL_REPLAY_CACHE", default=DEBUG)
CDS_HOOKS_ALLOWED_ORIGINS = env_list("CDS_HOOKS_ALLOWED_ORIGINS")
CDS_HOOKS_MAX_BODY_BYTES = int(os.environ.get("CDS_HOOKS_MAX_BODY_BYTES", str(4 * 1024 * 1024)))
SMART_CLIENT_ID = os.environ.get("SMART_CLIENT_ID", "poemsaid")
SMART_ALLOWED_ISSUERS = env_list("SMART_ALLOWED_ISSUERS")
SMART_DEFAULT_ISSUER = os.environ.get("SMART_DEFAULT_ISSUER", "")
SMART_REDIRECT_URI = os.environ.get("SMART_REDIRECT_URI", "")
_SMART_READS = "patient/Patient.rs patient/Observation.rs patient/Specimen.rs"
SMART_SCOPES_EHR = os.environ.get("SMART_SCOPES_EHR", f"launch openid fhirUser {_SMART_READS}")
SMART_SCOPES_STANDALONE = os.environ.get(
    "SMART_SCOPES_STANDALONE", f"launch/patient openid fhirUser {_SMART_READS}"
)

# Security: strict by default, HTTPS features on when SECURE=1 (behind TLS).
SECURE = env_bool("SECURE", not DEBUG)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("BEHIND_PROXY") else None
SECURE_SSL_REDIRECT = SECURE and env_bool("SSL_REDIRECT", True)
# Load balancers probe health over plain HTTP inside the network.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SESSION_COOKIE_SECURE = SECURE
LANGUAGE_COOKIE_SECURE = SECURE
CSRF_COOKIE_SECURE = SECURE
SECURE_HSTS_SECONDS = int(os.environ.get("HSTS_SECONDS", "31536000")) if SECURE else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE
SECURE_HSTS_PRELOAD = SECURE
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# Powerful browser features the app never uses, switched off for it and anything it embeds.
PERMISSIONS_POLICY = ", ".join(
    f"{feature}=()"
    for feature in (
        "accelerometer",
        "autoplay",
        "bluetooth",
        "browsing-topics",
        "camera",
        "display-capture",
        "encrypted-media",
        "fullscreen",
        "geolocation",
        "gyroscope",
        "hid",
        "idle-detection",
        "interest-cohort",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "picture-in-picture",
        "publickey-credentials-get",
        "screen-wake-lock",
        "serial",
        "usb",
        "xr-spatial-tracking",
    )
)
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = 8 * 3600

# Content security policy: no inline scripts or styles, nothing from another origin.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "base-uri": ["'none'"],
        "object-src": ["'none'"],
    }
}

# Structured (JSON) logs. Request bodies are never logged: Django's request
# logger only records the path and status, and we log no case data ourselves.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "json": {"()": "poemsaid.logging.JsonFormatter"},
        "cds_audit": {"()": "checklist.ehr.audit.AuditJsonFormatter"},
    },
    "filters": {"scrub": {"()": "poemsaid.logging.ScrubFilter"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stdout",
            "formatter": "json",
            "filters": ["scrub"],
        },
        # The CDS Hooks audit line (checklist/ehr/audit.py): the same JSON, with its fields.
        "cds_audit": {
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stdout",
            "formatter": "cds_audit",
            "filters": ["scrub"],
        },
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "axes": {"level": "WARNING"},
        # At DEBUG, Django logs every failed template variable lookup with the
        # repr of the whole template context, which on result pages holds the
        # case. LOG_LEVEL moves only the root logger and Django keeps "django"
        # at INFO, but pinning this one keeps those records off even when
        # someone turns "django" up to DEBUG to chase a problem.
        "django.template": {"level": "INFO"},
        # httpx logs every request's URL at INFO; the EHR integration's FHIR reads carry a
        # patient id in the URL (Patient/{id}, ?patient={id}), so only warnings get through.
        "httpx": {"level": "WARNING"},
        "httpcore": {"level": "WARNING"},
        # Every CDS call, whatever LOG_LEVEL says: an audit trail that a log level can switch
        # off is not one.
        "poemsaid.cds.audit": {"handlers": ["cds_audit"], "level": "INFO", "propagate": False},
    },
}
