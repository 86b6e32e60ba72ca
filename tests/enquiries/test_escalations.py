"""Escalations a manager acknowledges, and the repeats to the next manager until one does
(issue 20, item 1): the services, the per-minute job, the pages and the API.

Times are the hub's and fixed: a researcher escalates at 20:00 on Saturday 28 November 2026,
with the hub closed, and the repeats still go every 15 minutes.
"""

import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from auditlog.context import set_actor
from auditlog.models import LogEntry
from django.conf import settings
from django.core import mail as django_mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from agencies.models import Role
from enquiries import escalations, services
from enquiries.escalations import RepeatResult, escalations_repeat, next_recipient
from enquiries.models import (
    Enquiry,
    EnquiryEvent,
    EscalationContact,
    EscalationPolicy,
    EscalationRepeat,
    Notification,
    Outcome,
    ReferrerType,
)
from enquiries.services import PersonDetails
from enquiries.tasks import repeat_escalations
from mash.celery import app
from tests.concurrency import run_while_another_holds
from tests.factories import api_key_for
from tests.workers import start_worker, stop

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")
Kind = EnquiryEvent.Kind


def at(text: str) -> datetime:
    """A time on Saturday 28 November 2026 ("20:15"), or a full ISO time, in hub time."""
    if len(text) == 5:
        text = f"2026-11-28T{text}"
    return datetime.fromisoformat(text).replace(tzinfo=LONDON)


ESCALATED = at("20:00")


@pytest.fixture
def researcher(make_user):
    return make_user(Role.RESEARCHER, username="rosa", first_name="Rosa", last_name="Reid")


@pytest.fixture
def managers(make_user):
    """Three managers on duty, by name Ann, Bea and Cal, and one who has left."""
    make_user(Role.MANAGER, username="dee", first_name="Dee", last_name="Dale", is_active=False)
    return {
        name: make_user(Role.MANAGER, username=name.lower(), first_name=name, last_name=last)
        for name, last in (("Cal", "Cole"), ("Ann", "Abbott"), ("Bea", "Baker"))
    }


def log(
    researcher, name: str = "Amy", *, received: datetime = ESCALATED - timedelta(minutes=20)
) -> Enquiry:
    (enquiry,) = services.enquiry_intake(
        actor=researcher,
        received_at=received,
        referrer_name="PC Jones",
        referrer_type=ReferrerType.objects.get(code="police"),
        subjects=[PersonDetails(first_name=name, last_name="Smith")],
        subject_type=Enquiry.SubjectType.CHILD,
        concern="Disclosed that her stepfather hit her tonight.",
        categories=["physical_abuse"],
        consent=Enquiry.Consent.NOT_SOUGHT,
        consent_reason="Asking could put the child at greater risk.",
        lawful_basis="children_act_1989_s47",
        now=received,
    )
    return enquiry


def escalate(researcher, name: str = "Amy", *, when: datetime = ESCALATED, by=None) -> Enquiry:
    enquiry = log(researcher, name, received=when - timedelta(minutes=20))
    return services.enquiry_escalate(
        enquiry=enquiry, actor=by or researcher, reason="Bruises on her arms tonight.", now=when
    )


def acknowledge(enquiry, manager, when: str, note: str = "") -> Enquiry:
    return escalations.escalation_acknowledge(
        enquiry=enquiry, actor=manager, note=note, now=at(when)
    )


def repeats() -> list[tuple[str, int, str, str]]:
    return [
        (reference, round_, username, f"{timezone.localtime(sent):%H:%M}")
        for reference, round_, username, sent in EscalationRepeat.objects.order_by(
            "sent_at", "id"
        ).values_list("enquiry__reference", "round", "recipient__username", "sent_at")
    ]


def run_at(*times: str) -> list[int]:
    return [escalations_repeat(now=at(when)).repeated for when in times]


# --- acknowledging -----------------------------------------------------------------------------


