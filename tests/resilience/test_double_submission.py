"""Double submission: the same intake sent twice (a double click, a resend after a lost
answer, a client's retry) logs its enquiries once, by the key it carries."""

import re
import threading
import time
from datetime import timedelta

import pytest
from django.db import connection, connections
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from agencies.models import Role
from enquiries import services
from enquiries.models import Enquiry, FamilyEnquiry, IntakeKey, ReferrerType
from enquiries.services import PersonDetails
from tests.enquiries.test_api import intake_body
from tests.enquiries.test_pages import intake_data

INTAKE = reverse("enquiry-intake")
API_INTAKE = reverse("api:enquiry-list")


def key_in(html: str) -> str:
    return re.search(r'name="idempotency_key" value="(\w*)"', html).group(1)


def intake(actor, *, key: str, concern: str = "Arrived hungry three days running."):
    # To the minute, so twins sent a moment apart send the same details; each test starts at
    # a whole minute (tests/instants.py) and ends well within it.
    received = timezone.now().replace(second=0, microsecond=0) - timedelta(minutes=5)
    return services.enquiry_intake(
        actor=actor,
        received_at=received,
        referrer_name="Ms Head",
        referrer_type=ReferrerType.objects.get(code="school"),
        subjects=[PersonDetails(first_name="Amy", last_name="Smith")],
        subject_type=Enquiry.SubjectType.CHILD,
        concern=concern,
        categories=["neglect"],
        consent=Enquiry.Consent.YES,
        idempotency_key=key,
    )


# --- the form ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_same_form_posted_twice_logs_one_family(client, researcher):
    client.force_login(researcher)
    data = intake_data(idempotency_key=key_in(client.get(INTAKE).content.decode()))

    first = client.post(INTAKE, data)
    second = client.post(INTAKE, data, follow=True)

    assert FamilyEnquiry.objects.count() == 1
    amy, ben = Enquiry.objects.order_by("reference")
    assert first.url == second.redirect_chain[-1][0] == amy.get_absolute_url()
    assert f"Enquiry logged: {amy.reference}, {ben.reference}." in second.content.decode()


@pytest.mark.django_db
def test_each_blank_form_has_a_key_of_its_own_kept_while_rows_are_added(client, researcher):
    client.force_login(researcher)
    first, second = (key_in(client.get(INTAKE).content.decode()) for _ in range(2))

    adding = client.post(INTAKE, intake_data(idempotency_key=first, add_subject="1"))

    assert len(first) == 32 and first != second
    assert key_in(adding.content.decode()) == first


@pytest.mark.django_db
def test_a_used_form_sent_with_other_details_is_refused_then_logged_as_new(client, researcher):
    client.force_login(researcher)
    key = key_in(client.get(INTAKE).content.decode())
    client.post(INTAKE, intake_data(idempotency_key=key))
    (logged,) = FamilyEnquiry.objects.all()

    # Back in the browser, the concern edited, and sent again with the old form's key.
    edited = intake_data(idempotency_key=key, concern="A different concern.")
    refused = client.post(INTAKE, edited)

    html = refused.content.decode()
    assert refused.status_code == 200
    assert "already used to log" in html
    assert Enquiry.objects.count() == 2
    new_key = key_in(html)
    assert new_key != key
    # Sent again, it is a new intake: its people are checked against the register (the
    # first intake added them) and confirmed as the same people.
    again = {**edited, "idempotency_key": new_key}
    checked = client.post(INTAKE, again)
    assert 'data-testid="duplicate-check"' in checked.content.decode()
    for row in ("subjects-0", "subjects-1", "others-0"):
        again[f"{row}-existing"] = "new"
    assert client.post(INTAKE, again).status_code == 302
    assert FamilyEnquiry.objects.exclude(pk=logged.pk).count() == 1


@pytest.mark.django_db
def test_without_a_key_the_same_intake_is_logged_again(researcher):
    intake(researcher, key="")
    intake(researcher, key="")

    assert FamilyEnquiry.objects.count() == 2


