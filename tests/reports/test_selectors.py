"""Each report's figures on a small history whose answers are worked out by hand."""

from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from enquiries.models import FamilyEnquiry, Person, Rag, RagAllowance
from reports import selectors
from reports.periods import Period, last_full_month
from sharing.models import InformationRequest
from tests.factories import AgencyFactory

from .conftest import at

pytestmark = pytest.mark.django_db

MARCH = Period(date(2026, 3, 1), date(2026, 4, 1))
FEBRUARY = Period(date(2026, 2, 1), date(2026, 3, 1))


def by(report, key):
    return {row[key]: row for row in report.rows}


def test_timeliness_counts_decisions_on_time_to_the_minute(make_enquiry):
    # 60 minutes on Friday and 180 on Monday: exactly the 240 allowed.
    make_enquiry("2026-03-06 16:00", rating=Rag.RED, decided="2026-03-09 12:00")
    make_enquiry("2026-03-09 09:00", rating=Rag.RED, decided="2026-03-09 13:01")  # 241
    make_enquiry("2026-03-10 09:00", rating=Rag.AMBER, decided="2026-03-10 17:00")
    make_enquiry("2026-03-02 09:00", rating=Rag.GREEN, decided="2026-03-05 09:00")
    # Arrived on a Saturday: the clock starts on Monday at 09:00, so 481 minutes is on time.
    make_enquiry("2026-03-14 10:00", decided="2026-03-17 09:01")
    # The last minute of March (BST) is in the period; midnight after it is not.
    make_enquiry("2026-03-31 16:00", decided="2026-03-31 23:59")
    make_enquiry("2026-03-31 16:00", decided="2026-04-01 00:00")
    make_enquiry("2026-02-27 10:00", rating=Rag.RED, decided="2026-02-27 11:00")
    make_enquiry("2026-03-20 10:00", rating=Rag.RED)  # still open

    rows = by(selectors.timeliness(MARCH), "rag")

    assert rows["Red"] == {
        "rag": "Red",
        "allocated_minutes": [240],
        "enquiries": 2,
        "on_time": 1,
        "on_time_percent": 50.0,
        "referred_on": 0,
        "referral_accepted": 0,
    }
    assert (rows["Amber"]["allocated_minutes"], rows["Amber"]["on_time_percent"]) == ([480], 100.0)
    assert (rows["Green"]["allocated_minutes"], rows["Green"]["enquiries"]) == ([1440], 1)
    assert (rows["No RAG"]["enquiries"], rows["No RAG"]["on_time"]) == (2, 2)
    assert rows["Overall"] == {
        "rag": "Overall",
        "allocated_minutes": None,
        "enquiries": 6,
        "on_time": 5,
        "on_time_percent": 83.3,
        "referred_on": 0,
        "referral_accepted": 0,
    }


def test_timeliness_of_a_period_with_no_decisions_has_no_shares(make_enquiry):
    rows = selectors.timeliness(MARCH).rows

    assert [row["rag"] for row in rows] == ["Red", "Amber", "Green", "No RAG", "Overall"]
    assert all(row["enquiries"] == 0 and row["on_time_percent"] is None for row in rows)
    # Nothing was decided, so no allowance applied: not today's, which may be another.
    assert all(row["allocated_minutes"] is None for row in rows)


NOVEMBER = Period(date(2026, 11, 1), date(2026, 12, 1))
DECEMBER = Period(date(2026, 12, 1), date(2027, 1, 1))


def change_allowance(rating: str, minutes: int) -> None:
    """As an administrator's change would: the clock's version moves on with it."""
    allowance = RagAllowance.objects.get(rating=rating)
    allowance.minutes = minutes
    allowance.save()


