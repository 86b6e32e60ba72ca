"""Settings for mash, read from the environment (see docs/operations.md "Configuration").

One module for every deployment: the embedded demo (SQLite, a folder for a broker), the
test suite (PostgreSQL and Redis) and production (docker-compose.yml) differ only in their
environment variables.
"""

from datetime import timedelta
from pathlib import Path

import environ
from celery.schedules import crontab
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()


def _fail(message: str) -> None:
    """Stop start-up with one line that names the variable, not a stack trace."""
    raise SystemExit(f"mash: configuration error: {message}")


try:
    DEBUG = env.bool("DEBUG", default=False)
    SECRET_KEY = env.str("SECRET_KEY", default="")
    ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
    CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
    TIME_ZONE = env.str("TIME_ZONE", default="Europe/London")
    HUB_NAME = env.str("HUB_NAME", default="Countyshire MASH")
    DATABASES = {
        "default": env.db_url(
            "DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'var' / 'mash.sqlite3'}"
        )
    }
    # The role the app runs as on PostgreSQL, when `migrate` runs as another, the owner: each
    # migrate grants it what the app needs and no more (docs/operations.md "Database roles").
    DATABASE_RUNTIME_ROLE = env.str("DATABASE_RUNTIME_ROLE", default="")
    # A read replica of the database, if there is one: reports and exports read from it
    # (mash.db_router). PostgreSQL, like DATABASE_URL.
    DATABASE_REPLICA_URL = env.str("DATABASE_REPLICA_URL", default="")
    if DATABASE_REPLICA_URL:
        DATABASES["replica"] = env.db_url_config(DATABASE_REPLICA_URL)
    REDIS_URL = env.str("REDIS_URL", default="")
    # Seconds any Redis connection (broker, results, cache, /healthz) waits to connect or for
    # an answer: a stopped or hung Redis costs a save at most about this (docs/operations.md).
    REDIS_TIMEOUT = env.float("REDIS_TIMEOUT", default=0.5)
    # A task a killed worker took but never finished goes to another worker after this many
    # seconds, so it must outlast the longest task (minutes) with room to spare.
    BROKER_VISIBILITY_TIMEOUT = env.int("BROKER_VISIBILITY_TIMEOUT", default=7200)
    # /healthz answers 503 once the last per-minute SLA scan finished longer ago than this.
    HEALTH_MAX_BEAT_AGE_SECONDS = env.int("HEALTH_MAX_BEAT_AGE_SECONDS", default=300)
    # /healthz/ready answers 503 when the database has not answered `SELECT 1` within this.
    HEALTH_READY_TIMEOUT_SECONDS = env.float("HEALTH_READY_TIMEOUT_SECONDS", default=2.0)
    # Production (DEBUG off) is served over HTTPS only; `make demo` and the tests use plain
    # http on loopback and say so with these (docs/operations.md "Configuration").
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
    SECURE_COOKIES = env.bool("SECURE_COOKIES", default=not DEBUG)
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31_536_000)
    SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)
    # The header a TLS-terminating proxy sets to "https", e.g. X-Forwarded-Proto.
    PROXY_SSL_HEADER = env.str("SECURE_PROXY_SSL_HEADER", default="")
    # How many proxies in front of gunicorn append the address they were called from to
    # X-Forwarded-For. 0: the connection's own address is the client's (core.request_context).
    TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
    API_USER_RATE = env.str("API_USER_RATE", default="600/minute")
    API_ANON_RATE = env.str("API_ANON_RATE", default="60/minute")
    # The most one request may send (docs/security.md "Limits on what can be sent"): larger is 413.
    DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=2_621_440)
    DATA_UPLOAD_MAX_NUMBER_FIELDS = env.int("DATA_UPLOAD_MAX_NUMBER_FIELDS", default=1000)
    # Sign-in (docs/security.md): a one-time password after the password, everywhere but a
    # demo that says on every page that it is off; sessions end when idle and after a day's work.
    TWO_FACTOR_REQUIRED = env.bool("TWO_FACTOR_REQUIRED", default=True)
    SESSION_IDLE_MINUTES = env.int("SESSION_IDLE_MINUTES", default=30)
    SESSION_MAX_HOURS = env.float("SESSION_MAX_HOURS", default=10)
    # Email (feedback to referrers, notifications people chose; enquiries.mail): an SMTP relay
    # in production; the demo prints each message in the worker's output instead. The tests
    # get Django's in-memory outbox (pytest-django), or a real local SMTP server.
    EMAIL_BACKEND = env.str(
        "EMAIL_BACKEND",
        default=f"django.core.mail.backends.{'console' if DEBUG else 'smtp'}.EmailBackend",
    )
    EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
    EMAIL_PORT = env.int("EMAIL_PORT", default=25)
    EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
    EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
    EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
    # An SMTP server that does not answer fails the attempt after this long; it is retried.
    EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)
    DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="mash@localhost")
    # Where people sign in, for the links in emails: the address they use, behind any proxy.
    SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")
