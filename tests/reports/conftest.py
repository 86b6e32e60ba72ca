import itertools
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from enquiries.clock import clock_in_force
from enquiries.models import Enquiry, FamilyEnquiry, Outcome, Person, Rag, ReferrerType
from enquiries.worktime import working_minutes_between

LONDON = ZoneInfo("Europe/London")
_numbers = itertools.count(1)


def at(text: str) -> datetime:
    """A London wall-clock time, "2026-03-02 09:00"."""
    return datetime.fromisoformat(text).replace(tzinfo=LONDON)


@pytest.fixture
def make_enquiry(make_user):
    """An enquiry as the hub's services would have stored it, with any history wanted."""
    author = make_user()

    def make(
        received: str,
        *,
        rating: str = Rag.NONE,
        decided: str | None = None,
        outcome: str = "nfa",
        referrer: str = "police",
        family: FamilyEnquiry | None = None,
        subject: Person | None = None,
        feedback: str | None = None,
    ) -> Enquiry:
        number = next(_numbers)
        clock = clock_in_force()
        received_at = at(received)
        timing = clock.timing(rating=rating, received_at=received_at)
        fields = {}
        if decided:
            decided_at = at(decided)
            elapsed = working_minutes_between(clock.calendar_for(rating), received_at, decided_at)
            fields = {
                "state": Enquiry.State.DECIDED,
                "decided_at": decided_at,
                "outcome": Outcome.objects.get(code=outcome),
                "elapsed_minutes": elapsed,
                "decided_on_time": elapsed <= timing.allowance,
            }
            if feedback:
                fields |= {
                    "state": Enquiry.State.CLOSED,
                    "feedback_at": at(feedback),
                    "feedback_minutes": working_minutes_between(
                        clock.calendar, decided_at, at(feedback)
                    ),
                }
        return Enquiry.objects.create(
            reference=f"T-{number:06d}",
            family=family or FamilyEnquiry.objects.create(reference=f"TF-{number:06d}"),
            received_at=received_at,
            referrer_name="A referrer",
            referrer_type=ReferrerType.objects.get(code=referrer),
            subject=subject or Person.objects.create(first_name="Child", last_name=f"N{number}"),
            subject_type=Enquiry.SubjectType.CHILD,
            concern="Concern",
            consent=Enquiry.Consent.YES,
            rating=rating,
            allowance_minutes=timing.allowance,
            deadline=timing.deadline,
            at_risk_from=timing.at_risk_from,
            breached_from=timing.breached_from,
            timing_version=timing.version,
            created_by=author,
            **fields,
        )

    return make
