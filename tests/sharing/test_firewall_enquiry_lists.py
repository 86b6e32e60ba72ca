"""The firewall over lists of enquiries: role x hidden relation x surface, over HTML and API.

A practitioner works on one enquiry their agency was asked about, whose people also appear in
enquiries their agency was never asked about: the rest of the family, an earlier decided
enquiry (which would make this one a re-referral), an enquiry about the same parent, and a
notification left from before they moved agency. Every hidden enquiry's reference is a
marker, and so is its subject's name: neither may reach the practitioner through any surface
(but for the brother's name, which the enquiry they may see names among its own people), nor
may a count or a flag give the hidden enquiries away. The hub's researcher and manager, who
see every enquiry, must find each of them on the same surfaces, so each cell could fail.
"""

import dataclasses
from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from enquiries import services as enquiry_services
from enquiries.models import Enquiry, EnquiryPerson, Notification, Outcome, ReferrerType
from enquiries.notifications import (
    navigation_unread_count,
    notifications_mark_all_read,
    unread_notification_count,
    user_notifications,
)
from enquiries.services import PersonDetails
from sharing import services
from tests.database import made_once_for_many_tests

from .conftest import Hub, make_hub

pytestmark = pytest.mark.django_db

RELATIONS = ["family", "re-referral", "same parent", "notification"]
SURFACES = [
    "enquiry page",
    "notifications page",
    "unread count",
    "inbox",
    "API requests",
    "API enquiry",
    "API enquiry search",
]
# role: (the Hub attribute, sees every enquiry)
ROLES = {
    "researcher": ("researcher", True),
    "manager": ("manager", True),
    "practitioner asked": ("police_officer", False),
    "practitioner not asked": ("health_visitor", False),
    "analyst": ("analyst", False),
    "auditor": ("auditor", False),
    "administrator": ("administrator", False),
}


@dataclass
class History:
    hub: Hub
    # the enquiry police were asked about, and the ones they were not
    seen: Enquiry
    hidden: dict[str, Enquiry]

    def fresh(self) -> "History":
        return dataclasses.replace(
            self,
            hub=self.hub.fresh(),
            seen=Enquiry.objects.get(pk=self.seen.pk),
            hidden={k: Enquiry.objects.get(pk=v.pk) for k, v in self.hidden.items()},
        )


def marker(relation: str) -> str:
    return f"Hidden{relation.title().replace(' ', '').replace('-', '')}Qz"


def _intake(hub: Hub, subjects, *, others=(), minutes_ago: int) -> list[Enquiry]:
    return enquiry_services.enquiry_intake(
        actor=hub.researcher,
        received_at=timezone.now() - timedelta(minutes=minutes_ago),
        referrer_name="Ms Head",
        referrer_type=ReferrerType.objects.get(code="school"),
        subjects=subjects,
        others=others,
        subject_type=Enquiry.SubjectType.CHILD,
        concern="Bruising noticed at school.",
        categories=["physical_abuse"],
        consent=Enquiry.Consent.YES,
    )


def make_history() -> History:
    hub = make_hub()
    parent = PersonDetails(first_name="Dan", last_name="Parent")
    # A child police were asked about weeks ago: decided since, and police were not asked.
    earlier = _intake(
        hub,
        [PersonDetails(first_name="Bea", last_name="Visible")],
        minutes_ago=60 * 24 * 20,
    )[0]
    enquiry_services.enquiry_decide(
        enquiry=earlier,
        actor=hub.manager,
        outcome=Outcome.objects.filter(is_active=True).first(),
        rationale="Single agency response.",
        expected_version=earlier.version,
        decided_at=earlier.received_at + timedelta(days=1),
    )
    Enquiry.objects.filter(pk=earlier.pk).update(reference=f"ENQ-{marker('re-referral')}")
    # Now Bea again, with a brother police were not asked about, and their father.
    bea = earlier.subject
    seen, brother = _intake(
        hub,
        [bea, PersonDetails(first_name="Cal", last_name=marker("family"))],
        others=[(parent, EnquiryPerson.Role.PARENT_CARER)],
        minutes_ago=20,
    )
    Enquiry.objects.filter(pk=brother.pk).update(reference=f"ENQ-{marker('family')}")
    services.send_information_requests(enquiry=seen, actor=hub.researcher, agencies=[hub.police])
    # The father's other child, in another family police were never asked about.
    dan = seen.involvements.get(role=EnquiryPerson.Role.PARENT_CARER).person
    other = _intake(
        hub,
        [PersonDetails(first_name="Eve", last_name=marker("same parent"))],
        others=[(dan, EnquiryPerson.Role.PARENT_CARER)],
        minutes_ago=60 * 24 * 3,
    )[0]
    Enquiry.objects.filter(pk=other.pk).update(reference=f"ENQ-{marker('same parent')}")
    # An enquiry the police officer was told about in an agency they have since left.
    left = _intake(
        hub, [PersonDetails(first_name="Fay", last_name=marker("notification"))], minutes_ago=40
    )[0]
    Enquiry.objects.filter(pk=left.pk).update(reference=f"ENQ-{marker('notification')}")
    for user in (hub.police_officer, hub.health_visitor, hub.researcher, hub.manager):
        Notification.objects.create(
            recipient=user,
            enquiry=left,
            kind=Notification.Kind.AT_RISK,
            message=f"ENQ-{marker('notification')}: Fay {marker('notification')} is at risk.",
        )
    return History(
        hub=hub,
        seen=seen,
        hidden={
            "family": brother,
            "re-referral": earlier,
            "same parent": other,
            "notification": left,
        },
    )