except (ValueError, ImproperlyConfigured) as error:
    _fail(str(error))

if not SECRET_KEY:
    if not DEBUG:
        _fail("SECRET_KEY is not set; set it, or set DEBUG=true for a local demo.")
    SECRET_KEY = "django-insecure-demo-key-used-only-when-debug-is-on"  # noqa: S105

SUPPORTED_DATABASES = {"django.db.backends.sqlite3", "django.db.backends.postgresql"}
if DATABASES["default"]["ENGINE"] not in SUPPORTED_DATABASES:
    _fail(
        "DATABASE_URL must start with postgres:// or sqlite:///, "
        f"not {env.str('DATABASE_URL').split(':', 1)[0]}://"
    )
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    # The demo's server, Celery worker and beat write to one file. WAL lets them read while
    # another writes; each transaction takes the write lock as it begins, waiting up to 20 s,
    # since one that took it only at its first write could fail at once ("database is locked")
    # rather than wait.
    sqlite_options = DATABASES["default"].setdefault("OPTIONS", {})
    sqlite_options.setdefault("init_command", "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL")
    sqlite_options.setdefault("transaction_mode", "IMMEDIATE")
    sqlite_options.setdefault("timeout", 20)
else:
    # Connections are kept for a minute and checked before each request reuses one, so a
    # database restart costs no request an error (tests/resilience/test_database.py).
    DATABASES["default"]["CONN_MAX_AGE"] = 60
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    # An unreachable database fails a page, and /healthz, in seconds rather than minutes.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("connect_timeout", 5)
    # PostgreSQL's JIT compiles any query its planner prices high, and a report over a
    # million enquiries spent 320-500 ms compiling on every run to save less (bench/reports.py).
    DATABASES["default"]["OPTIONS"].setdefault("options", "-c jit=off")

if "replica" in DATABASES:
    if DATABASES["replica"]["ENGINE"] != "django.db.backends.postgresql":
        _fail("DATABASE_REPLICA_URL must start with postgres://, like DATABASE_URL.")
    DATABASES["replica"].update(
        CONN_MAX_AGE=60,
        CONN_HEALTH_CHECKS=True,
        # A test run reads the primary's test database through it: a replica is a copy.
        TEST={"MIRROR": "default"},
    )
    DATABASES["replica"].setdefault("OPTIONS", {}).update(
        {"connect_timeout": 5, "options": "-c jit=off"}
    )
    DATABASE_ROUTERS = ["mash.db_router.ReplicaRouter"]

INSTALLED_APPS = [
    "mash.apps.MashAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "csp",
    "guardian",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "axes",
    "agencies",
    # Before auditlog, so that audit's `auditlogflush`, which refuses, replaces auditlog's.
    "audit",
    "auditlog",
    "enquiries",
    "sharing",
    "reports",
    "demo",
    # The project's own: the runtime role's grants and the check on them (mash.database_roles).
    "mash.apps.MashConfig",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Before CommonMiddleware's host check (mash.middleware.HealthCheckFirst).
    "mash.middleware.HealthCheckFirst",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "mash.middleware.NoStoreWhenSignedIn",
    "django.contrib.messages.middleware.MessageMiddleware",
    # After messages, so a session it ends can say why on the sign-in page.
    "agencies.sessions.SessionLimits",
    # Inside the header middleware, so its 413 and 400 answers carry the same headers.
    "core.limits.RequestLimits",
    # /api/v1/enquiries as /api/v1/enquiries/, rather than a redirect that loses a POST's body.
    "core.api_paths.OptionalTrailingSlash",
    "core.request_context.AuditlogMiddleware",
    # /api/ calls refused 401 count against their address; inside the request id's, so a 429
    # carries it too.
    "core.throttling.AnonymousApiThrottle",
    # Last: it turns a refused or locked-out sign-in, or release, into the lockout's 429.
    "agencies.lockout.LockoutMiddleware",
]

