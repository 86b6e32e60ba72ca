"""The Celery application: configured from Django settings (CELERY_*), tasks found per app."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mash.settings")

app = Celery("mash")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.task(name="mash.ping")
def ping(value: str) -> dict[str, str]:
    """Round-trip check for a broker and a worker: echoes `value` with the worker's name."""
    return {"echo": value, "worker": ping.request.hostname or "eager"}
