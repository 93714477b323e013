"""Django settings, all from the environment: SQLite under REBOOK_HOME by default, PostgreSQL by DATABASE_URL."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import dj_database_url
import platformdirs

# Every variable read here, so that a test can check the docs (docs/settings.md) document each one.
ENVIRONMENT_VARIABLES: dict[str, str] = {}


def env(name: str, default: str = "", doc: str = "") -> str:
    ENVIRONMENT_VARIABLES[name] = doc
    return os.environ.get(name, default)


def envbool(name: str, default: bool, doc: str = "") -> bool:
    return env(name, "1" if default else "0", doc).strip().lower() in {"1", "true", "yes", "on"}


def envint(name: str, default: int, doc: str = "") -> int:
    value = env(name, str(default), doc)
    try:
        return int(value)
    except ValueError:
        from django.core.exceptions import ImproperlyConfigured

        raise ImproperlyConfigured(f"{name} must be a whole number, not {value!r}") from None


REBOOK_HOME = Path(
    env("REBOOK_HOME", platformdirs.user_data_dir("rebook"), "Folder for the SQLite database and the secret key.")
).expanduser()


def _make_home() -> None:
    """REBOOK_HOME holds the database and the key: made on first use, for its owner's eyes only."""
    try:
        REBOOK_HOME.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as e:
        from django.core.exceptions import ImproperlyConfigured

        raise ImproperlyConfigured(f"REBOOK_HOME {str(REBOOK_HOME)!r} cannot be made: {e.strerror}") from None


def _secret_key() -> str:
    given = env("REBOOK_SECRET_KEY", "", "Django's secret key; by default one is made and kept in REBOOK_HOME.")
    if given:
        return given
    path = REBOOK_HOME / "secret_key"
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        _make_home()
        key = secrets.token_urlsafe(50)
        path.write_text(key)
        path.chmod(0o600)
        return key


SECRET_KEY = _secret_key()
DEBUG = envbool("REBOOK_DEBUG", False, "Django's debug mode; never in production.")
ALLOWED_HOSTS = [h for h in env("REBOOK_ALLOWED_HOSTS", "127.0.0.1,localhost", "Host names the web app answers to.").split(",") if h]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rebook.sellers",
    "rebook.leads",
    "rebook.outbox",
    "rebook.web",
    "rebook.api",
    "rebook.webhooks",
    "rebook.prospects",
    "rebook.mailbox",
    "rebook.forecast",
    "rebook.cards",
    "rebook.calendars",
    "ninja",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "rebook.web.middleware.content_security_policy",
    "rebook.prospects.middleware.public_pages",  # outside the rest: their 403, 413 and redirects under /p/ too
    "rebook.web.errors.styled_errors",  # inside public_pages: a styled 405 under /p/ keeps its headers
    "rebook.web.middleware.request_size_limit",
    "rebook.api.content.json_bodies",
    "rebook.api.idempotency.idempotency",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "rebook.urls"
CSRF_FAILURE_VIEW = "rebook.web.errors.csrf_failure"
WSGI_APPLICATION = "rebook.wsgi.application"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]

_database_url = env(
    "DATABASE_URL", "", "postgres://USER@HOST:PORT/NAME for PostgreSQL; unset for SQLite under REBOOK_HOME."
)
_prepare_after = envint(
    "REBOOK_DB_PREPARE_AFTER", 5, "PostgreSQL: a statement run this many times on one connection is prepared, "
    "planned once instead of at every run; 0 turns it off (behind a pooler in transaction mode that cannot keep "
    "prepared statements)."
)
if _database_url:
    DATABASES = {"default": dj_database_url.parse(_database_url, conn_max_age=60, conn_health_checks=True)}
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and _prepare_after > 0:
        # The values go apart from the statement (server-side binding), so that psycopg can prepare a statement
        # the connection runs again and again: the pages' and the worker's are planned once per connection.
        _options = DATABASES["default"].setdefault("OPTIONS", {})
        _options.setdefault("server_side_binding", True)
        _options.setdefault("prepare_threshold", _prepare_after)
else:
    _make_home()
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(REBOOK_HOME / "rebook.sqlite3"),
            # IMMEDIATE makes writers queue on the busy timeout instead of failing on lock upgrades.
            "OPTIONS": {"transaction_mode": "IMMEDIATE", "timeout": 20, "init_command": "PRAGMA journal_mode=WAL;"},
            "TEST": {"NAME": ":memory:"},
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Argon2 for new passwords; PBKDF2 stays so older hashes still verify (and are upgraded on sign-in).
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "today"
LOGOUT_REDIRECT_URL = "login"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True



def _smtp(url: str) -> dict[str, object]:
    """Django's EMAIL_* settings from smtp://user:pass@host:port?starttls=1, smtps://..., or console://."""
    from urllib.parse import parse_qs, unquote, urlsplit

    if not url:
        return {"EMAIL_BACKEND": "rebook.outbox.mail.NotConfiguredBackend"}
    parts = urlsplit(url)
    if parts.scheme == "console":
        return {"EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend"}
    if parts.scheme not in {"smtp", "smtps"} or not parts.hostname:
        raise ValueError(f"REBOOK_SMTP_URL: expected smtp://host:port, smtps://host:port or console://, not {url!r}")
    query = {k: v[-1].lower() for k, v in parse_qs(parts.query).items()}
    return {
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": parts.hostname,
        "EMAIL_PORT": parts.port or (465 if parts.scheme == "smtps" else 25),
        "EMAIL_HOST_USER": unquote(parts.username or ""),
        "EMAIL_HOST_PASSWORD": unquote(parts.password or ""),
        "EMAIL_USE_SSL": parts.scheme == "smtps",
        "EMAIL_USE_TLS": query.get("starttls", query.get("tls", "0")) in {"1", "true", "yes", "on"},
        "EMAIL_TIMEOUT": int(query.get("timeout", "30")),
    }