ROOT_URLCONF = "mash.urls"
WSGI_APPLICATION = "mash.wsgi.application"

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
                "mash.context_processors.shell",
            ],
            "libraries": {
                "audit_tables": "mash.templatetags.audit_tables",
                "govuk": "mash.templatetags.govuk",
            },
        },
    },
]

AUTH_USER_MODEL = "agencies.User"
AUTHENTICATION_BACKENDS = [
    # First, so a locked-out name or address is refused before its password is checked.
    "agencies.lockout.SignInLockout",
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
# Argon2id (agencies.hashers); PBKDF2 still reads a password set before, until its next sign-in.
PASSWORD_HASHERS = [
    "agencies.hashers.HubArgon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    # zxcvbn's estimate: keyboard walks, repeats, names and the hub's name are easy guesses.
    {"NAME": "agencies.passwords.GuessabilityValidator", "OPTIONS": {"min_score": 3}},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Lockout (agencies.lockout), counted in the "throttle" cache: 5 failed sign-ins (or passwords
# at release) for one username from one address lock that username at that address for 15
# minutes from the lockout's start; tries during it are refused unchecked and do not lengthen it.
# Past 10 failures in a row for a username from anywhere, tries for it from addresses its owner
# has not signed in from in the last 60 days are taken one at a time, 1, 2, 4 ... 60 s apart.
LOCKOUT_FAILURE_LIMIT = 5
LOCKOUT_COOLOFF = timedelta(minutes=15)
LOCKOUT_USERNAME_FAILURE_LIMIT = 10
LOCKOUT_USERNAME_MAX_WAIT_SECONDS = 60
LOCKOUT_KNOWN_ADDRESS_DAYS = 60
# django-axes counted failures before agencies.lockout; it stays installed, switched off, only
# because an early migration (agencies 0005) depends on its tables.
AXES_ENABLED = False
AXES_ENABLE_ADMIN = False
# Its checks ask for its middleware and backend, which it no longer needs.
SILENCED_SYSTEM_CHECKS = ["axes.W002", "axes.W003"]

# Two-factor (django-otp): the authenticator app's entry is named after the hub; the admin
# never shows a device's secret.
OTP_TOTP_ISSUER = HUB_NAME
OTP_ADMIN_HIDE_SENSITIVE_DATA = True

# guardian: no anonymous user row; every object permission belongs to a real person.
ANONYMOUS_USER_NAME = None

LANGUAGE_CODE = "en-gb"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(BASE_DIR / "var" / "static")))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STATICFILES_DIRS = [
    BASE_DIR / "static",
    BASE_DIR / "build" / "static",
    ("govuk", BASE_DIR / "node_modules" / "govuk-frontend" / "dist" / "govuk"),
    ("chartjs", BASE_DIR / "node_modules" / "chart.js" / "dist"),
]
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
# Tests and `runserver` read static files straight from the finders.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

if REDIS_URL:
    REDIS_CACHE = {
        # Django's Redis cache, except that Redis down or hung is a miss, not an error.
        "BACKEND": "mash.cache.SoftRedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "mash",
        "OPTIONS": {"socket_connect_timeout": REDIS_TIMEOUT, "socket_timeout": REDIS_TIMEOUT},
    }
    # The API's call counts (core.throttling) in Redis too, shared by every web worker; an
    # alias of their own, to move them to another Redis without the rest.
    CACHES = {"default": REDIS_CACHE, "throttle": REDIS_CACHE}
else:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
        "throttle": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "throttle",
        },
    }

