"""A few onward referrals for the demo (docs/domain.md 6.2): the latest decisions that lead
to referral are handed on by the demo manager, with the picture compiled as it is sent; most
are accepted and one is returned, so the enquiry pages and the reports show each state."""

from datetime import datetime, timedelta
from typing import cast

from django.utils import timezone

from agencies.models import User
from enquiries import referrals
from enquiries.models import Enquiry, OnwardReferral, Outcome

DESTINATION = {
    "csc_assessment": OnwardReferral.Destination.CSC_ASSESSMENT,
    "strategy_discussion": OnwardReferral.Destination.CSC_STRATEGY,
    "adult_social_care": OnwardReferral.Destination.ADULT_SOCIAL_CARE,
}


def seed_demo_referrals(*, count: int = 4, now: datetime | None = None) -> int:
    """Refer on up to `count` of the latest decided enquiries that lead to referral and have
    none yet; each picture takes a moment to compile, so the demo keeps to a handful."""
    now = now or timezone.now()
    manager = User.objects.filter(username="manager").first()
    if manager is None:
        return 0
    candidates = (
        Enquiry.objects.filter(
            state__in=[Enquiry.State.DECIDED, Enquiry.State.CLOSED],
            outcome__code__in=list(DESTINATION),
            decided_at__lte=now - timedelta(hours=1),
            referrals__isnull=True,
        )
        .select_related("outcome")
        .order_by("-decided_at")[:count]
    )
    made = 0
    for number, enquiry in enumerate(candidates):
        # The query asked for a decision with one of these outcomes.
        outcome, decided_at = cast(Outcome, enquiry.outcome), cast(datetime, enquiry.decided_at)
        referral = referrals.refer_on(
            enquiry=enquiry,
            actor=manager,
            destination=DESTINATION[outcome.code],
            method=OnwardReferral.Method.SECURE_EMAIL,
            sent_at=decided_at + timedelta(minutes=20),
            now=now,
        )
        made += 1
        if number == 0:
            continue  # the latest still awaits its answer
        referrals.record_referral_answer(
            referral=referral,
            actor=manager,
            accepted=number != 1,
            answered_by_name="Duty team manager",
            returned_reason="" if number != 1 else "Threshold not met: offer early help instead.",
            answered_at=referral.sent_at + timedelta(minutes=40),
            expected_version=referral.version,
            now=now,
        )
    return made
