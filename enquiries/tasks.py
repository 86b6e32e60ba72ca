from dataclasses import asdict

from celery import shared_task

from .models import Heartbeat
from .services import enquiry_recompute_timings
from .sla_scan import record_sla_events


# No scheduled run would redo this if it could not be queued, so the save runs it itself.
@shared_task(acks_late=True, run_here_if_queue_down=True)
def recompute_open_deadlines() -> int:
    """After a calendar or policy change: every open enquiry's deadline under the new clock."""
    return enquiry_recompute_timings()


@shared_task(acks_late=True)
def scan_sla() -> dict[str, int]:
    """Every minute (beat): record enquiries newly at risk or breached and notify; a repeat or
    a twin on another worker records and notifies nothing more. Each completed scan is the
    heartbeat /healthz reports."""
    result = record_sla_events()
    Heartbeat.record(scan_sla.name)
    return asdict(result)
