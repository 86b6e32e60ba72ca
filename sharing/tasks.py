from celery import shared_task

from .chasing import chase_overdue_requests


@shared_task(acks_late=True)
def chase_information_requests() -> int:
    """Every five minutes (beat): chase overdue information requests; a repeat or a twin on
    another worker within the chase interval chases nothing more."""
    return chase_overdue_requests()
