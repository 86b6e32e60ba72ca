"""NFA quality sampling (issue 20, item 3): a reproducible weekly draw, reviews by someone
other than the decider, disagreements told to the decider, and the QA report."""

from datetime import date

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from agencies.models import Role
from enquiries.exceptions import StaleEdit
from enquiries.models import Enquiry, Notification, Outcome, Rag
from reports import quality
from reports import selectors as reports
from reports.models import NfaReview, NfaSampling
from reports.periods import Period
from reports.tasks import draw_nfa_sample

from .conftest import at

pytestmark = pytest.mark.django_db

WEEK = date(2026, 3, 9)  # a Monday


@pytest.fixture
def decider(make_user):
    return make_user(Role.MANAGER, first_name="Dee", last_name="Cider")


@pytest.fixture
def reviewer(make_user):
    return make_user(Role.MANAGER, first_name="Rev", last_name="Iewer")


@pytest.fixture
def nfa_week(make_enquiry, decider):
    """Twenty NFA decisions in the week of 9 March, two on Sunday night, and one other."""
    made = []
    for number in range(20):
        day = 9 + number % 7
        made.append(make_enquiry(f"2026-03-{day:02d} 09:00", decided=f"2026-03-{day:02d} 23:59"))
    make_enquiry("2026-03-10 09:00", decided="2026-03-10 12:00", outcome="csc_assessment")
    make_enquiry("2026-03-15 23:00", decided="2026-03-16 00:00")  # the next week
    Enquiry.objects.update(decided_by=decider)
    return made


def test_the_draw_takes_the_share_reproducibly_and_once(nfa_week):
    first = quality.draw_nfa_sample(week_start=WEEK, now=at("2026-03-16 06:30"))
    drawn = set(NfaReview.objects.values_list("enquiry_id", flat=True))
    NfaReview.objects.all().delete()
    again = quality.draw_nfa_sample(week_start=WEEK, now=at("2026-03-16 06:31"))

    assert (first.decisions, first.drawn) == (20, 2)  # 10% of 20
    assert set(NfaReview.objects.values_list("enquiry_id", flat=True)) == drawn
    assert again.drawn == 2
    assert quality.draw_nfa_sample(week_start=WEEK).drawn == 0  # drawn already
    assert drawn <= {enquiry.pk for enquiry in nfa_week}


def test_any_share_above_nought_draws_at_least_one_and_nought_draws_none(nfa_week):
    sampling = NfaSampling.current()
    sampling.share_percent = 1
    sampling.save()
    assert quality.draw_nfa_sample(week_start=WEEK).drawn == 1

    NfaReview.objects.all().delete()
    sampling.share_percent = 0
    sampling.save()
    assert quality.draw_nfa_sample(week_start=WEEK).drawn == 0


def test_a_week_starts_on_a_monday():
    with pytest.raises(ValueError, match="not Tuesday"):
        quality.draw_nfa_sample(week_start=date(2026, 3, 10))


@pytest.mark.instant("2026-03-16T06:30")
def test_the_monday_task_draws_the_week_before(nfa_week):
    result = draw_nfa_sample.delay().get()

    assert result == {"week_start": "2026-03-09", "decisions": 20, "drawn": 2}


@pytest.fixture
def drawn(nfa_week):
    quality.draw_nfa_sample(week_start=WEEK)
    return NfaReview.objects.select_related("enquiry").first()


def test_reviewers_are_those_named_or_every_manager_and_never_the_decider(
    drawn, decider, reviewer, make_user
):
    researcher = make_user(Role.RESEARCHER)
    analyst = make_user(Role.ANALYST)

    assert quality.may_review(reviewer) and quality.may_review(decider)
    assert not quality.may_review(researcher) and not quality.may_review(analyst)
    assert quality.review_queue(decider).count() == 0  # every one drawn is theirs
    assert quality.review_queue(reviewer).count() == 2

    NfaSampling.current().reviewers.set([researcher])
    assert quality.may_review(researcher) and not quality.may_review(reviewer)
    with pytest.raises(PermissionDenied, match="You made this decision"):
        NfaSampling.current().reviewers.add(decider)
        quality.record_review(review=drawn, actor=decider, verdict="agree", expected_version=1)


