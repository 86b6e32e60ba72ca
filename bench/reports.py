"""Time every report against the best single hand-written SQL query for the same figures.

Run from the repository root: ``python bench/reports.py [--enquiries 1000000]``. It drops and
recreates its own PostgreSQL database (``BENCH_REPORTS_DATABASE_URL``, default
``mash_bench_reports``; the name must contain "bench"), migrates, creates the demo hub (its
agencies and logins) and loads ``--enquiries`` enquiries received over the three years before
now through `core.bulk` (COPY): families of 1-3, about 10% red, 25% amber, 35% green and 30% no
RAG, three in four received in office hours, about 97% decided with an outcome (a fifth of them
leading to referral) and timed by the hub clock as the services would store them, feedback on
80% of decisions, one subject in ten seen before (so re-referrals exist), and information
requests to 1-3 of 10 agencies on one enquiry in ten (about two each). People's involvements
and the enquiries' histories are left out: no report reads them. Then `VACUUM ANALYZE`, as
autovacuum would have done on a live hub.

Each report runs over the 12 whole months before this one (the comparison against the 12
before those; the backlog as at now). `build_report` and the hand-written query are each run
once to warm up, then timed 7 times; it prints the report's p50 and p95, its number of queries,
the query's p50 and their ratio (target: every report within 3x). Before timing, it checks that
the query's figures are the report's. Exits 1 if any differ. ``--explain`` prints the plans;
``--no-jit`` turns PostgreSQL's JIT compiler off for the session.
"""

from __future__ import annotations

import argparse
import math
import os
import random
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository root

from bench.harness import (  # noqa: E402 - takes this folder, and its "queue.py", off the path
    OUTCOMES,
    REFERRERS,
    SEED,
    against,
    bulk,
    captured_queries,
    database_url_option,
    demo_hub,
    django_on_fresh_database,
    family_sizes,
    in_office_hours,
    percentile,
    timed,
    weighted_choice,
)

DEFAULT_ENQUIRIES = 1_000_000
TARGET_RATIO = 3.0
RUNS = 7

YEARS = 3
RATINGS = [("red", 10), ("amber", 25), ("green", 35), ("none", 30)]
CONCERNS = [
    ("neglect", "Children repeatedly arriving at school hungry and in unwashed clothes."),
    ("domestic_abuse", "Police attended a domestic incident overnight; children were present."),
    ("physical_abuse", "Unexplained bruising to the upper arm noticed by the class teacher."),
    ("missing", "Fourteen-year-old reported missing for the third time this month."),
    ("mental_health", "Parent's mental health has deteriorated; the children are caring."),
]
FIRST_NAMES = ["Amelia", "Oliver", "Isla", "George", "Zofia", "Mohammed", "Aisha", "Rhys"]
LAST_NAMES = ["Smith", "Jones", "Taylor", "Nowak", "Khan", "Ahmed", "Kowalski", "Hughes"]
FEEDBACK_SHARE = 0.8
REPEAT_SUBJECTS = 0.1  # of enquiries, about someone from the last six months' enquiries
# Undecided long after their deadline: a share of enquiries that decays with age, so about 3%
# of the hub's enquiries are open, most of them weeks old.
STALE_OPEN_SHARE, STALE_OPEN_DAYS = 0.5, 60
REQUEST_SHARE = 0.1  # enquiries with information requests, each to 1-3 agencies
REQUEST_AGENCIES = [1, 2, 2, 3]
# The demo's agencies that answer requests, with the mean working minutes they take.
ANSWERING = {
    "Police": 120,
    "Community Health": 240,
    "Acute Hospital Trust": 300,
    "Mental Health Trust": 480,
    "Education": 200,
    "Probation": 360,
    "Youth Offending Service": 360,
    "Housing": 600,
    "Drug and Alcohol Services": 480,
    "Domestic Abuse Services": 300,
}
ANSWERED_WHEN_DECIDED, ANSWERED_WHEN_OPEN, NOTHING_HELD = 0.95, 0.7, 0.3
CHUNK = 20_000  # enquiries built and written at a time: bounds memory for a million


# Loading -------------------------------------------------------------------------------------


@dataclass
class Loaded:
    enquiries: int = 0
    families: int = 0
    people: int = 0
    requests: int = 0
    open: int = 0
    build_seconds: float = 0.0  # building rows in Python, the clock's arithmetic included
    seconds: float = 0.0  # the whole load, COPY included


