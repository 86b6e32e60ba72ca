"""Realistic demo enquiries in bulk: a live hub at any hour, over six months of history.

The open enquiries are placed by the hub's working time, not the wall clock: at 03:00 on a
Sunday as at 10:30 on a Wednesday, some arrived since the hub last opened, some are at risk
and some have breached, in each open state, so the queue, the dashboard and the SLA scan have
work whatever the hour. The older enquiries were decided, mostly on time, and most of them
closed, spread over six months for the reports. About one enquiry in ten is about an adult at
risk; there are families, repeat subjects and a few escalations, some acknowledged by a
manager and some still waiting, repeated to the managers in turn.

Rows are built as plain values with the pure clock and written through `core.bulk`, so
100,000 enquiries take seconds, not the hours one service call per enquiry would (nor the
minute `bulk_create`'s model instances would). A top-up of 20,000 or more on PostgreSQL, at
least as large as the hub already is, goes through `core.bulk_load` instead: the same rows,
with the tables' indexes and constraints built again after them rather than kept up row by
row.
"""

import random
from bisect import bisect
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import accumulate
from math import ceil
from typing import Any, NamedTuple, TypeVar

from django.db import models, transaction
from django.utils import timezone

from agencies.models import Role, User
from core.bulk import insert_rows, refresh_statistics, reserve_ids
from core.bulk_load import bulk_load, bulk_load_possible, collector_paused
from enquiries import mail
from enquiries.clock import ClockInForce, clock_in_force
from enquiries.escalations import next_recipient, repeat_order, repeated_message
from enquiries.importing import event_row
from enquiries.models import (
    Enquiry,
    EnquiryEvent,
    EnquiryPerson,
    EscalationPolicy,
    EscalationRepeat,
    FamilyEnquiry,
    Notification,
    Outcome,
    OutgoingEmail,
    Person,
    Rag,
    ReferenceCounter,
    ReferrerType,
)
from enquiries.services import escalated_message
from enquiries.tasks import EMAIL_RETRY_WAITS
from enquiries.worktime import (
    add_working_minutes,
    subtract_working_minutes,
    working_minutes_between,
)

from .samples import sample

_PEOPLE = sample("enquiries")
FIRST_NAMES: list[str] = _PEOPLE["first_names"]
ADULT_FIRST_NAMES: list[str] = _PEOPLE["adult_first_names"]
LAST_NAMES: list[str] = _PEOPLE["last_names"]
CONCERNS = [(concern["category"], concern["text"]) for concern in _PEOPLE["concerns"]]
ADULT_CONCERNS = [(concern["category"], concern["text"]) for concern in _PEOPLE["adult_concerns"]]
ESCALATION_REASONS: list[str] = _PEOPLE["escalation_reasons"]
CONSENT_REASONS: list[str] = _PEOPLE["consent_reasons"]
# By subject type: the law the hub shares under without consent.
LAWFUL_BASES: dict[str, list[str]] = _PEOPLE["lawful_bases"]
RATINGS = [(Rag.RED, 10), (Rag.AMBER, 25), (Rag.GREEN, 35), (Rag.NONE, 30)]
_RATING_NAMES = [rating for rating, _ in RATINGS]
_RATING_CUMULATIVE = list(accumulate(weight for _, weight in RATINGS))
# Screening gives a rating, so only enquiries still at the front door have none.
_SCREENED_CUMULATIVE = _RATING_CUMULATIVE[:3]
CONSENTS = Enquiry.Consent.values
SUBJECT = EnquiryPerson.Role.SUBJECT
CHUNK = 20_000  # enquiries built and written at a time: bounds memory for a million
BULK_FROM = 20_000  # enquiries: a top-up this large, on PostgreSQL, is bulk loaded
REPEAT_SUBJECTS = 0.1
# Adults at risk come alone and children often with siblings: this makes one enquiry in ten.
ADULT_FAMILIES = 0.15
HISTORY = timedelta(days=182)
ON_TIME = 0.8
# Where the open enquiries stand against their allowance, and how many of each.
FRESH, AT_RISK, BREACHED = "fresh", "at risk", "breached"
STANDINGS = {FRESH: 65, AT_RISK: 20, BREACHED: 15}
# Some open enquiries arrive at any hour (police, out-of-hours services) rather than spread
# over the working minutes: on a Sunday morning, the weekend's referrals are waiting.
BY_WALL_CLOCK = 0.3
# How often a decision records each outcome; one a hub adds is as common as "marac".
OUTCOME_WEIGHTS = {
    "nfa": 40,
    "advice": 15,
    "early_help": 12,
    "csc_assessment": 12,
    "strategy_discussion": 5,
    "adult_social_care": 30,
    "other_agency": 8,
}
OTHER_OUTCOME_WEIGHT = 4
ONE_MINUTE = timedelta(minutes=1)
# An escalation still waiting for a manager was escalated this long ago, so by now it has been
# repeated (three times, every 15 minutes by default); one acknowledged was acknowledged this
# long after its first repeat.
WAITING_FOR = timedelta(minutes=50)
ACKNOWLEDGED_AFTER_REPEAT = timedelta(minutes=5)
ACKNOWLEDGEMENT_NOTE = "Spoken to the police duty inspector; a strategy discussion is being set up."