@pytest.fixture(scope="module")
def _history_for_the_module(request, django_db_setup, django_db_blocker):
    with made_once_for_many_tests(django_db_blocker, request.node.nodeid, make_history) as made:
        yield made


@pytest.fixture
def history(db, _history_for_the_module) -> History:
    return _history_for_the_module.fresh()


def body(response) -> str:
    return response.content.decode()


def visit(client, history: History, surface: str):
    seen = history.seen
    if surface == "enquiry page":
        return client.get(seen.get_absolute_url())
    if surface == "notifications page":
        return client.get(reverse("notifications"))
    if surface == "unread count":
        return client.get(reverse("home"))
    if surface == "inbox":
        return client.get(reverse("agency-inbox"))
    if surface == "API requests":
        return client.get(reverse("api:information-request-list"))
    if surface == "API enquiry":
        return client.get(reverse("api:enquiry-detail", args=[seen.reference]))
    if surface == "API enquiry search":
        return client.get(reverse("api:enquiry-list"), {"q": marker("family")})
    raise AssertionError(surface)


def shows(relation: str, surface: str) -> bool:
    """Where a hub member finds each hidden enquiry (the positive control)."""
    if relation == "notification":
        return surface == "notifications page"
    if relation == "family":
        return surface in ("enquiry page", "API enquiry", "API enquiry search")
    return surface == "enquiry page"


@pytest.mark.parametrize("surface", SURFACES)
@pytest.mark.parametrize("relation", RELATIONS)
def test_a_hidden_enquiry_reaches_only_those_who_may_see_it(client, history, relation, surface):
    hidden = history.hidden[relation]
    for role, (attribute, sees_all) in ROLES.items():
        client.force_login(getattr(history.hub, attribute))
        text = body(visit(client, history, surface))
        found = hidden.reference in text or (relation != "family" and marker(relation) in text)
        expected = sees_all and shows(relation, surface)
        assert found is expected, (
            f"{role} on the {surface}: {relation} {'missing' if expected else 'leaked'}"
        )


def test_a_practitioner_is_not_told_the_enquiry_is_a_re_referral_or_in_a_family(client, history):
    """Not even the flag, the count of earlier decisions or the family's caption."""
    client.force_login(history.hub.police_officer)
    text = body(client.get(history.seen.get_absolute_url()))
    assert 'data-testid="re-referral"' not in text
    assert "Re-referral" not in text
    assert "in family" not in text
    assert 'data-testid="siblings"' not in text
    assert 'data-testid="related-enquiries"' not in text

    client.force_login(history.hub.researcher)
    text = body(client.get(history.seen.get_absolute_url()))
    assert 'data-testid="re-referral"' in text
    assert f"in family {history.seen.family.reference}" in text


def test_the_unread_count_leaves_out_enquiries_a_practitioner_may_no_longer_see(history):
    officer, researcher = history.hub.police_officer, history.hub.researcher
    left = history.hidden["notification"]
    unread = Notification.objects.filter(recipient=officer, read_at__isnull=True)
    assert unread.filter(enquiry=left).exists()
    assert unread_notification_count(user=officer) == unread.exclude(enquiry=left).count()
    # The navigation's count, which stops one past its limit, leaves it out too.
    assert unread_notification_count(user=officer, up_to=0) == 1
    assert navigation_unread_count(user=officer).counted == unread.exclude(enquiry=left).count()
    assert not user_notifications(user=officer).filter(enquiry=left).exists()
    assert user_notifications(user=researcher).filter(enquiry=left).exists()
    # Asked now, the police officer is told again: the notification was only out of sight.
    services.send_information_requests(
        enquiry=left, actor=researcher, agencies=[history.hub.police]
    )
    assert user_notifications(user=officer).filter(enquiry=left).exists()


def test_a_practitioner_who_moves_agency_loses_the_old_agency_s_enquiries(client, history):
    officer = history.hub.police_officer
    client.force_login(officer)
    assert client.get(history.seen.get_absolute_url()).status_code == 200
    officer.agency = history.hub.health
    officer.save(update_fields=["agency"])
    client.force_login(officer)
    assert client.get(history.seen.get_absolute_url()).status_code == 404
    text = body(client.get(reverse("notifications")))
    assert history.seen.reference not in text


def test_marking_every_notification_read_touches_only_visible_ones(history):
    officer, left = history.hub.police_officer, history.hidden["notification"]
    unread = Notification.objects.filter(recipient=officer, read_at__isnull=True)
    visible = unread.exclude(enquiry=left).count()
    assert visible > 0
    assert notifications_mark_all_read(user=officer) == visible
    assert Notification.objects.get(recipient=officer, enquiry=left).read_at is None
