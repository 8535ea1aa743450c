"""Settings of Portail ORSEC, driven by the environment and failing closed.

Outside demo mode (``ORSEC_DEMO=true``, set only by ``make run``), ``SECRET_KEY`` and
``ALLOWED_HOSTS`` are required, ``DEBUG`` is off unless explicitly switched on, cookies carry the
``__Host-`` prefix and HTTP is redirected to HTTPS. Every variable is documented in
``docs/settings.md``; a malformed value stops the start-up with a message naming the variable.
"""

from __future__ import annotations

import secrets
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

from config.env import env_bool, env_float, env_int, env_list, env_required, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("ORSEC_VAR_DIR", str(BASE_DIR / "var")) or "var")

DEMO = env_bool("ORSEC_DEMO", False)
DEBUG = env_bool("DEBUG", False)


def _demo_secret_key() -> str:
    """Demo mode only: a random key generated once and kept in var/ (never a fixed placeholder)."""
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    key_file = VAR_DIR / "demo-secret-key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(50), encoding="utf-8")
        key_file.chmod(0o600)
    return key_file.read_text(encoding="utf-8").strip()


if DEMO:
    SECRET_KEY = env_str("SECRET_KEY") or _demo_secret_key()
    ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
else:
    SECRET_KEY = env_required("SECRET_KEY")
    ALLOWED_HOSTS = env_list("ALLOWED_HOSTS")
    if not ALLOWED_HOSTS:
        raise ImproperlyConfigured(
            "ALLOWED_HOSTS est obligatoire hors mode démo (noms d'hôte séparés par des virgules)."
        )
if len(SECRET_KEY) < 32:
    raise ImproperlyConfigured("SECRET_KEY est trop courte : au moins 32 caractères aléatoires.")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "dsfr",
    "ninja",
    "orsec.core",
    "orsec.audit",
    "orsec.territories",
    "orsec.accounts",
    "orsec.directory",
    "orsec.live",
    "orsec.journal",
    "orsec.events",
    "orsec.dissemination",
    "orsec.reports",
    "orsec.interop",
    "orsec.alerts",
    "orsec.partners",
    "orsec.oncall",
    "orsec.plans",
    "orsec.sitreps",
    "orsec.maps",
    "orsec.dashboards",
    "orsec.demo",
    "django_tasks_db",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "orsec.core.middleware.SecurityHeadersMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "orsec.accounts.middleware.SessionPolicyMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "orsec.partners.middleware.PartnerApiMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "accounts:home"
LOGOUT_REDIRECT_URL = "accounts:login"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "orsec.core.context_processors.portal",
                "orsec.accounts.context_processors.abilities",
            ],
        },
    }
]

# --- Database -------------------------------------------------------------------------------
_default_db = f"sqlite:///{VAR_DIR / 'orsec.sqlite3'}"
DATABASE_URL = env_str("DATABASE_URL", _default_db) or _default_db
try:
    _db = dj_database_url.parse(DATABASE_URL, conn_max_age=0)
except ValueError as exc:
    raise ImproperlyConfigured(f"DATABASE_URL invalide : {exc}") from None
if _db["ENGINE"] == "django.db.backends.sqlite3":
    _db["OPTIONS"] = {
        # One writer at a time, taken at BEGIN: no "database is locked" half-way through a write.
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"
        ),
    }
    # Persistent connections (one per server thread): opening SQLite and running the PRAGMAs on
    # every request cost more than the request itself (bench/http.py, docs/performance.md).
    _db["CONN_MAX_AGE"] = env_int("DATABASE_CONN_MAX_AGE", 600)
    _db["CONN_HEALTH_CHECKS"] = True
elif _db["ENGINE"] == "django.db.backends.postgresql":
    _db["CONN_MAX_AGE"] = env_int("DATABASE_CONN_MAX_AGE", 60)
    _db["CONN_HEALTH_CHECKS"] = True
else:
    raise ImproperlyConfigured("DATABASE_URL : seuls SQLite et PostgreSQL sont pris en charge.")