CELERY_TASK_EAGER_PROPAGATES = True
# Beat keeps its schedules in UTC: every minute and every five minutes are the same in any
# zone, and in the hub's zone beat lost the hour the clocks go back (tests/test_beat.py).
CELERY_TIMEZONE = "UTC"
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Each task on a queue of its own kind, each queue with workers of its own (docker-compose.yml),
# so the clock's work never waits behind a long job or a slow mail relay: "clock" for what is
# due every minute (the SLA scan, escalations, chasers); "mail" for outgoing email; "long" for
# what may take minutes (walking the access log's chain, recomputing every open deadline, the
# weekly sample). Every task is named here (tests/test_celery_queues.py).
CELERY_TASK_ROUTES = {
    "enquiries.tasks.scan_sla": {"queue": "clock"},
    "enquiries.tasks.repeat_escalations": {"queue": "clock"},
    "enquiries.tasks.recompute_stale_deadlines": {"queue": "clock"},
    "sharing.tasks.chase_information_requests": {"queue": "clock"},
    "mash.tasks.watch_background": {"queue": "clock"},
    "mash.ping": {"queue": "clock"},
    "enquiries.tasks.send_email": {"queue": "mail"},
    "enquiries.tasks.recompute_open_deadlines": {"queue": "long"},
    "audit.tasks.verify_access_log": {"queue": "long"},
    "audit.tasks.add_access_log_months": {"queue": "long"},
    "reports.tasks.draw_nfa_sample": {"queue": "long"},
    "reports.tasks.keep_decisions_by_day": {"queue": "long"},
}
if REDIS_URL:
    CELERY_BROKER_URL = CELERY_RESULT_BACKEND = REDIS_URL
    # Redis stopped or hung must not hold up a save that queues a task (mash.celery.MashTask):
    # every broker and result-store command gives up after REDIS_TIMEOUT, and publishing
    # retries once, at once (a pooled connection gone stale when Redis restarted), so a hung
    # Redis costs a save about twice REDIS_TIMEOUT. Workers wait for tasks in an event loop,
    # which these timeouts do not cut short.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "socket_connect_timeout": REDIS_TIMEOUT,
        "socket_timeout": REDIS_TIMEOUT,
        "visibility_timeout": BROKER_VISIBILITY_TIMEOUT,
    }
    CELERY_TASK_PUBLISH_RETRY_POLICY = {
        "max_retries": 1,
        "interval_start": 0,
        "interval_step": 0,
        "interval_max": 0,
    }
    CELERY_REDIS_SOCKET_CONNECT_TIMEOUT = REDIS_TIMEOUT
    CELERY_REDIS_SOCKET_TIMEOUT = REDIS_TIMEOUT
else:
    # The demo's broker is a folder beside its SQLite database, so it needs no server: `make
    # demo` runs a worker and beat on it (demo/serve.py), and a task queued while none runs
    # waits there for the next. Nothing reads a task's result, so there is no result store.
    BROKER_FOLDER = (
        Path(DATABASES["default"]["NAME"]).parent
        if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3"
        else BASE_DIR / "var"
    ) / "celery"
    # kombu warns of a URL without a host, which this transport does not use.
    CELERY_BROKER_URL = "filesystem://localhost//"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_FOLDER / "queue"),
        "data_folder_out": str(BROKER_FOLDER / "queue"),
        # A message taken is moved here, on the queue's file system, in one atomic rename
        # (otherwise it is copied to /tmp); demo/serve.py empties the folder as it starts.
        "store_processed": True,
        "processed_folder": str(BROKER_FOLDER / "processed"),
        "control_folder": str(BROKER_FOLDER / "control"),
    }
    for folder in ("queue", "processed", "control"):
        (BROKER_FOLDER / folder).mkdir(parents=True, exist_ok=True)
    CELERY_BEAT_SCHEDULE_FILENAME = str(BROKER_FOLDER / "beat-schedule")
    # Remote control would poll a queue of its own in the folder, for nothing the demo uses.
    CELERY_WORKER_ENABLE_REMOTE_CONTROL = False