def test_a_manager_acknowledges_an_open_escalation_with_who_and_when(researcher, managers):
    ann = managers["Ann"]
    enquiry = escalate(researcher)
    version = enquiry.version

    with set_actor(ann):
        acknowledged = acknowledge(enquiry, ann, "20:07", note="Calling the duty inspector.")

    enquiry.refresh_from_db()
    assert (enquiry.escalation_acknowledged_at, enquiry.escalation_acknowledged_by) == (
        at("20:07"),
        ann,
    )
    assert acknowledged.version == enquiry.version == version + 1
    last = enquiry.events.last()
    assert (last.kind, last.actor, last.at, last.rationale, last.version) == (
        Kind.ESCALATION_ACKNOWLEDGED,
        ann,
        at("20:07"),
        "Calling the duty inspector.",
        version + 1,
    )
    # Ann's news of it is read; Bea's still waits for her.
    notices = Notification.objects.filter(kind=Notification.Kind.ESCALATED)
    assert dict(notices.values_list("recipient__username", "read_at")) == {
        "ann": at("20:07"),
        "bea": None,
        "cal": None,
    }
    # The change log has who acknowledged and when, as for any change to the enquiry.
    (change,) = LogEntry.objects.get_for_object(enquiry).filter(
        action=LogEntry.Action.UPDATE, changes__has_key="escalation_acknowledged_at"
    )
    assert change.actor == ann
    assert change.changes["escalation_acknowledged_by"] == ["None", str(ann.pk)]


def test_only_a_manager_acknowledges(researcher, managers):
    enquiry = escalate(researcher)

    with pytest.raises(PermissionDenied, match="Your role does not allow this."):
        acknowledge(enquiry, researcher, "20:05")


def test_acknowledging_twice_says_who_did_and_when_and_changes_nothing(researcher, managers):
    enquiry = acknowledge(escalate(researcher), managers["Ann"], "20:07")

    with pytest.raises(ValidationError) as refused:
        acknowledge(enquiry, managers["Bea"], "20:09")

    assert refused.value.messages == [
        "Ann Abbott already acknowledged this escalation at Sat 28 Nov 20:07."
    ]
    enquiry.refresh_from_db()
    assert (enquiry.escalation_acknowledged_by, enquiry.version) == (managers["Ann"], 3)


def test_an_enquiry_never_escalated_has_nothing_to_acknowledge(researcher, managers):
    with pytest.raises(ValidationError) as refused:
        acknowledge(log(researcher), managers["Ann"], "20:05")

    assert refused.value.messages == [
        "This enquiry has not been escalated: there is nothing to acknowledge."
    ]


def test_a_decided_escalation_has_nothing_left_to_acknowledge(researcher, managers):
    enquiry = escalate(researcher)
    enquiry = services.enquiry_decide(
        enquiry=enquiry,
        actor=managers["Bea"],
        outcome=Outcome.objects.get(code="strategy_discussion"),
        rationale="Strategy discussion now.",
        expected_version=enquiry.version,
        now=at("20:05"),
    )

    with pytest.raises(ValidationError) as refused:
        acknowledge(enquiry, managers["Ann"], "20:06")

    assert refused.value.messages == [
        "This enquiry has been decided: there is no escalation left to acknowledge."
    ]


def test_escalating_again_needs_a_fresh_acknowledgement_and_starts_the_repeats_afresh(
    researcher, managers
):
    enquiry = escalate(researcher)
    assert run_at("20:15") == [1]
    enquiry = acknowledge(enquiry, managers["Ann"], "20:20")

    again = services.enquiry_escalate(
        enquiry=enquiry, actor=researcher, reason="She has gone missing.", now=at("21:00")
    )

    assert (again.escalated_at, again.escalation_acknowledged_at) == (at("21:00"), None)
    assert again.escalation_acknowledged_by is None
    # The new escalation is repeated from the first manager again: the last one's repeats
    # were for the last one.
    assert run_at("21:14", "21:15") == [0, 1]
    ref = enquiry.reference
    assert repeats() == [(ref, 1, "ann", "20:15"), (ref, 1, "ann", "21:15")]
    assert (
        acknowledge(again, managers["Bea"], "21:16").escalation_acknowledged_by == (managers["Bea"])
    )
    kinds = list(again.events.values_list("kind", flat=True))
    assert kinds[-3:] == [
        Kind.ESCALATION_ACKNOWLEDGED,
        Kind.ESCALATED,
        Kind.ESCALATION_ACKNOWLEDGED,
    ]