DATABASES = {"default": _db}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env_str("REDIS_URL")
if REDIS_URL:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
else:
    # Per-process cache: only for entries whose key carries their own version (never for
    # anything that must be invalidated across processes).
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Live streams (docs/live.md): the wake-up backend. "redis" (one subscription per process, the
# default when REDIS_URL is set) or "polling" (the embedded default: each process reads the
# outbox every ORSEC_LIVE_POLL_SECONDS). The outbox stays the truth either way.
ORSEC_LIVE_BACKEND: str = env_str("ORSEC_LIVE_BACKEND") or ("redis" if REDIS_URL else "polling")
if ORSEC_LIVE_BACKEND not in ("redis", "polling"):
    raise ImproperlyConfigured("ORSEC_LIVE_BACKEND : « redis » ou « polling ».")
if ORSEC_LIVE_BACKEND == "redis" and not REDIS_URL:
    raise ImproperlyConfigured("ORSEC_LIVE_BACKEND=redis demande REDIS_URL.")
ORSEC_LIVE_OPTIONS: dict[str, object] = (
    {
        "url": REDIS_URL,
        "poll_interval": env_float("ORSEC_LIVE_POLL_SECONDS", 5.0),
        "fallback_poll_interval": env_float("ORSEC_LIVE_FALLBACK_POLL_SECONDS", 1.0),
        "publish_pool_size": env_int("ORSEC_LIVE_REDIS_POOL_SIZE", 8, minimum=1, maximum=256),
    }
    if ORSEC_LIVE_BACKEND == "redis"
    else {"interval": env_float("ORSEC_LIVE_POLL_SECONDS", 1.0)}
)
# Worker threads per process for the live streams' database work (never one per stream).
ORSEC_LIVE_DB_THREADS = env_int("ORSEC_LIVE_DB_THREADS", 4, minimum=1, maximum=64)
# Outbox rows older than this are pruned (a page older than that reloads instead of replaying).
ORSEC_LIVE_RETENTION_HOURS = env_int("ORSEC_LIVE_RETENTION_HOURS", 24, minimum=1)

# --- Authentication -------------------------------------------------------------------------
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "orsec.accounts.validators.RoleAwareMinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "orsec.accounts.validators.ContextWordsValidator"},
]
AUTHENTICATION_BACKENDS = ["django.contrib.auth.backends.ModelBackend"]

ORSEC_MFA_REQUIRED = env_bool("ORSEC_MFA_REQUIRED", True)
ORSEC_SESSION_IDLE_SECONDS = env_int("ORSEC_SESSION_IDLE_SECONDS", 2 * 3600, minimum=60)
ORSEC_SESSION_ABSOLUTE_SECONDS = env_int("ORSEC_SESSION_ABSOLUTE_SECONDS", 12 * 3600, minimum=300)
ORSEC_LOGIN_MAX_FAILURES_PER_ACCOUNT_IP = env_int("ORSEC_LOGIN_MAX_FAILURES", 5, minimum=1)
ORSEC_LOGIN_MAX_FAILURES_PER_ACCOUNT = env_int("ORSEC_LOGIN_MAX_FAILURES_ACCOUNT", 20, minimum=1)
ORSEC_LOGIN_MAX_FAILURES_PER_IP = env_int("ORSEC_LOGIN_MAX_FAILURES_IP", 30, minimum=1)
ORSEC_LOGIN_LOCKOUT_SECONDS = env_int("ORSEC_LOGIN_LOCKOUT_SECONDS", 15 * 60, minimum=10)
ORSEC_ANONYMOUS_MIN_RESPONSE_MS = env_int("ORSEC_ANONYMOUS_MIN_RESPONSE_MS", 400, minimum=0)
OTP_TOTP_ISSUER = "Portail ORSEC"

SESSION_ENGINE = "django.contrib.sessions.backends.db"
SESSION_COOKIE_AGE = ORSEC_SESSION_ABSOLUTE_SECONDS
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
CSRF_COOKIE_HTTPONLY = True
CSRF_COOKIE_SAMESITE = "Lax"
CSRF_FAILURE_VIEW = "orsec.core.views.csrf_failure"
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
if DEMO:
    SESSION_COOKIE_NAME = "orsec_session"
    CSRF_COOKIE_NAME = "orsec_csrftoken"
else:
    SESSION_COOKIE_NAME = "__Host-orsec_session"
    CSRF_COOKIE_NAME = "__Host-orsec_csrftoken"

