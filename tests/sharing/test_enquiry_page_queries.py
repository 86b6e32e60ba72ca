"""The enquiry page runs the same queries whatever the enquiry: open or decided, with or
without agencies' records, sensitive, released or signposted, with earlier enquiries about
its people or none (bench/queue.py timed 14 to 22 before)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from enquiries import services as enquiry_services
from enquiries.models import Enquiry, Outcome, ReferrerType
from enquiries.services import PersonDetails
from tests.sharing.conftest import log_child

pytestmark = pytest.mark.django_db

# session, user, groups; the enquiry with its people, history and family; the staff it names
# (one query by primary key: as four more joins they cost 5 ms of planning at 1,000,000); the
# clock's version; information requests, the records through the firewall, the agencies not
# yet asked; the view in the access log (the lock and last hash in one call, the insert);
# earlier decisions on the subject; other enquiries about its people; its feedback email;
# outcome names; onward referrals (for the hub); the unread-notification count. Two more
# outside a test's transaction (BEGIN, COMMIT).
HUB_QUERIES = 20
# A practitioner is not shown onward referrals nor asked to send requests, and the firewall
# checks their agency was asked.
PRACTITIONER_QUERIES = HUB_QUERIES - 2 + 1


def decided(enquiry: Enquiry, manager) -> Enquiry:
    return enquiry_services.enquiry_decide(
        enquiry=enquiry,
        actor=manager,
        outcome=Outcome.objects.get(code="nfa"),
        rationale="No concerns.",
        expected_version=enquiry.version,
    )


def again_about(enquiry: Enquiry, researcher) -> Enquiry:
    """Another enquiry about the same child, outside its family."""
    return enquiry_services.enquiry_intake(
        actor=researcher,
        received_at=enquiry.received_at,
        referrer_name="GP",
        referrer_type=ReferrerType.objects.get(code="gp"),
        subjects=[enquiry.subject],
        others=[(PersonDetails(first_name="Pat", last_name="Firewall"), "parent_carer")],
        subject_type=Enquiry.SubjectType.CHILD,
        concern="Missed appointments.",
        categories=["neglect"],
        consent=Enquiry.Consent.YES,
    )[0]


def no_records(hub):
    return hub.enquiry


def non_sensitive(hub):
    hub.record("non_sensitive", marker="plain")
    return hub.enquiry


def sensitive_and_released(hub):
    hub.record("sensitive", marker="hidden")
    hub.record("released", marker="released", agency="health")
    hub.record("refused", marker="refused")
    return hub.enquiry


def withdrawn(hub):
    hub.record("withdrawn", marker="withdrawn")
    return hub.enquiry


def decided_with_records(hub):
    hub.record("released", marker="released")
    return decided(hub.enquiry, hub.manager)


def decided_and_asked_about_again(hub):
    hub.record("non_sensitive", marker="plain")
    earlier = decided(hub.enquiry, hub.manager)
    again_about(earlier, hub.researcher)
    return earlier


def a_re_referral(hub):
    decided(hub.enquiry, hub.manager)
    return again_about(hub.enquiry, hub.researcher)


def nobody_asked(hub):
    return log_child(hub.researcher, "Bea", "Quiet", minutes_ago=10)


KINDS = [
    no_records,
    non_sensitive,
    sensitive_and_released,
    withdrawn,
    decided_with_records,
    decided_and_asked_about_again,
    a_re_referral,
    nobody_asked,
]


def queries_for(client, user, enquiry: Enquiry) -> int:
    """Counted on a second look: the first builds the process's clock and marks records
    first read (sharing.reads), whatever the enquiry."""
    client.force_login(user)
    client.get(enquiry.get_absolute_url())
    with CaptureQueriesContext(connection) as captured:
        response = client.get(enquiry.get_absolute_url())
    assert response.status_code == 200
    return len(captured)


@pytest.mark.parametrize("kind", KINDS, ids=[kind.__name__ for kind in KINDS])
def test_the_hub_reads_any_enquiry_in_the_same_queries(client, hub, kind):
    enquiry = kind(hub)

    counts = {queries_for(client, user, enquiry) for user in (hub.researcher, hub.manager)}

    assert counts == {HUB_QUERIES}


@pytest.mark.parametrize(
    "kind",
    [no_records, non_sensitive, sensitive_and_released, withdrawn, decided_with_records],
    ids=lambda kind: kind.__name__,
)
def test_a_practitioner_reads_any_enquiry_they_were_asked_about_in_the_same_queries(
    client, hub, kind
):
    enquiry = kind(hub)

    assert queries_for(client, hub.police_officer, enquiry) == PRACTITIONER_QUERIES