def test_timeliness_keeps_the_allowance_each_period_ran_under(make_enquiry):
    # given November under the default Amber allowance of 480 working minutes
    make_enquiry("2026-11-24 09:00", rating=Rag.AMBER, decided="2026-11-24 16:00")  # 420
    make_enquiry("2026-11-25 09:00", rating=Rag.AMBER, decided="2026-11-26 10:00")  # 540
    make_enquiry("2026-11-25 09:00", rating=Rag.RED, decided="2026-11-25 12:00")  # 180
    november_before = selectors.timeliness(NOVEMBER).rows

    # when the Amber allowance becomes 120 on 1 December, and December decides under it
    change_allowance(Rag.AMBER, 120)
    make_enquiry("2026-12-01 09:00", rating=Rag.AMBER, decided="2026-12-01 10:30")  # 90
    make_enquiry("2026-12-02 09:00", rating=Rag.AMBER, decided="2026-12-02 13:00")  # 240
    make_enquiry("2026-12-02 09:00", rating=Rag.RED, decided="2026-12-02 12:00")  # 180

    # then November reads as it did, and December shows the new allowance
    november = selectors.timeliness(NOVEMBER)
    assert november.rows == november_before
    assert by(november, "rag")["Amber"] == {
        "rag": "Amber",
        "allocated_minutes": [480],
        "enquiries": 2,
        "on_time": 1,
        "on_time_percent": 50.0,
        "referred_on": 0,
        "referral_accepted": 0,
    }
    assert november.notes == ()
    december = by(selectors.timeliness(DECEMBER), "rag")
    assert december["Amber"] == {
        "rag": "Amber",
        "allocated_minutes": [120],
        "enquiries": 2,
        "on_time": 1,
        "on_time_percent": 50.0,
        "referred_on": 0,
        "referral_accepted": 0,
    }
    assert december["Red"]["allocated_minutes"] == [240]
    assert december["Green"]["allocated_minutes"] is None


def test_timeliness_of_a_period_across_a_change_shows_both_allowances_in_order(make_enquiry):
    make_enquiry("2026-11-24 09:00", rating=Rag.AMBER, decided="2026-11-24 16:00")
    make_enquiry("2026-11-25 09:00", rating=Rag.AMBER, decided="2026-11-26 10:00")
    change_allowance(Rag.AMBER, 120)
    make_enquiry("2026-12-01 09:00", rating=Rag.AMBER, decided="2026-12-01 10:30")
    make_enquiry("2026-12-02 09:00", rating=Rag.AMBER, decided="2026-12-02 13:00")
    make_enquiry("2026-12-02 09:00", rating=Rag.RED, decided="2026-12-02 12:00")

    report = selectors.timeliness(Period(date(2026, 11, 15), date(2026, 12, 16)))
    rows = by(report, "rag")

    assert rows["Amber"]["allocated_minutes"] == [480, 120]
    assert (rows["Amber"]["enquiries"], rows["Amber"]["on_time"]) == (4, 2)
    assert rows["Red"]["allocated_minutes"] == [240]
    assert rows["Overall"]["allocated_minutes"] is None
    assert report.notes == (
        "The Amber allowance changed during the period: the enquiries decided in it ran under "
        "480 then 120 working minutes, in that order.",
    )


def test_timeliness_still_takes_one_query(make_enquiry, django_assert_num_queries):
    make_enquiry("2026-03-02 09:00", rating=Rag.AMBER, decided="2026-03-02 10:00")
    change_allowance(Rag.AMBER, 120)
    make_enquiry("2026-03-03 09:00", rating=Rag.AMBER, decided="2026-03-03 10:00")

    # One grouped query over the decisions: the clock is not asked.
    with django_assert_num_queries(1):
        selectors.timeliness(MARCH)


