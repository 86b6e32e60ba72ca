"""Email the hub sends (enquiries.mail): feedback to the referrer and the notifications people
chose, queued with the write, sent after its commit through a real SMTP server on loopback,
retried when it fails, never sent twice, and never carrying case content it should not."""

import socket
from datetime import timedelta
from email import message_from_bytes, policy

import pytest
from aiosmtpd.controller import Controller
from django.core import mail as django_mail
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from agencies.models import Role
from enquiries import mail, services
from enquiries.models import (
    EmailPreference,
    Enquiry,
    Notification,
    Outcome,
    OutgoingEmail,
    ReferrerType,
)
from enquiries.services import PersonDetails
from enquiries.tasks import EMAIL_RETRY_WAITS, send_email

pytestmark = pytest.mark.django_db

Status = OutgoingEmail.Status
REFERRER = "head@oak-primary.example.org"
FEEDBACK = "No further action by the hub; the school will keep watching and refer again."
SMTP = "django.core.mail.backends.smtp.EmailBackend"


class Inbox:
    """An aiosmtpd handler keeping what arrived; `refuse` answers every recipient 550."""

    def __init__(self, *, refuse: bool = False) -> None:
        self.messages: list[tuple[list[str], object]] = []
        self.refuse = refuse

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        if self.refuse:
            return "550 5.1.1 No such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        parsed = message_from_bytes(envelope.content, policy=policy.default)
        self.messages.append((list(envelope.rcpt_tos), parsed))
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_smtp(settings, inbox: Inbox) -> Controller:
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    settings.EMAIL_BACKEND = SMTP
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", controller.port
    settings.EMAIL_USE_TLS, settings.EMAIL_TIMEOUT = False, 5
    return controller


@pytest.fixture
def smtp_server(settings):
    """A real SMTP server on a free loopback port, with Django's SMTP backend pointed at it."""
    inbox = Inbox()
    controller = start_smtp(settings, inbox)
    yield inbox
    controller.stop()


@pytest.fixture
def refusing_smtp_server(settings):
    inbox = Inbox(refuse=True)
    controller = start_smtp(settings, inbox)
    yield inbox
    controller.stop()


@pytest.fixture
def nothing_listening(settings):
    settings.EMAIL_BACKEND = SMTP
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", free_port(), 2


@pytest.fixture
def researcher(make_user):
    return make_user(Role.RESEARCHER, username="rosa")


@pytest.fixture
def manager(make_user):
    return make_user(Role.MANAGER, username="mina")


def log(actor, *, contact: str = REFERRER) -> Enquiry:
    now = timezone.now()
    (enquiry,) = services.enquiry_intake(
        actor=actor,
        received_at=now - timedelta(hours=2),
        referrer_name="Ms Head",
        referrer_organisation="Oak Primary School",
        referrer_contact=contact,
        referrer_type=ReferrerType.objects.get(code="school"),
        subjects=[PersonDetails(first_name="Amy", last_name="Mailer")],
        subject_type=Enquiry.SubjectType.CHILD,
        concern="Arrived at school hungry three days running.",
        categories=["neglect"],
        consent=Enquiry.Consent.YES,
    )
    return enquiry


def decided(researcher, manager) -> Enquiry:
    enquiry = log(researcher)
    return services.enquiry_decide(
        enquiry=enquiry,
        actor=manager,
        outcome=Outcome.objects.get(code="nfa"),
        rationale="No role for the hub.",
        expected_version=enquiry.version,
        decided_at=timezone.now() - timedelta(minutes=5),
    )


def feedback_by_email(enquiry: Enquiry, actor, *, text: str = FEEDBACK, to: str = REFERRER):
    return services.enquiry_record_feedback(
        enquiry=enquiry,
        actor=actor,
        method="Email",
        text=text,
        email_to=to,
        expected_version=enquiry.version,
    )


# --- feedback through a real SMTP server -----------------------------------------------------