# --- repeating -----------------------------------------------------------------------------


def test_nobody_acknowledging_it_each_manager_is_told_in_turn_then_the_first_again(
    researcher, managers
):
    enquiry = escalate(researcher)
    ref = enquiry.reference

    assert run_at("20:14", "20:15", "20:15", "20:29", "20:30", "20:45", "21:00") == [
        0,
        1,
        0,
        0,
        1,
        1,
        1,
    ]

    assert repeats() == [
        (ref, 1, "ann", "20:15"),
        (ref, 1, "bea", "20:30"),
        (ref, 1, "cal", "20:45"),
        (ref, 2, "ann", "21:00"),
    ]
    first = Notification.objects.filter(kind=Notification.Kind.ESCALATION_REPEATED).last()
    assert (first.recipient.username, first.created_at, first.read_at) == ("ann", at("20:15"), None)
    assert first.message == (
        f"{ref} was escalated Sat 28 Nov 20:00 and no manager has acknowledged it after 15 "
        "minutes: Red, the decision due by Mon 30 Nov 13:00."
    )


def test_a_run_counts_whole_minutes_as_beat_runs_them(researcher, managers):
    enquiry = escalate(researcher, when=at("20:00") + timedelta(seconds=40))

    first = escalations_repeat(now=at("20:14") + timedelta(seconds=59))
    second = escalations_repeat(now=at("20:15") + timedelta(seconds=1))
    again = escalations_repeat(now=at("20:15") + timedelta(seconds=50))

    assert (first, second, again) == (RepeatResult(0), RepeatResult(1), RepeatResult(0))
    assert repeats() == [(enquiry.reference, 1, "ann", "20:15")]


def test_the_administrators_order_decides_who_is_next(researcher, managers, make_user):
    policy = EscalationPolicy.current()
    left = make_user(Role.MANAGER, username="gone", is_active=False)
    demoted = make_user(Role.RESEARCHER, username="demoted")
    for position, manager in enumerate([managers["Cal"], left, demoted, managers["Ann"]], 1):
        EscalationContact.objects.create(policy=policy, manager=manager, position=position)
    enquiry = escalate(researcher)

    run_at("20:15", "20:30", "20:45")

    ref = enquiry.reference
    assert repeats() == [
        (ref, 1, "cal", "20:15"),
        (ref, 1, "ann", "20:30"),
        (ref, 2, "cal", "20:45"),
    ]


def test_whoever_escalated_is_never_sent_it_again(researcher, managers):
    enquiry = escalate(researcher, by=managers["Ann"])

    run_at("20:15", "20:30", "20:45")

    ref = enquiry.reference
    assert repeats() == [
        (ref, 1, "bea", "20:15"),
        (ref, 1, "cal", "20:30"),
        (ref, 2, "bea", "20:45"),
    ]


def test_acknowledged_and_decided_escalations_are_not_repeated(researcher, managers):
    taken = escalate(researcher, "Amy")
    decided = escalate(researcher, "Ben")
    waiting = escalate(researcher, "Cat")
    acknowledge(taken, managers["Bea"], "20:10")
    services.enquiry_decide(
        enquiry=decided,
        actor=managers["Bea"],
        outcome=Outcome.objects.get(code="strategy_discussion"),
        rationale="Strategy discussion now.",
        expected_version=decided.version,
        now=at("20:11"),
    )

    assert run_at("20:15") == [1]
    assert repeats() == [(waiting.reference, 1, "ann", "20:15")]


