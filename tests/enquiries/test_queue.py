"""The triage queue: open enquiries by urgency, filtered in the database, constant queries."""

import dataclasses
import re
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from auditlog.context import disable_auditlog
from django.template import Context, Template
from django.template.defaultfilters import date as date_filter
from django.urls import reverse
from django.utils import timezone

from agencies.models import Role
from enquiries import services
from enquiries.clock import clock_in_force
from enquiries.models import Enquiry, Outcome, ReferrerType
from enquiries.selectors import (
    QueueFilters,
    at_risk_when_left,
    enquiry_queue,
    enquiry_sla,
    queue_rows,
    time_left,
    urgency,
)
from enquiries.services import PersonDetails
from tests.factories import police_notification

pytestmark = [pytest.mark.django_db, pytest.mark.any_instant]

LONDON = ZoneInfo("Europe/London")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=LONDON)


@pytest.fixture
def researcher(make_user):
    return make_user(Role.RESEARCHER, first_name="Rosa", last_name="Reid")


# The most children one intake names: a hub's families are a few children, and each child's
# enquiry names every sibling, so one family of 130 would make 130 x 130 links.
FAMILY = 10


def log(actor, *names, received_at=None, last_name="Smith"):
    """Enquiries for `names`, logged at the front door in families of up to FAMILY children.

    The change log is off while they are made: the queue reads nothing of it, and writing a
    diff of every enquiry and person was a quarter of this module's time."""
    received_at = received_at or timezone.now() - timedelta(minutes=5)
    enquiries = []
    with disable_auditlog():
        for start in range(0, len(names), FAMILY):
            family = names[start : start + FAMILY]
            enquiries += police_notification(
                actor, *family, last_name=last_name, received_at=received_at
            )
    return enquiries


def rate(enquiry, actor, rating):
    return services.enquiry_rate(
        enquiry=enquiry,
        actor=actor,
        rating=rating,
        rationale="Triage.",
        expected_version=enquiry.version,
    )


def decide_nfa(enquiry, manager):
    return services.enquiry_decide(
        enquiry=enquiry,
        actor=manager,
        outcome=Outcome.objects.get(code="nfa"),
        rationale="No concerns.",
        expected_version=enquiry.version,
    )


def queue(user, now, **filters):
    return [e.reference for e in enquiry_queue(user=user, filters=QueueFilters(**filters), now=now)]


def test_escalations_come_first_then_the_least_time_left(researcher):
    green, amber, red, quiet = log(researcher, "Ann", "Bea", "Cal", "Dee")
    rate(green, researcher, "green")
    rate(amber, researcher, "amber")
    rate(red, researcher, "red")
    services.enquiry_escalate(enquiry=quiet, actor=researcher, reason="Disclosure.")

    order = queue(researcher, timezone.now())

    assert order == [quiet.reference, red.reference, amber.reference, green.reference]


def test_decided_enquiries_leave_the_queue(researcher, make_user):
    (enquiry,) = log(researcher, "Ann")
    decide_nfa(enquiry, make_user(Role.MANAGER))

    assert queue(researcher, timezone.now()) == []


def test_at_risk_and_breached_follow_the_clock_to_the_minute(researcher):
    (enquiry,) = log(researcher, "Ann", received_at=at("2026-03-27T13:00"))
    rate(enquiry, researcher, "red")  # due Fri 17:00; at risk from 16:00; breached Mon 09:01

    assert queue(researcher, at("2026-03-27T15:59"), at_risk=True) == []
    assert queue(researcher, at("2026-03-27T16:00"), at_risk=True) == [enquiry.reference]
    assert queue(researcher, at("2026-03-30T09:00"), breached=True) == []
    assert queue(researcher, at("2026-03-30T09:00"), at_risk=True) == [enquiry.reference]
    assert queue(researcher, at("2026-03-30T09:01"), breached=True) == [enquiry.reference]
    assert queue(researcher, at("2026-03-30T09:01"), at_risk=True) == []