@dataclass
class _Cast:
    researchers: list[int]
    managers: list[int]
    outcomes: dict[str, int]
    referrer_types: dict[str, int]
    agencies: list[tuple[int, int, int]]  # (agency id, practitioner id, mean answer minutes)
    due_percent: int

    @classmethod
    def load(cls) -> _Cast:
        from agencies.models import Agency, Role, User
        from enquiries.models import Outcome, ReferrerType
        from sharing.models import SharingPolicy

        demo_hub().seed_demo_hub()

        def active(role: str) -> list[int]:
            return list(User.objects.filter(groups__name=role).values_list("id", flat=True))

        agencies = []
        for name, mean in ANSWERING.items():
            agency = Agency.objects.get(name=name)
            practitioner, _ = User.objects.get_or_create(
                username=f"bench-practitioner-{agency.pk}",
                defaults={"agency": agency, "first_name": "Bench", "last_name": name},
            )
            agencies.append((agency.pk, practitioner.pk, mean))
        return cls(
            researchers=active(Role.RESEARCHER),
            managers=active(Role.MANAGER),
            outcomes=dict(Outcome.objects.values_list("code", "id")),
            referrer_types=dict(ReferrerType.objects.values_list("code", "id")),
            agencies=agencies,
            due_percent=SharingPolicy.current().request_due_percent,
        )


