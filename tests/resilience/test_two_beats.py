"""Two beat schedulers by mistake: every minute's scan is sent twice and both copies run at the
same moment on different connections. Each event is still recorded, and told, once."""

import threading
from datetime import timedelta

from django.db import connections
from django.utils import timezone

from agencies.models import Role
from enquiries.models import Enquiry, Heartbeat, Notification, SlaEvent
from enquiries.tasks import scan_sla
from tests.enquiries.test_sla_scan import log_red

BEATS = 2
MINUTES = 3


def scan_together(count: int) -> list[dict]:
    """`count` scans released at the same instant, each in its own thread and connection."""
    start = threading.Barrier(count)
    results: list[dict] = []

    def run() -> None:
        try:
            start.wait(timeout=10)
            # Not celery's check against waiting inside a task: `apply` marks a task running
            # for the whole process, not the thread, so the twin's result looked like one.
            results.append(scan_sla.apply(throw=True).get(disable_sync_subtasks=False))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)
    assert len(results) == count
    return results


def test_scans_sent_twice_each_minute_record_and_tell_each_event_once(migration_data, make_user):
    researcher = make_user(Role.RESEARCHER, username="rosa")
    make_user(Role.MANAGER, username="mina")
    now = timezone.now()
    enquiries = log_red(
        researcher, "Ann", "Bea", "Cal", assignee=researcher, received_at=now - timedelta(hours=1)
    )
    for enquiry, breached in zip(enquiries, (False, True, True), strict=True):
        Enquiry.objects.filter(pk=enquiry.pk).update(
            at_risk_from=now - timedelta(minutes=30),
            breached_from=now - timedelta(minutes=1) if breached else now + timedelta(days=1),
        )

    results = [result for _ in range(MINUTES) for result in scan_together(BEATS)]

    assert sum(result["at_risk"] for result in results) == 1
    assert sum(result["breached"] for result in results) == 2
    assert SlaEvent.objects.count() == 3
    told = list(Notification.objects.values_list("recipient_id", "sla_event_id"))
    assert len(told) == len(set(told)) == 5  # rosa of all three, mina of the two breaches
    assert Heartbeat.objects.count() == 1