def test_the_minutes_are_the_administrators_and_any_hour_will_do(researcher, managers):
    EscalationPolicy.objects.update_or_create(pk=1, defaults={"repeat_minutes": 5})
    # Christmas Day, the hub closed, at three in the morning.
    christmas = escalate(researcher, when=at("2026-12-25T03:00"))

    assert [escalations_repeat(now=at(f"2026-12-25T03:{m:02d}")).repeated for m in (4, 5)] == [
        0,
        1,
    ]
    assert repeats() == [(christmas.reference, 1, "ann", "03:05")]


def test_a_repeat_is_emailed_to_whoever_has_it_by_email_as_by_default(
    researcher, managers, django_capture_on_commit_callbacks
):
    enquiry = escalate(researcher)
    django_mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        run_at("20:15")

    (message,) = django_mail.outbox
    assert message.to == [managers["Ann"].email]
    assert message.subject == (
        f"{settings.HUB_NAME}: Escalation not yet acknowledged: {enquiry.reference}"
    )
    assert "Bruises" not in message.body and "Amy" not in message.body


def test_a_run_costs_the_same_queries_for_one_escalation_as_for_five(researcher, managers):
    EscalationPolicy.current()

    def queries(*names: str, when: str) -> int:
        for name in names:
            escalate(researcher, name)
        with CaptureQueriesContext(connection) as captured:
            escalations_repeat(now=at(when))
        return len(captured.captured_queries)

    one = queries("Amy", when="20:15")
    five = queries("Ben", "Cat", "Dan", "Eve", "Fay", when="20:30")

    assert EscalationRepeat.objects.filter(sent_at=at("20:30")).count() == 6
    assert one == five


@pytest.mark.parametrize(
    ("sent", "expected"),
    [
        ([], (1, 11)),
        ([(1, 11)], (1, 12)),
        ([(1, 11), (1, 12), (1, 13)], (2, 11)),
        ([(1, 11), (1, 12), (1, 13), (2, 11)], (2, 12)),
        # Someone told last round who has since gone from the order is simply not asked now.
        ([(1, 99), (1, 11)], (1, 12)),
        # Added to the order during a round: told in that round.
        ([(1, 11), (1, 13)], (1, 12)),
    ],
)
def test_the_next_is_the_first_not_yet_told_this_round(sent, expected):
    assert next_recipient([11, 12, 13], sent) == expected


def test_with_nobody_to_tell_there_is_no_next():
    assert next_recipient([], [(1, 11)]) is None


def test_the_task_repeats_on_the_clock_and_says_how_many(researcher, managers):
    escalate(researcher, when=timezone.now() - timedelta(minutes=20))

    assert repeat_escalations.delay().get() == {"repeated": 1}
    assert repeat_escalations.delay().get() == {"repeated": 0}


def test_beat_runs_the_repeats_every_minute_whatever_the_hour():
    entry = settings.CELERY_BEAT_SCHEDULE["repeat-escalations"]

    assert entry["task"] == repeat_escalations.name == "enquiries.tasks.repeat_escalations"
    assert repeat_escalations.name in app.tasks and repeat_escalations.acks_late
    assert entry["schedule"].minute == set(range(60))
    assert entry["schedule"].hour == set(range(24))
    assert entry["schedule"].day_of_week == set(range(7))
    assert entry["options"]["expires"] < 60


@pytest.mark.skipif(
    not settings.DATABASES["default"]["ENGINE"].endswith("postgresql"),
    reason="row locks and concurrent transactions need PostgreSQL",
)
def test_a_run_while_another_holds_the_escalation_sends_nothing(migration_data, make_user):
    researcher = make_user(Role.RESEARCHER, username="rosa")
    make_user(Role.MANAGER, username="ann", first_name="Ann")
    make_user(Role.MANAGER, username="bea", first_name="Bea")
    escalate(researcher)

    first, second = run_while_another_holds(lambda: escalations_repeat(now=at("20:15")))

    assert (first, second) == (RepeatResult(1), RepeatResult(0))
    assert escalations_repeat(now=at("20:15")) == RepeatResult(0)
    assert list(EscalationRepeat.objects.values_list("recipient__username", flat=True)) == ["ann"]


