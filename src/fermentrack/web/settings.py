"""Django settings for Fermentrack, all read from FERMENTRACK_* variables (see fermentrack.config).

SQLite in FERMENTRACK_HOME by default (WAL, IMMEDIATE transactions, a busy timeout), PostgreSQL
when DATABASE_URL is set. The secret key is generated on first start and kept in run/.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import dj_database_url

from fermentrack import config

HOME = config.home()
RUN_DIR = config.run_dir()
LOG_DIR = config.log_dir()
for folder in (HOME, RUN_DIR, LOG_DIR):
    folder.mkdir(parents=True, exist_ok=True)
os.chmod(RUN_DIR, 0o700)

BASE_DIR = Path(__file__).resolve().parent


def _secret_key() -> str:
    path = RUN_DIR / "secret_key"
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        key = secrets.token_urlsafe(50)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as file:
            file.write(key)
        return key


SECRET_KEY = config.env_text("FERMENTRACK_SECRET_KEY", "") or _secret_key()
DEBUG = config.env_bool("FERMENTRACK_DEBUG", False)
ALLOWED_HOSTS = [h for h in config.env_text("FERMENTRACK_ALLOWED_HOSTS", "*").split(",") if h]
# Behind `fermentrack nginx-site --tls`: the login and CSRF cookies travel over HTTPS only, so a
# bookmarked http:// address never sends them in the clear before its redirect.
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = config.env_bool("FERMENTRACK_HTTPS", False)
CSRF_TRUSTED_ORIGINS = [
    o for o in config.env_text("FERMENTRACK_CSRF_TRUSTED_ORIGINS", "").split(",") if o
]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "fermentrack.web.brewery",
    "fermentrack.web.devices",
    "fermentrack.web.beers",
    "fermentrack.web.profiles",
    "fermentrack.web.gravity",
    "fermentrack.web.push",
    "fermentrack.web.mqtt",
    "fermentrack.web.alerts",
    "fermentrack.web.backups",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "fermentrack.web.brewery.middleware.FirstRunMiddleware",
]

ROOT_URLCONF = "fermentrack.web.urls"
WSGI_APPLICATION = "fermentrack.web.wsgi.application"

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
                "fermentrack.web.brewery.context.brewery",
            ],
        },
    },
]

_database_url = os.environ.get("DATABASE_URL", "")
if _database_url:
    DATABASES = {"default": dj_database_url.parse(_database_url, conn_max_age=60)}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": HOME / "fermentrack.sqlite3",
            "OPTIONS": {
                # WAL lets the web app read while a controller's batch is written; IMMEDIATE
                # takes the write lock up front so two writers queue instead of deadlocking.
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
        }
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"  # data is kept in UTC; each brewery shows its own zone (BrewerySettings)
USE_I18N = False
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = HOME / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

DATA_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024  # interfaces.md §1: bodies over 1 MB get 413
FERMENTRACK_API_MAX_BODY = 1024 * 1024

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["stderr"], "level": "INFO"},
    "loggers": {"django.request": {"level": "WARNING"}},
}
