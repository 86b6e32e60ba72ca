"""The Celery application: configured from Django settings (CELERY_*), tasks found per app."""

import functools
import logging
import os

from celery import Celery
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


app = Celery("mash", task_cls=MashTask)
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.task(name="mash.ping")
def ping(value: str) -> dict[str, str]:
    """Round-trip check for a broker and a worker: echoes `value` with the worker's name."""
    return {"echo": value, "worker": ping.request.hostname or "eager"}