def test_filters_by_rating_state_assignee_and_mine(researcher, make_user):
    mine, other = log(researcher, "Ann", "Bea")
    mine = services.enquiry_assign(
        enquiry=mine, actor=researcher, assignee=researcher, expected_version=mine.version
    )
    rate(other, researcher, "amber")
    now = timezone.now()

    assert queue(researcher, now, mine=True) == [mine.reference]
    assert queue(researcher, now, assignee_id=researcher.pk) == [mine.reference]
    assert queue(researcher, now, rating="amber") == [other.reference]
    assert queue(researcher, now, state="screening") == [other.reference]
    assert queue(researcher, now, state="received") == [mine.reference]


def test_search_finds_a_reference_or_a_name(researcher):
    (ann,) = log(researcher, "Ann", last_name="Kowalska")
    (bea,) = log(researcher, "Bea", last_name="Jones")
    now = timezone.now()

    assert queue(researcher, now, search=bea.reference) == [bea.reference]
    assert queue(researcher, now, search="kowal") == [ann.reference]


def test_search_finds_anyone_named_in_the_enquiry_by_any_part_of_their_name(researcher):
    ann, bea = log(researcher, "Ann", "Bea", last_name="Kowalska")  # siblings: each names both
    (cal,) = services.enquiry_intake(
        actor=researcher,
        received_at=timezone.now() - timedelta(minutes=5),
        referrer_name="GP",
        referrer_type=ReferrerType.objects.get(code="police"),
        subjects=[PersonDetails(first_name="Cal", last_name="Jones")],
        others=[(PersonDetails(first_name="Zofia", last_name="Nowak"), "parent_carer")],
        subject_type=Enquiry.SubjectType.CHILD,
        concern="Concern.",
        categories=["neglect"],
        consent=Enquiry.Consent.YES,
    )
    now = timezone.now()

    assert queue(researcher, now, search="zofia") == [cal.reference]
    assert queue(researcher, now, search="Zofia NOW") == [cal.reference]
    assert queue(researcher, now, search="cal jones") == [cal.reference]
    assert sorted(queue(researcher, now, search="bea kowalska")) == sorted(
        [ann.reference, bea.reference]
    )


def test_the_page_shows_rag_countdown_and_badges(client, researcher):
    (enquiry,) = log(researcher, "Ann", received_at=timezone.now() - timedelta(days=7))
    rate(enquiry, researcher, "red")
    client.force_login(researcher)

    html = client.get(reverse("triage-queue")).content.decode()

    assert enquiry.reference in html
    assert "Ann Smith" in html
    assert "Breached" in html
    assert "Overdue by " in html
    assert "0 min left" not in html
    assert "govuk-tag--red" in html


def test_the_page_filters_from_the_query_string(client, researcher):
    ann, bea = log(researcher, "Ann", "Bea")
    rate(bea, researcher, "green")
    client.force_login(researcher)

    html = client.get(reverse("triage-queue"), {"rating": "green"}).content.decode()

    assert bea.reference in html
    assert ann.reference not in html


def test_a_filter_that_matches_nothing_says_so(client, researcher):
    log(researcher, "Ann")
    client.force_login(researcher)

    html = client.get(reverse("triage-queue"), {"breached": "on"}).content.decode()

    assert "No open enquiries match these filters." in html


@pytest.mark.parametrize("children", [3, 60])
def test_the_queue_page_runs_a_fixed_number_of_queries(
    client, researcher, make_user, django_assert_max_num_queries, children
):
    enquiries = log(researcher, *[f"Child{i}" for i in range(children)])
    for enquiry in enquiries[::2]:
        services.enquiry_assign(
            enquiry=enquiry, actor=researcher, assignee=researcher, expected_version=1
        )
    client.force_login(researcher)

    # session, user + agency, groups, assignee choices, count, the hub clock's version, the
    # page's enquiries with subject and assignee (its ids picked in a subquery), unread
    # notifications in the header
    with django_assert_max_num_queries(8):
        response = client.get(reverse("triage-queue"))

    assert response.status_code == 200
    assert enquiries[0].reference in response.content.decode()