CELERY_BEAT_SCHEDULE = {
    # At the start of every minute, since thresholds fall on whole minutes. A scan still
    # queued when the next is due is dropped: the next one does the same work.
    "scan-sla": {
        "task": "enquiries.tasks.scan_sla",
        "schedule": crontab(minute="*"),
        "options": {"expires": 55},
    },
    # Escalations no manager has acknowledged go to the next one after the policy's minutes
    # (15 by default), at any hour; like the scan, a stale run is dropped.
    "repeat-escalations": {
        "task": "enquiries.tasks.repeat_escalations",
        "schedule": crontab(minute="*"),
        "options": {"expires": 55},
    },
    # Deadlines and due times still computed under an older clock or sharing policy (a change
    # whose recompute was cut short, or not yet queued): recomputed in batches, so they are
    # right within minutes of any fault with no one saving the clock again (enquiries.timing).
    "recompute-stale-deadlines": {
        "task": "enquiries.tasks.recompute_stale_deadlines",
        "schedule": crontab(minute="*"),
        "options": {"expires": 55},
    },
    # Chasers go out at most once per request per chase interval (an hour by default), so
    # every five minutes is prompt enough; a stale run is dropped like the scan's.
    "chase-information-requests": {
        "task": "sharing.tasks.chase_information_requests",
        "schedule": crontab(minute="*/5"),
        "options": {"expires": 270},
    },
    # The access log's hash chain, walked from the start each hour; a break is named to every
    # auditor (audit.access_log).
    "verify-access-log": {
        "task": "audit.tasks.verify_access_log",
        "schedule": crontab(minute=17),
        "options": {"expires": 3000},
    },
    # Every night: the access log's partitions for this month and the next three, made ahead
    # of the entries they will hold (audit.partitions).
    "add-access-log-months": {
        "task": "audit.tasks.add_access_log_months",
        "schedule": crontab(minute=23, hour=3),
        "options": {"expires": 3000},
    },
    # Monday mornings: last week's sample of no-further-action decisions for quality review.
    "draw-nfa-sample": {
        "task": "reports.tasks.draw_nfa_sample",
        "schedule": crontab(minute=30, hour=6, day_of_week="mon"),
        "options": {"expires": 3600},
    },
    # Hourly, off the five-minute marks: the decisions by day rebuilt if the hub's time zone
    # has none (reports.decisions); the dashboard counts from the enquiries until it has.
    "keep-decisions-by-day": {
        "task": "reports.tasks.keep_decisions_by_day",
        "schedule": crontab(minute=43),
        "options": {"expires": 3000},
    },
    # The background check (mash.health): administrators are told when it has failed for
    # five minutes, and when it recovers. A stale run is dropped like the scan's.
    "watch-background": {
        "task": "mash.tasks.watch_background",
        "schedule": crontab(minute="*"),
        "options": {"expires": 55},
    },
}

REST_FRAMEWORK = {
    # Token first, so an unauthenticated call is answered 401 with `WWW-Authenticate: Token`.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "agencies.authentication.ApiTokenAuthentication",
        "agencies.authentication.VerifiedSessionAuthentication",
    ],
    # Closed by default: signed in and holding a role in the hub; endpoints narrow it further.
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.IsAuthenticated",
        "agencies.permissions.HoldsAHubRole",
    ],
    # Per person, or per address without credentials (core.throttling.AnonymousApiThrottle
    # counts the calls refused for want of them), atomically in the "throttle" cache (Redis).
    "DEFAULT_THROTTLE_CLASSES": [
        "core.throttling.PersonRateThrottle",
        "core.throttling.AddressRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {"user": API_USER_RATE, "anon": API_ANON_RATE},
    # JSON only: the docs page at /api/docs/ is the place to explore the API in a browser.
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["core.limits.JSONParser"],
    "DEFAULT_PAGINATION_CLASS": "core.api.Pagination",
    "PAGE_SIZE": 50,
    # The schema as the contract: every error with its body, closed request bodies (core.schema).
    "DEFAULT_SCHEMA_CLASS": "core.schema.ContractSchema",
    "EXCEPTION_HANDLER": "core.api.exception_handler",
    # Errors in a list are keyed by index ({"subjects": {"1": {...}}}), DRF 3.20's only form.
    "LIST_SERIALIZER_ERRORS_AS_DICT": True,
}
SPECTACULAR_SETTINGS = {
    "TITLE": f"{HUB_NAME} API",
    "DESCRIPTION": (
        "Enquiries at the hub's front door: list, read, log, rate, move, assign, escalate, "
        "decide and record feedback; information requests to agencies, their records, and "
        "the release or refusal of sensitive records behind the firewall; through the same "
        "rules as the pages. Sign in (session, with the CSRF token on writes) or send "
        "`Authorization: Token <key>`."
    ),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": [
        "rest_framework.permissions.IsAuthenticated",
        "agencies.permissions.HoldsAHubRole",
    ],
    # Swagger UI and Redoc from our own static files: no CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/v[0-9]+",
    # No deep links: Swagger UI puts each one inside its operation's button (axe's
    # nested-interactive, issue 22).
    "SWAGGER_UI_SETTINGS": {"deepLinking": False, "validatorUrl": None},
    "ENUM_NAME_OVERRIDES": {
        "EnquiryStateEnum": "enquiries.models.Enquiry.State",
        "RatingEnum": "enquiries.models.Rag",
        "InformationRequestStatusEnum": "sharing.models.InformationRequest.Status",
        "InformationRequestActionEnum": "sharing.api.serializers.REQUEST_ACTIONS",
        "InformationRecordActionEnum": "sharing.api.serializers.RECORD_ACTION_NAMES",
        "EnquiryLawfulBasisEnum": "enquiries.models.LawfulBasis",
        "AddablePartEnum": "enquiries.amendments.ADDABLE_ROLE_CHOICES",
        "EnquiryPersonRoleEnum": "enquiries.models.EnquiryPerson.Role",
        "OutgoingEmailStatusEnum": "enquiries.models.OutgoingEmail.Status",
        "NotificationPartEnum": "sharing.models.DomesticAbuseNotification.Part",
    },
}

