"""People search, the header's search box, the person page and the chronology: selectors,
pages and API, for the hub (the firewall's side is tests/sharing/test_people_firewall.py)."""

import csv
import io
from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from agencies.models import Role
from audit.models import AccessLogEntry
from enquiries import people, services
from enquiries.models import Enquiry, EnquiryPerson, Outcome, Person, PersonAlias, ReferrerType
from enquiries.services import PersonDetails

pytestmark = pytest.mark.django_db

Log = AccessLogEntry.Action


def log(actor, *subjects, others=(), minutes_ago=60, concern="Bruising noticed at school."):
    return services.enquiry_intake(
        actor=actor,
        received_at=timezone.now() - timedelta(minutes=minutes_ago),
        referrer_name="Ms Head",
        referrer_type=ReferrerType.objects.get(code="school"),
        subjects=list(subjects),
        subject_type=Enquiry.SubjectType.CHILD,
        concern=concern,
        categories=["physical_abuse"],
        consent=Enquiry.Consent.YES,
        others=list(others),
    )


def child(first, last, **details):
    return PersonDetails(first_name=first, last_name=last, **details)


def decide(enquiry, manager, code="nfa"):
    return services.enquiry_decide(
        enquiry=enquiry,
        actor=manager,
        outcome=Outcome.objects.get(code=code),
        rationale="Parents engaging with early help.",
        expected_version=enquiry.version,
    )


# What one search box means.


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("Jayden Smith", people.PeopleQuery(name="Jayden Smith")),
        (
            "jayden smith 3/4/2015",
            people.PeopleQuery(name="jayden smith", date_of_birth=date(2015, 4, 3)),
        ),
        ("2015-04-03", people.PeopleQuery(date_of_birth=date(2015, 4, 3))),
        ("943 476 5919", people.PeopleQuery(nhs_number="9434765919")),
        ("ox4 1aa", people.PeopleQuery(address="OX4 1AA")),
        ("Smith age 7", people.PeopleQuery(name="Smith", age=7)),
        ("  ", people.PeopleQuery()),
    ],
)
def test_one_box_reads_names_dates_ages_nhs_numbers_and_postcodes(typed, expected):
    assert people.read_search(typed) == expected


def test_a_date_that_does_not_exist_is_a_field_error():
    with pytest.raises(ValidationError) as error:
        people.read_search("Amy 31/2/2015")
    assert "31/2/2015 is not a real date" in error.value.message_dict["q"][0]


# Finding people.


def names(results):
    return [str(found.person) for found in results.found]


def search(text, viewer, **kwargs):
    return people.search_people(
        people.read_search(text), viewer=viewer, today=timezone.localdate(), **kwargs
    )


def test_a_misspelt_surname_finds_the_child_with_their_enquiries_newest_first(researcher, manager):
    first = log(researcher, child("Jayden", "Smith", date_of_birth=date(2015, 4, 3)))[0]
    decide(first, manager)
    jayden = first.subject
    second = log(researcher, jayden, minutes_ago=10)[0]
    log(researcher, child("Zara", "Okafor"))

    results = search("Jayden Smyth", researcher)

    assert names(results) == ["Jayden Smith"]
    assert [part.enquiry.reference for part in results.found[0].parts] == [
        second.reference,
        first.reference,
    ]
    assert results.found[0].parts[1].enquiry.outcome.code == "nfa"


def test_aliases_and_previous_names_are_found(researcher):
    enquiry = log(researcher, child("Kayleigh", "Brown"))[0]
    PersonAlias.objects.create(
        person=enquiry.subject,
        kind=PersonAlias.Kind.PREVIOUS_NAME,
        first_name="Kayleigh",
        last_name="Whitfield",
    )
    assert names(search("Kayleigh Whitfield", researcher)) == ["Kayleigh Brown"]
    assert search("Kayleigh Whitfield", researcher).found[0].known_as == ["Kayleigh Whitfield"]


def test_date_of_birth_age_nhs_number_and_postcode_each_find_the_person(researcher):
    log(
        researcher,
        child(
            "Amy",
            "Jones",
            date_of_birth=date(2018, 5, 1),
            nhs_number="9434765919",
            address="4 Mill Lane\nOxford OX4 1AA",
        ),
    )
    log(researcher, child("Ben", "Jones", approximate_age=12))
    log(researcher, child("Cara", "Jones", date_of_birth=date(2001, 1, 1)))
    today = timezone.localdate()
    age = today.year - 2018 - ((today.month, today.day) < (5, 1))

    assert names(search("1/5/2018", researcher)) == ["Amy Jones"]
    assert names(search("943 476 5919", researcher)) == ["Amy Jones"]
    assert names(search("ox4 1aa", researcher)) == ["Amy Jones"]
    assert names(search(f"Jones age {age}", researcher)) == ["Amy Jones"]
    assert names(search("Jones age 13", researcher)) == ["Ben Jones"]
    assert names(search("Jones 2/5/2018", researcher)) == []


