from celery import shared_task

from . import health


@shared_task(acks_late=True)
def watch_background() -> dict[str, object]:
    """Every minute (beat): the background check (mash.health), and the administrators told
    once it has failed for five minutes, and when it recovers."""
    report = health.background()
    health.watch(report)
    return report.as_json()
