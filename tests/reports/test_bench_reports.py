"""bench/reports.py compares each report with a hand-written query: the comparison only means
something if both give the same figures, on history shaped like a hub's."""

from datetime import UTC, datetime

import pytest
from django.db.models import Count, F, Q

from bench import reports as bench
from enquiries.models import Enquiry
from sharing.models import InformationRequest

NOW = datetime(2026, 3, 18, 14, 30, tzinfo=UTC)
ENQUIRIES = 3_000


@pytest.fixture
def history(db):
    return bench.load(ENQUIRIES, now=NOW, seed=7)


def test_every_hand_written_query_gives_its_reports_figures(history):
    differ = {}
    for case in bench.cases(NOW):
        agree, report_figures, sql_figures = bench.check(case)
        assert report_figures, f"{case.name}: nothing to compare"
        if not agree:
            differ[case.name] = (report_figures, sql_figures)
    assert not differ
    assert [case.name for case in bench.cases(NOW)] == [
        "timeliness",
        "volumes",
        "nfa",
        "comparison",
        "backlog",
        "rereferrals",
        "feedback",
        "agency-response",
    ]


def test_a_hand_written_query_that_counts_differently_is_caught(history):
    timeliness = next(case for case in bench.cases(NOW) if case.name == "timeliness")
    timeliness.sql = timeliness.sql.replace("decided_at < %(end)s", "decided_at <= %(end)s")
    timeliness.params = timeliness.params | {"end": NOW}

    agree, _, _ = bench.check(timeliness)

    assert not agree


def test_the_history_is_shaped_like_a_hubs(history):
    assert history.enquiries == Enquiry.objects.count() == ENQUIRIES
    assert history.families < ENQUIRIES < 3 * history.families
    figures = Enquiry.objects.aggregate(
        decided=Count("pk", filter=Q(decided_at__isnull=False)),
        referral=Count("pk", filter=Q(outcome__leads_to_referral=True)),
        feedback=Count("pk", filter=Q(feedback_at__isnull=False)),
        on_time=Count("pk", filter=Q(decided_on_time=True)),
        repeats=Count("subject", distinct=True),
        ratings=Count("rating", distinct=True),
        referrers=Count("referrer_type", distinct=True),
    )
    assert 0.95 < figures["decided"] / ENQUIRIES < 0.99
    assert 0.15 < figures["referral"] / figures["decided"] < 0.25
    assert 0.75 < figures["feedback"] / figures["decided"] < 0.85
    assert 0.5 < figures["on_time"] / figures["decided"] < 0.9
    assert ENQUIRIES - figures["repeats"] > 0.05 * ENQUIRIES  # subjects seen again
    assert figures["ratings"] == 4 and figures["referrers"] == 12
    # On time as the clock settled it: within the allowance.
    assert not Enquiry.objects.filter(
        decided_on_time=True, elapsed_minutes__gt=F("allowance_minutes")
    ).exists()
    assert not Enquiry.objects.filter(
        decided_on_time=False, elapsed_minutes__lte=F("allowance_minutes")
    ).exists()


def test_information_requests_are_about_two_an_enquiry_on_a_sample(history):
    requests = InformationRequest.objects.all()
    asked = requests.values("enquiry").distinct().count()

    assert history.requests == requests.count()
    assert 1.7 < history.requests / asked < 2.3
    assert 0.07 < asked / ENQUIRIES < 0.13
    assert requests.values("agency").distinct().count() == len(bench.ANSWERING)
    answered = requests.filter(answered_at__isnull=False)
    assert answered.count() > 0.8 * history.requests
    assert not answered.filter(response_minutes__isnull=True).exists()
    assert not requests.filter(answered_at__lt=F("requested_at")).exists()
    assert not requests.filter(answered_at__gt=F("enquiry__decided_at")).exists()