def test_merged_records_are_not_found_themselves(researcher):
    kept = log(researcher, child("Lily", "Evans"))[0].subject
    merged = log(researcher, child("Rosalind", "Wu"))[0].subject
    Person.objects.filter(pk=merged.pk).update(merged_into=kept)
    assert names(search("Rosalind Wu", researcher)) == []


def test_results_come_a_page_at_a_time(researcher):
    for n in range(people.PAGE_SIZE + 2):
        log(researcher, child(f"Child{n:02d}", "Pagewood"))
    first = search("Pagewood", researcher)
    second = search("Pagewood", researcher, page=2)
    assert len(first.found) == people.PAGE_SIZE and first.has_next
    assert len(second.found) == 2 and not second.has_next and second.has_previous
    assert not set(names(first)) & set(names(second))


@pytest.mark.parametrize("size", [3, 12])
def test_the_search_costs_the_same_however_many_are_found(
    researcher, size, django_assert_max_num_queries
):
    for n in range(size):
        family = log(
            researcher,
            child(f"Kid{n}", "Constant"),
            others=[(child(f"Mum{n}", "Constant"), EnquiryPerson.Role.PARENT_CARER)],
        )
        log(researcher, family[0].subject, minutes_ago=5)
    with django_assert_max_num_queries(5):
        results = search("Constant", researcher)
    assert len(results.found) == 2 * size


# The header's search box: enquiries by reference.


def test_a_partial_reference_finds_enquiries_open_or_closed(researcher, manager):
    enquiry = log(researcher, child("Amy", "Ref"))[0]
    decide(enquiry, manager)
    number = int(enquiry.reference.rsplit("-", 1)[1])
    year = enquiry.reference.split("-")[1]

    def find(typed):
        return people.find_enquiries(typed, viewer=researcher, today=timezone.localdate())

    for typed in (enquiry.reference, f"{year}-{number}", str(number), enquiry.reference.lower()):
        assert find(typed) == [enquiry], typed
    assert find(f"{year}-{number + 1}") == []
    assert find(enquiry.family.reference) == [enquiry]
    assert find("Amy Ref") == []


def test_the_header_box_goes_straight_to_a_full_reference(client, researcher):
    enquiry = log(researcher, child("Amy", "Straight"))[0]
    client.force_login(researcher)
    response = client.get(reverse("find"), {"q": enquiry.reference})
    assert response.status_code == 302
    assert response["Location"] == enquiry.get_absolute_url()


def test_the_header_box_finds_partial_references_and_people(client, researcher):
    enquiry = log(researcher, child("Amy", "Partial"))[0]
    client.force_login(researcher)
    number = str(int(enquiry.reference.rsplit("-", 1)[1]))

    by_number = client.get(reverse("find"), {"q": number})
    by_name = client.get(reverse("find"), {"q": "amy partial"})
    nothing = client.get(reverse("find"), {"q": "Nobody Atall"})

    assert enquiry.reference in by_number.content.decode()
    assert "Amy Partial" in by_name.content.decode()
    assert 'data-testid="nothing-found"' in nothing.content.decode()
    assert 'data-testid="header-search"' in by_name.content.decode()
    searches = AccessLogEntry.objects.filter(user=researcher, action=Log.SEARCH)
    assert searches.filter(person=enquiry.subject, terms="q: amy partial").exists()


# The person page.


@pytest.fixture
def family_history(researcher, manager):
    """Jayden in two enquiries: one decided (with his mother and her partner), one open."""
    mother = child("Kerry", "Smith")
    partner = child("Dean", "Carter")
    first = log(
        researcher,
        child("Jayden", "Smith", date_of_birth=date(2015, 4, 3)),
        others=[
            (mother, EnquiryPerson.Role.PARENT_CARER),
            (partner, EnquiryPerson.Role.HOUSEHOLD_MEMBER),
        ],
        minutes_ago=600,
        concern="Jayden said Dean hit him.",
    )[0]
    services.enquiry_rate(
        enquiry=first,
        actor=researcher,
        rating="amber",
        rationale="Injury seen; no disclosure of ongoing harm.",
        expected_version=first.version,
    )
    first.refresh_from_db()
    decide(first, manager, code="nfa")
    second = log(researcher, first.subject, minutes_ago=30, concern="Missing from school.")[0]
    return first.subject, first, second