Row = dict[str, Any]
T = TypeVar("T")
# The tables the demo enquiries fill; the first five are the large ones.
BULK_LOADED = (
    FamilyEnquiry,
    Person,
    Enquiry,
    EnquiryPerson,
    EnquiryEvent,
    Notification,
    EscalationRepeat,
    OutgoingEmail,
)


def open_enquiries_wanted(target: int) -> int:
    """How many of a demo of `target` enquiries are still open: enough to fill every open
    state of a small demo, a few days' work of a large one."""
    return min(target * 45 // 100, 200 + target // 50)


def escalations_wanted(target: int) -> int:
    return max(2, open_enquiries_wanted(target) // 80)


@dataclass(frozen=True)
class _Cast:
    """The hub's people and reference lists the demo enquiries draw on, as ids."""

    researchers: list[int]
    managers: list[int]
    referrer_types: list[int]
    # By subject type: the outcomes that fit it (id, name, code), and their cumulative weights.
    outcomes: dict[str, tuple[list[tuple[int, str, str]], list[int]]]
    # The researchers' and managers' names, for what escalating tells people.
    names: dict[int, str]
    # Whom an escalation nobody acknowledges is repeated to, in turn, and how often.
    repeat_order: list[int]
    repeat_after: timedelta

    @classmethod
    def load(cls) -> "_Cast":
        def active(role: str) -> list[int]:
            return list(
                User.objects.filter(groups__name=role, is_active=True).values_list("id", flat=True)
            )

        outcomes = {}
        for subject_type in Enquiry.SubjectType.values:
            fitting = list(
                Outcome.objects.filter(is_active=True)
                .fitting(subject_type)
                .order_by("id")
                .values_list("id", "name", "code")
            )
            if not fitting:
                raise ValueError(
                    f"demo enquiries need an active outcome that fits a {subject_type}"
                )
            weights = (OUTCOME_WEIGHTS.get(code, OTHER_OUTCOME_WEIGHT) for _, _, code in fitting)
            outcomes[subject_type] = (fitting, list(accumulate(weights)))
        managers, researchers = active(Role.MANAGER), active(Role.RESEARCHER)
        policy = EscalationPolicy.current()
        cast = cls(
            researchers=researchers,
            managers=managers,
            referrer_types=list(
                ReferrerType.objects.filter(is_active=True).values_list("id", flat=True)
            ),
            outcomes=outcomes,
            names={
                user.pk: str(user) for user in User.objects.filter(pk__in=managers + researchers)
            },
            repeat_order=repeat_order(policy),
            repeat_after=timedelta(minutes=policy.repeat_minutes),
        )
        if not cast.researchers or not cast.managers:
            raise ValueError("demo enquiries need a researcher and a manager: run seed_demo first")
        return cast

    def outcome(self, rng: random.Random, subject_type: str) -> tuple[int, str, str]:
        outcomes, cumulative = self.outcomes[subject_type]
        return _weighted(rng, outcomes, cumulative)


@dataclass
class _Course:
    """What becomes of one enquiry: still open in `state`, or decided at `decided_at` after
    `decided_minutes` working minutes on its rating's clock."""

    rating: str
    state: str | None = None
    escalated_from: str | None = None
    acknowledged: bool = False
    decided_at: datetime | None = None
    decided_minutes: int | None = None


@dataclass
class _Family:
    """Enquiries received together about one household (or one adult at risk)."""

    received_at: datetime
    subject_type: str
    courses: list[_Course]


class _Slot(NamedTuple):
    """One enquiry to create: its family, subject, receipt, reference number and course (a
    tuple: a million frozen dataclasses take a second longer to make)."""

    family: Row
    subject: Row
    received_at: datetime
    reference: str
    subject_type: str
    concern: tuple[str, str]
    course: _Course


def _pick_rating(rng: random.Random, *, screened: bool = False) -> str:
    cumulative = _SCREENED_CUMULATIVE if screened else _RATING_CUMULATIVE
    return _weighted(rng, _RATING_NAMES, cumulative)


def _weighted(rng: random.Random, population: Sequence[T], cumulative: list[int]) -> T:
    """`rng.choices(population, cum_weights=cumulative)[0]`, the same draw from the same
    `random()`, without the list and the checks `choices` makes on every call (a tenth of
    the time building a million demo enquiries). `population` may be longer than the
    weights: the draw is among its first `len(cumulative)`."""
    return population[bisect(cumulative, rng.random() * cumulative[-1], 0, len(cumulative) - 1)]


@transaction.atomic
@collector_paused()
def seed_demo_enquiries(*, target: int, seed: int = 2026, now: datetime | None = None) -> int:
    """Top the hub up to `target` enquiries (so running it twice adds nothing); returns how
    many were created. Enough of them stay open to keep the hub's open work at what a demo
    of `target` should have; the rest were decided over the last six months."""
    missing = target - Enquiry.objects.count()
    if missing <= 0:
        return 0
    now = (now or timezone.now()).astimezone(UTC).replace(second=0, microsecond=0)
    rng = random.Random(seed + target)  # noqa: S311 - demo data, not secrets
    clock = clock_in_force()
    cast = _Cast.load()

    still_open = Enquiry.objects.filter(state__in=Enquiry.OPEN_STATES)
    opening = max(0, min(missing, open_enquiries_wanted(target) - still_open.count()))
    escalating = escalations_wanted(target) - still_open.exclude(escalated_at=None).count()
    families = _open_families(rng, clock, now=now, count=opening, escalations=escalating)
    families += _decided_families(rng, clock, now=now, count=missing - opening)
    families.sort(key=lambda family: family.received_at)

    zone = timezone.get_current_timezone()
    years = [family.received_at.astimezone(zone).year for family in families]
    per_year: Counter[int] = Counter()
    for year, family in zip(years, families, strict=True):
        per_year[year] += len(family.courses)
    numbers = _take_reference_numbers(per_year)

    # About one subject in ten has been the subject of an earlier enquiry, here or in this run.
    known = _known_subjects(now)
    family_rows, people, slots = [], [], []
    for family, year in zip(families, years, strict=True):
        family_row = {"reference": f"MASH-F-{year}-{numbers[year]:06d}"}
        family_rows.append(family_row)
        when, subject_type = family.received_at, family.subject_type
        last_name = rng.choice(LAST_NAMES)
        concern = rng.choice(
            ADULT_CONCERNS if subject_type == Enquiry.SubjectType.ADULT else CONCERNS
        )
        subjects = []
        for course in family.courses:
            if known[subject_type] and rng.random() < REPEAT_SUBJECTS:
                subject = rng.choice(known[subject_type])
            else:
                subject = _new_person(rng, subject_type, last_name=last_name, received_at=when)
                people.append(subject)
            subjects.append(subject)
            reference = f"MASH-{year}-{numbers[year]:06d}"
            slots.append(_Slot(family_row, subject, when, reference, subject_type, concern, course))
            numbers[year] += 1
        known[subject_type].extend(subjects)
    bulk = _worth_bulk_loading(len(slots))
    with bulk_load(*BULK_LOADED) if bulk else nullcontext() as load:
        reserve = load.reserve if load else reserve_ids
        insert = load.insert if load else insert_rows
        # All at once, before any row: a bulk load waits for the COPYs in flight (and the
        # index builds) before each reservation.
        _give_ids(FamilyEnquiry, family_rows, reserve)
        _give_ids(Person, people, reserve)
        enquiry_ids = reserve(Enquiry, len(slots))
        insert(FamilyEnquiry, family_rows)
        insert(Person, people)
        if load:  # their indexes are built while the enquiries are
            load.loaded(FamilyEnquiry, Person)
        for start in range(0, len(slots), CHUNK):
            built = [
                _demo_enquiry(rng, clock=clock, cast=cast, now=now, slot=slot, pk=pk)
                for slot, pk in zip(
                    slots[start : start + CHUNK], enquiry_ids[start : start + CHUNK], strict=True
                )
            ]
            enquiries = [enquiry for enquiry, _ in built]
            insert(Enquiry, enquiries)
            insert(
                EnquiryPerson,
                (
                    {"enquiry_id": e["id"], "person_id": e["subject_id"], "role": SUBJECT}
                    for e in enquiries
                ),
            )
            insert(EnquiryEvent, (event for _, history in built for event in history))
            insert(Notification, _escalation_notices(built, cast=cast, now=now))
            insert(EscalationRepeat, _escalation_repeats(built, cast=cast, now=now))
            insert(OutgoingEmail, _feedback_emails(enquiries, now=now))
    if not bulk:  # a bulk load ends with ANALYZE
        refresh_statistics(*BULK_LOADED[:5])
    return len(slots)


REFERRER_MAILBOX = "referrals@demo-referrer.example.org"


def _feedback_emails(enquiries: list[Row], *, now: datetime) -> list[Row]:
    """The feedback the hub emailed, as `feedback_email_queue` and the sending task leave it:
    sent a minute after it was recorded, except one in fifty that the referrer's server
    refused after every try (the hub then tells the referrer another way)."""
    emails = []
    for enquiry in enquiries:
        if enquiry["feedback_method"] != mail.EMAIL_METHOD:
            continue
        queued_at, refused = enquiry["feedback_at"], enquiry["id"] % 50 == 0
        tried_at = min(now, queued_at + timedelta(minutes=1))
        emails.append(
            {
                "kind": OutgoingEmail.Kind.FEEDBACK,
                "to_address": REFERRER_MAILBOX,
                "enquiry_id": enquiry["id"],
                "subject": mail.feedback_subject(enquiry["reference"]),
                "body": mail.feedback_body(
                    text=enquiry["feedback_text"], reference=enquiry["reference"]
                ),
                "status": OutgoingEmail.Status.FAILED if refused else OutgoingEmail.Status.SENT,
                "attempts": 1 + refused * len(EMAIL_RETRY_WAITS),
                "last_error": "550 5.1.1 No such mailbox here" if refused else "",
                "queued_at": queued_at,
                "last_attempt_at": tried_at,
                "sent_at": None if refused else tried_at,
                "created_by_id": enquiry["created_by_id"],
            }
        )
    return emails


def _escalator(history: list[Row]) -> int:
    return next(e["actor_id"] for e in history if e["kind"] == EnquiryEvent.Kind.ESCALATED)


def _repeats(enquiry: Row, escalator: int, *, cast: _Cast, now: datetime) -> list[Row]:
    """The repeats the per-minute job (enquiries.escalations) would have sent of an
    escalation by `now`, or until a manager acknowledged it: (round, recipient, sent at)."""
    order = [manager for manager in cast.repeat_order if manager != escalator]
    acknowledged_at = enquiry["escalation_acknowledged_at"]
    sent: list[Row] = []
    moment = enquiry["escalated_at"] + cast.repeat_after
    while moment <= now and (acknowledged_at is None or moment < acknowledged_at):
        chosen = next_recipient(order, [(row["round"], row["recipient_id"]) for row in sent])
        if chosen is None:
            break
        sent.append({"round": chosen[0], "recipient_id": chosen[1], "sent_at": moment})
        moment += cast.repeat_after
    return sent


def _escalation_repeats(
    built: list[tuple[Row, list[Row]]], *, cast: _Cast, now: datetime
) -> list[Row]:
    return [
        {"enquiry_id": enquiry["id"], "escalated_at": enquiry["escalated_at"], **repeat}
        for enquiry, history in built
        if enquiry["escalated_at"] is not None
        for repeat in _repeats(enquiry, _escalator(history), cast=cast, now=now)
    ]


def _escalation_notices(
    built: list[tuple[Row, list[Row]]], *, cast: _Cast, now: datetime
) -> list[Row]:
    """Who was told of each escalation, as `enquiry_escalate` tells them: the managers and the
    assignee, but not whoever escalated; then each repeat to the next manager while nobody
    acknowledged it. The acknowledging manager's own news of it is read."""
    notices = []
    for enquiry, history in built:
        if enquiry["escalated_at"] is None:
            continue
        escalator = _escalator(history)
        told = set(cast.managers) | ({enquiry["assignee_id"]} - {None})
        message = escalated_message(
            reference=enquiry["reference"],
            by=cast.names[escalator],
            deadline=enquiry["deadline"],
        )
        news = [
            (recipient, Notification.Kind.ESCALATED, message, enquiry["escalated_at"])
            for recipient in sorted(told - {escalator})
        ]
        news += [
            (
                repeat["recipient_id"],
                Notification.Kind.ESCALATION_REPEATED,
                repeated_message(
                    reference=enquiry["reference"],
                    escalated_at=enquiry["escalated_at"],
                    deadline=enquiry["deadline"],
                    now=repeat["sent_at"],
                ),
                repeat["sent_at"],
            )
            for repeat in _repeats(enquiry, escalator, cast=cast, now=now)
        ]
        acknowledged_by = enquiry["escalation_acknowledged_by_id"]
        notices += [
            {
                "recipient_id": recipient,
                "enquiry_id": enquiry["id"],
                "kind": kind,
                "message": text,
                "created_at": created_at,
                "read_at": enquiry["escalation_acknowledged_at"]
                if recipient == acknowledged_by
                else None,
            }
            for recipient, kind, text, created_at in news
        ]
    return notices


def _who(rng: random.Random, room: int) -> tuple[str, int]:
    """An adult at risk alone, or one to three children of a household (no more than `room`)."""
    if rng.random() < ADULT_FAMILIES:
        return Enquiry.SubjectType.ADULT, 1
    return Enquiry.SubjectType.CHILD, min(rng.choice([1, 1, 1, 1, 2, 2, 3]), room)


def _open_families(
    rng: random.Random, clock: ClockInForce, *, now: datetime, count: int, escalations: int
) -> list[_Family]:
    """Families making `count` open enquiries, about as many in each open state, each received
    so that by `now` it is fresh, at risk or breached on its rating's clock."""
    families, standings = [], []
    in_state: Counter[str] = Counter()
    while in_state.total() < count:
        subject_type, size = _who(rng, count - in_state.total())
        state = min(Enquiry.OPEN_STATES, key=lambda each: (in_state[each], rng.random()))
        in_state[state] += size
        screened = state != Enquiry.State.RECEIVED
        rating = _pick_rating(rng, screened=True) if screened else Rag.NONE
        courses = [_Course(rating=rating, state=state) for _ in range(size)]
        families.append(_Family(now, subject_type, courses))
        standings.append(rng.choices(list(STANDINGS), weights=list(STANDINGS.values()))[0])

    # Flagged for immediate protection after screening: Red from then on (as enquiry_escalate).
    screened_alone = [
        index
        for index, family in enumerate(families)
        if len(family.courses) == 1 and family.courses[0].state != Enquiry.State.RECEIVED
    ]
    chosen = rng.sample(screened_alone, min(max(escalations, 0), len(screened_alone)))
    for turn, index in enumerate(chosen):
        (course,) = families[index].courses
        course.escalated_from = course.rating if course.rating != Rag.RED else Rag.AMBER
        course.rating = Rag.RED
        # Every other one a manager has acknowledged; the rest still wait, repeated to the
        # managers in turn. One waiting is at least at risk, so it arrived long enough ago to
        # have been escalated `WAITING_FOR` before now.
        course.acknowledged = turn % 2 == 1
        if not course.acknowledged and standings[index] == FRESH:
            standings[index] = AT_RISK

    for family, standing in zip(families, standings, strict=True):
        family.received_at = _received_to_stand(rng, clock, family.courses[0].rating, standing, now)
    return families


def _received_to_stand(
    rng: random.Random, clock: ClockInForce, rating: str, standing: str, now: datetime
) -> datetime:
    """A receipt after which the rating's clock has counted the working minutes that make an
    open enquiry `standing` at `now`: fewer than the at-risk share of its allowance while
    fresh, at least that share and no more than the allowance at risk, more once breached."""
    calendar = clock.calendar_for(rating)
    allowance = clock.allowances[rating].minutes
    at_risk = ceil(allowance * clock.at_risk_percent / 100)
    least, most = {
        FRESH: (0, at_risk - 1),
        AT_RISK: (at_risk, allowance),
        BREACHED: (allowance + 1, 2 * allowance),
    }[standing]
    if rng.random() >= BY_WALL_CLOCK:
        least = most = rng.randint(least, most)
    # Every minute from `earliest` to `latest` leaves between `least` and `most` counted by now.
    earliest = subtract_working_minutes(calendar, now, most).astimezone(UTC)
    latest = now
    if least > 0:
        latest = subtract_working_minutes(calendar, now, least - 1).astimezone(UTC) - ONE_MINUTE
    return earliest + ONE_MINUTE * rng.randint(0, (latest - earliest) // ONE_MINUTE)


def _decided_families(
    rng: random.Random, clock: ClockInForce, *, now: datetime, count: int
) -> list[_Family]:
    """Families making `count` enquiries received over the last six months and decided by
    `now`, most within their allowance."""
    families, made = [], 0
    while made < count:
        subject_type, size = _who(rng, count - made)
        while True:
            received_at = now - timedelta(minutes=rng.randint(10, HISTORY // ONE_MINUTE))
            courses = [_decided_course(rng, clock, received_at) for _ in range(size)]
            # Decisions still to come would make open enquiries: those are counted apart.
            if all(
                course.decided_at is not None and course.decided_at <= now for course in courses
            ):
                break
        families.append(_Family(received_at, subject_type, courses))
        made += size
    return families


def _decided_course(rng: random.Random, clock: ClockInForce, received_at: datetime) -> _Course:
    rating = _pick_rating(rng)
    allowance = clock.allowances[rating].minutes
    if rng.random() < ON_TIME:
        minutes = rng.randint(max(1, allowance // 5), allowance)
    else:
        minutes = rng.randint(allowance + 1, 2 * allowance)
    decided_at = add_working_minutes(clock.calendar_for(rating), received_at, minutes)
    return _Course(rating=rating, decided_at=decided_at.astimezone(UTC), decided_minutes=minutes)


def _known_subjects(now: datetime) -> dict[str, list[Row]]:
    """The most recent people in the register who can come back: children still under 18
    now, and adults who were 18 already six months ago."""
    child_born_after = (now - timedelta(days=18 * 365)).date()
    adult_born_by = (now - HISTORY - timedelta(days=18 * 366)).date()
    known: dict[str, list[Row]] = {subject_type: [] for subject_type in Enquiry.SubjectType}
    people = Person.objects.exclude(date_of_birth=None).order_by("-id")
    for person_id, born in people.values_list("id", "date_of_birth")[:5000]:
        if born is None:  # excluded above
            continue
        if born > child_born_after:
            known[Enquiry.SubjectType.CHILD].append({"id": person_id})
        elif born <= adult_born_by:
            known[Enquiry.SubjectType.ADULT].append({"id": person_id})
    return known


def _new_person(
    rng: random.Random, subject_type: str, *, last_name: str, received_at: datetime
) -> Row:
    """A child under 17 or an adult of 18 to 90 when the enquiry arrived."""
    if subject_type == Enquiry.SubjectType.ADULT:
        first_name, age_in_days = rng.choice(ADULT_FIRST_NAMES), rng.randint(18 * 366, 90 * 365)
    else:
        first_name, age_in_days = rng.choice(FIRST_NAMES), rng.randint(200, 17 * 365)
    return {
        "first_name": first_name,
        "last_name": last_name,
        "date_of_birth": (received_at - timedelta(days=age_in_days)).date(),
    }


def _give_ids(
    model: type[models.Model], rows: list[Row], reserve: Callable[..., Iterable[int]]
) -> None:
    """Number new rows up front, so the rows that refer to them can be built first."""
    for row, row_id in zip(rows, reserve(model, len(rows)), strict=True):
        row["id"] = row_id


def _worth_bulk_loading(count: int) -> bool:
    """Whether `count` new enquiries are enough, beside those the hub holds, to set the
    tables' indexes and constraints aside and build them again (`core.bulk_load`)."""
    return (
        bulk_load_possible() and count >= BULK_FROM and count >= Enquiry.objects.order_by().count()
    )


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


def _consent(rng: random.Random, subject_type: str) -> Row:
    """Consent to share, or the reason and the law the hub shares under without it."""
    consent = rng.choice(CONSENTS)
    if consent == Enquiry.Consent.YES:
        return {"consent": consent, "consent_reason": "", "lawful_basis": ""}
    return {
        "consent": consent,
        "consent_reason": rng.choice(CONSENT_REASONS),
        "lawful_basis": rng.choice(LAWFUL_BASES[subject_type]),
    }


def _demo_enquiry(
    rng: random.Random, *, clock: ClockInForce, cast: _Cast, now: datetime, slot: _Slot, pk: int
) -> tuple[Row, list[Row]]:
    """Enquiry `pk`'s row and its history, as the services would have recorded them."""
    when, course = slot.received_at, slot.course
    rating = course.rating
    timing = clock.timing(rating=rating, received_at=when)
    category, concern = slot.concern
    researcher, manager = rng.choice(cast.researchers), rng.choice(cast.managers)
    enquiry: Row = {
        "id": pk,
        "reference": slot.reference,
        "family_id": slot.family["id"],
        "received_at": when,
        "referrer_name": "Demo referrer",
        "referrer_contact": "",
        "referrer_type_id": rng.choice(cast.referrer_types),
        "subject_id": slot.subject["id"],
        "subject_type": slot.subject_type,
        "categories": [category],
        "concern": concern,
        **_consent(rng, slot.subject_type),
        "rating": rating,
        "rating_rationale": "" if rating == Rag.NONE else "Screened against the threshold.",
        "allowance_minutes": timing.allowance,
        "deadline": timing.deadline,
        "at_risk_from": timing.at_risk_from,
        "breached_from": timing.breached_from,
        "timing_version": timing.version,
        "escalated_at": None,
        "escalation_acknowledged_at": None,
        "escalation_acknowledged_by_id": None,
        "created_by_id": researcher,
        "assignee_id": researcher if rng.random() < 0.7 else None,
        "state": course.state or Enquiry.State.DECIDED,
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
    screened_as = course.escalated_from or rating
    if screened_as != Rag.NONE:
        history.append(event_row(EnquiryEvent.Kind.RATING, when, researcher, Rag.NONE, screened_as))
    if course.escalated_from:
        # A researcher escalates; a manager acknowledges, or the repeats go on (_repeats).
        at = (when + (now - when) * rng.uniform(0.2, 0.9)).replace(second=0, microsecond=0)
        if not course.acknowledged:
            at = max(when, now - WAITING_FOR)
        reason = rng.choice(ESCALATION_REASONS)
        enquiry |= {"escalated_at": at, "rating_rationale": reason}
        history += [
            event_row(EnquiryEvent.Kind.ESCALATED, at, researcher, rationale=reason),
            event_row(
                EnquiryEvent.Kind.RATING, at, researcher, course.escalated_from, rating, reason
            ),
        ]
        if course.acknowledged:
            acknowledged_at = min(now, at + cast.repeat_after + ACKNOWLEDGED_AFTER_REPEAT)
            enquiry |= {
                "escalation_acknowledged_at": acknowledged_at,
                "escalation_acknowledged_by_id": manager,
            }
            history.append(
                event_row(
                    EnquiryEvent.Kind.ESCALATION_ACKNOWLEDGED,
                    acknowledged_at,
                    manager,
                    rationale=ACKNOWLEDGEMENT_NOTE,
                )
            )
    if course.decided_at is not None and course.decided_minutes is not None:
        decided_at = course.decided_at
        outcome_id, outcome_name, outcome_code = cast.outcome(rng, slot.subject_type)
        enquiry |= {
            "decided_at": decided_at,
            "decided_by_id": manager,
            "outcome_id": outcome_id,
            "decision_rationale": "Decided on the information shared.",
            "elapsed_minutes": course.decided_minutes,
            "decided_on_time": course.decided_minutes <= timing.allowance,
        }
        history.append(
            event_row(
                EnquiryEvent.Kind.DECISION,
                decided_at,
                manager,
                Enquiry.State.AWAITING_DECISION,
                outcome_code,
            )
        )
        if rng.random() < 0.8:
            feedback_at = min(now, decided_at + timedelta(hours=rng.randint(1, 48)))
            method = rng.choice(["Telephone", mail.EMAIL_METHOD, "Letter"])
            enquiry |= {
                "state": Enquiry.State.CLOSED,
                "feedback_at": feedback_at,
                "feedback_method": method,
                "referrer_contact": REFERRER_MAILBOX if method == mail.EMAIL_METHOD else "",
                "feedback_text": f"Outcome: {outcome_name}.",
                "feedback_minutes": working_minutes_between(
                    clock.calendar, decided_at, feedback_at
                ),
            }
            history.append(event_row(EnquiryEvent.Kind.FEEDBACK, feedback_at, researcher))
    for version, event in enumerate(history, start=1):
        event["enquiry_id"], event["version"] = pk, version
    enquiry["version"] = len(history)
    return enquiry, history