def test_feedback_by_email_reaches_a_real_smtp_server_and_is_recorded_as_sent(
    researcher, manager, smtp_server, django_capture_on_commit_callbacks
):
    enquiry = decided(researcher, manager)

    with django_capture_on_commit_callbacks(execute=True):
        closed = feedback_by_email(enquiry, researcher)

    ((recipients, message),) = smtp_server.messages
    assert recipients == [REFERRER]
    assert message["To"] == REFERRER
    assert message["Subject"] == f"Your referral to Countyshire MASH: {enquiry.reference}"
    body = message.get_content().replace("\r\n", "\n")
    assert body.startswith(FEEDBACK + "\n")
    assert f"Our reference: {enquiry.reference}." in body
    assert "Countyshire MASH (Multi-Agency Safeguarding Hub)" in body
    # Nothing else of the case goes with it.
    for content in ("Amy", "Mailer", "hungry", "No role for the hub"):
        assert content not in body
    email = OutgoingEmail.objects.get()
    assert (email.kind, email.status, email.attempts, email.last_error) == (
        OutgoingEmail.Kind.FEEDBACK,
        Status.SENT,
        1,
        "",
    )
    assert email.body == body  # exactly what was sent
    assert email.sent_at is not None and email.created_by == researcher
    assert closed.state == Enquiry.State.CLOSED
    assert closed.feedback_method == "Email"


def test_nothing_is_sent_before_the_feedback_commits(researcher, manager, smtp_server):
    enquiry = decided(researcher, manager)

    feedback_by_email(enquiry, researcher)  # the test's transaction never commits

    assert smtp_server.messages == []
    assert OutgoingEmail.objects.get().status == Status.QUEUED


def test_a_refused_feedback_queues_and_sends_nothing(
    researcher, manager, smtp_server, django_capture_on_commit_callbacks
):
    enquiry = decided(researcher, manager)

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(ValidationError):
        feedback_by_email(enquiry, researcher, to="not an address")

    assert smtp_server.messages == []
    assert not OutgoingEmail.objects.exists()


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        (
            {"method": "Telephone"},
            {"method": ["Feedback sent to an email address goes by email: choose Email."]},
        ),
        ({"email_to": "two@example.org, three@example.org"}, {"email_to": [mail.ADDRESS_INVALID]}),
        (
            {"sent_at_minutes_ago": 30},
            {"sent_at": ["An email goes now: leave the time out."]},
        ),
    ],
)
def test_feedback_by_email_is_refused_on_its_field_when_it_cannot_go(
    researcher, manager, fields, error
):
    enquiry = decided(researcher, manager)
    arguments = {
        "enquiry": enquiry,
        "actor": researcher,
        "method": "Email",
        "text": FEEDBACK,
        "email_to": REFERRER,
        "expected_version": enquiry.version,
    }
    if minutes := fields.pop("sent_at_minutes_ago", None):
        arguments["sent_at"] = timezone.now() - timedelta(minutes=minutes)
    arguments.update(fields)

    with pytest.raises(ValidationError) as refused:
        services.enquiry_record_feedback(**arguments)

    assert refused.value.message_dict == error
    assert not OutgoingEmail.objects.exists()


# --- failures, retries, idempotence ----------------------------------------------------------


def test_with_no_smtp_server_listening_it_retries_then_stays_failed_with_the_error(
    researcher, manager, nothing_listening, django_capture_on_commit_callbacks
):
    enquiry = decided(researcher, manager)

    # Eager tasks retry at once rather than after EMAIL_RETRY_WAITS.
    with django_capture_on_commit_callbacks(execute=True):
        feedback_by_email(enquiry, researcher)

    email = OutgoingEmail.objects.get()
    assert email.status == Status.FAILED
    assert email.attempts == len(EMAIL_RETRY_WAITS) + 1
    assert email.last_error.startswith("ConnectionRefusedError")
    assert email.sent_at is None


