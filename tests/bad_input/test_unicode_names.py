"""Names in Polish, Arabic and Welsh, and Welsh typed with combining accents, go in through the
intake page and the API and come out unchanged on the enquiry page, the queue, the API, the
person matcher and the CSV downloads (which Excel must read as UTF-8)."""

import csv
import io
from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from enquiries import services as enquiry_services
from enquiries.models import Enquiry, Person, ReferrerType
from enquiries.services import PersonDetails
from sharing import services as sharing_services
from tests.bad_input.conftest import client_for
from tests.factories import AgencyFactory

pytestmark = pytest.mark.django_db

POLISH = ("Zażółć", "Gęślą")
ARABIC = ("عبد", "الله")
WELSH = ("Siân", "Llŷr")
# The Welsh name as a keyboard without â and ŷ keys may send it: letter, then combining mark.
WELSH_COMBINING = ("Sia\u0302n", "Lly\u0302r")
BOM = b"\xef\xbb\xbf"


def full(name: tuple[str, str]) -> str:
    return " ".join(name)


def intake_page_data(*names: tuple[str, str]) -> dict:
    data = {
        "received_at": (timezone.localtime() - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
        "referrer_name": "Mr Pryderi",
        "referrer_type": ReferrerType.objects.get(code="school").pk,
        "subject_type": "child",
        "categories": ["neglect"],
        "concern": "Zgłoszenie ze szkoły; يحتاج إلى مساعدة; pryder am les y plant.",
        "consent": "yes",
        "subjects-TOTAL_FORMS": str(len(names)),
        "subjects-INITIAL_FORMS": "0",
        "others-TOTAL_FORMS": "0",
        "others-INITIAL_FORMS": "0",
    }
    for n, (first, last) in enumerate(names):
        data[f"subjects-{n}-first_name"] = first
        data[f"subjects-{n}-last_name"] = last
    return data


def log_each(stage) -> list[Enquiry]:
    """An enquiry about each of the three, apart: a family's enquiries name each other."""
    return [
        enquiry_services.enquiry_intake(
            actor=stage.researcher,
            received_at=timezone.now() - timedelta(minutes=10),
            referrer_name="Mr Pryderi",
            referrer_type=ReferrerType.objects.get(code="school"),
            subjects=[PersonDetails(first_name=first, last_name=last)],
            subject_type=Enquiry.SubjectType.CHILD,
            concern="Attendance has fallen.",
            categories=["neglect"],
            consent=Enquiry.Consent.YES,
        )[0]
        for first, last in (POLISH, ARABIC, WELSH)
    ]


def test_names_logged_on_the_intake_page_are_stored_composed_and_shown_as_typed(
    stage, django_assert_max_num_queries
):
    client = client_for(stage, "researcher", api=False)

    response = client.post(
        reverse("enquiry-intake"), intake_page_data(POLISH, ARABIC, WELSH_COMBINING)
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    polish, arabic, welsh = [
        Enquiry.objects.get(subject__first_name=first) for first, _ in (POLISH, ARABIC, WELSH)
    ]
    # The combining circumflexes are composed: one spelling of "Siân" for matching and search.
    assert (welsh.subject.first_name, welsh.subject.last_name) == WELSH
    assert not Person.objects.filter(first_name=WELSH_COMBINING[0]).exists()
    assert (arabic.subject.first_name, arabic.subject.last_name) == ARABIC
    assert "يحتاج إلى مساعدة" in polish.concern
    for enquiry, name in ((polish, POLISH), (arabic, ARABIC), (welsh, WELSH)):
        html = client.get(enquiry.get_absolute_url()).content.decode()
        assert full(name) in html

    # session, user + agency, groups, assignee choices, count, the hub clock's version, the
    # page's enquiries with subject and assignee, unread notifications in the header
    with django_assert_max_num_queries(8):
        queue = client.get(reverse("triage-queue")).content.decode()
    for name in (POLISH, ARABIC, WELSH):
        assert full(name) in queue


@pytest.mark.parametrize(
    "search, found",
    [
        ("gęślą", POLISH),
        ("GĘŚLĄ", POLISH),
        ("الله", ARABIC),
        ("Llŷr", WELSH),
        (full(WELSH_COMBINING), WELSH),
    ],
)
def test_the_queue_and_the_api_find_an_enquiry_by_a_name_in_any_script(
    stage, django_assert_max_num_queries, search, found
):
    enquiries = {(e.subject.first_name, e.subject.last_name): e for e in log_each(stage)}
    wanted = enquiries[found]
    others = [e for name, e in enquiries.items() if name != found]
    page_client = client_for(stage, "researcher", api=False)
    api_client = client_for(stage, "researcher", api=True)

    # as the whole queue (above), and the search written to the access log (lock, last hash,
    # insert)
    with django_assert_max_num_queries(11):
        queue = page_client.get(reverse("triage-queue"), {"q": search}).content.decode()
    listed = api_client.get(reverse("api:enquiry-list"), {"q": search}).json()["results"]

    assert wanted.reference in queue
    assert not any(other.reference in queue for other in others)
    assert [row["reference"] for row in listed] == [wanted.reference]
    assert (listed[0]["subject"]["first_name"], listed[0]["subject"]["last_name"]) == found


def test_the_api_takes_and_returns_the_names_unchanged(stage):
    client = client_for(stage, "researcher", api=True)
    people = [
        {"first_name": first, "last_name": last, "confirmed_new": True}
        for first, last in (POLISH, ARABIC, WELSH_COMBINING)
    ]
    body = {
        "received_at": timezone.now().replace(microsecond=0).isoformat(),
        "referrer_name": "Mr Pryderi",
        "referrer_type": "school",
        "subject_type": "child",
        "subjects": people,
        "concern": "Attendance has fallen.",
        "categories": ["neglect"],
        "consent": "yes",
    }

    created = client.post(reverse("api:enquiry-list"), body, format="json")

    assert created.status_code == 201, created.content
    assert created["Content-Type"] == "application/json"
    names = [
        (e["subject"]["first_name"], e["subject"]["last_name"]) for e in created.json()["enquiries"]
    ]
    assert names == [POLISH, ARABIC, WELSH]
    reference = created.json()["enquiries"][0]["reference"]
    detail = client.get(reverse("api:enquiry-detail", args=[reference])).json()
    assert (detail["subject"]["first_name"], detail["subject"]["last_name"]) == POLISH


@pytest.mark.parametrize(
    "typed, found",
    [
        (POLISH, POLISH),
        (("ZAŻÓŁĆ", "GĘŚLĄ"), POLISH),
        (ARABIC, ARABIC),
        (WELSH_COMBINING, WELSH),
    ],
)
def test_the_person_matcher_finds_the_same_name_in_any_script(stage, typed, found):
    log_each(stage)
    client = client_for(stage, "researcher", api=True)

    response = client.get(
        reverse("api:person-match-list"), {"first_name": typed[0], "last_name": typed[1]}
    )

    matches = response.json()
    assert response.status_code == 200
    assert (matches[0]["person"]["first_name"], matches[0]["person"]["last_name"]) == found
    assert "Same name" in matches[0]["reasons"]


def test_the_intake_page_offers_the_register_match_for_a_name_typed_another_way(stage):
    log_each(stage)
    client = client_for(stage, "researcher", api=False)

    response = client.post(reverse("enquiry-intake"), intake_page_data(WELSH_COMBINING))

    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-testid="matches-subjects-0"' in html
    welsh = Person.objects.get(first_name=WELSH[0])
    assert f'value="{welsh.pk}"' in html
    assert "Same name" in html


def test_the_csv_downloads_carry_the_names_for_excel_to_read(stage, make_user):
    family = log_each(stage)
    polish = family[0]
    welsh_agency = AgencyFactory(name="Gwasanaethau Cymdeithasol Ynys Môn")
    police_request, _ = sharing_services.send_information_requests(
        enquiry=polish, actor=stage.researcher, agencies=[stage.police, welsh_agency]
    )
    sharing_services.add_information_record(
        request=police_request,
        actor=stage.police_officer,
        person=polish.subject,
        summary="Świadek zdarzenia",
        detail="Nothing further.",
        source_system="Niche RMS",
        information_date=date(2026, 1, 5),
        sensitivity="non_sensitive",
    )
    researcher = client_for(stage, "researcher", api=False)
    auditor = client_for(stage, "auditor", api=False)
    manager = client_for(stage, "manager", api=False)
    today = timezone.localdate().isoformat()

    information = researcher.get(
        reverse("enquiry-information-export", args=[polish.reference])
    ).content
    changes = b"".join(auditor.get(reverse("audit-export"), {"log": "changes"}).streaming_content)
    report = b"".join(
        manager.get(
            reverse("report-csv", args=["agency-response"]), {"start": today, "to": today}
        ).streaming_content
    )

    for download in (information, changes, report):
        assert download.startswith(BOM)
    rows = list(csv.DictReader(io.StringIO(information.decode("utf-8-sig"))))
    assert rows[0]["person"] == full(POLISH)
    assert rows[0]["summary"] == "Świadek zdarzenia"
    assert full(ARABIC) in changes.decode("utf-8-sig")
    assert "Gwasanaethau Cymdeithasol Ynys Môn" in report.decode("utf-8-sig")
