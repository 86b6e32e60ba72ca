from celery import shared_task

from .access_log import check_access_log
from .chasing import chase_overdue_requests


@shared_task(acks_late=True)
def chase_information_requests() -> int:
    """Every five minutes (beat): chase overdue information requests; a repeat or a twin on
    another worker within the chase interval chases nothing more."""
    return chase_overdue_requests()


@shared_task(acks_late=True)
def verify_access_log() -> int | None:
    """Every hour (beat): walk the access log's chain; a break is named to every auditor.
    Returns the first broken entry's id, or None."""
    link = check_access_log()
    return link.entry_id if link is not None else None