def test_a_server_refusing_the_recipient_leaves_it_failed_with_its_answer(
    researcher, manager, refusing_smtp_server, django_capture_on_commit_callbacks
):
    enquiry = decided(researcher, manager)

    with django_capture_on_commit_callbacks(execute=True):
        feedback_by_email(enquiry, researcher)

    email = OutgoingEmail.objects.get()
    assert (email.status, email.attempts) == (Status.FAILED, len(EMAIL_RETRY_WAITS) + 1)
    assert email.last_error.startswith("SMTPRecipientsRefused")
    assert "No such mailbox here" in email.last_error
    assert refusing_smtp_server.messages == []


def test_a_failed_attempt_stays_queued_for_the_retry_which_sends_it(
    researcher, manager, settings, nothing_listening
):
    enquiry = decided(researcher, manager)
    feedback_by_email(enquiry, researcher)
    email = OutgoingEmail.objects.get()

    assert mail.email_deliver(email_id=email.pk, final=False) == Status.QUEUED
    email.refresh_from_db()
    assert (email.status, email.attempts) == (Status.QUEUED, 1)
    assert email.last_error.startswith("ConnectionRefusedError")

    inbox = Inbox()
    controller = start_smtp(settings, inbox)
    try:
        assert mail.email_deliver(email_id=email.pk, final=False) == Status.SENT
    finally:
        controller.stop()
    email.refresh_from_db()
    assert (email.status, email.attempts, email.last_error) == (Status.SENT, 2, "")
    assert len(inbox.messages) == 1


def test_sending_twice_emails_once(researcher, manager, smtp_server):
    enquiry = decided(researcher, manager)
    feedback_by_email(enquiry, researcher)
    email = OutgoingEmail.objects.get()

    first = send_email.apply(args=[email.pk]).get()
    second = send_email.apply(args=[email.pk]).get()

    assert (first, second) == (Status.SENT, Status.SENT)
    assert len(smtp_server.messages) == 1
    email.refresh_from_db()
    assert email.attempts == 1


def test_an_email_that_is_gone_is_not_retried(smtp_server):
    assert send_email.apply(args=[987654]).get() == Status.FAILED
    assert smtp_server.messages == []


# --- notifications by email ------------------------------------------------------------------

MARKER = "MARKER-Amy-Mailer-arrested-for-assault"


def notify(recipient, enquiry, kind=Notification.Kind.BREACHED, message=MARKER):
    return Notification.objects.create(
        recipient=recipient, enquiry=enquiry, kind=kind, message=message
    )


def test_a_notification_email_says_what_and_where_but_never_the_message(
    researcher, manager, settings, django_capture_on_commit_callbacks
):
    settings.SITE_URL = "https://mash.example.org"
    enquiry = log(researcher)
    notification = notify(manager, enquiry, message=f"{enquiry.reference}: {MARKER}")

    with django_capture_on_commit_callbacks(execute=True):
        (queued,) = mail.email_notifications([notification])

    (message,) = django_mail.outbox
    assert message.to == [manager.email]
    assert message.subject == f"Countyshire MASH: Breached: {enquiry.reference}"
    assert f"Breached: enquiry {enquiry.reference}." in message.body
    assert f"https://mash.example.org/enquiries/{enquiry.reference}/" in message.body
    assert "https://mash.example.org/notifications/email/" in message.body
    assert message.extra_headers["Auto-Submitted"] == "auto-generated"
    for content in (MARKER, "Amy", "Mailer", "hungry", "Oak Primary"):
        assert content not in message.subject
        assert content not in message.body
    queued.refresh_from_db()
    assert (queued.status, queued.notification, queued.recipient) == (
        Status.SENT,
        notification,
        manager,
    )


def test_only_the_kinds_chosen_go_by_email_to_people_with_an_address(
    researcher, manager, make_user, django_capture_on_commit_callbacks
):
    enquiry = log(researcher)
    no_address = make_user(Role.MANAGER, username="no_address", email="")
    chose_none = make_user(Role.MANAGER, username="chose_none")
    mail.email_preference_save(user=chose_none, kinds=[])
    chose_at_risk = make_user(Role.MANAGER, username="chose_at_risk")
    mail.email_preference_save(user=chose_at_risk, kinds=[Notification.Kind.AT_RISK])
    notifications = [
        notify(person, enquiry, kind)
        for person in (manager, no_address, chose_none, chose_at_risk)
        for kind in (Notification.Kind.AT_RISK, Notification.Kind.BREACHED)
    ]

    with django_capture_on_commit_callbacks(execute=True):
        mail.email_notifications(notifications)

    sent = sorted((message.to[0].split("@")[0], message.subject) for message in django_mail.outbox)
    assert sent == [
        ("chose_at_risk", f"Countyshire MASH: At risk: {enquiry.reference}"),
        ("mina", f"Countyshire MASH: Breached: {enquiry.reference}"),  # the defaults
    ]