@pytest.mark.worker
def test_a_real_worker_repeats_an_escalation_once(migration_data, make_user):
    if connection.vendor != "postgresql":
        pytest.skip("the worker shares the test database over the network: PostgreSQL only")
    assert not app.conf.task_always_eager
    researcher = make_user(Role.RESEARCHER, username="rosa")
    make_user(Role.MANAGER, username="ann", first_name="Ann")
    enquiry = escalate(researcher, when=timezone.now() - timedelta(minutes=16))
    queue = f"repeat-{uuid.uuid4().hex[:8]}"
    worker = start_worker(queue, queue)
    try:
        counts = [repeat_escalations.apply_async(queue=queue).get(timeout=60) for _ in range(2)]
    finally:
        stop(worker)

    assert counts == [{"repeated": 1}, {"repeated": 0}]
    assert list(
        Notification.objects.filter(kind=Notification.Kind.ESCALATION_REPEATED).values_list(
            "recipient__username", "enquiry"
        )
    ) == [("ann", enquiry.pk)]


# --- pages -----------------------------------------------------------------------------------


def test_a_manager_acknowledges_straight_from_the_notification(client, researcher, managers):
    enquiry = escalate(researcher)
    client.force_login(managers["Ann"])
    url = reverse("enquiry-acknowledge-escalation", args=[enquiry.reference])

    before = client.get(reverse("notifications")).content.decode()
    # The notification's button: no version, no note (only the CSRF token, not checked here).
    response = client.post(url, {"csrfmiddlewaretoken": "x"})
    page = client.get(enquiry.get_absolute_url()).content.decode()
    after = client.get(reverse("notifications")).content.decode()

    assert 'data-testid="acknowledge-escalation"' in before and f'action="{url}"' in before
    assert response.status_code == 302 and response["Location"] == enquiry.get_absolute_url()
    assert 'data-testid="acknowledge-escalation"' not in after
    assert "Escalation acknowledged: it is no longer repeated to other managers." in page
    assert "Acknowledged by Ann Abbott" in page
    assert "Escalation acknowledged</h3>" in page
    assert "Acknowledge escalation" not in page


def test_the_repeat_notification_has_the_button_too(client, researcher, managers):
    enquiry = escalate(researcher)
    run_at("20:15")
    Notification.objects.filter(kind=Notification.Kind.ESCALATED).delete()
    client.force_login(managers["Ann"])

    page = client.get(reverse("notifications")).content.decode()

    assert "Escalation not yet acknowledged" in page
    assert page.count('data-testid="acknowledge-escalation"') == 1
    assert reverse("enquiry-acknowledge-escalation", args=[enquiry.reference]) in page


def test_the_assigned_researcher_is_told_but_has_no_button_and_may_not_acknowledge(
    client, researcher, managers, make_user
):
    sam = make_user(Role.RESEARCHER, username="sam", first_name="Sam", last_name="Lee")
    enquiry = log(researcher)
    enquiry = services.enquiry_assign(
        enquiry=enquiry, actor=researcher, assignee=sam, expected_version=enquiry.version
    )
    services.enquiry_escalate(enquiry=enquiry, actor=researcher, reason="Bruises.", now=ESCALATED)
    client.force_login(sam)

    page = client.get(reverse("notifications")).content.decode()
    refused = client.post(reverse("enquiry-acknowledge-escalation", args=[enquiry.reference]))

    assert f"{enquiry.reference} escalated by Rosa Reid" in page
    assert "acknowledge-escalation" not in page
    assert refused.status_code == 403
    assert "Acknowledge escalation" not in client.get(enquiry.get_absolute_url()).content.decode()


