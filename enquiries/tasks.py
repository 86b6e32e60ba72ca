from celery import shared_task

from .services import enquiry_recompute_timings


@shared_task(acks_late=True)
def recompute_open_deadlines() -> int:
    """After a calendar or policy change: every open enquiry's deadline under the new clock."""
    return enquiry_recompute_timings()