@pytest.mark.parametrize("count", [1, 25])
def test_notifications_are_emailed_in_a_fixed_number_of_queries(
    researcher, make_user, django_assert_max_num_queries, count
):
    enquiry = log(researcher)
    managers = [make_user(Role.MANAGER) for _ in range(count)]
    notifications = [notify(person, enquiry) for person in managers]

    # the recipients with their choices, the enquiries' references, the insert
    with django_assert_max_num_queries(3):
        assert len(mail.email_notifications(notifications)) == count


def test_the_sla_scan_emails_a_breach(researcher, manager, django_capture_on_commit_callbacks):
    from enquiries.sla_scan import record_sla_events

    enquiry = log(researcher)

    with django_capture_on_commit_callbacks(execute=True):
        record_sla_events(now=enquiry.breached_from + timedelta(minutes=1))

    assert [message.to for message in django_mail.outbox] == [[manager.email]]
    assert enquiry.reference in django_mail.outbox[0].subject


# --- escalation ------------------------------------------------------------------------------


def test_escalation_tells_every_active_manager_and_the_assignee_by_email_too(
    researcher, manager, make_user, django_capture_on_commit_callbacks
):
    make_user(Role.MANAGER, username="other_manager")
    make_user(Role.MANAGER, username="left", is_active=False)
    assignee = make_user(Role.RESEARCHER, username="assignee")
    make_user(Role.RESEARCHER, username="bystander")
    enquiry = log(researcher)
    enquiry = services.enquiry_assign(
        enquiry=enquiry, actor=manager, assignee=assignee, expected_version=enquiry.version
    )

    with django_capture_on_commit_callbacks(execute=True):
        services.enquiry_escalate(enquiry=enquiry, actor=researcher, reason="Injuries seen.")

    told = Notification.objects.filter(kind=Notification.Kind.ESCALATED)
    assert sorted(told.values_list("recipient__username", flat=True)) == [
        "assignee",
        "mina",
        "other_manager",
    ]
    assert all(n.message.startswith(f"{enquiry.reference} escalated by ") for n in told)
    emailed = sorted(message.to[0].split("@")[0] for message in django_mail.outbox)
    assert emailed == ["assignee", "mina", "other_manager"]
    assert all("Injuries" not in message.body for message in django_mail.outbox)


def test_whoever_escalates_is_not_told_of_it(manager, researcher):
    enquiry = log(researcher)

    services.enquiry_escalate(enquiry=enquiry, actor=manager, reason="Injuries seen.")

    assert not Notification.objects.filter(recipient=manager).exists()


# --- pages -----------------------------------------------------------------------------------


def test_the_feedback_page_prefills_the_referrers_address_and_sends_to_it(
    client, researcher, manager, django_capture_on_commit_callbacks
):
    enquiry = decided(researcher, manager)
    client.force_login(researcher)
    url = reverse("enquiry-feedback", args=[enquiry.reference])

    page = client.get(url)
    assert f'value="{REFERRER}"' in page.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            url,
            {
                "method": "Email",
                "email_to": REFERRER,
                "text": FEEDBACK,
                "expected_version": enquiry.version,
            },
        )

    assert response.status_code == 302
    (message,) = django_mail.outbox
    assert message.to == [REFERRER]
    detail = client.get(enquiry.get_absolute_url()).content.decode()
    assert "Emailed to" in detail
    assert REFERRER in detail
    assert "Sent" in detail


