"""Realistic demo enquiries in bulk: every state and rating, families, repeat subjects.

Rows are built as plain values with the pure clock and written through `mash.bulk`, so
100,000 enquiries take seconds, not the hours one service call per enquiry would (nor the
minute `bulk_create`'s model instances would).
"""

import random
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import accumulate
from typing import Any

from django.db import models, transaction
from django.utils import timezone

from agencies.models import Role, User
from mash.bulk import insert_rows, refresh_statistics, reserve_ids

from .clock import ClockInForce, clock_in_force
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
from .worktime import working_minutes_between

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
_RATING_NAMES = [rating for rating, _ in RATINGS]
_RATING_CUMULATIVE = list(accumulate(weight for _, weight in RATINGS))
CONSENTS = Enquiry.Consent.values
SUBJECT = EnquiryPerson.Role.SUBJECT
CHUNK = 20_000  # enquiries built and written at a time: bounds memory for a million
REPEAT_SUBJECTS = 0.1


Row = dict[str, Any]


@dataclass(frozen=True)
class _Cast:
    """The hub's people and reference lists the demo enquiries draw on, as ids."""

    researchers: list[int]
    managers: list[int]
    referrer_types: list[int]
    outcomes: list[tuple[int, str]]

    @classmethod
    def load(cls) -> "_Cast":
        def active(role: str) -> list[int]:
            return list(
                User.objects.filter(groups__name=role, is_active=True).values_list("id", flat=True)
            )

        cast = cls(
            researchers=active(Role.RESEARCHER),
            managers=active(Role.MANAGER),
            referrer_types=list(
                ReferrerType.objects.filter(is_active=True).values_list("id", flat=True)
            ),
            outcomes=list(Outcome.objects.filter(is_active=True).values_list("id", "name")),
        )
        if not cast.researchers or not cast.managers:
            raise ValueError("demo enquiries need a researcher and a manager: run seed_demo first")
        return cast


@dataclass(frozen=True)
class _Slot:
    """One enquiry to create: its family, subject, receipt and reference number."""

    family: Row
    subject: Row
    received_at: datetime
    reference: str


def _pick_rating(rng: random.Random) -> str:
    return rng.choices(_RATING_NAMES, cum_weights=_RATING_CUMULATIVE)[0]


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
    cast = _Cast.load()

    # Families of one to three children, received over the last six months.
    sizes, total = [], 0
    while total < missing:
        sizes.append(min(rng.choice([1, 1, 1, 1, 2, 2, 3]), missing - total))
        total += sizes[-1]
    received = sorted(now - timedelta(minutes=rng.randint(5, 182 * 1440)) for _ in sizes)
    zone = timezone.get_current_timezone()
    years = [when.astimezone(zone).year for when in received]
    per_year = Counter()
    for year, size in zip(years, sizes, strict=True):
        per_year[year] += size
    numbers = _take_reference_numbers(per_year)

    # About one child in ten has been the subject of an earlier enquiry, here or in this run.
    known: list[Row] = [
        {"id": person_id}
        for person_id in Person.objects.order_by("-id").values_list("id", flat=True)[:5000]
    ]
    families, people, slots = [], [], []
    for when, year, size in zip(received, years, sizes, strict=True):
        family = {"reference": f"MASH-F-{year}-{numbers[year]:06d}"}
        families.append(family)
        last_name = rng.choice(LAST_NAMES)
        children = []
        for _ in range(size):
            if known and rng.random() < REPEAT_SUBJECTS:
                child = rng.choice(known)
            else:
                child = {
                    "first_name": rng.choice(FIRST_NAMES),
                    "last_name": last_name,
                    "date_of_birth": (now - timedelta(days=rng.randint(200, 17 * 365))).date(),
                }
                people.append(child)
            children.append(child)
            slots.append(_Slot(family, child, when, f"MASH-{year}-{numbers[year]:06d}"))
            numbers[year] += 1
        known.extend(children)
    _give_ids(FamilyEnquiry, families)
    _give_ids(Person, people)
    insert_rows(FamilyEnquiry, families)
    insert_rows(Person, people)

    for start in range(0, len(slots), CHUNK):
        built = [
            _demo_enquiry(rng, clock=clock, cast=cast, now=now, slot=slot)
            for slot in slots[start : start + CHUNK]
        ]
        enquiries = [enquiry for enquiry, _ in built]
        _give_ids(Enquiry, enquiries)
        insert_rows(Enquiry, enquiries)
        insert_rows(
            EnquiryPerson,
            (
                {"enquiry_id": e["id"], "person_id": e["subject_id"], "role": SUBJECT}
                for e in enquiries
            ),
        )
        insert_rows(
            EnquiryEvent,
            (
                {"enquiry_id": enquiry["id"], **event}
                for enquiry, history in built
                for event in history
            ),
        )
    refresh_statistics(FamilyEnquiry, Person, Enquiry, EnquiryPerson, EnquiryEvent)
    return len(slots)


