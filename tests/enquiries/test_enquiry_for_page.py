"""The enquiry page's reads: the staff an enquiry names come by primary key in one query of
their own, and the other enquiries about its people from the people read with it."""

import pytest
from django.utils import timezone

from enquiries.models import Enquiry, EnquiryPerson
from enquiries.selectors import enquiries_about_the_same_people, enquiry_for_page
from tests.enquiries.test_pages import log

pytestmark = pytest.mark.django_db


def test_the_staff_an_enquiry_names_come_in_one_query_and_cost_none_to_show(
    researcher, manager, make_user, django_assert_num_queries
):
    (enquiry,) = log(researcher, "Ada")
    other_manager = make_user("manager", first_name="Ola", last_name="Adeyemi")
    Enquiry.objects.filter(pk=enquiry.pk).update(
        assignee=manager,
        escalated_at=timezone.now(),
        escalation_acknowledged_by=other_manager,
        escalation_acknowledged_at=timezone.now(),
    )

    # the enquiry with its family, subject, referrer type and outcome; the staff it names;
    # its people, history and family
    with django_assert_num_queries(5):
        read = enquiry_for_page(reference=enquiry.reference, viewer=researcher)
    with django_assert_num_queries(0):
        staff = (
            read.created_by,
            read.assignee,
            read.decided_by,
            read.escalation_acknowledged_by,
        )

    assert staff == (researcher, manager, None, other_manager)
    assert staff[0].get_full_name() == "Rosa Reid"


def test_staff_links_left_empty_stay_empty_and_cost_the_same_query(
    researcher, django_assert_num_queries
):
    (enquiry,) = log(researcher, "Ada")

    with django_assert_num_queries(5):
        read = enquiry_for_page(reference=enquiry.reference, viewer=researcher)
    with django_assert_num_queries(0):
        assert (read.assignee, read.decided_by, read.escalation_acknowledged_by) == (None,) * 3
        assert read.created_by == researcher


def test_other_enquiries_come_from_the_people_read_with_the_enquiry(
    researcher, django_assert_num_queries
):
    (first,) = log(researcher, "Ada", last_name="Lovelace")
    (again,) = log(researcher, subjects=[first.subject])
    (unrelated,) = log(researcher, "Zed", last_name="Ward")
    read = enquiry_for_page(reference=again.reference, viewer=researcher)

    with django_assert_num_queries(1):
        related = enquiries_about_the_same_people(read, viewer=researcher)

    assert [item.enquiry for item in related] == [first]
    assert related[0].people == ("Ada Lovelace (subject)",)
    assert unrelated not in [item.enquiry for item in related]


def test_an_enquiry_naming_nobody_still_asks_once_and_finds_nothing(
    researcher, django_assert_num_queries
):
    (first,) = log(researcher, "Ada", last_name="Lovelace")
    (again,) = log(researcher, subjects=[first.subject])
    EnquiryPerson.objects.filter(enquiry=again).delete()
    read = enquiry_for_page(reference=again.reference, viewer=researcher)

    with django_assert_num_queries(1):
        assert enquiries_about_the_same_people(read, viewer=researcher) == []
