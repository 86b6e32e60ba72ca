"""NFA quality reviews for the demo (docs/domain.md 7.1): the researcher and the manager
review, the last four weeks are drawn, and a few reviews are done by the researcher (the demo's
decisions are the manager's, and nobody reviews their own), one of them a disagreement."""

from datetime import datetime, timedelta

from django.utils import timezone

from agencies.models import User
from enquiries.models import Outcome
from reports import quality
from reports.models import NfaReview, NfaSampling

WEEKS = 4


def seed_demo_quality(*, now: datetime | None = None) -> int:
    """Draw the last `WEEKS` weeks and review three of the draw; returns how many were drawn.
    Safe to run twice: a week is drawn once and a review recorded once."""
    now = now or timezone.now()
    reviewers = list(User.objects.filter(username__in=["researcher", "manager"]))
    researcher = next((user for user in reviewers if user.username == "researcher"), None)
    if researcher is None:
        return 0
    NfaSampling.current().reviewers.set(reviewers)
    this_week = quality.week_of(timezone.localdate(now))
    drawn = sum(
        quality.draw_nfa_sample(week_start=this_week - timedelta(weeks=back), now=now).drawn
        for back in range(WEEKS, 0, -1)
    )
    early_help = Outcome.objects.filter(code="early_help").first()
    waiting = list(quality.review_queue(researcher)[:3])
    # The disagreement goes to a child's decision with a manager to tell: early help fits it.
    disagreed = next(
        (r for r in waiting if r.enquiry.subject_type == "child" and r.enquiry.decided_by_id),
        None,
    )
    for review in waiting:
        disagree = review is disagreed
        quality.record_review(
            review=review,
            actor=researcher,
            verdict=NfaReview.Verdict.DISAGREE if disagree else NfaReview.Verdict.AGREE,
            should_have_been=early_help if disagree else None,
            what_should_have_happened=(
                "Early help: the school has raised attendance twice this term." if disagree else ""
            ),
            learning="Check the school's earlier contacts before deciding NFA." if disagree else "",
            expected_version=review.version,
            now=now,
        )
    return drawn