class _Generator:
    """Builds the rows of one chunk of families at a time, oldest first."""

    def __init__(self, *, total: int, now: datetime, seed: int, cast: _Cast) -> None:
        from enquiries.clock import clock_in_force
        from enquiries.models import Enquiry
        from enquiries.worktime import add_working_minutes, working_minutes_between

        self.add, self.between = add_working_minutes, working_minutes_between
        self.rng = rng = random.Random(seed)
        self.now, self.cast, self.total = now, cast, total
        self.clock = clock = clock_in_force()
        # Family members arrive together and office hours repeat minutes: reuse their timing.
        self.timing = lru_cache(maxsize=1 << 16)(
            lambda rating, received: clock.timing(rating=rating, received_at=received)
        )
        self.zone = self.clock.calendar.tz
        self.start = now - timedelta(days=YEARS * 365)
        self.rating = weighted_choice(rng, RATINGS)
        self.outcome = weighted_choice(rng, [(cast.outcomes[c], w) for c, w in OUTCOMES])
        self.referrer = weighted_choice(rng, [(cast.referrer_types[c], w) for c, w in REFERRERS])
        self.references: dict[int, int] = {}
        self.family_references: dict[int, int] = {}
        # Subjects seen lately, for repeats: about six months' worth of enquiries.
        self.recent: list[int] = []
        self.recent_size = max(100, total // (2 * YEARS))
        self.recent_at = 0
        self.made = 0
        self.open_states = [state for state in Enquiry.OPEN_STATES if state != "received"]

    def family_sizes(self, enquiries: int) -> list[int]:
        return family_sizes(self.rng, enquiries)

    def received_at(self) -> datetime:
        """Spread evenly over the years, three in four moved into office hours on a weekday."""
        rng = self.rng
        span = (self.now - self.start).total_seconds() / 60
        minute = (self.made + rng.random()) * span / self.total
        received = (self.start + timedelta(minutes=int(minute))).astimezone(self.zone)
        return in_office_hours(rng, received, earliest=self.start, latest=self.now)

    def subject(self, new_ids: list[int], people: list[dict]) -> int:
        """Someone from a recent enquiry, one time in ten; otherwise a new person."""
        rng = self.rng
        if self.recent and rng.random() < REPEAT_SUBJECTS:
            return self.recent[rng.randrange(len(self.recent))]
        person_id = new_ids.pop()
        people.append(
            {
                "id": person_id,
                "first_name": rng.choice(FIRST_NAMES),
                "last_name": rng.choice(LAST_NAMES),
                "date_of_birth": date(2005, 1, 1) + timedelta(days=rng.randint(0, 6500)),
            }
        )
        if len(self.recent) < self.recent_size:
            self.recent.append(person_id)
        else:
            self.recent[self.recent_at] = person_id
            self.recent_at = (self.recent_at + 1) % self.recent_size
        return person_id

    def chunk(self, sizes: list[int], ids: dict[str, list[int]]) -> dict[str, list[dict]]:
        rows: dict[str, list[dict]] = {"families": [], "people": [], "enquiries": []}
        rows["requests"] = []
        for size in sizes:
            received = self.received_at()
            year = received.year
            family_number = self.family_references.get(year, 0) + 1
            self.family_references[year] = family_number
            family = {
                "id": ids["families"].pop(),
                "reference": f"MASH-F-{year}-{family_number:07d}",
            }
            rows["families"].append(family)
            for _ in range(size):
                number = self.references.get(year, 0) + 1
                self.references[year] = number
                enquiry = self.enquiry(
                    enquiry_id=ids["enquiries"].pop(),
                    reference=f"MASH-{year}-{number:07d}",
                    family_id=family["id"],
                    subject_id=self.subject(ids["people"], rows["people"]),
                    received=received,
                )
                rows["enquiries"].append(enquiry)
                if self.rng.random() < REQUEST_SHARE:
                    rows["requests"] += self.requests(enquiry)
                self.made += 1
        return rows

    def enquiry(
        self, *, enquiry_id: int, reference: str, family_id: int, subject_id: int, received
    ) -> dict:
        """As `demo.enquiries._demo_enquiry` stores it: timing by the clock in force, decided
        between a quarter and one and a half allowances after receipt, most on time."""
        rng, clock, now = self.rng, self.clock, self.now
        rating = self.rating()
        timing = self.timing(rating, received)
        category, concern = rng.choice(CONCERNS)
        researcher = rng.choice(self.cast.researchers)
        row = {
            "id": enquiry_id,
            "reference": reference,
            "family_id": family_id,
            "received_at": received,
            "referrer_name": "Bench referrer",
            "referrer_type_id": self.referrer(),
            "subject_id": subject_id,
            "subject_type": "child",
            "categories": [category],
            "concern": concern,
            "consent": "yes",
            "rating": rating,
            "allowance_minutes": timing.allowance,
            "deadline": timing.deadline,
            "at_risk_from": timing.at_risk_from,
            "breached_from": timing.breached_from,
            "timing_version": timing.version,
            "created_by_id": researcher,
            "assignee_id": researcher,
            "state": "received",
            "decided_at": None,
            "decided_by_id": None,
            "outcome_id": None,
            "elapsed_minutes": None,
            "decided_on_time": None,
            "feedback_at": None,
            "feedback_method": "",
            "feedback_minutes": None,
        }
        span = timing.deadline - received
        decided_at = timing.deadline + span * (rng.random() * 1.25 - 0.75)
        decided_at = max(decided_at, received + timedelta(minutes=10)).replace(
            second=0, microsecond=0
        )
        age_days = (now - received).total_seconds() / 86400
        stale = rng.random() < STALE_OPEN_SHARE * math.exp(-age_days / STALE_OPEN_DAYS)
        if decided_at >= now - timedelta(hours=4) or stale:
            row["state"] = rng.choice(self.open_states) if rating != "none" else "received"
            return row
        # As `clock.sla` settles it, without working out the deadline again.
        elapsed = self.between(clock.calendar_for(rating), received, decided_at)
        row |= {
            "state": "decided",
            "decided_at": decided_at,
            "decided_by_id": rng.choice(self.cast.managers),
            "outcome_id": self.outcome(),
            "elapsed_minutes": elapsed,
            "decided_on_time": elapsed <= timing.allowance,
        }
        if rng.random() < FEEDBACK_SHARE:
            feedback_at = min(now, decided_at + timedelta(hours=rng.randint(1, 48)))
            row |= {
                "state": "closed",
                "feedback_at": feedback_at,
                "feedback_method": "Telephone",
                "feedback_minutes": self.between(clock.calendar, decided_at, feedback_at),
            }
        return row

    def requests(self, enquiry: dict) -> list[dict]:
        """Requests to 1-3 agencies soon after receipt, due at the policy's share of the
        allowance (as `sharing.services.request_due_at`); answers came before the decision."""
        rng, clock, add_working_minutes = self.rng, self.clock, self.add
        received, decided_at = enquiry["received_at"], enquiry["decided_at"]
        limit = decided_at or self.now
        due_at = add_working_minutes(
            clock.calendar_for(enquiry["rating"]),
            received,
            math.ceil(enquiry["allowance_minutes"] * self.cast.due_percent / 100),
        )
        soon = timedelta(minutes=rng.randint(10, 90))
        requested_at = (received + min(soon, (limit - received) / 4)).replace(
            second=0, microsecond=0
        )
        rows = []
        count = rng.choice(REQUEST_AGENCIES)
        for agency_id, practitioner_id, mean in rng.sample(self.cast.agencies, count):
            row = {
                "enquiry_id": enquiry["id"],
                "agency_id": agency_id,
                "question": "What do you hold about the people named?",
                "status": "requested",
                "requested_at": requested_at,
                "requested_by_id": enquiry["created_by_id"],
                "due_at": due_at,
                "answered_at": None,
                "answered_by_id": None,
                "response_minutes": None,
            }
            answered_at = add_working_minutes(
                clock.calendar, requested_at, 10 + int(rng.expovariate(1 / mean))
            )
            if decided_at:
                answered_at = min(answered_at, decided_at)
            chance = ANSWERED_WHEN_DECIDED if decided_at else ANSWERED_WHEN_OPEN
            if answered_at <= limit and rng.random() < chance:
                row |= {
                    "status": "nothing_held" if rng.random() < NOTHING_HELD else "answered",
                    "answered_at": answered_at,
                    "answered_by_id": practitioner_id,
                    "response_minutes": self.between(clock.calendar, requested_at, answered_at),
                }
            elif rng.random() < 0.5:
                row["status"] = "in_progress"
            rows.append(row)
        return rows


def load(enquiries: int, *, now: datetime, seed: int = SEED, progress: bool = False) -> Loaded:
    """Write `enquiries` enquiries, their families, subjects and information requests, in one
    transaction, then analyse the tables; the caller vacuums if it wants index-only scans."""
    from django.db import transaction

    from enquiries.models import Enquiry, FamilyEnquiry, Person
    from sharing.models import InformationRequest

    writes = bulk()  # COPY
    cast = _Cast.load()  # the demo hub first: hashing its logins' passwords is not loading
    started = time.perf_counter()
    loaded = Loaded()
    with transaction.atomic():
        generator = _Generator(total=enquiries, now=now, seed=seed, cast=cast)
        sizes = generator.family_sizes(enquiries)
        first = 0
        while first < len(sizes):
            chunk, count = [], 0
            while first < len(sizes) and count < CHUNK:
                chunk.append(sizes[first])
                count += sizes[first]
                first += 1
            # Popped from the end, so reversed: ids grow with time, as on a live hub.
            ids = {
                "families": writes.reserve_ids(FamilyEnquiry, len(chunk))[::-1],
                "people": writes.reserve_ids(Person, count)[::-1],
                "enquiries": writes.reserve_ids(Enquiry, count)[::-1],
            }
            building = time.perf_counter()
            rows = generator.chunk(chunk, ids)
            loaded.build_seconds += time.perf_counter() - building
            writes.insert_rows(FamilyEnquiry, rows["families"])
            writes.insert_rows(Person, rows["people"])
            writes.insert_rows(Enquiry, rows["enquiries"])
            writes.insert_rows(InformationRequest, rows["requests"])
            loaded.enquiries += count
            loaded.families += len(chunk)
            loaded.people += len(rows["people"])
            loaded.requests += len(rows["requests"])
            loaded.open += sum(1 for row in rows["enquiries"] if row["decided_at"] is None)
            if progress:
                print(f"\r  loaded {loaded.enquiries:,} of {enquiries:,}", end="", flush=True)
        if progress:
            print()
        writes.refresh_statistics(FamilyEnquiry, Person, Enquiry, InformationRequest)
    loaded.seconds = time.perf_counter() - started
    return loaded


def vacuum() -> float:
    """What autovacuum does on a live hub: visibility maps for index-only scans, statistics."""
    from django.db import connection

    started = time.perf_counter()
    with connection.cursor() as cursor:
        for table in (
            "enquiries_familyenquiry",
            "enquiries_person",
            "enquiries_enquiry",
            "sharing_informationrequest",
        ):
            cursor.execute(f"VACUUM (ANALYZE) {table}")
    return time.perf_counter() - started


# The hand-written queries ---------------------------------------------------------------------
#
# Each is the fastest of the forms tried at 1,000,000 enquiries (docs/performance.md). An
# overall row that is the sum of the others is added up in Python, as the reports do: ROLLUP
# keeps PostgreSQL from aggregating in parallel, which costs more than it saves on a year.

DECIDED_IN = "decided_at >= %(start)s AND decided_at < %(end)s"
REFERRAL_OUTCOMES = "ARRAY(SELECT id FROM enquiries_outcome WHERE leads_to_referral)"

TIMELINESS_SQL = f"""
SELECT rating, count(*), count(*) FILTER (WHERE decided_on_time)
FROM enquiries_enquiry
WHERE {DECIDED_IN}
GROUP BY rating
"""  # noqa: S608 - constants

# One pass over the year's decisions; the families still open at the end are few, so they are
# hashed once (NOT IN), not looked up per decision.
VOLUMES_SQL = f"""
SELECT
  (SELECT count(*) FROM enquiries_enquiry
   WHERE received_at >= %(start)s AND received_at < %(end)s),
  count(*),
  count(DISTINCT family_id) FILTER (WHERE family_id NOT IN (
    SELECT family_id FROM enquiries_enquiry WHERE decided_at IS NULL OR decided_at >= %(end)s)),
  count(*) FILTER (WHERE outcome_id = ANY ({REFERRAL_OUTCOMES})),
  (SELECT count(*) FROM enquiries_enquiry
   WHERE received_at < %(end)s AND (decided_at IS NULL OR decided_at >= %(end)s))
FROM enquiries_enquiry
WHERE {DECIDED_IN}
"""  # noqa: S608 - constants

# Grouped finely in one pass, then rolled up over the few hundred groups.
NFA_SQL = f"""
WITH fine AS (
  SELECT rating, referrer_type_id,
         date_trunc('month', decided_at AT TIME ZONE %(zone)s) AS month,
         count(*) AS decided,
         count(*) FILTER (
           WHERE outcome_id = (SELECT id FROM enquiries_outcome WHERE code = 'nfa')) AS nfa
  FROM enquiries_enquiry
  WHERE {DECIDED_IN}
  GROUP BY 1, 2, 3
)
SELECT GROUPING(f.rating, r.name, f.month), f.rating, r.name, f.month,
       sum(f.decided), sum(f.nfa)
FROM fine f JOIN enquiries_referrertype r ON r.id = f.referrer_type_id
GROUP BY GROUPING SETS ((), (f.rating), (r.name), (f.month))
"""  # noqa: S608 - constants

# Contacts from the received_at index alone; referrals from one scan of the referral outcomes.
COMPARISON_SQL = f"""
SELECT
  (SELECT count(*) FROM enquiries_enquiry
   WHERE received_at >= %(before_start)s AND received_at < %(before_end)s),
  (SELECT count(*) FROM enquiries_enquiry
   WHERE received_at >= %(start)s AND received_at < %(end)s),
  count(*) FILTER (WHERE decided_at >= %(before_start)s AND decided_at < %(before_end)s),
  count(*) FILTER (WHERE {DECIDED_IN})
FROM enquiries_enquiry
WHERE outcome_id = ANY ({REFERRAL_OUTCOMES})
"""  # noqa: S608 - constants

# ROLLUP here on purpose: a few thousand open enquiries are counted faster by one process than
# by starting two parallel workers.
BACKLOG_SQL = """
SELECT rating, count(*),
  count(*) FILTER (WHERE received_at >= %(age_1)s),
  count(*) FILTER (WHERE received_at < %(age_1)s AND received_at >= %(age_2)s),
  count(*) FILTER (WHERE received_at < %(age_2)s AND received_at >= %(age_5)s),
  count(*) FILTER (WHERE received_at < %(age_5)s AND received_at >= %(age_10)s),
  count(*) FILTER (WHERE received_at < %(age_10)s),
  count(*) FILTER (WHERE at_risk_from <= %(as_at)s AND breached_from > %(as_at)s),
  count(*) FILTER (WHERE breached_from <= %(as_at)s)
FROM enquiries_enquiry
WHERE received_at < %(as_at)s AND (decided_at IS NULL OR decided_at >= %(as_at)s)
GROUP BY ROLLUP (rating)
"""

REREFERRALS_SQL = f"""
SELECT e.rating,
  count(*) FILTER (WHERE e.subject_id IS NOT NULL),
  count(*) FILTER (WHERE EXISTS (
    SELECT FROM enquiries_enquiry o
    WHERE o.subject_id = e.subject_id AND o.id <> e.id
      AND o.decided_at < e.received_at
      AND o.decided_at >= ((e.received_at AT TIME ZONE %(zone)s) - interval '12 months')
                          AT TIME ZONE %(zone)s)),
  count(*) FILTER (WHERE e.subject_id IS NULL)
FROM enquiries_enquiry e
WHERE e.{DECIDED_IN}
GROUP BY e.rating
"""  # noqa: S608 - constants

# Grouped by id, named afterwards: the sort for the median carries an integer, not a name.
FEEDBACK_SQL = f"""
SELECT r.name, f.decided, f.given, f.median
FROM (
  SELECT referrer_type_id, count(*) AS decided,
    count(*) FILTER (WHERE feedback_at IS NOT NULL) AS given,
    percentile_cont(0.5) WITHIN GROUP (ORDER BY feedback_minutes)
      FILTER (WHERE feedback_at IS NOT NULL) AS median
  FROM enquiries_enquiry
  WHERE {DECIDED_IN} AND imported_at IS NULL
  GROUP BY GROUPING SETS ((referrer_type_id), ())
) f LEFT JOIN enquiries_referrertype r ON r.id = f.referrer_type_id
"""  # noqa: S608 - constants

# Both percentiles from one sort per agency.
AGENCY_RESPONSE_SQL = """
SELECT a.name, q.requests, q.answered, q.percentiles, q.by_due, q.settled
FROM (
  SELECT agency_id, count(*) AS requests,
    count(*) FILTER (WHERE answered_at IS NOT NULL) AS answered,
    percentile_cont(ARRAY[0.5, 0.9]) WITHIN GROUP (ORDER BY response_minutes)
      FILTER (WHERE answered_at IS NOT NULL) AS percentiles,
    count(*) FILTER (WHERE answered_at <= due_at) AS by_due,
    count(*) FILTER (WHERE answered_at IS NOT NULL OR due_at <= %(now)s) AS settled
  FROM sharing_informationrequest
  WHERE requested_at >= %(start)s AND requested_at < %(end)s
  GROUP BY agency_id
) q JOIN agencies_agency a ON a.id = q.agency_id
"""


# The figures, from the report and from the query ----------------------------------------------

Figures = dict[object, tuple]


def _whole(value) -> int | None:
    return None if value is None else round(value)


def _rag_label(code: str | None) -> str:
    from enquiries.models import Rag
    from reports.selectors import OVERALL

    return OVERALL if code is None else Rag(code).label


def _by_label(rows, label: str, names: list[str]) -> Figures:
    return {row[label]: tuple(row[name] for name in names) for row in rows}


def _with_overall(figures: Figures) -> Figures:
    """The figures and their sum, as the reports' overall row."""
    from reports.selectors import OVERALL

    return figures | {OVERALL: tuple(map(sum, zip(*figures.values(), strict=True)))}


def _timeliness(rows: list[tuple]) -> Figures:
    return _with_overall({_rag_label(rating): (count, on_time) for rating, count, on_time in rows})


VOLUME_MEASURES = (
    "New enquiries",
    "Enquiries completed",
    "Family enquiries completed",
    "Enquiries leading to referral",
    "Enquiries open at end of period",
)


def _volumes(rows: list[tuple]) -> Figures:
    return {measure: (count,) for measure, count in zip(VOLUME_MEASURES, rows[0], strict=True)}


def _nfa(rows: list[tuple]) -> Figures:
    from reports.selectors import OVERALL

    figures = {}
    for level, rating, referrer, month, decided, nfa in rows:
        if level == 0b111:
            key = (OVERALL, "All decisions")
        elif level == 0b011:
            key = ("RAG", _rag_label(rating))
        elif level == 0b101:
            key = ("Referrer", referrer)
        else:
            key = ("Month", f"{month:%B %Y}")
        figures[key] = (int(decided), int(nfa))
    return figures


def _nfa_report(report) -> Figures:
    return {(row["breakdown"], row["group"]): (row["decided"], row["nfa"]) for row in report.rows}


def _comparison(rows: list[tuple]) -> Figures:
    contacts_before, contacts, referrals_before, referrals = rows[0]
    return {"Contacts": (contacts_before, contacts), "Referrals": (referrals_before, referrals)}


def _backlog(rows: list[tuple]) -> Figures:
    return {_rag_label(row[0]): tuple(row[1:]) for row in rows}


def _rereferrals(rows: list[tuple]) -> Figures:
    figures = {_rag_label(rating): (decided, flagged) for rating, decided, flagged, _ in rows}
    return _with_overall(figures) | {"unknown subject": (sum(row[3] for row in rows),)}


def _rereferral_report(report) -> Figures:
    figures = _by_label(report.rows, "rag", ["decided", "re_referrals"])
    unknown = int(report.notes[0].split()[0]) if report.notes else 0
    return figures | {"unknown subject": (unknown,)}


def _feedback(rows: list[tuple]) -> Figures:
    from reports.selectors import OVERALL

    return {
        name or OVERALL: (decided, given, _whole(median)) for name, decided, given, median in rows
    }


def _agency_response(rows: list[tuple]) -> Figures:
    from reports.selectors import percent

    figures = {}
    for name, count, answered, percentiles, by_due, settled in rows:
        median, p90 = percentiles or (None, None)
        figures[name] = (
            count,
            answered,
            _whole(median),
            _whole(p90),
            by_due,
            percent(by_due, settled),
        )
    return figures


def _meaningful(figures: Figures) -> Figures:
    """Rows with something in them: reports list every RAG and month, a GROUP BY only those
    that have enquiries."""
    return {key: value for key, value in figures.items() if any(value)}


# The cases ------------------------------------------------------------------------------------


@dataclass
class Case:
    name: str
    call: Callable[[], object]  # builds the report
    sql: str
    params: dict
    from_report: Callable[[object], Figures]
    from_sql: Callable[[list[tuple]], Figures]
    detail: str = ""


@dataclass
class Result:
    case: Case
    orm: list[float]
    queries: int
    sql: list[float]
    agree: bool
    report_figures: Figures = field(default_factory=dict)
    sql_figures: Figures = field(default_factory=dict)

    @property
    def ratio(self) -> float:
        return statistics.median(self.orm) / statistics.median(self.sql)


def last_twelve_months(now: datetime):
    """The 12 whole months before this one, in the hub's zone."""
    from django.utils import timezone

    from reports.periods import Period

    this_month = timezone.localdate(now).replace(day=1)
    return Period(this_month.replace(year=this_month.year - 1), this_month)


def cases(now: datetime) -> list[Case]:
    from django.conf import settings
    from django.utils import timezone

    from enquiries.clock import clock_in_force
    from reports.periods import Period
    from reports.selectors import (
        AGE_BAND_OPEN_ENDED,
        AGE_BANDS,
        BACKLOG_COLUMNS,
        build_report,
    )
    from reports.selectors import received_before_age as aged

    period = last_twelve_months(now)
    before = period.before()
    today = timezone.localdate(now)
    as_at = now
    span = {"start": period.start_at, "end": period.end_at, "zone": settings.TIME_ZONE}
    calendar = clock_in_force().calendar
    # The age bands' edges, as the report works them out from the hub calendar.
    edges = {f"age_{days}": aged(calendar, as_at, days) for _, days, _ in AGE_BANDS}
    edges[f"age_{AGE_BAND_OPEN_ENDED[0]}"] = aged(calendar, as_at, AGE_BAND_OPEN_ENDED[0])

    def report(name: str) -> Callable[[], object]:
        return lambda: build_report(name, period, now=now)

    backlog_period = Period(today, today + timedelta(days=1))
    return [
        Case(
            "timeliness",
            report("timeliness"),
            TIMELINESS_SQL,
            span,
            lambda r: _by_label(r.rows, "rag", ["enquiries", "on_time"]),
            _timeliness,
        ),
        Case(
            "volumes",
            report("volumes"),
            VOLUMES_SQL,
            span,
            lambda r: _by_label(r.rows, "measure", ["enquiries"]),
            _volumes,
        ),
        Case(
            "nfa",
            report("nfa"),
            NFA_SQL,
            span,
            _nfa_report,
            _nfa,
        ),
        Case(
            "comparison",
            lambda: build_report("comparison", period, compared_with=before, now=now),
            COMPARISON_SQL,
            span | {"before_start": before.start_at, "before_end": before.end_at},
            lambda r: _by_label(r.rows[:2], "measure", ["compared_with", "period"]),
            _comparison,
            detail="with the 12 months before",
        ),
        Case(
            "backlog",
            lambda: build_report("backlog", backlog_period, now=now),
            BACKLOG_SQL,
            {"as_at": as_at} | edges,
            lambda r: _by_label(
                r.rows,
                "rag",
                [column.name for column in BACKLOG_COLUMNS[1:]],
            ),
            _backlog,
            detail="as at now",
        ),
        Case(
            "rereferrals",
            report("rereferrals"),
            REREFERRALS_SQL,
            span,
            _rereferral_report,
            _rereferrals,
        ),
        Case(
            "feedback",
            report("feedback"),
            FEEDBACK_SQL,
            span,
            lambda r: _by_label(
                r.rows,
                "referrer_type",
                ["decided", "feedback_given", "median_feedback_minutes"],
            ),
            _feedback,
        ),
        Case(
            "agency-response",
            report("agency-response"),
            AGENCY_RESPONSE_SQL,
            span | {"now": now},
            lambda r: _by_label(
                r.rows,
                "agency",
                [
                    "requests",
                    "answered",
                    "median_minutes",
                    "p90_minutes",
                    "answered_by_due",
                    "answered_by_due_percent",
                ],
            ),
            _agency_response,
        ),
    ]


def run_sql(sql: str, params: dict) -> list[tuple]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def check(case: Case) -> tuple[bool, Figures, Figures]:
    """Whether the hand-written query gives the report's figures."""
    report_figures = _meaningful(case.from_report(case.call()))
    sql_figures = _meaningful(case.from_sql(run_sql(case.sql, case.params)))
    return report_figures == sql_figures, report_figures, sql_figures


def measure(case: Case, runs: int) -> Result:
    agree, report_figures, sql_figures = check(case)
    _, captured = captured_queries(case.call)  # apart from the timed runs
    return Result(
        case=case,
        orm=timed(lambda _: case.call(), runs),
        queries=len(captured),
        sql=timed(lambda _: run_sql(case.sql, case.params), runs),
        agree=agree,
        report_figures=report_figures,
        sql_figures=sql_figures,
    )


def explain(case: Case) -> None:
    """The plans of the report's queries and of the hand-written one, as run."""
    from django.db import connection

    _, captured = captured_queries(case.call)
    statements = [query["sql"] for query in captured]
    statements = [sql for sql in statements if "enquiries_hubclock" not in sql]
    with connection.cursor() as cursor:
        hand = cursor.mogrify(case.sql, case.params).decode()
        for label, sql in [("report", s) for s in statements] + [("hand-written", hand)]:
            cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}")
            print(f"\n--- {case.name}: {label} query\n{sql.strip()}\n")
            print("\n".join(row[0] for row in cursor.fetchall()))