@pytest.mark.instant("2026-03-30T12:00")
def test_each_row_says_what_the_models_and_the_date_filter_would(researcher, make_user):
    # given: deadlines either side of the clocks going forward on Sunday 29 March 2026, a
    # colleague known only by username, an escalation and nobody assigned
    now = at("2026-03-30T12:00")
    nameless = make_user(Role.RESEARCHER, first_name="", last_name="", username="duty-desk")
    red, unrated = log(researcher, "Ann", "Bea", received_at=at("2026-03-27T13:00"))
    rate(red, researcher, "red")
    services.enquiry_assign(
        enquiry=unrated, actor=researcher, assignee=nameless, expected_version=unrated.version
    )
    (escalated,) = log(researcher, "Cal", received_at=at("2026-03-30T10:00"))
    services.enquiry_escalate(enquiry=escalated, actor=researcher, reason="Disclosure.")
    enquiries = enquiry_queue(user=researcher, filters=QueueFilters(), now=now)

    # when
    rows = queue_rows(enquiries, now=now)

    # then
    clock = clock_in_force()
    expected = []
    for enquiry in enquiries.select_related("subject", "assignee"):
        sla = enquiry_sla(enquiry, clock=clock, now=now)
        expected.append(
            {
                "reference": enquiry.reference,
                "url": enquiry.get_absolute_url(),
                "escalated": enquiry.escalated_at is not None,
                "subject": str(enquiry.subject),
                "rating": enquiry.rating,
                "rating_label": enquiry.get_rating_display(),
                "state_label": enquiry.get_state_display(),
                "assignee": str(enquiry.assignee) if enquiry.assignee else "",
                "deadline": date_filter(timezone.localtime(enquiry.deadline), "D j M H:i"),
                "time_left": time_left(sla),
                "sla": sla,
                # No agency has answered: nothing new for anyone.
                "new_information": False,
                "urgency": urgency(sla),
                "continuous": clock.allowances[enquiry.rating].continuous,
                "at_risk_when_left": at_risk_when_left(clock, enquiry.rating),
            }
        )
    assert [vars(row) for row in rows] == expected
    assert [
        (row.reference, row.escalated, row.assignee, row.deadline, row.time_left, row.urgency)
        for row in rows
    ] == [
        (escalated.reference, True, "", "Mon 30 Mar 14:00", "2 h 00 min left", ""),
        (red.reference, False, "", "Fri 27 Mar 17:00", "Overdue by 3 h 00 min", "breached"),
        (unrated.reference, False, "duty-desk", "Wed 1 Apr 13:00", "17 h 00 min left", ""),
    ]


def test_a_later_page_continues_the_queue_in_its_order(client, researcher):
    enquiries = log(researcher, *[f"Child{i}" for i in range(55)])
    for enquiry in enquiries[:3]:
        rate(enquiry, researcher, "red")
    order = queue(researcher, timezone.now())
    client.force_login(researcher)

    first = client.get(reverse("triage-queue")).context["rows"]
    second = client.get(reverse("triage-queue"), {"page": 2}).context["rows"]

    assert [row.reference for row in first + second] == order
    assert len(second) == 5


def test_the_filters_keep_what_was_chosen(client, researcher, make_user):
    colleague = make_user(Role.MANAGER, first_name="Mo", last_name="Patel")
    ann, bea = log(researcher, "Ann", "Bea")
    services.enquiry_assign(
        enquiry=bea, actor=researcher, assignee=colleague, expected_version=bea.version
    )
    client.force_login(researcher)

    html = client.get(
        reverse("triage-queue"), {"assignee": colleague.pk, "state": "received"}
    ).content.decode()

    assert f'<option value="{colleague.pk}" selected>Mo Patel</option>' in html
    assert '<option value="received" selected>Received</option>' in html
    assert '<option value="" selected>Any</option>' not in html
    assert bea.reference in html
    assert ann.reference not in html


def test_an_assignee_who_cannot_triage_is_not_a_filter(client, researcher, make_user):
    practitioner = make_user(Role.PRACTITIONER)
    (ann,) = log(researcher, "Ann")
    client.force_login(researcher)

    html = client.get(reverse("triage-queue"), {"assignee": practitioner.pk}).content.decode()

    # An invalid filter is ignored as a whole, as before, rather than showing nothing.
    assert ann.reference in html
    assert f'value="{practitioner.pk}"' not in html