AUDITLOG_INCLUDE_ALL_MODELS = False
# Masked fields keep nothing of their text (auditlog's default keeps half).
AUDITLOG_MASK_CALLABLE = "core.request_context.withhold"

# A session lasts while the browser is open, ends after SESSION_IDLE_MINUTES without a request
# and SESSION_MAX_HOURS after sign-in (agencies.sessions.SessionLimits); the database forgets it
# a minute after it went idle.
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_AGE = SESSION_IDLE_MINUTES * 60 + 60
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = SECURE_COOKIES
# With `Secure`, the `__Host-` prefix: the browser keeps such a cookie only if it came over
# https with Path=/ and no Domain, so neither a sibling subdomain nor a plain-http page can set
# or overwrite it. Over plain http (the demo) a browser would refuse it: the plain names.
SESSION_COOKIE_NAME = "__Host-sessionid" if SECURE_COOKIES else "sessionid"
SESSION_COOKIE_PATH = "/"
SESSION_COOKIE_DOMAIN = None
# No script reads the CSRF cookie: forms carry the token and the API docs get it in their script.
CSRF_COOKIE_HTTPONLY = True
CSRF_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SECURE = SECURE_COOKIES
CSRF_COOKIE_NAME = "__Host-csrftoken" if SECURE_COOKIES else "csrftoken"
CSRF_COOKIE_PATH = "/"
CSRF_COOKIE_DOMAIN = None
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
# The compose health check and load balancers call the health checks over plain http inside
# the network.
SECURE_REDIRECT_EXEMPT = [r"^healthz(/live|/ready|/background)?$"]
if PROXY_SSL_HEADER:
    SECURE_PROXY_SSL_HEADER = (f"HTTP_{PROXY_SSL_HEADER.upper().replace('-', '_')}", "https")
if not SECURE_HSTS_PRELOAD:
    # A deliberate choice, documented in docs/operations.md: not a deployment mistake to report.
    SILENCED_SYSTEM_CHECKS.append("security.W021")

# django-csp 4 until Django 6.0 (which needs Python 3.12). The directives map 1:1 to Django 6's
# SECURE_CSP = {"default-src": [CSP.SELF], "object-src": [CSP.NONE], ...} with its
# ContentSecurityPolicyMiddleware. No inline scripts or styles anywhere (a test reads every
# template); one that truly needs an inline script gives it nonce="{{ request.csp_nonce }}"
# (Django 6: {{ csp_nonce }}) and NONCE joins script-src here.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "frame-ancestors": [NONE],
    }
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    # WeasyPrint tells each step of drawing a PDF at INFO (sharing.picture); warnings still show.
    "loggers": {"weasyprint": {"level": "WARNING"}},
}
