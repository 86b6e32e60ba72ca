"""Every task goes to the queue of its kind (mash.settings CELERY_TASK_ROUTES), so a long job
or a slow mail relay never delays the SLA scan (issue 23)."""

import pytest
from django.conf import settings

from mash.celery import app

CLOCK = {
    "enquiries.tasks.scan_sla",
    "enquiries.tasks.repeat_escalations",
    "enquiries.tasks.recompute_stale_deadlines",
    "sharing.tasks.chase_information_requests",
    "mash.tasks.watch_background",
    "mash.ping",
}
LONG = {
    "enquiries.tasks.recompute_open_deadlines",
    "audit.tasks.verify_access_log",
    "audit.tasks.add_access_log_months",
    "reports.tasks.draw_nfa_sample",
    "reports.tasks.keep_decisions_by_day",
}


def the_apps_tasks() -> set[str]:
    app.loader.import_default_modules()
    return {name for name in app.tasks if not name.startswith("celery.")}


def queue_of(name: str) -> str:
    return app.amqp.router.route({}, name)["queue"].name


def test_every_task_of_the_app_has_a_declared_queue():
    assert the_apps_tasks() == set(settings.CELERY_TASK_ROUTES)


@pytest.mark.parametrize("name", sorted(CLOCK))
def test_what_is_due_every_minute_goes_to_the_clock_queue(name):
    assert queue_of(name) == "clock"


@pytest.mark.parametrize("name", sorted(LONG))
def test_what_may_take_minutes_goes_to_the_long_queue(name):
    assert queue_of(name) == "long"


def test_mail_goes_to_a_queue_of_its_own():
    assert queue_of("enquiries.tasks.send_email") == "mail"
    assert {queue_of(name) for name in the_apps_tasks()} == {"clock", "mail", "long"}


def test_every_beat_entry_goes_to_the_queue_its_task_is_routed_to():
    for entry in settings.CELERY_BEAT_SCHEDULE.values():
        assert "queue" not in entry.get("options", {})
        assert entry["task"] in settings.CELERY_TASK_ROUTES
