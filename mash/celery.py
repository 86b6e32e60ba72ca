"""The Celery application: configured from Django settings (CELERY_*), tasks found per app."""

import functools
import logging
import os
import time

import redis
from celery import Celery, bootsteps
from celery.contrib.django.task import DjangoTask
from django.db import transaction

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mash.settings")

logger = logging.getLogger(__name__)


class MashTask(DjangoTask):
    """Every mash task. A save queues its follow-up work after its commit (`delay_on_commit`),
    and a broker that is down or hung never turns that committed save into an error page: the
    failure is logged and the work waits for its next scheduled run (the SLA scan and the
    chaser are idempotent and catch up), or, for a task that has no scheduled run
    (`run_here_if_queue_down`), runs in this process at once."""

    run_here_if_queue_down = False

    def delay_on_commit(self, *args, **kwargs) -> None:
        self.apply_async_on_commit(args, kwargs)

    def apply_async_on_commit(self, args=None, kwargs=None, **options) -> None:
        transaction.on_commit(
            functools.partial(self._queue_softly, tuple(args or ()), dict(kwargs or {}), options)
        )

    def _queue_softly(self, args: tuple, kwargs: dict, options: dict) -> None:
        try:
            # Nobody waits for the result of work queued after a response; not asking for
            # one also spares the publisher a connection to the result store.
            self.apply_async(args, kwargs, ignore_result=True, **options)
        except Exception:  # noqa: BLE001 - whatever the broker did, the save has committed
            if not self.run_here_if_queue_down:
                logger.exception(
                    "Could not queue %s; the next scheduled run will catch up", self.name
                )
                return
            logger.exception("Could not queue %s; running it here instead", self.name)
            result = self.apply(args, kwargs, throw=False)
            if result.failed():
                logger.error("%s failed here too: %r", self.name, result.result)


# A sorted set in Redis: each worker's name, scored by when it last said it was alive.
WORKER_HEARTBEATS = "mash:worker-heartbeats"
WORKER_HEARTBEAT_SECONDS = 30
# A worker silent for three heartbeats is taken for gone (mash.health.workers_check).
WORKER_HEARTBEAT_EXPIRES = 3 * WORKER_HEARTBEAT_SECONDS


class WorkerHeartbeat(bootsteps.StartStopStep):
    """Each worker notes in Redis every WORKER_HEARTBEAT_SECONDS that it is alive, for
    /healthz/background. Celery's own heartbeats are events, sent only by workers started
    with events on, and read only by listening for them; this is one write, and one read.
    Runs on the worker's timer, in its main process, so a worker whose main process is stuck
    or killed goes silent even if its pool lives on."""

    requires = {"celery.worker.components:Timer"}

    def __init__(self, worker, **kwargs) -> None:
        super().__init__(worker, **kwargs)
        self.timer_ref = None
        self.client: redis.Redis | None = None

    def start(self, worker) -> None:
        from django.conf import settings

        if not settings.REDIS_URL:
            return  # the demo's folder broker: nothing reads heartbeats there
        self.client = redis.Redis.from_url(
            settings.REDIS_URL,
            socket_connect_timeout=settings.REDIS_TIMEOUT,
            socket_timeout=settings.REDIS_TIMEOUT,
        )
        self.beat(worker.hostname)
        self.timer_ref = worker.timer.call_repeatedly(
            WORKER_HEARTBEAT_SECONDS, self.beat, (worker.hostname,)
        )

    def beat(self, hostname: str) -> None:
        if self.client is None:
            return
        now = time.time()
        try:
            with self.client.pipeline() as pipe:
                pipe.zadd(WORKER_HEARTBEATS, {hostname: now})
                # Workers gone an hour or more (replaced containers) drop out of the set.
                pipe.zremrangebyscore(WORKER_HEARTBEATS, "-inf", now - 3600)
                pipe.execute()
        except redis.RedisError:
            # Redis down is reported by the health check itself; the next beat tries again.
            logger.debug("Could not record this worker's heartbeat", exc_info=True)

    def stop(self, worker) -> None:
        if self.timer_ref is not None:
            worker.timer.cancel(self.timer_ref)
            self.timer_ref = None
        if self.client is not None:
            try:
                self.client.zrem(WORKER_HEARTBEATS, worker.hostname)
            except redis.RedisError:
                pass  # it drops out of the check after WORKER_HEARTBEAT_EXPIRES anyway
            self.client.close()
            self.client = None

    shutdown = stop


app = Celery("mash", task_cls=MashTask)
app.config_from_object("django.conf:settings", namespace="CELERY")
app.steps["worker"].add(WorkerHeartbeat)
app.autodiscover_tasks()


@app.task(name="mash.ping")
def ping(value: str) -> dict[str, str]:
    """Round-trip check for a broker and a worker: echoes `value` with the worker's name."""
    return {"echo": value, "worker": ping.request.hostname or "eager"}
