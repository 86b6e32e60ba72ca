"""Realistic demo enquiries in bulk: every state and rating, families, repeat subjects.

Built with bulk inserts and the pure clock, so 100,000 enquiries take seconds, not the hours
that one service call per enquiry would.
"""

import random
from collections import Counter
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from agencies.models import Role, User

from .clock import clock_in_force
from .models import (
    Enquiry,
    EnquiryEvent,
    EnquiryPerson,
    FamilyEnquiry,
    Outcome,
    Person,
    Rag,
    ReferenceCounter,
    ReferrerType,
)

FIRST_NAMES = [
    "Amelia", "Oliver", "Isla", "George", "Ava", "Noah", "Mia", "Leo", "Zofia", "Mohammed",
    "Aisha", "Dylan", "Seren", "Rhys", "Olivia", "Harry", "Maja", "Yusuf", "Grace", "Jacob",
]  # fmt: skip
LAST_NAMES = [
    "Smith", "Jones", "Williams", "Taylor", "Brown", "Davies", "Evans", "Wilson", "Nowak",
    "Khan", "Ahmed", "Thomas", "Roberts", "Kowalski", "Walker", "Wright", "Hughes", "Ali",
]  # fmt: skip
CONCERNS = [
    ("neglect", "Children repeatedly arriving at school hungry and in unwashed clothes."),
    ("domestic_abuse", "Police attended a domestic incident overnight; children were present."),
    ("physical_abuse", "Unexplained bruising to the upper arm noticed by the class teacher."),
    ("emotional_abuse", "Child says she is frightened of going home and is often shouted at."),
    ("missing", "Fourteen-year-old reported missing for the third time this month."),
    ("cse", "Young person seen getting into cars with older men after school."),
    ("mental_health", "Parent's mental health has deteriorated; the children are caring."),
    ("substance_misuse", "Drug paraphernalia found within reach of a toddler at a home visit."),
]
RATINGS = [(Rag.RED, 10), (Rag.AMBER, 25), (Rag.GREEN, 35), (Rag.NONE, 30)]
BATCH = 2000


def _pick_rating(rng: random.Random) -> str:
    return rng.choices([r for r, _ in RATINGS], weights=[w for _, w in RATINGS])[0]


