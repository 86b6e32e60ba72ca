from datetime import datetime

import pytest

from agencies.models import Role
from enquiries import services
from enquiries.models import Enquiry, ReferrerType
from enquiries.services import PersonDetails
from tests.enquiries.test_sla_scan import RECEIVED


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
    enquiries = services.enquiry_intake(
        actor=actor,
        received_at=received_at,
        referrer_name="PC Jones",
        referrer_type=ReferrerType.objects.get(code="police"),
        subjects=[PersonDetails(first_name=name, last_name="Smith") for name in names],
        subject_type=Enquiry.SubjectType.CHILD,
        concern="Domestic incident attended overnight; children present.",
        categories=["domestic_abuse"],
        consent=Enquiry.Consent.NOT_SOUGHT,
        consent_reason="Police notification.",
        lawful_basis="children_act_2004_s11",
        now=received_at,
    )
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
