"""The open enquiries' names (`OpenEnquiryName`, migration 0026): the triage queue's name
search finds exactly what it found reading each open enquiry's people one by one, and the
triggers keep the names in step on every path that changes people, parts or states."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db.models import Exists, OuterRef, Q, Subquery
from django.urls import reverse

from agencies.models import Role
from core.bulk import insert_rows
from enquiries import amendments, services
from enquiries.merging import merge_undo, people_merge
from enquiries.models import (
    Enquiry,
    EnquiryPerson,
    OpenEnquiryName,
    Outcome,
    Person,
    ReferrerType,
)
from enquiries.selectors import QueueFilters, enquiry_queue, narrowed, open_enquiries
from enquiries.services import PersonDetails

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")
NOW = datetime(2026, 4, 1, 12, 0, tzinfo=LONDON)
Part = EnquiryPerson.Role
REASON = "Named wrongly at intake."


@pytest.fixture
def researcher(make_user):
    return make_user(Role.RESEARCHER, first_name="Rosa", last_name="Reid")


@pytest.fixture
def manager(make_user):
    return make_user(Role.MANAGER, first_name="Mo", last_name="Khan")


def intake(actor, *subjects, others=()):
    return services.enquiry_intake(
        actor=actor,
        received_at=NOW - timedelta(days=1),
        referrer_name="Ms Head",
        referrer_type=ReferrerType.objects.get(code="school"),
        subjects=list(subjects),
        subject_type=Enquiry.SubjectType.CHILD,
        concern="Arrived at school hungry.",
        categories=["neglect"],
        consent=Enquiry.Consent.YES,
        others=others,
        now=NOW,
    )


def person(first, last):
    return Person.objects.create(first_name=first, last_name=last)


def decide(enquiry, manager):
    return services.enquiry_decide(
        enquiry=enquiry,
        actor=manager,
        outcome=Outcome.objects.get(code="nfa"),
        rationale="No concerns.",
        expected_version=Enquiry.objects.get(pk=enquiry.pk).version,
    )


def kept():
    return set(OpenEnquiryName.objects.values_list("involvement_id", "enquiry_id", "search_name"))


def should_be():
    """Every part in an open enquiry, with its person's name as the register has it now."""
    return set(
        EnquiryPerson.objects.filter(enquiry__state__in=Enquiry.OPEN_STATES).values_list(
            "pk", "enquiry_id", "person__search_name"
        )
    )


def assert_in_step():
    assert kept() == should_be()


def searched_the_old_way(term):
    """The queue's search before migration 0026: each open enquiry's people read one by one."""
    term = term.strip()
    name = Person.objects.filter(pk=OuterRef("person_id")).values("search_name")[:1]
    named = (
        EnquiryPerson.objects.filter(enquiry=OuterRef("pk"))
        .annotate(name=Subquery(name))
        .filter(name__contains=term.lower())
    )
    found = open_enquiries().filter(Q(reference__iexact=term) | Q(Exists(named)))
    return list(found.values_list("reference", flat=True))


def searched(term, user):
    queue = enquiry_queue(user=user, filters=QueueFilters(search=term), now=NOW)
    return list(queue.values_list("reference", flat=True))


@pytest.fixture
def varied(researcher, manager):
    """Subjects, parents and an alleged perpetrator; accents, capitals, an apostrophe and
    LIKE's wildcards in names; someone named in an open and in a decided enquiry."""
    mark = person("Mark", "Kowalski")
    (zoe,) = intake(researcher, person("Zoë", "Łukasiewicz"))
    anna, jan = intake(
        researcher,
        person("ANNA", "Kowalska"),
        person("Jan", "Kowalska"),
        others=[(person("Émile", "O'Brien"), Part.PARENT_CARER)],
    )
    (priya,) = intake(
        researcher,
        person("Priya", "Shah"),
        others=[
            (person("Sunita", "Shah"), Part.PARENT_CARER),
            (mark, Part.ALLEGED_PERPETRATOR),
        ],
    )
    (wild,) = intake(researcher, person("Per%cent", "Under_Score"))
    (gone,) = intake(researcher, person("Jan", "Kowalski"), others=[(mark, Part.OTHER)])
    decide(gone, manager)
    return {"zoe": zoe, "anna": anna, "jan": jan, "priya": priya, "wild": wild, "gone": gone}