@pytest.mark.django_db
def test_keys_are_each_persons_own(make_user, researcher):
    other = make_user(Role.RESEARCHER, username="raj")

    intake(researcher, key="same")
    intake(other, key="same")

    assert FamilyEnquiry.objects.count() == 2


# --- at the same moment -----------------------------------------------------------------------


def waiting_on_a_lock() -> int:
    with connection.cursor() as cursor:
        # Asked inside a transaction, which would otherwise keep its first snapshot of this.
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0]


def test_twin_intakes_at_the_same_moment_log_one_family(migration_data, researcher, monkeypatch):
    """The twin arrives while the first is still saving: its claim of the key waits on the
    unique index until the first commits, then answers with the first one's family."""
    if connection.vendor != "postgresql":
        pytest.skip("concurrent transactions need PostgreSQL")
    claim = services._claim_intake_key
    first_claimed = threading.Event()
    twin_waited: list[int] = []

    def claim_then_hold(**kwargs):
        claimed = claim(**kwargs)
        if threading.current_thread().name == "first":
            first_claimed.set()
            deadline = time.monotonic() + 10
            while not waiting_on_a_lock() and time.monotonic() < deadline:
                time.sleep(0.02)
            twin_waited.append(waiting_on_a_lock())
        return claimed

    monkeypatch.setattr(services, "_claim_intake_key", claim_then_hold)
    results: dict[str, list[str]] = {}

    def send(name: str) -> None:
        try:
            if name == "twin":
                first_claimed.wait(timeout=10)
            results[name] = [e.reference for e in intake(researcher, key="double-click")]
        finally:
            connections.close_all()

    threads = [threading.Thread(target=send, args=(name,), name=name) for name in ("first", "twin")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)

    assert twin_waited == [1]  # the twin really arrived while the first was saving
    assert results["first"] == results["twin"]
    assert FamilyEnquiry.objects.count() == Enquiry.objects.count() == 1
    assert IntakeKey.objects.get().family_id == FamilyEnquiry.objects.get().pk


# --- the API ----------------------------------------------------------------------------------


@pytest.fixture
def api(researcher):
    client = APIClient()
    client.force_authenticate(researcher)
    return client


@pytest.mark.django_db
def test_an_api_retry_with_the_same_key_gets_the_same_answer(api):
    body = intake_body()

    first = api.post(API_INTAKE, body, format="json", HTTP_IDEMPOTENCY_KEY="retry-1")
    retry = api.post(API_INTAKE, body, format="json", HTTP_IDEMPOTENCY_KEY="retry-1")

    assert first.status_code == retry.status_code == 201
    assert retry.json()["family_reference"] == first.json()["family_reference"]
    assert FamilyEnquiry.objects.count() == 1


@pytest.mark.django_db
def test_an_api_key_reused_for_another_request_is_refused_with_422(api):
    first = api.post(API_INTAKE, intake_body(), format="json", HTTP_IDEMPOTENCY_KEY="k")
    other = intake_body(concern="Something else entirely.")

    reused = api.post(API_INTAKE, other, format="json", HTTP_IDEMPOTENCY_KEY="k")

    assert reused.status_code == 422
    assert reused.json()["references"] == [e["reference"] for e in first.json()["enquiries"]]
    assert FamilyEnquiry.objects.count() == 1


@pytest.mark.django_db
def test_api_calls_without_a_key_are_each_logged_and_a_long_key_is_refused(api):
    body = intake_body()
    for person in body["subjects"] + body["others"]:
        person["confirmed_new"] = True  # the second call would find the first one's people
    api.post(API_INTAKE, body, format="json")
    api.post(API_INTAKE, body, format="json")
    too_long = api.post(API_INTAKE, intake_body(), format="json", HTTP_IDEMPOTENCY_KEY="k" * 201)

    assert FamilyEnquiry.objects.count() == 2
    assert too_long.status_code == 400
    assert "Idempotency-Key" in too_long.json()