def test_volumes_follow_the_definitions_of_each_measure(make_enquiry):
    family_a = FamilyEnquiry.objects.create(reference="A")
    make_enquiry("2026-02-20 10:00", family=family_a, decided="2026-02-25 10:00")
    make_enquiry(
        "2026-02-20 10:00", family=family_a, decided="2026-03-03 10:00", outcome="csc_assessment"
    )
    family_b = FamilyEnquiry.objects.create(reference="B")
    make_enquiry("2026-03-02 10:00", family=family_b, decided="2026-03-05 10:00")
    make_enquiry("2026-03-02 10:00", family=family_b)
    make_enquiry("2026-03-20 10:00", decided="2026-04-02 10:00")
    make_enquiry("2026-03-10 10:00", decided="2026-03-11 10:00", outcome="strategy_discussion")
    make_enquiry("2026-04-01 00:00")
    make_enquiry("2026-02-27 10:00")

    rows = by(selectors.volumes(MARCH), "measure")

    assert {name: row["enquiries"] for name, row in rows.items()} == {
        "New enquiries": 4,
        "Enquiries completed": 3,
        "Family enquiries completed": 2,
        "Enquiries leading to referral": 2,
        "Enquiries open at end of period": 3,
        "Onward referrals sent": 0,
        "Onward referrals accepted": 0,
        "Onward referrals returned": 0,
    }


def test_nfa_share_overall_by_rag_referrer_and_month(make_enquiry):
    make_enquiry("2026-02-02 10:00", rating=Rag.RED, decided="2026-02-02 11:00")
    make_enquiry(
        "2026-02-03 10:00",
        rating=Rag.RED,
        decided="2026-02-03 11:00",
        outcome="advice",
        referrer="school",
    )
    make_enquiry(
        "2026-03-02 10:00", rating=Rag.AMBER, decided="2026-03-02 11:00", referrer="school"
    )
    make_enquiry("2026-03-03 10:00", decided="2026-03-03 11:00")
    make_enquiry("2026-03-04 10:00", decided="2026-03-04 11:00", outcome="csc_assessment")

    report = selectors.nfa(Period(date(2026, 2, 1), date(2026, 4, 1)))
    shares = {(row["breakdown"], row["group"]): row["nfa_percent"] for row in report.rows}
    counts = {(row["breakdown"], row["group"]): (row["decided"], row["nfa"]) for row in report.rows}

    assert counts[("Overall", "All decisions")] == (5, 3)
    assert shares[("Overall", "All decisions")] == 60.0
    assert shares[("RAG", "Red")] == 50.0
    assert shares[("RAG", "Amber")] == 100.0
    assert counts[("RAG", "Green")] == (0, 0) and shares[("RAG", "Green")] is None
    assert shares[("RAG", "No RAG")] == 50.0
    assert counts[("Referrer", "Police")] == (3, 2)
    assert shares[("Referrer", "Police")] == 66.7
    assert shares[("Referrer", "School")] == 50.0
    assert counts[("Month", "February 2026")] == (2, 1)
    assert counts[("Month", "March 2026")] == (3, 2)


def test_nfa_months_are_the_hubs_local_months(make_enquiry):
    # 00:30 on 1 June in London is still 31 May in UTC.
    make_enquiry("2026-05-29 10:00", decided="2026-06-01 00:30")

    report = selectors.nfa(Period(date(2026, 5, 1), date(2026, 7, 1)))
    months = {row["group"]: row["decided"] for row in report.rows if row["breakdown"] == "Month"}

    assert months == {"May 2026": 0, "June 2026": 1}


def test_comparison_gives_totals_rates_per_working_day_and_change(make_enquiry):
    make_enquiry("2026-02-02 10:00", decided="2026-02-03 10:00", outcome="csc_assessment")
    make_enquiry("2026-02-16 10:00", decided="2026-02-17 10:00")
    make_enquiry("2026-03-02 10:00", decided="2026-03-03 10:00", outcome="csc_assessment")
    make_enquiry("2026-03-09 10:00", decided="2026-03-10 10:00", outcome="strategy_discussion")
    make_enquiry("2026-03-16 10:00")

    report = selectors.comparison(MARCH, compared_with=FEBRUARY)
    rows = by(report, "measure")

    assert rows["Working days"]["compared_with"] == 20
    assert rows["Working days"]["period"] == 22
    assert rows["Contacts"] == {
        "measure": "Contacts",
        "compared_with": 2,
        "compared_with_per_working_day": 0.1,
        "period": 3,
        "period_per_working_day": 0.1,
        "change_percent": 50.0,
    }
    assert (rows["Referrals"]["compared_with"], rows["Referrals"]["period"]) == (1, 2)
    assert rows["Referrals"]["change_percent"] == 100.0
    assert report.compared_with == FEBRUARY


