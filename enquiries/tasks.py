from dataclasses import asdict

from celery import shared_task

from .services import enquiry_recompute_timings
from .sla_scan import record_sla_events


@shared_task(acks_late=True)
def recompute_open_deadlines() -> int:
    """After a calendar or policy change: every open enquiry's deadline under the new clock."""
    return enquiry_recompute_timings()


@shared_task(acks_late=True)
def scan_sla() -> dict[str, int]:
    """Every minute (beat): record enquiries newly at risk or breached and notify; a repeat or
    a twin on another worker records and notifies nothing more."""
    return asdict(record_sla_events())