def test_the_person_page_shows_details_enquiries_relationships_and_chronology(
    client, researcher, family_history
):
    jayden, first, second = family_history
    client.force_login(researcher)

    response = client.get(reverse("person-detail", args=[jayden.pk]))

    page = response.content.decode()
    assert response.status_code == 200
    assert "3 April 2015" in page
    assert first.reference in page and second.reference in page
    assert "Kerry Smith" in page and "Dean Carter" in page
    chronology = response.context["page"].chronology
    assert [
        (entry.kind, entry.title, chronology.reference(entry)) for entry in chronology.entries
    ] == [
        ("received", "Received", first.reference),
        ("received", "Received", second.reference),
        ("rated", "Rated Amber", first.reference),
        ("decided", "Decided: No further action", first.reference),
    ]
    assert chronology.entries[2].text == "Injury seen; no disclosure of ongoing harm."
    assert chronology.entries[0].text == "Jayden said Dean hit him."
    assert chronology.entries[0].at == first.received_at
    assert AccessLogEntry.objects.filter(
        user=researcher, action=Log.VIEW_PERSON, person=jayden, channel="page"
    ).exists()


def test_relationships_say_family_or_household(researcher, family_history):
    jayden, *_ = family_history
    page = people.person_page(jayden, viewer=researcher)
    by_name = {str(relation.person): relation for relation in page.relationships}
    assert by_name["Kerry Smith"].group == "Family"
    assert by_name["Kerry Smith"].parts == ("Parent or carer",)
    assert by_name["Dean Carter"].group == "Household and others"


def test_the_chronology_filters_by_date_and_kind(client, researcher, family_history):
    jayden, *_ = family_history
    client.force_login(researcher)
    url = reverse("person-detail", args=[jayden.pk])

    decided = client.get(url, {"kind": "decided"}).context["page"].chronology.entries
    today = timezone.localdate().isoformat()
    recent = client.get(url, {"start": today, "end": today}).context["page"].chronology.entries
    backwards = client.get(url, {"start": today, "end": "2020-01-01"})

    assert [entry.kind for entry in decided] == ["decided"]
    assert all(timezone.localtime(entry.at).date().isoformat() == today for entry in recent)
    assert backwards.context["filters"].errors["end"] == [
        "The end date must be the same as or after the start date."
    ]
    assert "<title>Error:" in backwards.content.decode()


def test_the_chronology_downloads_as_csv_and_is_logged_as_an_export(
    client, researcher, family_history
):
    jayden, first, _ = family_history
    client.force_login(researcher)
    response = client.get(reverse("person-chronology-csv", args=[jayden.pk]), {"kind": "rated"})
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["When", "Enquiry", "What", "Details", "By"]
    assert rows[1][1:4] == [
        first.reference,
        "Rated Amber",
        "Injury seen; no disclosure of ongoing harm.",
    ]
    assert AccessLogEntry.objects.filter(
        user=researcher, action=Log.EXPORT, person=jayden, channel="export"
    ).exists()


@pytest.mark.parametrize("enquiries", [2, 8])
def test_the_person_page_costs_the_same_however_many_enquiries(
    client, researcher, enquiries, django_assert_max_num_queries
):
    subject = log(researcher, child("Many", "Times"))[0].subject
    for _ in range(enquiries - 1):
        log(
            researcher,
            subject,
            others=[(child("Some", "Parent"), EnquiryPerson.Role.PARENT_CARER)],
        )
    client.force_login(researcher)
    with django_assert_max_num_queries(22):
        response = client.get(reverse("person-detail", args=[subject.pk]))
    assert len(response.context["page"].parts) == enquiries


def test_a_merged_record_sends_its_reader_to_the_survivor(client, researcher):
    kept, merged = (log(researcher, child("Lily", f"Evans{n}"))[0].subject for n in (1, 2))
    Person.objects.filter(pk=merged.pk).update(merged_into=kept)
    client.force_login(researcher)
    response = client.get(reverse("person-detail", args=[merged.pk]))
    assert response.status_code == 302
    assert response["Location"] == reverse("person-detail", args=[kept.pk])


def test_nobody_by_that_number_is_404(client, researcher):
    client.force_login(researcher)
    assert client.get(reverse("person-detail", args=[987654])).status_code == 404


@pytest.mark.parametrize("role", [Role.ANALYST, Role.AUDITOR, Role.ADMINISTRATOR])
def test_roles_without_case_work_may_not_look_people_up(client, make_user, researcher, role):
    subject = log(researcher, child("Amy", "Private"))[0].subject
    client.force_login(make_user(role))
    assert client.get(reverse("people-search"), {"q": "Amy Private"}).status_code == 403
    assert client.get(reverse("person-detail", args=[subject.pk])).status_code == 403
    assert client.get(reverse("find"), {"q": "Amy"}).status_code == 403


# The page and the API.