globals().update(
    _smtp(env("REBOOK_SMTP_URL", "", "Where mail goes: smtp://user:pass@host:587?starttls=1, smtps://host:465, or console://."))
)
REBOOK_FROM_EMAIL = env("REBOOK_FROM_EMAIL", "", "The From address of every mail; by default the seller's own address.")
BASE_URL_FILE = "base_url"  # in REBOOK_HOME: the address `rebook serve` last served on


def _base_url() -> str:
    """Where links in mail and on pages point: REBOOK_BASE_URL, else the address `rebook serve` last served on
    (so that `rebook appt links` in another terminal gives links that answer), else port 8000 on this machine."""
    given = env("REBOOK_BASE_URL", "", "The public address of the web app, used in links (unsubscribe, the prospect's "
                "pages); by default the address `rebook serve` serves on.")
    if given:
        return given
    try:
        return (REBOOK_HOME / BASE_URL_FILE).read_text().strip() or "http://127.0.0.1:8000"
    except OSError:
        return "http://127.0.0.1:8000"


REBOOK_BASE_URL = _base_url().rstrip("/")

# The web app: static files served by the app itself (WhiteNoise), cookies and headers locked down.
STATIC_URL = "/static/"
WHITENOISE_USE_FINDERS = True  # serve straight from the package; no collectstatic step to forget
WHITENOISE_AUTOREFRESH = DEBUG
_https = REBOOK_BASE_URL.startswith("https://")
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = _https
SESSION_COOKIE_HTTPONLY = True
# The CSRF token reaches htmx through the page (hx-headers), so no script needs to read the cookie.
CSRF_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = CSRF_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = 14 * 24 * 3600
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if _https:
    SECURE_HSTS_SECONDS = 3600
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    # The proxy must say https (secure cookies and CSRF depend on it already); a plain-HTTP request is redirected.
    SECURE_SSL_REDIRECT = True
# HSTS for subdomains and the browsers' preload list are decisions about the whole domain, which Rebook
# does not own: the operator's proxy sets them if wanted.
SILENCED_SYSTEM_CHECKS = ["security.W005", "security.W021"]
CSRF_TRUSTED_ORIGINS = [REBOOK_BASE_URL]
_base_host = REBOOK_BASE_URL.split("://", 1)[-1].split("/", 1)[0].rsplit(":", 1)[0]
if _base_host and _base_host not in ALLOWED_HOSTS:
    ALLOWED_HOSTS.append(_base_host)
LOGIN_FAILURE_LIMIT = envint(
    "REBOOK_LOGIN_FAILURE_LIMIT", 5,
    "Failed sign-ins for one account from one address before a 15-minute pause (four times as many for an address, "
    "or for an account from browsers it never signed in from).",
)
REBOOK_TRUSTED_PROXIES = [p.strip() for p in env(
    "REBOOK_TRUSTED_PROXIES", "",
    "Addresses or networks of your reverse proxies (e.g. 127.0.0.1,10.0.0.0/8): only from them is X-Forwarded-For believed.",
).split(",") if p.strip()]

REBOOK_PHONE_REGION = env(
    "REBOOK_PHONE_REGION", "US", "Region for phone numbers written without a country code, e.g. US, GB, DE."
).upper()

REBOOK_API_RATE_LIMIT = envint("REBOOK_API_RATE_LIMIT", 120, "API requests per minute for one token before 429.")
REBOOK_IMAP_POLL = envint("REBOOK_IMAP_POLL", 60, "Seconds between two polls of each seller's mailbox by the worker.")
REBOOK_PUBLIC_RATE_LIMIT = envint(
    "REBOOK_PUBLIC_RATE_LIMIT", 30, "Requests per minute from one address to the pages behind prospects' links before 429."
)

REBOOK_WEBHOOK_ALLOW_PRIVATE = envbool(
    "REBOOK_WEBHOOK_ALLOW_PRIVATE", False,
    "Allow webhook URLs on loopback, private or link-local addresses (refused by default).",
)
REBOOK_IMAP_ALLOW_PRIVATE = envbool(
    "REBOOK_IMAP_ALLOW_PRIVATE", False,
    "Allow mailboxes on loopback, private or link-local addresses (refused by default, like webhook URLs).",
)

REBOOK_CALENDAR_POLL = envint(
    "REBOOK_CALENDAR_POLL", 300, "Seconds between two reads of each connected calendar by the worker (at least 60)."
)
REBOOK_CALENDAR_ALLOW_PRIVATE = envbool(
    "REBOOK_CALENDAR_ALLOW_PRIVATE", False,
    "Allow calendar addresses on loopback, private or link-local addresses (refused by default, like webhook URLs).",
)

REBOOK_USER = env("REBOOK_USER", "", "The seller every command acts for when --user is not given.")
REBOOK_TIMEZONE = env("REBOOK_TIMEZONE", "", "Time zone for a new seller; by default the machine's own.")