def test_the_enquiry_page_offers_managers_the_acknowledgement_with_a_note(
    client, researcher, managers
):
    enquiry = escalate(researcher)
    client.force_login(managers["Bea"])
    url = reverse("enquiry-acknowledge-escalation", args=[enquiry.reference])

    detail = client.get(enquiry.get_absolute_url()).content.decode()
    form = client.get(url).content.decode()
    saved = client.post(url, {"note": "Calling the duty inspector."})

    assert f'href="{url}"' in detail and "No manager has acknowledged it yet" in detail
    assert "Acknowledge the escalation" in form
    assert "Escalated Sat 28 Nov 20:00; the decision is due by Mon 30 Nov 13:00." in form
    assert saved.status_code == 302
    event = Enquiry.objects.get(pk=enquiry.pk).events.last()
    assert (event.kind, event.actor, event.rationale) == (
        Kind.ESCALATION_ACKNOWLEDGED,
        managers["Bea"],
        "Calling the duty inspector.",
    )


def test_acknowledging_after_someone_else_shows_who_in_the_error_summary(
    client, researcher, managers
):
    enquiry = acknowledge(escalate(researcher), managers["Ann"], "20:07")
    client.force_login(managers["Bea"])

    response = client.post(
        reverse("enquiry-acknowledge-escalation", args=[enquiry.reference]), {"note": ""}
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-testid="error-summary"' in html
    assert "Ann Abbott already acknowledged this escalation at Sat 28 Nov 20:07." in html


def test_an_enquiry_never_escalated_says_so_on_the_page(client, researcher, managers):
    enquiry = log(researcher)
    client.force_login(managers["Bea"])

    response = client.post(
        reverse("enquiry-acknowledge-escalation", args=[enquiry.reference]), {"note": ""}
    )

    assert "This enquiry has not been escalated: there is nothing to acknowledge." in (
        response.content.decode()
    )
    assert "Acknowledge escalation" not in client.get(enquiry.get_absolute_url()).content.decode()


def test_the_queue_filters_escalations_by_acknowledgement(client, researcher, managers):
    taken = acknowledge(escalate(researcher, "Amy"), managers["Ann"], "20:07")
    waiting = escalate(researcher, "Ben")
    quiet = log(researcher, "Cat")
    client.force_login(managers["Ann"])

    def listed(answer: str) -> set[str]:
        html = client.get(reverse("triage-queue"), {"acknowledged": answer}).content.decode()
        return {e.reference for e in (taken, waiting, quiet) if e.reference in html}

    assert listed("yes") == {taken.reference}
    assert listed("no") == {waiting.reference}
    assert listed("") == {taken.reference, waiting.reference, quiet.reference}


# --- API -------------------------------------------------------------------------------------


def api_as(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_key_for(user)}")
    return client


def acknowledge_by_api(client, enquiry, body=None):
    url = reverse("api:enquiry-acknowledge-escalation", args=[enquiry.reference])
    assert url == f"/api/v1/enquiries/{enquiry.reference}/acknowledge-escalation/"
    return client.post(url, body or {}, format="json")


def test_a_manager_acknowledges_through_the_api(researcher, managers):
    enquiry = escalate(researcher)
    ann = managers["Ann"]

    response = acknowledge_by_api(api_as(ann), enquiry, {"note": "On it."})

    body = response.json()
    assert response.status_code == 200
    assert body["escalation_acknowledged_by"] == {"id": ann.pk, "name": "Ann Abbott"}
    assert body["escalation_acknowledged_at"] is not None
    assert body["history"][-1]["kind"] == "escalation_acknowledged"
    assert body["history"][-1]["rationale"] == "On it."


def test_the_api_refuses_a_second_acknowledgement_and_one_never_escalated(researcher, managers):
    escalated, quiet = escalate(researcher, "Amy"), log(researcher, "Ben")
    client = api_as(managers["Ann"])
    acknowledge_by_api(client, escalated)

    twice = acknowledge_by_api(api_as(managers["Bea"]), escalated)
    never = acknowledge_by_api(client, quiet)
    unknown = acknowledge_by_api(client, escalated, {"expected_version": 3})

    assert twice.status_code == never.status_code == unknown.status_code == 400
    assert twice.json()["non_field_errors"][0].startswith("Ann Abbott already acknowledged")
    assert never.json() == {
        "non_field_errors": [
            "This enquiry has not been escalated: there is nothing to acknowledge."
        ]
    }
    assert unknown.json() == {"expected_version": ["This field is not part of this request."]}


def test_only_managers_acknowledge_through_the_api(researcher, managers):
    enquiry = escalate(researcher)

    response = acknowledge_by_api(api_as(researcher), enquiry)

    assert response.status_code == 403
    assert response.json() == {"detail": "Only a manager acknowledges an escalation."}
    assert Enquiry.objects.get(pk=enquiry.pk).escalation_acknowledged_at is None


def test_the_api_list_filters_by_acknowledgement(researcher, managers):
    taken = acknowledge(escalate(researcher, "Amy"), managers["Ann"], "20:07")
    waiting = escalate(researcher, "Ben")
    client = api_as(researcher)

    def references(answer: str) -> list[str]:
        response = client.get(reverse("api:enquiry-list"), {"acknowledged": answer})
        return [row["reference"] for row in response.json()["results"]]

    assert references("yes") == [taken.reference]
    assert references("no") == [waiting.reference]
    bad = client.get(reverse("api:enquiry-list"), {"acknowledged": "perhaps"})
    assert bad.status_code == 400
    assert bad.json() == {"acknowledged": ['"perhaps" is not a valid choice.']}


# --- the policy, on the hub settings pages (and the admin, for superusers) -----------------------

POLICY_URL = reverse("admin:enquiries_escalationpolicy_change", args=[1])
SETTINGS_URL = reverse("hub-settings:escalation")


def test_an_administrator_sets_the_minutes_and_the_managers_in_turn(
    client, make_user, researcher, managers
):
    administrator = make_user(Role.ADMINISTRATOR, username="admin1")
    ann, cal = managers["Ann"], managers["Cal"]
    client.force_login(administrator)

    page = client.get(SETTINGS_URL).content.decode()
    response = client.post(
        SETTINGS_URL,
        {
            "version": str(EscalationPolicy.current().version),
            "repeat_minutes": "10",
            f"manager_{cal.pk}": "1",
            f"manager_{ann.pk}": "2",
            "reason": "Cal leads the duty rota.",
            "confirm": "1",
        },
    )

    # Only managers on duty are offered.
    assert f'name="manager_{ann.pk}"' in page and f'name="manager_{researcher.pk}"' not in page
    assert response.status_code == 302
    policy = EscalationPolicy.current()
    assert policy.repeat_minutes == 10
    assert escalations.repeat_order(policy) == [cal.pk, ann.pk]
    entry = LogEntry.objects.get_for_object(policy).latest("timestamp")
    assert (entry.actor, entry.changes_dict["repeat_minutes"]) == (administrator, ["15", "10"])
    assert LogEntry.objects.get_for_model(EscalationContact).count() == 2


def test_the_policy_is_never_added_to_deleted_or_set_below_a_minute(client, make_user):
    client.force_login(make_user(is_superuser=True, username="superuser"))
    EscalationPolicy.current()

    added = client.get(reverse("admin:enquiries_escalationpolicy_add"))
    deleted = client.post(
        reverse("admin:enquiries_escalationpolicy_delete", args=[1]), {"post": "yes"}
    )
    zero = client.post(
        POLICY_URL,
        {
            "repeat_minutes": "0",
            "contacts-TOTAL_FORMS": "0",
            "contacts-INITIAL_FORMS": "0",
            "contacts-MIN_NUM_FORMS": "0",
            "contacts-MAX_NUM_FORMS": "1000",
        },
    )

    assert added.status_code == deleted.status_code == 403
    assert zero.status_code == 200 and EscalationPolicy.current().repeat_minutes == 15