@pytest.mark.parametrize("children", [3, 60])
def test_a_search_runs_as_many_queries_as_the_whole_queue_and_pages_alike(
    client, researcher, django_assert_max_num_queries, children
):
    found = log(researcher, *[f"Child{i}" for i in range(children)], last_name="Kowalska")
    log(researcher, "Other", last_name="Jones")
    client.force_login(researcher)

    # as the whole queue, the search's ids taking the place of the count, and the search
    # written to the access log (lock, last hash, insert)
    with django_assert_max_num_queries(11):
        response = client.get(reverse("triage-queue"), {"q": "kowalska"})
    second = client.get(reverse("triage-queue"), {"q": "kowalska", "page": 2})

    rows = response.context["rows"] + (second.context["rows"] if children > 50 else [])
    assert [row.reference for row in rows] == queue(researcher, timezone.now(), search="kowalska")
    assert {row.reference for row in rows} == {enquiry.reference for enquiry in found}
    assert response.context["page"].count == children


def follow(client, link: str) -> tuple[list[str], str, str]:
    """The references a queue page lists, and its "Previous" and "Next" query strings."""
    response = client.get(reverse("triage-queue") + "?" + link)
    page = response.context["page"]
    return [row.reference for row in response.context["rows"]], page.previous, page.next


def test_next_and_previous_walk_the_queue_by_its_places(client, researcher):
    # given: 130 open enquiries, two escalated and a few red, so the order has every part
    enquiries = log(researcher, *[f"Child{i}" for i in range(65)])
    enquiries += log(researcher, *[f"Other{i}" for i in range(65)], last_name="Jones")
    for enquiry in enquiries[70:74]:
        rate(enquiry, researcher, "red")
    for enquiry in (enquiries[3], enquiries[100]):
        services.enquiry_escalate(enquiry=enquiry, actor=researcher, reason="Disclosure.")
    order = queue(researcher, timezone.now())
    client.force_login(researcher)

    # when: Next from the first page to the last, then Previous back
    forward, link, pages = [], "", []
    while True:
        rows, previous, link = follow(client, link)
        forward += rows
        pages.append((rows, previous))
        if not link:
            break
    backward = []
    previous = pages[-1][1]
    while previous:
        rows, previous, _ = follow(client, previous)
        backward = rows + backward

    # then
    assert forward == order
    assert len(pages) == 3
    assert "after=" in pages[1][1] or pages[1][1] == "page=1"
    assert backward == order[:100]


def test_each_page_says_its_number_and_an_old_page_link_still_works(client, researcher):
    log(researcher, *[f"Child{i}" for i in range(60)])
    log(researcher, *[f"Other{i}" for i in range(60)], last_name="Jones")
    order = queue(researcher, timezone.now())
    client.force_login(researcher)

    first = client.get(reverse("triage-queue"))
    second = client.get(reverse("triage-queue") + "?" + first.context["page"].next)
    third = client.get(reverse("triage-queue"), {"page": 3})
    html = second.content.decode()

    assert [page.context["page"].number for page in (first, second, third)] == [1, 2, 3]
    assert "Page 2 of 3" in html
    assert 'rel="next"' in html and 'rel="prev"' in html
    assert [row.reference for row in third.context["rows"]] == order[100:]
    assert third.context["page"].next == ""


def test_a_place_not_in_the_queue_still_gives_its_neighbours(client, researcher, make_user):
    # The enquiry a link's place named has been decided since: the page goes on after it.
    log(researcher, *[f"Child{i}" for i in range(55)])
    order = queue(researcher, timezone.now())
    client.force_login(researcher)
    link = client.get(reverse("triage-queue")).context["page"].next
    last_shown = Enquiry.objects.get(reference=order[49])
    decide_nfa(last_shown, make_user(Role.MANAGER))

    rows, _, _ = follow(client, link)

    assert rows == order[50:]