def test_the_feedback_page_needs_an_address_for_email_and_ignores_it_otherwise(
    client, researcher, manager
):
    enquiry = decided(researcher, manager)
    client.force_login(researcher)
    url = reverse("enquiry-feedback", args=[enquiry.reference])
    fields = {"text": FEEDBACK, "expected_version": enquiry.version}

    missing = client.post(url, {**fields, "method": "Email", "email_to": ""})
    wrong = client.post(url, {**fields, "method": "Email", "email_to": "head at oak"})
    by_phone = client.post(url, {**fields, "method": "Telephone", "email_to": "head at oak"})

    assert missing.status_code == wrong.status_code == 200
    assert escape(mail.ADDRESS_REQUIRED) in missing.content.decode()
    assert escape(mail.ADDRESS_INVALID) in wrong.content.decode()
    assert by_phone.status_code == 302
    assert not OutgoingEmail.objects.exists()


def test_the_enquiry_page_says_a_feedback_email_failed(
    client, researcher, manager, nothing_listening, django_capture_on_commit_callbacks
):
    enquiry = decided(researcher, manager)
    with django_capture_on_commit_callbacks(execute=True):
        feedback_by_email(enquiry, researcher)
    client.force_login(researcher)

    detail = client.get(enquiry.get_absolute_url()).content.decode()

    assert "Not sent" in detail
    assert "ConnectionRefusedError" in detail


def test_the_api_sends_feedback_by_email_and_reports_it(
    researcher, manager, django_capture_on_commit_callbacks
):
    from rest_framework.test import APIClient

    enquiry = decided(researcher, manager)
    api = APIClient()
    api.force_authenticate(researcher)
    url = f"/api/v1/enquiries/{enquiry.reference}/feedback/"

    bad = api.post(
        url,
        {"method": "Email", "text": FEEDBACK, "email_to": "nope", "expected_version": 2},
        format="json",
    )
    with django_capture_on_commit_callbacks(execute=True):
        good = api.post(
            url,
            {"method": "Email", "text": FEEDBACK, "email_to": REFERRER, "expected_version": 2},
            format="json",
        )

    assert bad.status_code == 400
    assert "email_to" in bad.json()
    assert good.status_code == 200, good.json()
    # Answered inside the transaction: queued; it goes once that commits.
    (queued,) = good.json()["feedback_emails"]
    assert (queued["to_address"], queued["status"], queued["attempts"]) == (REFERRER, "queued", 0)
    assert len(django_mail.outbox) == 1
    (sent,) = api.get(f"/api/v1/enquiries/{enquiry.reference}/").json()["feedback_emails"]
    assert (sent["status"], sent["attempts"]) == ("sent", 1)


def test_the_choice_page_shows_the_defaults_and_saves_a_choice(client, manager):
    client.force_login(manager)
    url = reverse("notification-emails")

    page = client.get(url).content.decode()
    saved = client.post(url, {"kinds": ["at_risk", "escalated"]})

    assert 'value="escalated" checked' in page
    assert 'value="breached" checked' in page
    assert 'value="at_risk">' in page  # off by default
    assert saved.status_code == 302
    assert EmailPreference.objects.get(user=manager).kinds == ["at_risk", "escalated"]


def test_choosing_nothing_is_a_choice(client, manager):
    client.force_login(manager)

    client.post(reverse("notification-emails"), {})

    assert EmailPreference.objects.get(user=manager).kinds == []
    assert mail.chosen_kinds(mail.email_preference_of(manager)) == set()


def test_an_unknown_kind_is_refused_on_the_field(client, manager):
    client.force_login(manager)

    response = client.post(reverse("notification-emails"), {"kinds": ["escalated", "gossip"]})

    assert response.status_code == 200
    assert "Choose from the kinds of notification listed." in response.content.decode()
    assert "govuk-form-group--error" in response.content.decode()
    assert not EmailPreference.objects.exists()


def test_the_account_and_notifications_pages_link_to_the_choice(client, researcher):
    client.force_login(researcher)
    link = reverse("notification-emails")

    assert link in client.get(reverse("account")).content.decode()
    assert link in client.get(reverse("notifications")).content.decode()