def test_an_agreement_is_recorded_once(drawn, reviewer):
    done = quality.record_review(
        review=drawn, actor=reviewer, verdict="agree", learning="Sound.", expected_version=1
    )

    assert (done.verdict, done.reviewer, done.learning, done.version) == (
        "agree",
        reviewer,
        "Sound.",
        2,
    )
    assert not Notification.objects.exists()
    with pytest.raises(StaleEdit):
        quality.record_review(review=drawn, actor=reviewer, verdict="agree", expected_version=1)


def test_a_disagreement_says_what_should_have_happened_and_tells_the_decider(
    drawn, reviewer, decider
):
    with pytest.raises(ValidationError) as refused:
        quality.record_review(review=drawn, actor=reviewer, verdict="disagree", expected_version=1)
    assert refused.value.message_dict == {
        "what_should_have_happened": ["Say what should have happened instead."]
    }

    quality.record_review(
        review=drawn,
        actor=reviewer,
        verdict="disagree",
        should_have_been=Outcome.objects.get(code="early_help"),
        what_should_have_happened="Early help: three referrals from school this term.",
        expected_version=1,
    )

    told = Notification.objects.get()
    assert (told.recipient, told.kind, told.enquiry_id) == (
        decider,
        Notification.Kind.NFA_REVIEWED,
        drawn.enquiry_id,
    )
    assert told.message.endswith("Early help: three referrals from school this term.")


def test_the_review_pages(client, drawn, reviewer, decider):
    client.force_login(reviewer)
    queue = client.get(reverse("nfa-review-queue"))
    assert queue.status_code == 200
    assert reverse("nfa-review", args=[drawn.pk]) in queue.content.decode()

    page = client.post(
        reverse("nfa-review", args=[drawn.pk]), {"expected_version": 1, "verdict": "disagree"}
    )
    assert page.status_code == 200
    assert page.context["form"].errors == {
        "what_should_have_happened": ["Say what should have happened instead."]
    }
    done = client.post(
        reverse("nfa-review", args=[drawn.pk]),
        {"expected_version": 1, "verdict": "agree", "learning": "Proportionate."},
    )
    assert done.status_code == 302
    assert NfaReview.objects.get(pk=drawn.pk).verdict == "agree"

    client.force_login(decider)
    assert client.get(reverse("nfa-review", args=[drawn.pk])).status_code == 403
    mine = client.get(reverse("nfa-review-queue")).content.decode()
    assert "Proportionate." not in mine and "Agreed" in mine


@pytest.mark.parametrize("role", [Role.ANALYST, Role.PRACTITIONER, Role.AUDITOR])
def test_nobody_outside_the_reviewers_opens_the_queue(client, make_user, role):
    client.force_login(make_user(role))

    assert client.get(reverse("nfa-review-queue")).status_code == 403


def test_the_quality_report_counts_agreement_by_rag_referrer_and_month(
    make_enquiry, decider, reviewer
):
    red = make_enquiry("2026-03-02 09:00", rating=Rag.RED, decided="2026-03-02 12:00")
    amber = make_enquiry("2026-03-03 09:00", rating=Rag.AMBER, decided="2026-03-03 12:00")
    other = make_enquiry("2026-04-01 09:00", decided="2026-04-01 12:00")
    Enquiry.objects.update(decided_by=decider)
    for enquiry, verdict in ((red, "agree"), (amber, "disagree"), (other, "agree")):
        review = NfaReview.objects.create(
            enquiry=enquiry, week_start=WEEK, drawn_at=at("2026-03-09 06:30")
        )
        quality.record_review(
            review=review,
            actor=reviewer,
            verdict=verdict,
            what_should_have_happened="An assessment." if verdict == "disagree" else "",
            expected_version=1,
        )

    report = reports.nfa_quality(Period(date(2026, 3, 1), date(2026, 4, 1)))

    rows = {(row["breakdown"], row["group"]): row for row in report.rows}
    assert rows[("Overall", "All reviews")] == {
        "breakdown": "Overall",
        "group": "All reviews",
        "reviewed": 2,
        "agreed": 1,
        "agreed_percent": 50.0,
    }
    assert rows[("RAG", "Red")]["agreed_percent"] == 100.0
    assert rows[("RAG", "Amber")]["agreed_percent"] == 0.0
    assert rows[("Month", "March 2026")]["reviewed"] == 2
    assert "nfa-quality" in reports.REPORTS