@pytest.mark.parametrize("token", ["nonsense", "~~", "1~2", "~9999999999999999999999~1", ""])
def test_a_place_that_is_no_place_shows_the_first_page(client, researcher, token):
    (ann,) = log(researcher, "Ann")
    client.force_login(researcher)

    for name in ("after", "before"):
        response = client.get(reverse("triage-queue"), {name: token})

        assert response.status_code == 200
        assert [row.reference for row in response.context["rows"]] == [ann.reference]


def test_a_search_pages_by_places_as_the_queue_does(client, researcher):
    found = log(researcher, *[f"Child{i}" for i in range(60)], last_name="Kowalska")
    log(researcher, "Other", last_name="Jones")
    client.force_login(researcher)

    first = client.get(reverse("triage-queue"), {"q": "kowalska"})
    page = first.context["page"]
    second = client.get(reverse("triage-queue") + f"?q=kowalska&{page.next}")
    back = client.get(reverse("triage-queue") + f"?q=kowalska&{second.context['page'].previous}")

    rows = [row.reference for row in first.context["rows"] + second.context["rows"]]
    assert rows == queue(researcher, timezone.now(), search="kowalska")
    assert sorted(rows) == sorted(enquiry.reference for enquiry in found)
    assert [row.reference for row in back.context["rows"]] == rows[:50]
    assert 'href="?q=kowalska&amp;after=' in first.content.decode()


