"""Configuration read from the environment; defaults give a zero-setup SQLite install."""
import os
import secrets
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = Path(os.environ.get("PARKINGOS_INSTANCE", BASE_DIR / "instance"))


def _secret_key() -> str:
    """Use SECRET_KEY when set; otherwise keep a generated key in instance/ so sessions survive restarts."""
    if os.environ.get("SECRET_KEY"):
        return os.environ["SECRET_KEY"]
    INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
    key_file = INSTANCE_DIR / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_hex(32))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


def normalize_database_url(url: str) -> str:
    """PostgreSQL URLs without a driver use psycopg2 (SQLAlchemy 2.1 would pick psycopg 3)."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg2://" + url[len(prefix):]
    return url


def _database_url() -> str:
    url = os.environ.get("DATABASE_URL")
    if url:
        return normalize_database_url(url)
    INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{INSTANCE_DIR / 'parkingos.db'}"


def _flag(name: str, default: bool = False) -> bool:
    return os.environ.get(name, str(default)).lower() in ("1", "true", "yes", "on")


def _count(name: str) -> int:
    value = os.environ.get(name, "0").strip()
    return int(value) if value.isdigit() else 0


class Config:
    SQLALCHEMY_DATABASE_URI = None  # resolved in load()
    # No pre-ping (a round trip per request): connections are renewed before a server or firewall
    # idle limit can drop them, and a connection that died anyway (a database restart) fails its request's
    # first statement, invalidating the pool; a read or an idempotent device write then runs once more on a
    # fresh connection (app/core/reconnect.py).
    SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_recycle": 1800}
    SECRET_KEY = None
    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = _flag("SESSION_COOKIE_SECURE")  # Secure always; else whenever a request came over HTTPS
    # Behind a reverse proxy: how many proxies in front set X-Forwarded-For / -Proto / -Host / -Port / -Prefix
    # (werkzeug's ProxyFix). 0 trusts none of them: a client could claim any address or scheme.
    PROXY_FIX_X_FOR = _count("PROXY_FIX_X_FOR")
    PROXY_FIX_X_PROTO = _count("PROXY_FIX_X_PROTO")
    PROXY_FIX_X_HOST = _count("PROXY_FIX_X_HOST")
    PROXY_FIX_X_PORT = _count("PROXY_FIX_X_PORT")
    PROXY_FIX_X_PREFIX = _count("PROXY_FIX_X_PREFIX")
    REMEMBER_COOKIE_HTTPONLY = True
    PERMANENT_SESSION_LIFETIME = 12 * 3600
    BOOTSTRAP_SERVE_LOCAL = True
    # The page language: the person's saved choice, else the browser's Accept-Language, else this
    # default (for clients that send no header); see app/i18n/__init__.py.
    DEFAULT_LOCALE = os.environ.get("DEFAULT_LOCALE", "en")
    BABEL_DEFAULT_LOCALE = DEFAULT_LOCALE
    BABEL_DEFAULT_TIMEZONE = "Asia/Shanghai"
    BABEL_TRANSLATION_DIRECTORIES = str(BASE_DIR / "translations")
    LANGUAGES = ("zh_CN", "en")
    DEFAULT_TIMEZONE = "Asia/Shanghai"
    PASSWORD_HASH_METHOD = "scrypt"
    SESSION_IDLE_MINUTES = int(os.environ.get("SESSION_IDLE_MINUTES", 120))    # a sign-in unused this long ends
    SESSION_ABSOLUTE_HOURS = int(os.environ.get("SESSION_ABSOLUTE_HOURS", 12))  # and any sign-in this old
    # Sign-in throttling (app/auth/limits.py, app/auth/throttle.py). Per address: Flask-Limiter counts failed
    # sign-ins, in this process's memory or, with REDIS_URL, in Redis (shared by every worker and host);
    # "" turns it off.
    RATELIMIT_ENABLED = _flag("RATELIMIT_ENABLED", True)
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI") or os.environ.get("REDIS_URL") or "memory://"
    RATELIMIT_KEY_PREFIX = "parkingos"
    # Redis unreachable: count in memory meanwhile, and never fail a sign-in over it
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    RATELIMIT_SWALLOW_ERRORS = True
    LOGIN_LIMITS_PER_ADDRESS = os.environ.get("LOGIN_LIMITS_PER_ADDRESS", "10 per minute;50 per hour")
    # Per username, in the database: after 5 wrong passwords in a row it waits 15 s, doubling with each further
    # one up to 5 minutes; a run is forgotten after a quiet day. Clients that signed in to the account before
    # (known devices) are not delayed.
    LOGIN_DELAY_AFTER_FAILURES = 5
    LOGIN_DELAY_FIRST_SECONDS = 15
    LOGIN_DELAY_MAX_SECONDS = 300
    LOGIN_FAILURES_FORGOTTEN_HOURS = 24
    LOGIN_KNOWN_DEVICE_DAYS = 90
    LOGIN_UNKNOWN_KEEP_DAYS = 90  # failed sign-ins with unknown usernames, counted per address and hour
    PAGE_SIZE = 50
    # Retention (app/core/partitions.py, docs/operations.md): how long each growing table keeps its rows, by
    # the time column that places a row; `partitioned`: monthly partitions on PostgreSQL (migration 0015),
    # dropped whole once past retention. Orders, the ledger and arrears are kept (days None is forever).
    RETENTION = {
        "track_points": {"column": "recorded_at", "days": _count("RETENTION_TRACK_POINTS_DAYS") or 180,
                         "partitioned": True},
        "sensor_events": {"column": "occurred_at", "days": _count("RETENTION_SENSOR_EVENTS_DAYS") or 396,
                          "partitioned": True},
        "lane_uploads": {"column": "received_at", "days": _count("RETENTION_LANE_UPLOADS_DAYS") or 396,
                         "partitioned": True},
        # what the integrations sent (or gave up on: a dead message is retried by hand within days)
        "outbox_messages": {"column": "created", "days": _count("RETENTION_OUTBOX_DAYS") or 90, "partitioned": True},
        # the money and what it was for are kept for ever: partitioned by year for their size, never dropped
        "parking_orders": {"column": "entered_at", "days": None, "partitioned": True, "period": "year"},
        "ledger_entries": {"column": "occurred_at", "days": None, "partitioned": True, "period": "year"},
        "occupancy_sessions": {"column": "arrived_at", "days": None, "partitioned": True, "period": "year"},
        # the devices' first answers: a retry comes within hours (a device time older than 48 h is refused)
        "idempotent_requests": {"column": "created_at", "days": _count("RETENTION_IDEMPOTENCY_DAYS") or 30,
                                "partitioned": False},
        # kept for ever unless RETENTION_AUDIT_DAYS is set (an auditor's years)
        "audit_entries": {"column": "at", "days": _count("RETENTION_AUDIT_DAYS") or None, "partitioned": True},
    }
    PARTITIONS_AHEAD = _count("PARTITIONS_AHEAD") or 3  # months of partitions the worker keeps ready
    # a streaming replica for the reports' reads (app/core/replica.py); unset: they read the primary
    REPORTS_DATABASE_URL = normalize_database_url(os.environ["REPORTS_DATABASE_URL"]) \
        if os.environ.get("REPORTS_DATABASE_URL") else None
    ROLLUPS_READ = _flag("ROLLUPS_READ", True)  # figures read closed days from the daily rollups
    # The largest request body of a route that declares no limit of its own (app/core/bodies.py): forms and
    # device JSON (a full GPS batch of 5,000 points is about 0.6 MB). Photos, imports and lane uploads take more.
    MAX_CONTENT_LENGTH = 1024 * 1024
    PREPARED_STATEMENTS = _flag("PREPARED_STATEMENTS", True)  # PostgreSQL; off behind PgBouncer (app/core/prepared.py)
    FIELD_ENCRYPTION_KEY = os.environ.get("FIELD_ENCRYPTION_KEY")  # Fernet key; derived from SECRET_KEY if unset
    # The address drivers and payment providers reach the platform at: notice URLs, berth signs' QR codes
    PUBLIC_BASE_URL = os.environ.get("PUBLIC_BASE_URL", "http://localhost:5000")
    PAY_PAGE_LIMITS = os.environ.get("PAY_PAGE_LIMITS", "60 per minute;600 per hour")  # the driver's pages
    # a commit that wrote outbox messages queues a delivery run about a second later (app/integrations/tasks.py);
    # off: the worker's run every minute delivers them
    OUTBOX_KICK = _flag("OUTBOX_KICK", True)

    @classmethod
    def load(cls) -> dict:
        values = {k: getattr(cls, k) for k in dir(cls) if k.isupper()}
        values["SQLALCHEMY_DATABASE_URI"] = _database_url()
        values["SECRET_KEY"] = _secret_key()
        return values
