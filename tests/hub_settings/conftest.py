from datetime import datetime

import pytest

from agencies.models import Role
from enquiries import services
from enquiries.models import Enquiry
from tests.enquiries.test_sla_scan import RECEIVED
from tests.factories import police_notification


@pytest.fixture
def administrator(make_user):
    return make_user(Role.ADMINISTRATOR, username="ada", first_name="Ada", last_name="Admin")


@pytest.fixture
def admin_client(client, administrator):
    client.force_login(administrator)
    return client


@pytest.fixture
def researcher(make_user):
    return make_user(Role.RESEARCHER, username="rosa")


def log_rated(actor, rating: str, *names: str, received_at: datetime = RECEIVED) -> list[Enquiry]:
    """Open enquiries about `names`, received on Friday 27 March 2026 at 13:00, rated."""
    enquiries = police_notification(actor, *names, received_at=received_at, now=received_at)
    return [
        services.enquiry_rate(
            enquiry=enquiry,
            actor=actor,
            rating=rating,
            rationale="Rated for the test.",
            expected_version=enquiry.version,
            now=received_at,
        )
        for enquiry in enquiries
    ]