@pytest.mark.parametrize("children", [55, 120])
def test_a_deep_page_runs_as_many_queries_as_the_first(
    client, researcher, django_assert_max_num_queries, children
):
    log(researcher, *[f"Child{i}" for i in range(children // 2)])
    log(researcher, *[f"Other{i}" for i in range(children - children // 2)], last_name="Jones")
    client.force_login(researcher)
    link = client.get(reverse("triage-queue"), {"rating": "none"}).context["page"].next

    # as the first page (test_the_queue_page_runs_a_fixed_number_of_queries)
    with django_assert_max_num_queries(8):
        response = client.get(reverse("triage-queue") + "?rating=none&" + link)
    with django_assert_max_num_queries(8):
        back = client.get(
            reverse("triage-queue") + "?rating=none&" + response.context["page"].previous
        )

    assert response.context["rows"]
    assert back.context["page"].number == 1


# The queue's rows as templates/home/triage_queue.html wrote them before
# enquiries/templatetags/queue_table.py did.
ROWS_AS_THE_TEMPLATE_WROTE_THEM = (
    Path(__file__).with_name("queue_rows_template.html").read_text(encoding="utf-8")
)


def markup(html: str) -> str:
    return re.sub(r">\s+<", "><", html.strip())


@pytest.mark.instant("2026-03-30T12:00")
def test_the_rows_are_written_as_the_template_wrote_them(researcher, make_user):
    # given: every kind of cell: escalated, red and breached, at risk, nobody assigned, a
    # name to escape, an agency's answer unread
    now = at("2026-03-30T12:00")
    red, amber = log(researcher, "Ann", "<Bea & Co>", received_at=at("2026-03-27T13:00"))
    rate(red, researcher, "red")
    rate(amber, researcher, "amber")
    services.enquiry_assign(
        enquiry=amber, actor=researcher, assignee=researcher, expected_version=amber.version + 1
    )
    (escalated,) = log(researcher, "Cal", received_at=at("2026-03-30T10:00"))
    services.enquiry_escalate(enquiry=escalated, actor=researcher, reason="Disclosure.")
    rows = queue_rows(
        enquiry_queue(user=researcher, filters=QueueFilters(), now=now), now=now, reader=researcher
    )
    rows[0] = dataclasses.replace(rows[0], new_information=True)

    # when
    written = Template("{% load queue_table %}{% queue_rows rows %}").render(
        Context({"rows": rows})
    )

    # then
    before = Template(ROWS_AS_THE_TEMPLATE_WROTE_THEM).render(Context({"rows": rows}))
    assert markup(written) == markup(before)
    assert "&lt;Bea &amp; Co&gt;" in written
    for text in ("Escalated", "New information", "Breached", "At risk", "Nobody yet", "Rosa Reid"):
        assert text in written


def test_a_search_walks_its_matches_by_places_in_the_queues_order(client, researcher):
    # given: 130 matches, some escalated and some red, among others the search does not find
    found = log(researcher, *[f"Child{i}" for i in range(130)], last_name="Kowalska")
    log(researcher, *[f"Other{i}" for i in range(20)], last_name="Jones")
    for enquiry in found[70:74]:
        rate(enquiry, researcher, "red")
    for enquiry in (found[3], found[100]):
        services.enquiry_escalate(enquiry=enquiry, actor=researcher, reason="Disclosure.")
    order = queue(researcher, timezone.now(), search="kowalska")
    client.force_login(researcher)

    # when: Next from the first page to the last, then Previous back
    forward, link, pages = [], "q=kowalska", []
    while link:
        response = client.get(reverse("triage-queue") + "?" + link)
        page = response.context["page"]
        forward += [row.reference for row in response.context["rows"]]
        pages.append(page)
        link = page.next and f"q=kowalska&{page.next}"
    backward, link = [], f"q=kowalska&{pages[-1].previous}"
    while link:
        rows, previous, _ = follow(client, link)
        backward = rows + backward
        link = previous and f"q=kowalska&{previous}"

    # then
    assert forward == order
    assert [(page.number, page.num_pages, page.count) for page in pages] == [
        (1, 3, 130),
        (2, 3, 130),
        (3, 3, 130),
    ]
    assert backward == order[:100]


def test_a_searchs_place_no_longer_among_its_matches_still_gives_its_neighbours(
    client, researcher, make_user
):
    log(researcher, *[f"Child{i}" for i in range(55)], last_name="Kowalska")
    order = queue(researcher, timezone.now(), search="kowalska")
    client.force_login(researcher)
    first = client.get(reverse("triage-queue"), {"q": "kowalska"}).context["page"]
    last_shown = Enquiry.objects.get(reference=order[49])
    decide_nfa(last_shown, make_user(Role.MANAGER))

    rows, previous, following = follow(client, f"q=kowalska&{first.next}")
    back, _, _ = follow(client, f"q=kowalska&{previous}")

    assert rows == order[50:]
    assert following == ""
    assert previous == "page=1"
    assert back == [reference for reference in order if reference != order[49]][:50]


def test_a_search_past_its_last_match_still_counts_its_matches(client, researcher, make_user):
    # The page's matches were all decided since its link: no rows, the count still right.
    log(researcher, *[f"Child{i}" for i in range(52)], last_name="Kowalska")
    order = queue(researcher, timezone.now(), search="kowalska")
    client.force_login(researcher)
    link = client.get(reverse("triage-queue"), {"q": "kowalska"}).context["page"].next
    for reference in order[50:]:
        enquiry = Enquiry.objects.get(reference=reference)
        decide_nfa(enquiry, make_user(Role.MANAGER))

    response = client.get(reverse("triage-queue") + f"?q=kowalska&{link}")

    assert response.context["rows"] == []
    assert response.context["page"].count == 50
    assert response.context["page"].next == ""


@pytest.mark.parametrize(
    ("asked", "shown", "first"), [("9", 2, 50), ("0", 1, 0), ("x", 1, 0), ("2", 2, 50)]
)
def test_a_searchs_page_number_is_read_as_the_queues_is(client, researcher, asked, shown, first):
    log(researcher, *[f"Child{i}" for i in range(60)], last_name="Kowalska")
    order = queue(researcher, timezone.now(), search="kowalska")
    client.force_login(researcher)

    response = client.get(reverse("triage-queue"), {"q": "kowalska", "page": asked})

    assert response.context["page"].number == shown
    assert [row.reference for row in response.context["rows"]] == order[first : first + 50]


def test_a_search_that_matches_nothing_counts_nothing(client, researcher):
    log(researcher, "Ann")
    client.force_login(researcher)

    response = client.get(reverse("triage-queue"), {"q": "nobody-of-that-name"})

    page = response.context["page"]
    assert (response.context["rows"], page.count, page.number, page.num_pages) == ([], 0, 1, 1)
    assert (page.previous, page.next) == ("", "")