TERMS = [
    "kowal",
    "KOWALSKA",
    "Kowalski",
    "zoë",
    "ZOË",
    "łukas",
    "ŁUKAS",
    "émile",
    "ÉMILE",
    "o'brien",
    "anna kow",
    "a k",
    "%",
    "_",
    "r%c",
    "r_s",
    "k",
    "ko",
    "  shah  ",
    "sunita shah",
    "mark",
    "nobody",
    "   ",
]


def test_the_search_finds_what_reading_each_open_enquirys_people_found(varied, researcher):
    references = [enquiry.reference for enquiry in varied.values()]

    for term in [*TERMS, *references, *(reference.lower() for reference in references)]:
        assert sorted(searched(term, researcher)) == sorted(searched_the_old_way(term)), term
    assert searched("kowalski", researcher) == [varied["priya"].reference]
    assert varied["gone"].reference not in searched(varied["gone"].reference, researcher)


def test_the_apis_search_still_finds_enquiries_in_any_state(varied, researcher):
    found = narrowed(
        Enquiry.objects.all(), user=researcher, filters=QueueFilters(search="jan kowalski"), now=NOW
    )

    assert list(found.values_list("reference", flat=True)) == [varied["gone"].reference]


@pytest.mark.parametrize("people", [1, 6])
def test_the_searched_queue_page_runs_a_fixed_number_of_queries(
    client, researcher, django_assert_max_num_queries, people
):
    for number in range(people):
        intake(researcher, person(f"Child{number}", "Kowalska"))
    client.force_login(researcher)

    # session, user + agency, groups, assignee choices, the hub clock's version, the search's
    # places, the page's enquiries, the search in the access log (lock, last hash, entry),
    # unread notifications in the header
    with django_assert_max_num_queries(11):
        response = client.get(reverse("triage-queue"), {"q": "kowalska"})

    assert response.status_code == 200
    assert response.content.decode().count("Kowalska") >= people


def test_intake_adds_the_names_and_a_decision_takes_them_away(researcher, manager):
    (enquiry,) = intake(
        researcher, person("Ann", "Lee"), others=[(person("Bo", "Lee"), Part.PARENT_CARER)]
    )
    assert {name for _, _, name in kept()} == {"ann lee", "bo lee"}
    assert_in_step()

    decide(enquiry, manager)

    assert kept() == set()
    assert_in_step()


def test_moving_between_open_states_keeps_the_names(researcher):
    (enquiry,) = intake(researcher, person("Ann", "Lee"))
    before = kept()

    services.enquiry_rate(
        enquiry=enquiry, actor=researcher, rating="red", rationale="Triage.", expected_version=1
    )

    assert Enquiry.objects.get(pk=enquiry.pk).state != Enquiry.State.RECEIVED
    assert kept() == before


def test_an_enquiry_opened_again_by_any_path_has_its_names_back(researcher, manager):
    (enquiry,) = intake(researcher, person("Ann", "Lee"))
    decide(enquiry, manager)

    Enquiry.objects.filter(pk=enquiry.pk).update(state=Enquiry.State.RESEARCHING, decided_at=None)

    assert {name for _, _, name in kept()} == {"ann lee"}
    assert_in_step()


def test_a_corrected_name_is_searched_by_its_new_spelling(researcher):
    (enquiry,) = intake(researcher, person("Ann", "Smyth"))
    (other,) = intake(researcher, enquiry.subject, others=[])

    amendments.person_correct(
        enquiry=enquiry,
        person=enquiry.subject,
        actor=researcher,
        reason="Spelt wrongly.",
        expected_version=Enquiry.objects.get(pk=enquiry.pk).version,
        last_name="Smith",
    )

    assert {name for _, _, name in kept()} == {"ann smith"}
    assert_in_step()
    assert sorted(searched("smith", researcher)) == sorted([enquiry.reference, other.reference])
    assert searched("smyth", researcher) == []