def test_comparison_defaults_to_the_period_just_before():
    assert MARCH.before() == FEBRUARY
    assert Period(date(2025, 4, 1), date(2026, 4, 1)).before() == Period(
        date(2024, 4, 1), date(2025, 4, 1)
    )
    assert Period(date(2026, 3, 10), date(2026, 3, 17)).before() == Period(
        date(2026, 3, 3), date(2026, 3, 10)
    )
    assert selectors.comparison(MARCH).compared_with == FEBRUARY


def test_backlog_by_rag_age_at_risk_and_breached(make_enquiry):
    now = at("2026-03-11 12:00")
    make_enquiry("2026-03-11 10:00", rating=Rag.RED)  # 120 of 240 minutes
    make_enquiry("2026-03-11 09:00", rating=Rag.RED)  # 180: at risk from this minute
    make_enquiry("2026-03-10 09:00", rating=Rag.AMBER)  # 660 of 480: breached
    make_enquiry("2026-03-06 10:00", rating=Rag.GREEN)  # Friday: 3 working days old
    make_enquiry("2026-02-20 10:00")  # 13 working days old
    make_enquiry("2026-03-04 09:00")  # 5 working days old
    make_enquiry("2026-03-11 09:00", rating=Rag.RED, decided="2026-03-11 10:00")
    make_enquiry("2026-03-11 13:00", rating=Rag.RED)  # arrives after now

    report = selectors.backlog(Period(date(2026, 3, 11), date(2026, 3, 12)), now=now)
    rows = by(report, "rag")

    assert report.as_at == now
    assert rows["Red"] | {"rag": None} == {
        "rag": None,
        "open": 2,
        "age_0": 2,
        "age_1": 0,
        "age_2_4": 0,
        "age_5_9": 0,
        "age_10_plus": 0,
        "at_risk": 1,
        "breached": 0,
    }
    assert (rows["Amber"]["age_1"], rows["Amber"]["breached"]) == (1, 1)
    assert (rows["Green"]["age_2_4"], rows["Green"]["breached"]) == (1, 1)
    assert (rows["No RAG"]["age_5_9"], rows["No RAG"]["age_10_plus"]) == (1, 1)
    assert (rows["Overall"]["open"], rows["Overall"]["at_risk"]) == (6, 1)
    assert rows["Overall"]["breached"] == 4


def test_backlog_of_a_past_period_is_as_it_stood_at_its_end(make_enquiry):
    make_enquiry("2026-02-26 10:00", rating=Rag.RED, decided="2026-03-02 10:00")
    make_enquiry("2026-03-02 10:00", rating=Rag.RED)

    report = selectors.backlog(FEBRUARY, now=at("2026-03-11 12:00"))

    assert report.as_at == at("2026-03-01 00:00")
    assert by(report, "rag")["Red"]["open"] == 1
    assert by(report, "rag")["Red"]["breached"] == 1


def test_age_bands_count_working_days_back_over_weekends_and_holidays():
    from enquiries.clock import clock_in_force

    calendar = clock_in_force().calendar
    # Tuesday 7 April 2026, after Easter: Monday 6th and Friday 3rd are bank holidays.
    now = at("2026-04-07 12:00")

    assert selectors.received_before_age(calendar, now, 0) == at("2026-04-08 00:00")
    assert selectors.received_before_age(calendar, now, 1) == at("2026-04-03 00:00")
    assert selectors.received_before_age(calendar, now, 2) == at("2026-04-02 00:00")


