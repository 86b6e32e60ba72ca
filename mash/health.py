"""Health, in parts that mean different things, so that a fault only the background has never
takes a web node out of service (docs/operations.md "Health and faults"):

- **live** (`/healthz/live`): the process answers. No I/O.
- **ready** (`/healthz/ready`): the database answers a trivial query within
  HEALTH_READY_TIMEOUT_SECONDS. Without it no page works, so this is what a load balancer and
  compose's web health check use.
- **background** (`/healthz/background`): Redis, the age of the per-minute SLA scan, the
  workers' heartbeats, open deadlines behind the hub clock (enquiries.timing), and whatever
  else is named in BACKGROUND_CHECKS. For monitoring: pages and saves keep working while
  these fail. `watch` keeps track of a failure between runs (a beat job each minute, and each
  call of the endpoint) and tells the administrators once it has lasted ALERT_AFTER, and
  again when it is over.
- `/healthz`, the combined check as it always was, for monitors that read it: 503 for the
  database or Redis down or the scan late. Not for a load balancer.

No sign-in and no case data. Each check gives up within seconds (REDIS_TIMEOUT, the database's
connect_timeout and the readiness probe's own timeout).
"""

import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import redis
from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from enquiries.models import BackgroundHealth, Heartbeat, Notification
from enquiries.notifications import (
    background_fault_message,
    background_recovered_message,
    notify_administrators,
)
from enquiries.timing import behind_count

from .celery import WORKER_HEARTBEAT_EXPIRES, WORKER_HEARTBEATS

# The per-minute scan is the beat schedule's pulse: if it stops, breaches go unrecorded.
BEAT_TASK = "enquiries.tasks.scan_sla"

OK, DOWN, NOT_CONFIGURED = "ok", "down", "not configured"
LATE, NEVER_RUN, UNKNOWN, BEHIND = "late", "never run", "unknown", "behind"
NOT_ANSWERING, NONE, ERROR = "not answering", "none", "error"

# How long the background check must stay bad before the administrators are told: long enough
# for a Redis restart or a worker's redeploy to pass unremarked.
ALERT_AFTER = timedelta(minutes=5)


# Live and ready.


def live() -> dict[str, str]:
    """The process answers: nothing is asked of the database or Redis."""
    return {"status": OK}


# One thread per process asks the database, so that a database that accepts a connection and
# never answers costs the caller HEALTH_READY_TIMEOUT_SECONDS, not however long TCP waits; a
# probe still waiting when the next comes makes that one fail at once, rather than queue.
_probe = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mash-ready")
_probe_lock = threading.Lock()
_probe_pending: Future | None = None


def _select_one() -> None:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    finally:
        # A connection of its own each time: the next probe tests connecting too, and none
        # is left open in this thread.
        connection.close()


def ready() -> dict[str, object]:
    """Whether the database answers `SELECT 1` within HEALTH_READY_TIMEOUT_SECONDS."""
    global _probe_pending
    timeout = settings.HEALTH_READY_TIMEOUT_SECONDS
    with _probe_lock:
        if _probe_pending is not None and not _probe_pending.done():
            return {"database": NOT_ANSWERING, "timeout_seconds": timeout}
        _probe_pending = probe = _probe.submit(_select_one)
    try:
        probe.result(timeout=timeout)
    except TimeoutError:
        database = NOT_ANSWERING
    except Exception:  # noqa: BLE001 - whatever the database said, it is not ready
        database = DOWN
    else:
        database = OK
    return {"database": database, "timeout_seconds": timeout}


def is_ready(answer: dict[str, object]) -> bool:
    return answer["database"] == OK


# The background.


@dataclass(frozen=True)
class Finding:
    """One background check's answer: a status word, whether it is fine, and any figures."""

    status: str
    ok: bool
    details: dict[str, object] = field(default_factory=dict)

    def as_json(self) -> dict[str, object]:
        return {"status": self.status, **self.details}


def _redis_client() -> redis.Redis:
    # Its own short-lived client: the cache forgives Redis being down, this must notice it.
    return redis.Redis.from_url(
        settings.REDIS_URL,
        socket_connect_timeout=settings.REDIS_TIMEOUT,
        socket_timeout=settings.REDIS_TIMEOUT,
        decode_responses=True,
    )


def _redis() -> str:
    if not settings.REDIS_URL:
        return NOT_CONFIGURED  # the demo, whose broker is a folder (docs/operations.md)
    client = _redis_client()
    try:
        client.ping()
    except redis.RedisError:
        return DOWN
    finally:
        client.close()
    return OK


def _beat_age(now: datetime) -> int | None:
    """Seconds since the last scan finished; None if it never has. Raises DatabaseError."""
    last = Heartbeat.objects.filter(task=BEAT_TASK).values_list("finished_at", flat=True)
    finished_at = last.first()
    return None if finished_at is None else max(int((now - finished_at).total_seconds()), 0)


def _beat_status(age: int | None) -> str:
    if age is None:
        return NEVER_RUN  # a fresh install, before beat's first minute: reported, not failed
    return LATE if age > settings.HEALTH_MAX_BEAT_AGE_SECONDS else OK


def redis_check(now: datetime) -> Finding:
    status = _redis()
    return Finding(status, status != DOWN)


