"""A real Celery worker, started as its own process against the test Redis, runs a task."""

import uuid

import pytest
from django.utils import timezone

from enquiries.models import OutgoingEmail
from enquiries.tasks import send_email
from mash.celery import app, ping
from tests.enquiries.test_mail import Inbox, free_port
from tests.workers import start_worker, stop


@pytest.fixture
def worker_queue():
    """A worker listening on a queue of its own, so no other worker can take the task."""
    queue = f"smoke-{uuid.uuid4().hex[:8]}"
    process = start_worker(queue, queue)
    try:
        yield queue
    finally:
        stop(process)


@pytest.mark.worker
def test_a_real_worker_runs_a_task_sent_through_redis(worker_queue):
    assert not app.conf.task_always_eager
    assert app.conf.broker_url.startswith("redis://")

    result = ping.apply_async(args=["hello"], queue=worker_queue)

    outcome = result.get(timeout=60)
    assert outcome["echo"] == "hello"
    assert outcome["worker"].startswith(f"{worker_queue}@")


@pytest.mark.worker
def test_a_real_worker_sends_a_queued_email_through_a_real_smtp_server(transactional_db):
    from aiosmtpd.controller import Controller

    inbox = Inbox()
    server = Controller(inbox, hostname="127.0.0.1", port=free_port())
    server.start()
    email = OutgoingEmail.objects.create(
        kind=OutgoingEmail.Kind.FEEDBACK,
        to_address="head@oak-primary.example.org",
        subject="Your referral to Countyshire MASH: MASH-2026-000001",
        body="No further action.\n",
        queued_at=timezone.now(),
    )
    queue = f"mail-{uuid.uuid4().hex[:8]}"
    # The worker reads the mail settings from its environment, as in production.
    worker = start_worker(
        queue,
        queue,
        env={
            "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "EMAIL_HOST": "127.0.0.1",
            "EMAIL_PORT": str(server.port),
        },
    )
    try:
        outcome = send_email.apply_async(args=[email.pk], queue=queue).get(timeout=60)
    finally:
        stop(worker)
        server.stop()

    assert outcome == OutgoingEmail.Status.SENT
    ((recipients, message),) = inbox.messages
    assert recipients == ["head@oak-primary.example.org"]
    assert message["Subject"] == "Your referral to Countyshire MASH: MASH-2026-000001"
    email.refresh_from_db()
    assert (email.status, email.attempts) == (OutgoingEmail.Status.SENT, 1)