def _give_ids(model: type[models.Model], rows: list[Row]) -> None:
    """Number new rows up front, so the rows that refer to them can be built first."""
    for row, row_id in zip(rows, reserve_ids(model, len(rows)), strict=True):
        row["id"] = row_id


def _take_reference_numbers(per_year: Counter[int]) -> dict[int, int]:
    """Reserve `per_year[year]` reference numbers in each year; returns the first of each."""
    first = {}
    for year, count in per_year.items():
        ReferenceCounter.objects.get_or_create(year=year)
        counter = ReferenceCounter.objects.select_for_update().get(year=year)
        first[year] = counter.last_number + 1
        counter.last_number += count
        counter.save(update_fields=["last_number"])
    return first


def _demo_enquiry(
    rng: random.Random, *, clock: ClockInForce, cast: _Cast, now: datetime, slot: _Slot
) -> tuple[Row, list[Row]]:
    """One enquiry's row and its history, decided on time or late once it is old enough."""
    when = slot.received_at
    rating = _pick_rating(rng)
    timing = clock.timing(rating=rating, received_at=when)
    category, concern = rng.choice(CONCERNS)
    researcher, manager = rng.choice(cast.researchers), rng.choice(cast.managers)
    enquiry: Row = {
        "reference": slot.reference,
        "family_id": slot.family["id"],
        "received_at": when,
        "referrer_name": "Demo referrer",
        "referrer_type_id": rng.choice(cast.referrer_types),
        "subject_id": slot.subject["id"],
        "subject_type": Enquiry.SubjectType.CHILD,
        "categories": [category],
        "concern": concern,
        "consent": rng.choice(CONSENTS),
        "consent_reason": "Demo data.",
        "rating": rating,
        "rating_rationale": "" if rating == Rag.NONE else "Screened against the threshold.",
        "allowance_minutes": timing.allowance,
        "deadline": timing.deadline,
        "at_risk_from": timing.at_risk_from,
        "breached_from": timing.breached_from,
        "created_by_id": researcher,
        "assignee_id": researcher if rng.random() < 0.7 else None,
        "state": Enquiry.State.RECEIVED,
        "decided_at": None,
        "decided_by_id": None,
        "outcome_id": None,
        "decision_rationale": "",
        "elapsed_minutes": None,
        "decided_on_time": None,
        "feedback_at": None,
        "feedback_method": "",
        "feedback_text": "",
        "feedback_minutes": None,
    }
    history = [event_row(EnquiryEvent.Kind.RECEIVED, when, researcher)]
    if rating != Rag.NONE:
        history.append(event_row(EnquiryEvent.Kind.RATING, when, researcher, Rag.NONE, rating))
    # Decided somewhere between a quarter and one and a half allowances: most on time.
    decided_at = timing.deadline + (timing.deadline - when) * (rng.random() * 1.25 - 0.75)
    decided_at = max(decided_at, when + timedelta(minutes=10)).replace(second=0, microsecond=0)
    if decided_at < now - timedelta(hours=4):
        sla = clock.sla(rating=rating, received_at=when, now=now, decided_at=decided_at)
        outcome_id, outcome_name = rng.choice(cast.outcomes)
        enquiry |= {
            "state": Enquiry.State.DECIDED,
            "decided_at": decided_at,
            "decided_by_id": manager,
            "outcome_id": outcome_id,
            "decision_rationale": "Decided on the information shared.",
            "elapsed_minutes": sla.elapsed,
            "decided_on_time": sla.remaining >= 0,
        }
        history.append(event_row(EnquiryEvent.Kind.DECISION, decided_at, manager))
        if rng.random() < 0.8:
            feedback_at = min(now, decided_at + timedelta(hours=rng.randint(1, 48)))
            enquiry |= {
                "state": Enquiry.State.CLOSED,
                "feedback_at": feedback_at,
                "feedback_method": rng.choice(["Telephone", "Email", "Letter"]),
                "feedback_text": f"Outcome: {outcome_name}.",
                "feedback_minutes": working_minutes_between(
                    clock.calendar, decided_at, feedback_at
                ),
            }
            history.append(event_row(EnquiryEvent.Kind.FEEDBACK, feedback_at, researcher))
    else:
        enquiry["state"] = rng.choice(
            Enquiry.OPEN_STATES[1:] if rating != Rag.NONE else [Enquiry.State.RECEIVED]
        )
    for version, event in enumerate(history, start=1):
        event["version"] = version
    enquiry["version"] = len(history)
    return enquiry, history


def event_row(
    kind: str, at: datetime, actor_id: int, from_value: str = "", to_value: str = ""
) -> Row:
    return {
        "kind": kind,
        "at": at,
        "actor_id": actor_id,
        "from_value": from_value,
        "to_value": to_value,
    }
