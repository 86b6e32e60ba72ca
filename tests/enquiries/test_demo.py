from collections import Counter

import pytest

from agencies.demo import seed_demo_hub
from agencies.models import User
from enquiries import services
from enquiries.demo import seed_demo_enquiries
from enquiries.models import Enquiry, EnquiryEvent, Person, ReferrerType
from enquiries.services import PersonDetails

pytestmark = pytest.mark.django_db


@pytest.fixture
def hub():
    seed_demo_hub()


def test_it_tops_the_hub_up_to_the_number_asked_for_and_no_further(hub):
    assert seed_demo_enquiries(target=400) == 400
    assert seed_demo_enquiries(target=400) == 0
    assert seed_demo_enquiries(target=450) == 50
    assert Enquiry.objects.count() == 450


def test_the_demo_covers_every_state_and_rating_with_families_and_repeat_subjects(hub):
    seed_demo_enquiries(target=300)
    seed_demo_enquiries(target=600)

    enquiries = Enquiry.objects.all()
    assert set(enquiries.values_list("state", flat=True)) == set(Enquiry.State.values)
    assert set(enquiries.values_list("rating", flat=True)) == {"red", "amber", "green", "none"}
    family_sizes = Counter(enquiries.values_list("family_id", flat=True))
    assert max(family_sizes.values()) > 1
    assert Person.objects.count() < Enquiry.objects.count()
    decided = enquiries.filter(decided_at__isnull=False)
    assert decided.filter(decided_on_time=True).exists()
    assert decided.filter(decided_on_time=False).exists()
    assert not decided.filter(elapsed_minutes__isnull=True).exists()


def test_demo_history_is_consistent_with_each_enquiry(hub):
    seed_demo_enquiries(target=200)

    for enquiry in Enquiry.objects.prefetch_related("events"):
        versions = [event.version for event in enquiry.events.all()]
        assert versions == list(range(1, enquiry.version + 1))
        kinds = {event.kind for event in enquiry.events.all()}
        assert (EnquiryEvent.Kind.DECISION in kinds) == (enquiry.decided_at is not None)


def test_a_real_enquiry_after_the_demo_gets_the_next_reference(hub):
    seed_demo_enquiries(target=100)
    latest = Enquiry.objects.order_by("-received_at").first()

    (enquiry,) = services.enquiry_intake(
        actor=User.objects.get(username="researcher"),
        received_at=latest.received_at,
        referrer_name="GP",
        referrer_type=ReferrerType.objects.get(code="gp"),
        subjects=[PersonDetails(first_name="New", last_name="Child")],
        subject_type=Enquiry.SubjectType.CHILD,
        concern="Concern.",
        categories=["neglect"],
        consent=Enquiry.Consent.YES,
    )

    numbers = sorted(
        int(reference.rsplit("-", 1)[1])
        for reference in Enquiry.objects.filter(
            reference__startswith=enquiry.reference[:10]
        ).values_list("reference", flat=True)
    )
    assert numbers == list(range(1, len(numbers) + 1))
