"""What /healthz reports: the database, Redis and how long ago the scheduled SLA scan last ran
(with or without Redis: the demo runs beat on its folder broker too).

For compose health checks and a load balancer, so no sign-in and no case data. Each check
gives up within seconds (DATABASES connect_timeout, REDIS_TIMEOUT), so a hung service makes
the answer "down" rather than making the load balancer's request time out.
"""

from dataclasses import dataclass

import redis
from django.conf import settings
from django.db import DatabaseError
from django.utils import timezone

from enquiries.models import Heartbeat

# The per-minute scan is the beat schedule's pulse: if it stops, breaches go unrecorded.
BEAT_TASK = "enquiries.tasks.scan_sla"

OK, DOWN, NOT_CONFIGURED = "ok", "down", "not configured"
LATE, NEVER_RUN, UNKNOWN = "late", "never run", "unknown"


@dataclass(frozen=True)
class Health:
    database: str
    redis: str
    beat: str
    beat_age_seconds: int | None

    @property
    def healthy(self) -> bool:
        """A load balancer should stop sending work here: the database or Redis is down, or
        the scan has not run for longer than HEALTH_MAX_BEAT_AGE_SECONDS. A scan that has
        never run (a fresh install, before beat's first minute) is reported, not failed."""
        return DOWN not in (self.database, self.redis) and self.beat != LATE

    def as_json(self) -> dict:
        return {
            "database": self.database,
            "redis": self.redis,
            "beat": self.beat,
            "beat_age_seconds": self.beat_age_seconds,
            "beat_max_age_seconds": settings.HEALTH_MAX_BEAT_AGE_SECONDS,
        }


def _redis() -> str:
    if not settings.REDIS_URL:
        return NOT_CONFIGURED  # the demo, whose broker is a folder (docs/operations.md)
    # Its own short-lived client: the cache forgives Redis being down, this must notice it.
    client = redis.Redis.from_url(
        settings.REDIS_URL,
        socket_connect_timeout=settings.REDIS_TIMEOUT,
        socket_timeout=settings.REDIS_TIMEOUT,
    )
    try:
        client.ping()
    except redis.RedisError:
        return DOWN
    finally:
        client.close()
    return OK


def check() -> Health:
    """Every check, in one database query and one Redis round trip."""
    now = timezone.now()
    try:
        last = Heartbeat.objects.filter(task=BEAT_TASK).values_list("finished_at", flat=True)
        finished_at = last.first()
    except DatabaseError:
        database, beat, age = DOWN, UNKNOWN, None
    else:
        database = OK
        age = None if finished_at is None else max(int((now - finished_at).total_seconds()), 0)
        if age is None:
            beat = NEVER_RUN
        else:
            beat = LATE if age > settings.HEALTH_MAX_BEAT_AGE_SECONDS else OK
    return Health(database=database, redis=_redis(), beat=beat, beat_age_seconds=age)