def print_table(results: list[Result]) -> None:
    print(
        f"\n{'report':<42} {'ORM p50':>8} {'ORM p95':>8} {'queries':>7} {'SQL p50':>8} {'ratio':>6}"
    )
    for result in results:
        label = result.case.name + (f" ({result.case.detail})" if result.case.detail else "")
        print(
            f"{label:<42} {statistics.median(result.orm):8.1f} {percentile(result.orm, 95):8.1f} "
            f"{result.queries:>7} {statistics.median(result.sql):8.1f} "
            f"{against(result.ratio, TARGET_RATIO)}"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--enquiries",
        type=int,
        default=DEFAULT_ENQUIRIES,
        help=f"enquiries to load (default {DEFAULT_ENQUIRIES:,})",
    )
    parser.add_argument("--runs", type=int, default=RUNS, help="timed runs per report and query")
    parser.add_argument("--explain", action="store_true", help="print each query's plan")
    parser.add_argument(
        "--no-jit",
        action="store_true",
        help="turn PostgreSQL's JIT compiler off for the session, to see what it costs",
    )
    database_url_option(parser, "BENCH_REPORTS_DATABASE_URL", "mash_bench_reports")
    options = parser.parse_args()
    if options.enquiries < 1_000:
        parser.error("--enquiries must be 1,000 or more")
    if options.runs < 2:
        parser.error("--runs must be 2 or more")

    name = django_on_fresh_database(options.database_url)
    from django.db import connection
    from django.utils import timezone

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        server = cursor.fetchone()[0].split()[0]
    print(f"database: {name}, created afresh (PostgreSQL {server}, {os.cpu_count()} cores)")

    if options.no_jit:
        with connection.cursor() as cursor:
            cursor.execute("SET jit = off")
        print("JIT: off for this session")
    now = timezone.now().replace(second=0, microsecond=0)
    loaded = load(options.enquiries, now=now, progress=sys.stdout.isatty())
    vacuumed = vacuum()
    print(
        f"loaded {loaded.enquiries:,} enquiries ({loaded.open:,} open, "
        f"{loaded.enquiries - loaded.open:,} decided) in {loaded.families:,} families, "
        f"{loaded.people:,} people, {loaded.requests:,} information requests "
        f"in {loaded.seconds:.1f} s ({loaded.build_seconds:.1f} s building rows); "
        f"VACUUM ANALYZE {vacuumed:.1f} s"
    )
    period = last_twelve_months(now)
    print(
        f"period: {period.label()}; compared with {period.before().label()}; "
        f"backlog as at {timezone.localtime(now):%Y-%m-%d %H:%M}"
    )
    print(f"runs: {options.runs} timed per report and per query, after one to warm up")

    results, differ = [], []
    for case in cases(now):
        result = measure(case, options.runs)
        results.append(result)
        if not result.agree:
            differ.append(case.name)
            print(f"\n{case.name}: the hand-written query's figures differ from the report's")
            print(f"  report: {result.report_figures}")
            print(f"  SQL:    {result.sql_figures}")
    print_table(results)
    if options.explain:
        for case in cases(now):
            explain(case)
    if differ:
        print(f"\nfigures differ: {', '.join(differ)}")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