@transaction.atomic
def seed_demo_enquiries(*, target: int, seed: int = 2026, now: datetime | None = None) -> int:
    """Top the hub up to `target` enquiries (so running it twice adds nothing); returns how
    many were created. The oldest are closed, the newest still open."""
    missing = target - Enquiry.objects.count()
    if missing <= 0:
        return 0
    now = (now or timezone.now()).replace(second=0, microsecond=0)
    rng = random.Random(seed + target)  # noqa: S311 - demo data, not secrets
    clock = clock_in_force()
    researchers = list(User.objects.filter(groups__name=Role.RESEARCHER, is_active=True))
    managers = list(User.objects.filter(groups__name=Role.MANAGER, is_active=True))
    if not researchers or not managers:
        raise ValueError("demo enquiries need a researcher and a manager: run seed_demo first")
    referrer_types = list(ReferrerType.objects.filter(is_active=True))
    outcomes = list(Outcome.objects.filter(is_active=True))

    # Families of one to three children, received over the last six months.
    sizes, total = [], 0
    while total < missing:
        sizes.append(min(rng.choice([1, 1, 1, 1, 2, 2, 3]), missing - total))
        total += sizes[-1]
    received = sorted(now - timedelta(minutes=rng.randint(5, 182 * 1440)) for _ in sizes)
    years = Counter()
    for when, size in zip(received, sizes, strict=True):
        years[timezone.localtime(when).year] += size
    next_number = {}
    for year, count in years.items():
        ReferenceCounter.objects.get_or_create(year=year)
        counter = ReferenceCounter.objects.select_for_update().get(year=year)
        next_number[year] = counter.last_number + 1
        counter.last_number += count
        counter.save(update_fields=["last_number"])

    known = list(Person.objects.values_list("id", flat=True)[:5000])
    families, people, rows = [], [], []
    for when, size in zip(received, sizes, strict=True):
        year = timezone.localtime(when).year
        family = FamilyEnquiry(reference=f"MASH-F-{year}-{next_number[year]:06d}")
        families.append(family)
        last_name = rng.choice(LAST_NAMES)
        for _ in range(size):
            repeat = known and rng.random() < 0.1
            person = (
                Person(id=rng.choice(known))
                if repeat
                else Person(
                    first_name=rng.choice(FIRST_NAMES),
                    last_name=last_name,
                    date_of_birth=(now - timedelta(days=rng.randint(200, 17 * 365))).date(),
                )
            )
            people.append(person)
            rows.append((family, person, when, year, next_number[year]))
            next_number[year] += 1
    FamilyEnquiry.objects.bulk_create(families, batch_size=BATCH)
    Person.objects.bulk_create([p for p in people if p.pk is None], batch_size=BATCH)

    enquiries, events = [], []
    for family, person, when, year, number in rows:
        rating = _pick_rating(rng)
        timing = clock.timing(rating=rating, received_at=when)
        category, concern = rng.choice(CONCERNS)
        researcher, manager = rng.choice(researchers), rng.choice(managers)
        enquiry = Enquiry(
            reference=f"MASH-{year}-{number:06d}",
            family=family,
            received_at=when,
            referrer_name="Demo referrer",
            referrer_type=rng.choice(referrer_types),
            subject=person,
            subject_type=Enquiry.SubjectType.CHILD,
            categories=[category],
            concern=concern,
            consent=rng.choice(Enquiry.Consent.values),
            consent_reason="Demo data.",
            rating=rating,
            rating_rationale="" if rating == Rag.NONE else "Screened against the threshold.",
            allowance_minutes=timing.allowance,
            deadline=timing.deadline,
            at_risk_from=timing.at_risk_from,
            breached_from=timing.breached_from,
            created_by=researcher,
            assignee=researcher if rng.random() < 0.7 else None,
        )
        history = [(EnquiryEvent.Kind.RECEIVED, when, researcher, "", "")]
        if rating != Rag.NONE:
            history.append((EnquiryEvent.Kind.RATING, when, researcher, Rag.NONE, rating))
        # Decided somewhere between a quarter and one and a half allowances: most on time.
        decided_at = timing.deadline + (timing.deadline - when) * (rng.random() * 1.25 - 0.75)
        decided_at = max(decided_at, when + timedelta(minutes=10)).replace(second=0, microsecond=0)
        if decided_at < now - timedelta(hours=4):
            sla = clock.sla(rating=rating, received_at=when, now=now, decided_at=decided_at)
            enquiry.state = Enquiry.State.DECIDED
            enquiry.decided_at, enquiry.decided_by = decided_at, manager
            enquiry.outcome = rng.choice(outcomes)
            enquiry.decision_rationale = "Decided on the information shared."
            enquiry.elapsed_minutes, enquiry.decided_on_time = sla.elapsed, sla.remaining >= 0
            history.append((EnquiryEvent.Kind.DECISION, decided_at, manager, "", ""))
            if rng.random() < 0.8:
                enquiry.state = Enquiry.State.CLOSED
                enquiry.feedback_at = min(now, decided_at + timedelta(hours=rng.randint(1, 48)))
                enquiry.feedback_method = rng.choice(["Telephone", "Email", "Letter"])
                enquiry.feedback_text = f"Outcome: {enquiry.outcome.name}."
                history.append(
                    (EnquiryEvent.Kind.FEEDBACK, enquiry.feedback_at, researcher, "", "")
                )
        else:
            enquiry.state = rng.choice(
                Enquiry.OPEN_STATES[1:] if rating != Rag.NONE else ["received"]
            )
        enquiry.version = len(history)
        enquiries.append(enquiry)
        events.append(history)

    Enquiry.objects.bulk_create(enquiries, batch_size=BATCH)
    EnquiryPerson.objects.bulk_create(
        [
            EnquiryPerson(enquiry=e, person=e.subject, role=EnquiryPerson.Role.SUBJECT)
            for e in enquiries
        ],
        batch_size=BATCH,
    )
    EnquiryEvent.objects.bulk_create(
        [
            EnquiryEvent(
                enquiry=enquiry,
                kind=kind,
                at=at,
                actor=actor,
                from_value=from_value,
                to_value=to_value,
                version=version,
            )
            for enquiry, history in zip(enquiries, events, strict=True)
            for version, (kind, at, actor, from_value, to_value) in enumerate(history, start=1)
        ],
        batch_size=BATCH,
    )
    return len(enquiries)