def test_rereferrals_look_back_twelve_months_from_arrival(make_enquiry):
    s1, s2, s3 = (Person.objects.create(first_name="S", last_name=str(n)) for n in (1, 2, 3))
    s5 = Person.objects.create(first_name="S", last_name="5")
    make_enquiry("2025-05-30 10:00", subject=s1, decided="2025-06-01 10:00")
    make_enquiry("2026-03-02 10:00", subject=s1, rating=Rag.RED, decided="2026-03-02 11:00")
    make_enquiry("2025-02-27 10:00", subject=s2, decided="2025-03-01 10:00")
    make_enquiry("2026-03-02 10:00", subject=s2, decided="2026-03-02 11:00")
    make_enquiry("2025-03-01 10:00", subject=s3, decided="2025-03-02 11:00")
    make_enquiry("2026-03-02 10:00", subject=s3, decided="2026-03-02 12:00")
    make_enquiry("2026-03-03 10:00", rating=Rag.AMBER, decided="2026-03-03 11:00")
    # Two enquiries open at once: neither was decided before the other arrived.
    make_enquiry("2026-03-09 10:00", subject=s5, decided="2026-03-12 10:00")
    make_enquiry("2026-03-10 10:00", subject=s5, decided="2026-03-20 10:00")

    report = selectors.rereferrals(MARCH)
    rows = by(report, "rag")

    assert rows["Overall"] == {
        "rag": "Overall",
        "decided": 6,
        "re_referrals": 2,
        "re_referral_percent": 33.3,
    }
    assert (rows["Red"]["decided"], rows["Red"]["re_referrals"]) == (1, 1)
    assert (rows["Amber"]["decided"], rows["Amber"]["re_referrals"]) == (1, 0)
    assert rows["No RAG"]["re_referral_percent"] == 25.0
    assert report.notes == ()


def test_rereferrals_leave_out_imported_enquiries_without_a_subject(make_enquiry):
    enquiry = make_enquiry("2026-03-02 10:00", decided="2026-03-02 11:00")
    enquiry.subject = None
    enquiry.save(update_fields=["subject"])

    report = selectors.rereferrals(MARCH)

    assert by(report, "rag")["Overall"]["decided"] == 0
    assert report.notes and "1 enquiries" in report.notes[0]


def test_feedback_share_and_median_working_minutes_by_referrer(make_enquiry):
    make_enquiry("2026-03-02 09:00", decided="2026-03-02 10:00", feedback="2026-03-02 11:00")
    make_enquiry("2026-03-02 09:00", decided="2026-03-02 10:00")
    make_enquiry(
        "2026-03-02 09:00",
        decided="2026-03-02 10:00",
        feedback="2026-03-02 10:30",
        referrer="school",
    )
    # Decided on Friday at 16:20, told on Monday at 09:40: 40 + 40 working minutes.
    make_enquiry(
        "2026-03-06 09:00",
        decided="2026-03-06 16:20",
        feedback="2026-03-09 09:40",
        referrer="school",
    )
    imported = make_enquiry("2026-03-02 09:00", decided="2026-03-02 10:00")
    imported.imported_at = timezone.now()
    imported.save(update_fields=["imported_at"])

    rows = by(selectors.feedback(MARCH), "referrer_type")

    assert rows["Police"] == {
        "referrer_type": "Police",
        "decided": 2,
        "feedback_given": 1,
        "feedback_percent": 50.0,
        "median_feedback_minutes": 60,
    }
    assert rows["School"]["median_feedback_minutes"] == 55  # between 30 and 80
    assert rows["Overall"]["decided"] == 4
    assert rows["Overall"]["feedback_percent"] == 75.0
    assert rows["Overall"]["median_feedback_minutes"] == 60


def _request(make_enquiry, agency, requester, *, requested, due, answered=None, minutes=None):
    """Each on its own enquiry: an agency is asked once per enquiry."""
    return InformationRequest.objects.create(
        enquiry=make_enquiry(requested),
        agency=agency,
        question="What do you hold?",
        requested_at=at(requested),
        requested_by=requester,
        due_at=at(due),
        answered_at=at(answered) if answered else None,
        response_minutes=minutes,
        status=InformationRequest.Status.ANSWERED
        if answered
        else InformationRequest.Status.REQUESTED,
    )