def beat_check(now: datetime) -> Finding:
    """How long ago the per-minute SLA scan finished: beat sent it and a worker ran it. Kept
    in the database, so that while Redis is down the age is still known, and growing."""
    try:
        age = _beat_age(now)
    except DatabaseError:
        return Finding(UNKNOWN, False, {"age_seconds": None})
    status = _beat_status(age)
    return Finding(
        status,
        status != LATE,
        {"age_seconds": age, "max_age_seconds": settings.HEALTH_MAX_BEAT_AGE_SECONDS},
    )


def workers_check(now: datetime) -> Finding:
    """The workers whose heartbeat (mash.celery.WorkerHeartbeat, every 30 s) is recent: none
    means the queue is not being worked, whatever beat sends."""
    if not settings.REDIS_URL:
        return Finding(NOT_CONFIGURED, True)  # the demo's workers write no heartbeat
    client = _redis_client()
    try:
        since = now.timestamp() - WORKER_HEARTBEAT_EXPIRES
        alive = sorted(str(name) for name in client.zrangebyscore(WORKER_HEARTBEATS, since, "+inf"))
    except redis.RedisError:
        return Finding(UNKNOWN, False, {"alive": []})
    finally:
        client.close()
    return Finding(OK if alive else NONE, bool(alive), {"alive": alive})


def timing_check(now: datetime) -> Finding:
    """Open enquiries and requests whose stored deadlines were worked out under an older hub
    clock or sharing policy (enquiries.timing). A change leaves some behind for the minute
    until the catch-up job runs; still behind five minutes on, the job is not running."""
    behind = behind_count()
    return Finding(OK if not behind.total else BEHIND, not behind.total, {"behind": behind.counts})


BackgroundCheck = Callable[[datetime], Finding]

# The background's checks by name, in the order shown. Each takes the time of the run, gives up
# within seconds and answers a Finding; one that raises is reported as "error", and fails. A
# new check is one entry here: the endpoint, the watch and the alert all take it up.
BACKGROUND_CHECKS: dict[str, BackgroundCheck] = {
    "redis": redis_check,
    "beat": beat_check,
    "workers": workers_check,
    "timing": timing_check,
}


@dataclass(frozen=True)
class Background:
    checked_at: datetime
    findings: dict[str, Finding]

    @property
    def healthy(self) -> bool:
        return all(finding.ok for finding in self.findings.values())

    @property
    def failing(self) -> list[str]:
        """The failing checks, as "beat late", for a message."""
        return [f"{name} {f.status}" for name, f in self.findings.items() if not f.ok]

    def as_json(self) -> dict[str, object]:
        return {
            "healthy": self.healthy,
            "checks": {name: finding.as_json() for name, finding in self.findings.items()},
        }


def background(
    *, now: datetime | None = None, checks: dict[str, BackgroundCheck] | None = None
) -> Background:
    now = now or timezone.now()
    findings = {}
    for name, check in (BACKGROUND_CHECKS if checks is None else checks).items():
        try:
            findings[name] = check(now)
        except Exception as error:  # noqa: BLE001 - a broken check fails, it does not 500
            findings[name] = Finding(ERROR, False, {"error": type(error).__name__})
    return Background(checked_at=now, findings=findings)


def watch(report: Background) -> BackgroundHealth:
    """Note where the background stands, and tell the administrators (in-app, and by email
    unless they chose otherwise) once a failure has lasted ALERT_AFTER, and when it is over:
    once each, however many runs, web nodes and beats look (the row is locked)."""
    now = report.checked_at
    with transaction.atomic():
        BackgroundHealth.objects.get_or_create(pk=1)
        state = BackgroundHealth.objects.select_for_update().get(pk=1)
        if report.healthy:
            if state.alerted_at is not None:
                notify_administrators(
                    kind=Notification.Kind.BACKGROUND_RECOVERED,
                    message=background_recovered_message(
                        since=state.bad_since or state.alerted_at, at=now
                    ),
                    now=now,
                )
            state.bad_since = state.alerted_at = None
        else:
            state.bad_since = state.bad_since or now
            if state.alerted_at is None and now - state.bad_since >= ALERT_AFTER:
                notify_administrators(
                    kind=Notification.Kind.BACKGROUND_FAULT,
                    message=background_fault_message(since=state.bad_since, failing=report.failing),
                    now=now,
                )
                state.alerted_at = now
        state.checked_at = now
        state.save(update_fields=["bad_since", "alerted_at", "checked_at"])
    return state


# /healthz, as it always was.


@dataclass(frozen=True)
class Health:
    database: str
    redis: str
    beat: str
    beat_age_seconds: int | None

    @property
    def healthy(self) -> bool:
        """The database or Redis is down, or the scan has not run for longer than
        HEALTH_MAX_BEAT_AGE_SECONDS. A scan that has never run is reported, not failed."""
        return DOWN not in (self.database, self.redis) and self.beat != LATE

    def as_json(self) -> dict:
        return {
            "database": self.database,
            "redis": self.redis,
            "beat": self.beat,
            "beat_age_seconds": self.beat_age_seconds,
            "beat_max_age_seconds": settings.HEALTH_MAX_BEAT_AGE_SECONDS,
        }


def check() -> Health:
    """Every check of /healthz, in one database query and one Redis round trip."""
    try:
        age = _beat_age(timezone.now())
    except DatabaseError:
        database, beat = DOWN, UNKNOWN
        age = None
    else:
        database, beat = OK, _beat_status(age)
    return Health(database=database, redis=_redis(), beat=beat, beat_age_seconds=age)