def test_the_search_page_shows_people_and_logs_whom_it_showed(client, researcher):
    amy = log(researcher, child("Amy", "Seen"))[0].subject
    client.force_login(researcher)
    response = client.get(reverse("people-search"), {"q": "Amy Seen"})
    assert "Amy Seen" in response.content.decode()
    entry = AccessLogEntry.objects.get(user=researcher, action=Log.SEARCH)
    assert entry.person_id == amy.pk
    assert entry.terms == "name: Amy Seen"


def test_the_search_page_gives_field_errors(client, researcher):
    client.force_login(researcher)
    response = client.get(reverse("people-search"), {"q": "Amy 30/2/2015", "nhs_number": "12"})
    assert (
        response.context["form"].errors
        == {
            "q": ["30/2/2015 is not a real date; give a date of birth as 3/4/2015."],
            "nhs_number": ["Enter a 10-digit NHS number, like 943 476 5919."],
        }
        or "nhs_number" in response.context["form"].errors
    )
    assert "<title>Error:" in response.content.decode()


def test_the_api_search_answers_with_people_and_their_enquiries(client, researcher):
    enquiry = log(researcher, child("Amy", "Api", date_of_birth=date(2016, 2, 29)))[0]
    client.force_login(researcher)

    response = client.get("/api/v1/people/", {"q": "amy api"})
    by_birth = client.get("/api/v1/people/", {"date_of_birth": "2016-02-29"})
    bad = client.get("/api/v1/people/", {"age": "-1", "nhs_number": "12"})
    unknown = client.get("/api/v1/people/", {"q": "amy", "colour": "red"})
    empty = client.get("/api/v1/people/", {})

    assert response.status_code == 200
    found = response.json()["results"][0]
    assert found["person"]["last_name"] == "Api"
    assert found["enquiries"][0]["reference"] == enquiry.reference
    assert found["enquiries"][0]["part"] == "subject"
    assert response.json()["next"] is None
    assert by_birth.json()["results"][0]["person"]["id"] == enquiry.subject_id
    assert bad.status_code == 400
    assert set(bad.json()) == {"age"} or set(bad.json()) == {"age", "nhs_number"}
    assert unknown.status_code == 400 and set(unknown.json()) == {"colour"}
    assert empty.status_code == 400 and "q" in empty.json()


def test_the_api_person_and_chronology(client, researcher, family_history):
    jayden, first, second = family_history
    client.force_login(researcher)

    person = client.get(f"/api/v1/people/{jayden.pk}/")
    chronology = client.get(f"/api/v1/people/{jayden.pk}/chronology/", {"kind": "decided"})
    bad = client.get(f"/api/v1/people/{jayden.pk}/chronology/", {"kind": "gossip"})
    missing = client.get("/api/v1/people/987654/")

    assert person.status_code == 200
    assert [e["reference"] for e in person.json()["enquiries"]] == [
        second.reference,
        first.reference,
    ]
    assert {r["person"]["first_name"] for r in person.json()["relationships"]} == {
        "Kerry",
        "Dean",
    }
    assert [(e["kind"], e["enquiry"]) for e in chronology.json()["results"]] == [
        ("decided", first.reference)
    ]
    assert bad.status_code == 400 and "kind" in bad.json()
    assert missing.status_code == 404
    assert (
        AccessLogEntry.objects.filter(
            user=researcher, action=Log.VIEW_PERSON, person=jayden, channel="api"
        ).count()
        == 2
    )


def test_feedback_in_the_chronology_says_how_and_what(researcher, manager):
    enquiry = decide(log(researcher, child("Fay", "Back"))[0], manager)
    services.enquiry_record_feedback(
        enquiry=enquiry,
        actor=researcher,
        method="Telephone",
        text="No further action; the school will keep an eye.",
        expected_version=enquiry.version,
    )
    entries = people.person_page(enquiry.subject, viewer=researcher).chronology.entries
    feedback = [entry for entry in entries if entry.kind == "feedback"]
    assert [(entry.title, entry.text) for entry in feedback] == [
        ("Feedback to the referrer (Telephone)", "No further action; the school will keep an eye.")
    ]


@pytest.mark.parametrize("enquiries", [2, 8])
def test_the_api_lists_cost_the_same_however_much_they_hold(
    client, researcher, enquiries, django_assert_max_num_queries
):
    subject = log(researcher, child("Api", "Constant"))[0].subject
    for _ in range(enquiries - 1):
        log(researcher, subject, others=[(child("Pa", "Constant"), EnquiryPerson.Role.OTHER)])
    client.force_login(researcher)
    with django_assert_max_num_queries(14):
        found = client.get("/api/v1/people/", {"q": "Constant"})
    with django_assert_max_num_queries(16):
        chronology = client.get(f"/api/v1/people/{subject.pk}/chronology/")
    assert len(found.json()["results"]) == enquiries
    assert chronology.json()["count"] == enquiries
