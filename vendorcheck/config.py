"""Configuration defaults; every key can be overridden with a VENDORCHECK_* environment variable."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

from flask import Flask

ROOT = Path(__file__).resolve().parent.parent


class Config:
    """Safe defaults for development; production must set a secret key."""

    ENV = "development"
    SECRET_KEY: str | None = None
    SQLALCHEMY_DATABASE_URI: str | None = None  # None: SQLite file in the instance folder
    SQLALCHEMY_ENGINE_OPTIONS: dict[str, Any] = {"pool_pre_ping": True}
    QUESTIONNAIRES_DIR = str(ROOT / "questionnaires")
    BASE_URL = "http://127.0.0.1:5000"
    TRUSTED_HOSTS: list[str] | None = None
    MAX_CONTENT_LENGTH = 25 * 1024 * 1024
    MAX_FORM_MEMORY_SIZE = 500 * 1024
    MAX_FORM_PARTS = 1000
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_HTTPONLY = True
    # Server-side sessions (vendorcheck/sessions.py, docs/security.md). Idle timeouts in minutes: buyers see
    # many vendors' assessments (30); a vendor's people fill long questionnaires between autosaves (120).
    SESSION_IDLE_MINUTES = 30
    SESSION_IDLE_MINUTES_VENDOR = 120
    SESSION_MAX_HOURS = 12  # absolute lifetime of a session without "keep me logged in"
    REMEMBER_COOKIE_DURATION = timedelta(days=30)  # "keep me logged in": at most 30 days, no idle limit
    # Per-address login lockout (services/login_throttle.py): after LOGIN_LOCK_AFTER failures in a row,
    # LOGIN_LOCK_MINUTES, doubling at each further failure, at most LOGIN_LOCK_MAX_MINUTES.
    LOGIN_LOCK_AFTER = 5
    LOGIN_LOCK_MINUTES = 1
    LOGIN_LOCK_MAX_MINUTES = 60
    WTF_CSRF_TIME_LIMIT = None  # the one-hour default would break autosave on long sessions
    # REST API v1 (vendorcheck/api/, docs/api.md): flask-smorest builds the OpenAPI document from the schemas.
    API_TITLE = "vendorcheck API"
    API_VERSION = "v1"
    OPENAPI_VERSION = "3.1.0"
    OPENAPI_URL_PREFIX = "/api/v1"
    OPENAPI_JSON_PATH = "openapi.json"
    API_RATE_LIMIT = "600 per minute"  # per token
    BABEL_DEFAULT_LOCALE = "en"
    BABEL_DEFAULT_TIMEZONE = "Europe/Paris"
    LANGUAGES = ("en", "fr")
    BABEL_TRANSLATION_DIRECTORIES = str(ROOT / "translations")
    PASSWORD_HASH_METHOD = "scrypt:32768:8:3"  # noqa: S105 - a hash method, not a password
    RATELIMIT_STORAGE_URI = "memory://"
    RATELIMIT_HEADERS_ENABLED = True
    # POSTs to the login, reset and invitation forms per client address. The proxy bench raises it (its 50
    # logins come from one address); each e-mail address keeps its own 5/minute.
    AUTH_POST_LIMIT_PER_IP = "20/minute"
    # Single sign-on (docs/sso.md): identity providers are reached over https only; the tests' providers
    # run on http://127.0.0.1, which this switch allows (never in production).
    SSO_ALLOW_HTTP_LOOPBACK = False
    REDIS_URL: str | None = None
    REMINDERS_AT = "07:00"  # UTC time of the daily reminders run (`vendorcheck reminders schedule`)
    # Days before a remediation request's due date that its vendor-side owner is reminded
    # (docs/remediation.md); once overdue, one more reminder with a copy to the buyer-side owner.
    REMEDIATION_REMINDER_DAYS = "7,1"
    INVITATION_DAYS = 14
    # Answer links (docs/answer-by-link.md): they work until the due date plus this grace period,
    # or this many days after they are issued when there is no due date.
    ANSWER_LINK_GRACE_DAYS = 14
    ANSWER_LINK_DAYS = 60
    ANSWER_LINK_CODE_MINUTES = 15  # the one-time code of a sensitive assessment
    ANSWER_LINK_CODE_TRIES = 5
    PAGE_SIZE = 50
    # Report and pack rendering (vendorcheck/pdf/worker.py, services/packs.py).
    REPORT_RENDER_MODE = "pool"  # "inline" renders in the calling process (debugging)
    REPORT_RENDER_TIMEOUT = 300  # seconds; a slower render answers 503 "try again"
    REPORT_WORKERS = 2
    REPORT_WORKER_MEMORY_MB = 2048  # address-space cap of each render/verify worker (0: none)
    REPORT_VERIFY_TIMEOUT = 60  # seconds checking an uploaded PDF may take
    REPORT_WORKER_MAX_TASKS = 20  # WeasyPrint's memory grows across renders: recycle children
    PACK_JOB_TIMEOUT = 1800
    RESCORE_DELAY = 5  # seconds after an autosave made results stale before the worker re-scores
    # Without Redis a thread of each app process re-scores; True: no thread, re-scores wait for
    # `results.drain_rescores()` (the tests, so each decides when the "worker" runs).
    RESCORE_SYNC = False
    PACK_RETENTION_DAYS = 30  # `vendorcheck report prune-packs` deletes older pack files
    JOB_HEARTBEAT_EVERY = 15  # seconds between a running pack job's heartbeats
    JOB_DEAD_AFTER = 60  # a running pack job without a heartbeat this long is shown as interrupted
    # Stored files (evidence, reports, packs, DPA PDFs, certificates): "local" keeps them in the instance
    # folder (evidence in EVIDENCE_DIR when set); "s3" in a bucket of an S3-compatible service, with the
    # settings below and credentials from the standard AWS variables. See docs/storage.md.
    STORAGE_BACKEND = "local"
    # Audit-log checkpoints (vendorcheck/audit_checkpoints.py, docs/audit-log.md).
    AUDIT_CHECKPOINT_LOOKBACK_DAYS = 400  # `audit verify` looks this far back for the newest one
    AUDIT_CHECKPOINT_MAX_AGE_DAYS = 2  # a newest checkpoint older than this is reported (warning)
    STORAGE_S3_BUCKET: str | None = None
    STORAGE_S3_PREFIX = ""  # objects are named <prefix><area>/<key>, e.g. "vendorcheck/evidence/<key>"
    STORAGE_S3_ENDPOINT_URL: str | None = None  # None: AWS; else the service's URL (MinIO, Ceph...)
    STORAGE_S3_REGION: str | None = None
    STORAGE_S3_ADDRESSING_STYLE = "auto"  # "path" for most self-hosted services
    STORAGE_S3_SSE: str | None = None  # server-side encryption: "AES256" or "aws:kms"
    STORAGE_S3_KMS_KEY_ID: str | None = None  # with "aws:kms"; None: the service's default key
    STORAGE_S3_PRESIGNED = False  # True: downloads redirect to expiring links (docs/storage.md)
    STORAGE_S3_PRESIGNED_EXPIRES = 300  # seconds a direct link stays valid
    # Serving (docs/deploy.md). PROXY_COUNT: reverse proxies in front of the app whose X-Forwarded-For and
    # X-Forwarded-Proto are trusted (nginx alone: 1; 0: none, the headers are ignored).
    PROXY_COUNT = 0
    # How many web processes share the database and the rate limits: WEB_CONCURRENCY workers (None: the
    # WEB_CONCURRENCY environment variable gunicorn.conf.py sets, else 1) on each of INSTANCES servers.
    # Production refuses SQLite and in-memory rate limits when this makes more than one process.
    WEB_CONCURRENCY: int | None = None
    INSTANCES = 1
    # Outgoing webhooks (docs/webhooks.md): True lets endpoints and deliveries reach private, loopback and
    # other non-public addresses. Off in production: a webhook URL must not reach the internal network.
    WEBHOOKS_ALLOW_PRIVATE_TARGETS = False
    TIMESTAMP_URL: str | None = None  # an RFC 3161 server: signatures become PAdES B-T instead of B-B
    # SECRET_KEY_FALLBACKS (Flask): earlier keys, to re-encrypt signing keys after a rotation.


def secret_keys(cfg: Mapping[str, Any]) -> list[bytes]:
    """Return SECRET_KEY then every SECRET_KEY_FALLBACKS key (newest first), as bytes."""
    fallbacks = cfg.get("SECRET_KEY_FALLBACKS") or []
    if isinstance(fallbacks, str | bytes):
        fallbacks = [fallbacks]  # one key given as a plain environment string
    keys = [cfg["SECRET_KEY"], *fallbacks]
    return [key if isinstance(key, bytes) else str(key).encode("utf-8") for key in keys if key]


def finalise_config(app: Flask) -> None:
    """Fill derived settings and refuse unsafe production settings."""
    cfg = app.config
    if cfg.get("REDIS_URL") and cfg["RATELIMIT_STORAGE_URI"] == "memory://":
        cfg["RATELIMIT_STORAGE_URI"] = cfg["REDIS_URL"]  # limits shared by every process and instance
    _check_sessions(cfg)
    if not cfg.get("SQLALCHEMY_DATABASE_URI"):
        cfg["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{Path(app.instance_path) / 'vendorcheck.sqlite3'}"
    if cfg["SQLALCHEMY_DATABASE_URI"].startswith("postgresql://"):
        # psycopg 3 is the driver we ship in the `postgres` extra.
        uri = cfg["SQLALCHEMY_DATABASE_URI"].replace("postgresql://", "postgresql+psycopg://", 1)
        cfg["SQLALCHEMY_DATABASE_URI"] = uri
    cfg["PROXY_COUNT"] = _count("VENDORCHECK_PROXY_COUNT", cfg.get("PROXY_COUNT"), minimum=0)
    cfg["INSTANCES"] = _count("VENDORCHECK_INSTANCES", cfg.get("INSTANCES"), minimum=1)
    workers = cfg.get("WEB_CONCURRENCY") or os.environ.get("WEB_CONCURRENCY") or 1
    cfg["WEB_CONCURRENCY"] = _count("WEB_CONCURRENCY", workers, minimum=1)
    if cfg["ENV"] == "production":
        _check_production(cfg)
    elif not cfg.get("SECRET_KEY"):
        cfg["SECRET_KEY"] = _development_secret(Path(app.instance_path))


MAX_REMEMBER = timedelta(days=30)


def _check_sessions(cfg: dict[str, Any]) -> None:
    """Read the remember-me duration (seconds from the environment) and refuse sessions without an end."""
    duration = cfg["REMEMBER_COOKIE_DURATION"]
    if not isinstance(duration, timedelta):
        duration = cfg["REMEMBER_COOKIE_DURATION"] = timedelta(seconds=int(duration))
    if not timedelta(0) < duration <= MAX_REMEMBER:
        raise RuntimeError("REMEMBER_COOKIE_DURATION must be more than 0 and at most 30 days")
    for key in ("SESSION_IDLE_MINUTES", "SESSION_IDLE_MINUTES_VENDOR", "SESSION_MAX_HOURS"):
        if not isinstance(cfg[key], int) or cfg[key] <= 0:
            raise RuntimeError(f"{key} must be a whole number above 0")


def _check_production(cfg: dict[str, Any]) -> None:
    """Raise when production would run with an unsafe setting."""
    if not cfg.get("SECRET_KEY") or len(str(cfg["SECRET_KEY"])) < 16:
        raise RuntimeError("VENDORCHECK_SECRET_KEY must be set (at least 16 characters) in production")
    if cfg.get("DEBUG"):
        raise RuntimeError("DEBUG must be off in production")
    processes = web_processes(cfg)
    if processes > 1 and cfg["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        raise RuntimeError(
            f"SQLite cannot serve {processes} web processes (WEB_CONCURRENCY x VENDORCHECK_INSTANCES): set "
            "VENDORCHECK_SQLALCHEMY_DATABASE_URI to a PostgreSQL database, or run one process")
    limits = str(cfg.get("RATELIMIT_STORAGE_URI") or "memory://")
    if processes > 1 and cfg.get("RATELIMIT_ENABLED", True) and limits.startswith("memory://"):
        raise RuntimeError(
            f"Rate limits kept in memory are not shared by {processes} web processes: set "
            "VENDORCHECK_REDIS_URL (or VENDORCHECK_RATELIMIT_STORAGE_URI) to a shared store")
    cfg["SESSION_COOKIE_SECURE"] = True
    cfg["REMEMBER_COOKIE_SECURE"] = True
    cfg["SSO_ALLOW_HTTP_LOOPBACK"] = False  # identity providers over https only


def check_production_store(app: Flask) -> None:
    """In production, refuse to start when the storage backend cannot be used (its `ping()` fails)."""
    if app.config["ENV"] != "production":
        return
    from vendorcheck.storage import current_store

    with app.app_context():
        try:
            current_store().ping()
        except Exception as exc:  # any backend's failure: one clear line, the app does not start
            backend = app.config.get("STORAGE_BACKEND") or "local"
            raise RuntimeError(f"The storage backend '{backend}' cannot be used ({exc}): check "
                               "VENDORCHECK_STORAGE_BACKEND and its settings (docs/deploy.md)") from exc


def web_processes(cfg: Mapping[str, Any]) -> int:
    """Return how many web processes share the database: workers per server x servers."""
    return int(cfg["WEB_CONCURRENCY"]) * int(cfg["INSTANCES"])


def _count(name: str, value: object, *, minimum: int) -> int:
    """Return a whole-number setting, or stop the app naming the setting to fix."""
    text = str(value).strip()
    if isinstance(value, bool) or not text.isdigit() or int(text) < minimum:
        raise RuntimeError(f"{name} must be a whole number of at least {minimum}, not {value!r}")
    return int(text)


def _development_secret(instance: Path) -> str:
    """Return a per-checkout random key kept in the instance folder, so sessions survive restarts."""
    path = instance / "secret_key"
    if path.exists():
        return path.read_text().strip()
    instance.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    path.write_text(key)
    path.chmod(0o600)
    return key
