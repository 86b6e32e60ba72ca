from celery import shared_task
from django.utils import timezone

from . import partitions
from .access_log import check_access_log


@shared_task(acks_late=True)
def verify_access_log() -> int | None:
    """Every hour (beat): walk the access log's chain; a break is named to every auditor.
    Returns the first broken entry's id, or None."""
    link = check_access_log()
    return link.entry_id if link is not None else None


@shared_task(acks_late=True)
def add_access_log_months() -> int:
    """Every day (beat): make this month's access log partition and the next ones', so
    entries never wait in the DEFAULT partition (audit.partitions). Returns how many were
    made; idempotent, so a missed day is caught up by the next."""
    return partitions.add_months_ahead(timezone.now().date())
