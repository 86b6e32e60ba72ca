from dataclasses import asdict

from celery import shared_task

from .escalations import escalations_repeat
from .mail import email_deliver
from .models import Heartbeat, OutgoingEmail
from .sla_scan import record_sla_events
from .timing import recompute_behind


# Queued by a change of the clock or the sharing policy, so the new deadlines start at once.
# If the queue cannot take it, nothing runs it here: a web request never waits for every open
# enquiry, and `recompute_stale_deadlines` does the same within the minute.
@shared_task(acks_late=True)
def recompute_open_deadlines() -> dict[str, int]:
    """After a calendar or policy change: every open enquiry's deadline, and every open
    information request's due time, under the new clock and policy (enquiries.timing)."""
    return recompute_behind()


@shared_task(acks_late=True)
def recompute_stale_deadlines() -> dict[str, int]:
    """Every minute (beat): whatever stored timing is still behind the clock or policy in
    force, after a change whose recompute was cut short (a worker killed, Redis down) or has
    not started; nothing when none is."""
    return recompute_behind()


@shared_task(acks_late=True)
def scan_sla() -> dict[str, int]:
    """Every minute (beat): record enquiries newly at risk or breached and notify; a repeat or
    a twin on another worker records and notifies nothing more. Each completed scan is the
    heartbeat /healthz reports."""
    result = record_sla_events()
    Heartbeat.record(scan_sla.name)
    return asdict(result)


@shared_task(acks_late=True)
def repeat_escalations() -> dict[str, int]:
    """Every minute (beat), at any hour: each escalation no manager has acknowledged within
    the policy's minutes goes to the next manager; a repeat run, or a twin on another worker,
    sends nothing more."""
    return asdict(escalations_repeat())


# Waits before each retry of an email that could not be sent: about four hours in all.
EMAIL_RETRY_WAITS = (60, 300, 900, 3600, 3 * 3600)


# If the queue cannot take it, the saving process sends it itself: nothing else would.
@shared_task(
    bind=True,
    acks_late=True,
    max_retries=len(EMAIL_RETRY_WAITS),
    run_here_if_queue_down=True,
)
def send_email(self, email_id: int) -> object:
    """Send one queued email (enquiries.mail); one already sent is not sent again. A failure
    is retried after each of `EMAIL_RETRY_WAITS`, and after the last one it stays failed."""
    retries = self.request.retries
    status = email_deliver(email_id=email_id, final=retries >= len(EMAIL_RETRY_WAITS))
    if status == OutgoingEmail.Status.QUEUED:
        if self.request.is_eager:
            # Run here (tests, or a queue that was down): Celery retries what is returned at
            # once, where a raised retry would be an error to the caller.
            return self.retry(countdown=EMAIL_RETRY_WAITS[retries], throw=False)
        raise self.retry(countdown=EMAIL_RETRY_WAITS[retries])
    return status
