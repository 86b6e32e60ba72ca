from celery import shared_task

from .access_log import check_access_log


@shared_task(acks_late=True)
def verify_access_log() -> int | None:
    """Every hour (beat): walk the access log's chain; a break is named to every auditor.
    Returns the first broken entry's id, or None."""
    link = check_access_log()
    return link.entry_id if link is not None else None