def test_agency_response_times_median_90th_percentile_and_share_by_due(make_enquiry, make_user):
    police = AgencyFactory(name="Police")
    health = AgencyFactory(name="Health")
    researcher = make_user("researcher")
    day = "2026-03-02"
    _request(make_enquiry, police, researcher, requested=f"{day} 09:00", due=f"{day} 12:00",
             answered=f"{day} 10:00", minutes=60)  # fmt: skip
    _request(make_enquiry, police, researcher, requested=f"{day} 09:00", due=f"{day} 12:00",
             answered=f"{day} 11:00", minutes=120)  # fmt: skip
    _request(make_enquiry, police, researcher, requested=f"{day} 09:00", due=f"{day} 12:00",
             answered="2026-03-02 14:00", minutes=300)  # fmt: skip
    _request(make_enquiry, health, researcher, requested=f"{day} 09:00", due=f"{day} 12:00",
             answered=f"{day} 09:30", minutes=30)  # fmt: skip
    _request(make_enquiry, health, researcher, requested=f"{day} 09:00", due=f"{day} 12:00")
    _request(make_enquiry, health, researcher, requested="2026-03-31 16:00", due="2026-04-01 12:00")
    _request(make_enquiry, health, researcher, requested="2026-02-27 09:00", due="2026-02-27 12:00")

    report = selectors.agency_response(MARCH, now=at("2026-03-31 17:00"))
    rows = by(report, "agency")

    assert rows["Police"] == {
        "agency": "Police",
        "requests": 3,
        "answered": 3,
        "median_minutes": 120,
        "p90_minutes": 264,  # 120 + 0.8 x (300 - 120)
        "answered_by_due": 2,
        "answered_by_due_percent": 66.7,
    }
    # One answered on time, one overdue, one not yet due (left out of the share).
    assert rows["Health"]["requests"] == 3
    assert (rows["Health"]["median_minutes"], rows["Health"]["p90_minutes"]) == (30, 30)
    assert rows["Health"]["answered_by_due_percent"] == 50.0


def test_agency_response_counts_only_for_managers_and_analysts(make_user):
    assert selectors.agency_response(MARCH, user=make_user("researcher")).rows == []
    from sharing import firewall

    assert firewall.countable_requests(make_user("researcher")).query.is_empty()
    assert firewall.countable_requests(make_user("practitioner")).query.is_empty()
    assert not firewall.countable_requests(make_user("analyst")).query.is_empty()


@pytest.mark.parametrize("name", sorted(selectors.REPORTS))
def test_each_report_runs_the_same_number_of_queries_whatever_the_data(name, make_enquiry):
    def queries() -> int:
        selectors.build_report(name, MARCH)  # the clock is built and cached first
        with CaptureQueriesContext(connection) as captured:
            selectors.build_report(name, MARCH)
        return len(captured.captured_queries)

    make_enquiry("2026-03-02 10:00", decided="2026-03-02 11:00", feedback="2026-03-02 12:00")
    few = queries()
    for day in range(2, 30):
        make_enquiry(f"2026-03-{day:02d} 10:00", rating=Rag.RED, decided=f"2026-03-{day:02d} 16:00")
        make_enquiry(f"2026-03-{day:02d} 10:00", referrer="school")

    assert queries() == few
    assert few <= 4


def test_the_default_period_is_the_last_full_month():
    assert last_full_month(date(2026, 1, 15)) == Period(date(2025, 12, 1), date(2026, 1, 1))
    assert last_full_month(date(2026, 3, 1)) == Period(date(2026, 2, 1), date(2026, 3, 1))
    assert selectors.REPORTS["backlog"].default_period(date(2026, 3, 1)) == Period(
        date(2026, 3, 1), date(2026, 3, 1) + timedelta(days=1)
    )


def test_a_period_says_its_days_as_people_do():
    assert MARCH.label() == "1 March 2026 to 31 March 2026"
    assert Period(date(2026, 3, 5), date(2026, 3, 6)).label() == "5 March 2026"
    with pytest.raises(ValueError):
        Period(date(2026, 3, 5), date(2026, 3, 5))