def test_people_added_to_and_removed_from_an_enquiry(researcher):
    (enquiry,) = intake(researcher, person("Ann", "Lee"))

    amendments.enquiry_add_person(
        enquiry=enquiry,
        actor=researcher,
        person=PersonDetails(first_name="Carl", last_name="Ray"),
        role=Part.ALLEGED_PERPETRATOR,
        reason="Named by the school later.",
        expected_version=Enquiry.objects.get(pk=enquiry.pk).version,
    )
    assert {name for _, _, name in kept()} == {"ann lee", "carl ray"}
    assert_in_step()

    amendments.enquiry_remove_person(
        enquiry=enquiry,
        actor=researcher,
        involvement=EnquiryPerson.objects.get(enquiry=enquiry, person__last_name="Ray"),
        reason=REASON,
        expected_version=Enquiry.objects.get(pk=enquiry.pk).version,
    )
    assert {name for _, _, name in kept()} == {"ann lee"}
    assert_in_step()


def test_a_child_added_to_the_family(researcher):
    (enquiry,) = intake(researcher, person("Ann", "Lee"))

    amendments.family_add_child(
        enquiry=enquiry,
        actor=researcher,
        child=PersonDetails(first_name="Dot", last_name="Lee"),
        reason="A younger sister.",
        expected_version=Enquiry.objects.get(pk=enquiry.pk).version,
    )

    assert {"dot lee", "ann lee"} <= {name for _, _, name in kept()}
    assert_in_step()


def test_a_merge_and_its_undo(researcher, manager):
    smith, smyth = person("Amy", "Smith"), person("Amy", "Smyth")
    intake(researcher, smith)
    intake(researcher, smyth)
    # Both named in one enquiry: the merge deletes the double and its undo makes it again.
    intake(
        researcher,
        person("Ben", "Smith"),
        others=[(smith, Part.HOUSEHOLD_MEMBER), (smyth, Part.HOUSEHOLD_MEMBER)],
    )
    before = kept()

    merge = people_merge(survivor=smith, merged=smyth, actor=manager, reason=REASON, now=NOW)
    assert "amy smyth" not in {name for _, _, name in kept()}
    assert_in_step()

    merge_undo(merge=merge, actor=manager, reason="Twins.", now=NOW)
    assert_in_step()
    assert {name for _, _, name in kept()} == {name for _, _, name in before}


def test_parts_copied_in_bulk_and_deleted(researcher, manager):
    """A bulk load's COPY (core.bulk) is one statement of many rows."""
    (open_one,) = intake(researcher, person("Ann", "Lee"))
    (decided,) = intake(researcher, person("Bo", "Lee"))
    decide(decided, manager)
    cousin = person("Cy", "Lee")

    insert_rows(
        EnquiryPerson,
        [
            {"enquiry_id": enquiry.pk, "person_id": cousin.pk, "role": Part.OTHER}
            for enquiry in (open_one, decided)
        ],
    )
    assert {name for _, _, name in kept()} == {"ann lee", "cy lee"}
    assert_in_step()

    EnquiryPerson.objects.filter(person=cousin).delete()
    assert_in_step()


def test_a_person_renamed_directly_and_a_part_moved_directly(researcher):
    (first,) = intake(researcher, person("Ann", "Lee"))
    (second,) = intake(researcher, person("Bo", "Lee"))

    Person.objects.filter(pk=first.subject_id).update(first_name="Anne")
    EnquiryPerson.objects.filter(enquiry=second).update(enquiry=first)

    assert {(enquiry, name) for _, enquiry, name in kept()} == {
        (first.pk, "anne lee"),
        (first.pk, "bo lee"),
    }
    assert_in_step()