# --- Transport and browser security ---------------------------------------------------------
SECURE_SSL_REDIRECT = env_bool("ORSEC_HTTPS_REDIRECT", not DEMO)
if env_bool("ORSEC_TRUST_X_FORWARDED_PROTO", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = env_int("ORSEC_HSTS_SECONDS", 63072000, minimum=31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = False
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "strict-origin-when-cross-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
}

# Maps (docs/map.md): no tile layer by default (a plain background, works offline). A tile URL
# template (https, e.g. "https://tiles.example.fr/{z}/{x}/{y}.png", "{s}" allowed in the host)
# adds its origin to the CSP's img-src; its attribution is shown on the map.
ORSEC_MAP_TILE_URL = env_str("ORSEC_MAP_TILE_URL", "") or ""
ORSEC_MAP_TILE_ATTRIBUTION = env_str("ORSEC_MAP_TILE_ATTRIBUTION", "") or ""


def _tile_origin(template: str) -> str:
    from urllib.parse import urlsplit

    parts = urlsplit(template.replace("{s}", "tiles-s"))
    if parts.scheme != "https" or not parts.hostname or "{" in parts.netloc.replace("{s}", ""):
        raise ImproperlyConfigured(
            "ORSEC_MAP_TILE_URL : une adresse https:// avec {z}, {x} et {y} "
            "(ex. https://tuiles.exemple.fr/{z}/{x}/{y}.png)."
        )
    if not all(p in template for p in ("{z}", "{x}", "{y}")):
        raise ImproperlyConfigured("ORSEC_MAP_TILE_URL : {z}, {x} et {y} sont obligatoires.")
    host = urlsplit(template).netloc.replace("{s}", "*")
    if "*" in host and not host.startswith("*."):
        raise ImproperlyConfigured("ORSEC_MAP_TILE_URL : {s} seulement en début de nom d'hôte.")
    return f"https://{host}"


if ORSEC_MAP_TILE_URL:
    if not ORSEC_MAP_TILE_ATTRIBUTION:
        raise ImproperlyConfigured(
            "ORSEC_MAP_TILE_ATTRIBUTION est obligatoire avec ORSEC_MAP_TILE_URL "
            "(mention de la source des tuiles)."
        )
    SECURE_CSP["img-src"] = [CSP.SELF, "data:", _tile_origin(ORSEC_MAP_TILE_URL)]

DATA_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
# Whole request bodies above this are refused with 413 by the server, before Django.
ORSEC_MAX_REQUEST_BODY_BYTES = env_int(
    "ORSEC_MAX_REQUEST_BODY_BYTES", 10 * 1024 * 1024, minimum=1024
)
DATA_UPLOAD_MAX_NUMBER_FIELDS = 1000

# --- Internationalisation -------------------------------------------------------------------
LANGUAGE_CODE = "fr"
LANGUAGES = [("fr", "Français")]
TIME_ZONE = "Europe/Paris"
USE_I18N = True
USE_TZ = True
LOCALE_PATHS = [BASE_DIR / "locale"]

# --- Static files ---------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
MEDIA_ROOT = VAR_DIR / "media"
# Journal attachments: outside the web root, served only through the access-checked view.
ORSEC_ATTACHMENTS_ROOT = Path(
    env_str("ORSEC_ATTACHMENTS_ROOT", str(VAR_DIR / "attachments")) or VAR_DIR / "attachments"
)
ORSEC_ATTACHMENT_MAX_BYTES = env_int("ORSEC_ATTACHMENT_MAX_BYTES", 8 * 1024 * 1024, minimum=1024)

# --- Background tasks (django.tasks + database queue; worker: manage.py db_worker) -----------
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
# Dissemination: an unacknowledged delivery is reminded after this delay (then again after each
# reminder, 3 at most) and escalated once to the room leads after the second one.
ORSEC_ACK_REMINDER_MINUTES = env_int("ORSEC_ACK_REMINDER_MINUTES", 15, minimum=1, maximum=1440)
ORSEC_ACK_ESCALATION_MINUTES = env_int("ORSEC_ACK_ESCALATION_MINUTES", 30, minimum=1, maximum=2880)

# --- Outbound delivery to partner systems (docs/outbound.md, S27) ---------------------------
# Host names (``partenaire.example.fr``), sub-domain patterns (``*.sdis37.fr``), IP addresses or
# networks (``10.20.0.0/16``) that partner endpoints may use. Empty: no endpoint can be saved.
# A name resolving to a private, loopback or link-local address is refused unless that address
# (or its network) is listed too.
ORSEC_OUTBOUND_ALLOWED_HOSTS = env_list("ORSEC_OUTBOUND_ALLOWED_HOSTS")
# Plain http is refused except towards a loopback address when this is true (tests, local dev).
ORSEC_OUTBOUND_ALLOW_HTTP_LOOPBACK = env_bool("ORSEC_OUTBOUND_ALLOW_HTTP_LOOPBACK", False)
ORSEC_OUTBOUND_TIMEOUT_SECONDS = env_int(
    "ORSEC_OUTBOUND_TIMEOUT_SECONDS", 10, minimum=1, maximum=120
)
ORSEC_OUTBOUND_MAX_ATTEMPTS = env_int("ORSEC_OUTBOUND_MAX_ATTEMPTS", 6, minimum=1, maximum=20)
ORSEC_OUTBOUND_MAX_RESPONSE_BYTES = env_int(
    "ORSEC_OUTBOUND_MAX_RESPONSE_BYTES", 64 * 1024, minimum=1024
)

# --- E-mail -----------------------------------------------------------------------------------
_smtp_host = env_str("EMAIL_HOST")
if _smtp_host:
    MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {
                "host": _smtp_host,
                "port": env_int("EMAIL_PORT", 587, minimum=1, maximum=65535),
                "username": env_str("EMAIL_HOST_USER", "") or "",
                "password": env_str("EMAIL_HOST_PASSWORD", "") or "",
                "use_tls": env_bool("EMAIL_USE_TLS", True),
                "timeout": 10,
            },
        }
    }
else:
    # Demo and development: messages (password reset links) are printed on the console.
    MAILERS = {"default": {"BACKEND": "django.core.mail.backends.console.EmailBackend"}}
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "portail-orsec@localhost")

# --- Logging: structured JSON lines for security and audit records --------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "orsec.core.logging.JsonFormatter"}},
    "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "json"}},
    "loggers": {
        "orsec": {"handlers": ["stderr"], "level": env_str("LOG_LEVEL", "INFO")},
        "django.request": {"handlers": ["stderr"], "level": "ERROR", "propagate": False},
        "django.security": {"handlers": ["stderr"], "level": "WARNING", "propagate": False},
    },
}

ORSEC_PORTAL_NAME = "Portail ORSEC"
ORSEC_TRUSTED_PROXIES = env_int("ORSEC_TRUSTED_PROXIES", 0, maximum=5)
