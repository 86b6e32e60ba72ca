"""The database connection ends under the app (pg_terminate_backend from a second connection,
as a PostgreSQL restart or failover would): the next request succeeds, and an intake cut off
half way leaves nothing behind."""

import pytest
from django.conf import settings
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from enquiries import services
from enquiries.models import (
    Enquiry,
    EnquiryEvent,
    EnquiryPerson,
    FamilyEnquiry,
    IntakeKey,
    Person,
    ReferenceCounter,
)
from tests.enquiries.test_pages import intake_data

from .conftest import backend_pid, terminate_backend
from .test_double_submission import key_in
from .wsgi import Browser

pytestmark = pytest.mark.skipif(
    not settings.DATABASES["default"]["ENGINE"].endswith("postgresql"),
    reason="ends a PostgreSQL backend",
)

QUEUE = reverse("triage-queue")
INTAKE = reverse("enquiry-intake")


@pytest.fixture
def rosa(migration_data, researcher, client) -> Browser:
    """Rosa, a researcher, signed in, her requests served as a web process serves them."""
    client.force_login(researcher)
    return Browser(
        {settings.SESSION_COOKIE_NAME: client.cookies[settings.SESSION_COOKIE_NAME].value}
    )


@pytest.fixture
def without_health_checks():
    connection.close()
    connection.settings_dict["CONN_HEALTH_CHECKS"] = False
    yield
    connection.close()
    connection.settings_dict["CONN_HEALTH_CHECKS"] = True


def test_the_first_request_after_the_connection_is_ended_succeeds(rosa):
    assert rosa.get(QUEUE).status == 200
    ended = backend_pid()
    assert ended is not None  # kept between requests: CONN_MAX_AGE
    terminate_backend(ended)

    response = rosa.get(QUEUE)

    assert response.status == 200
    assert backend_pid() not in (None, ended)


def test_without_health_checks_that_request_would_have_failed(rosa, without_health_checks):
    assert rosa.get(QUEUE).status == 200
    terminate_backend(backend_pid())

    assert rosa.get(QUEUE).status == 500
    assert rosa.get(QUEUE).status == 200  # the broken connection was closed after it


def test_an_intake_cut_off_half_way_saves_nothing_and_can_be_sent_again(rosa, monkeypatch):
    form = rosa.get(INTAKE)
    data = intake_data(idempotency_key=key_in(form.body))  # Amy and Ben, with their mother Jo
    record = services._record
    cut = []

    def record_then_lose_the_connection(*args, **kwargs) -> None:
        record(*args, **kwargs)
        if not cut:  # Amy's enquiry, people and history written; Ben's not yet
            cut.append(backend_pid())
            terminate_backend(cut[0])

    monkeypatch.setattr(services, "_record", record_then_lose_the_connection)

    assert rosa.post(INTAKE, data).status == 500
    assert cut
    for model in (FamilyEnquiry, Enquiry, Person, EnquiryPerson, EnquiryEvent, IntakeKey):
        assert model.objects.count() == 0, model.__name__
    assert not ReferenceCounter.objects.filter(last_number__gt=0).exists()

    sent_again = rosa.post(INTAKE, data)

    assert sent_again.status == 302
    year = timezone.localdate().year
    assert list(Enquiry.objects.order_by("reference").values_list("reference", flat=True)) == [
        f"MASH-{year}-000001",
        f"MASH-{year}-000002",
    ]
    assert Person.objects.count() == 3
