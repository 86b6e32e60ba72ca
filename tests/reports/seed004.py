"""The Oxfordshire MASH history behind seed 004's tables, generated rather than stored.

Seed 004 (Performance Scrutiny Committee, 12 May 2016, paragraphs 8-9) gives the volumes of
April 2015 - March 2016, a comparison with the year before and the timeliness of October 2015 -
March 2016. `oxfordshire_history` builds an enquiry-by-enquiry history whose reports must
reproduce those tables exactly, so the report tests can load it through the CSV importer and
compare with `EXPECTED`. Forty thousand rows are cheaper to regenerate than to keep in the
repository, and `random.Random(seed)` makes them the same on every run. The volumes and
percentages hold for any seed; `EXPECTED["timeliness_counts"]` are the exact counts of seed 4.

Decisions are placed with the hub's own working-minute arithmetic (`enquiries.worktime`, the
default calendar), so "on time" here means what the timeliness report will compute.
"""

from __future__ import annotations

import csv
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from itertools import accumulate
from pathlib import Path
from typing import IO
from zoneinfo import ZoneInfo

from enquiries.importing import COLUMNS
from enquiries.worktime import WorkingCalendar, add_working_minutes, working_minutes_between

HEADER = list(COLUMNS)  # the importer's columns, in its order

LONDON = ZoneInfo("Europe/London")
CALENDAR = WorkingCalendar.standard()

PRE_MASH_YEAR = (date(2014, 4, 1), date(2015, 4, 1))  # P0, "1 year pre-MASH"
REVIEW_YEAR = (date(2015, 4, 1), date(2016, 4, 1))  # P1, "Apr 15 to Mar 16"
TIMELINESS_WINDOW = (date(2015, 10, 1), date(2016, 4, 1))  # "October 15 - March 16"

ALLOWANCES = {"red": 240, "amber": 480, "green": 1440, "none": 1440}
REFERRAL_OUTCOMES = ("csc_assessment", "strategy_discussion", "adult_social_care")

EXPECTED: dict = {
    "periods": {"p0": PRE_MASH_YEAR, "p1": REVIEW_YEAR, "timeliness": TIMELINESS_WINDOW},
    "p1": {
        "new": 20_062,
        "completed": 20_786,
        "family_enquiries_completed": 11_296,
        "leading_to_referral": 6_597,
        "open_at_end": 634,
    },
    "p0": {"new": 18_803, "leading_to_referral": 5_769},
    "change_percent": {"contacts": 7, "referrals": 14},
    # Open when the review year began: 20,786 - (20,062 - 634), received in P0, decided in P1.
    "open_at_p1_start": 1_358,
    "allowances": ALLOWANCES,
    "timeliness_percent": {"red": 75, "amber": 17, "green": 8, "none": 61, "overall": 42},
    # (decided in the window, of which on time) for seed 4.
    "timeliness_counts": {
        "red": (2_355, 1_766),
        "amber": (2_959, 503),
        "green": (1_628, 130),
        "none": (2_720, 1_659),
        "overall": (9_662, 4_058),
    },
}

# A family enquiry is one household's children; 1.84 children a family, as in the review year.
FAMILY_SIZES = (1, 2, 3, 4)
FAMILY_SIZE_WEIGHTS = (47, 30, 15, 8)

# The mix of ratings is what lets the seed's per-rating shares add up to 42% overall.
RAG_WEIGHTS = {"red": 25, "amber": 30.5, "green": 17, "none": 27.5}
REFERRER_TYPE_WEIGHTS = {
    "police": 30,
    "school": 19,
    "hospital": 8,
    "health_visitor": 7,
    "gp": 6,
    "family": 5,
    "public": 5,
    "probation": 4,
    "housing": 4,
    "self": 3,
    "anonymous": 3,
    "other": 3,
}
# Out of hours it is mostly the police, hospitals and the public who call.
OUT_OF_HOURS_REFERRER_TYPE_WEIGHTS = {
    "police": 60,
    "hospital": 12,
    "family": 7,
    "public": 7,
    "self": 4,
    "anonymous": 4,
    "other": 2,
    "school": 1,
    "gp": 1,
    "health_visitor": 1,
    "probation": 1,
    "housing": 1,
}
# Urgent enquiries more often end in a referral.
REFERRAL_LIKELIHOOD = {"red": 3.0, "amber": 1.6, "green": 0.7, "none": 0.5}
REFERRAL_KIND_WEIGHTS = {"csc_assessment": 72, "strategy_discussion": 24, "adult_social_care": 4}
OTHER_OUTCOME_WEIGHTS = {"nfa": 70, "advice": 10, "early_help": 11, "other_agency": 5, "marac": 4}
# Domestic abuse notifications come from the police, and so do most MARAC referrals.
POLICE_OTHER_OUTCOME_WEIGHTS = {**OTHER_OUTCOME_WEIGHTS, "marac": 10}
# Outside the timeliness window nothing is targeted; these keep the earlier months plausible.
ON_TIME_CHANCE = {
    "p0": {"red": 0.85, "amber": 0.45, "green": 0.35, "none": 0.70},
    "p1": {"red": 0.80, "amber": 0.25, "green": 0.15, "none": 0.65},
}
EDGE_DECISIONS = 3  # per rating: decided on the last allowed minute, and one minute past it
EVENING_DECISIONS = 0.04  # share of decisions recorded after the office closed

# Arrivals: quieter in August and at Christmas, at weekends and on bank holidays, and out of
# hours; police notifications arrive round the clock.
MONTH_FACTORS = {1: 1.05, 3: 1.05, 4: 0.95, 8: 0.8, 10: 1.05, 11: 1.1, 12: 0.85}
CLOSED_DAY_FACTOR = 0.33
WORKING_DAY_HOURS = (
    (0.3,) * 7 + (1, 4, 8, 10, 10, 8, 9, 10, 10, 8, 4, 2, 1.5, 1.2, 1, 0.8, 0.5)
)  # fmt: skip
CLOSED_DAY_HOURS = (0.5,) * 7 + (1, 1, 1) + (2,) * 13 + (1,)


@dataclass(eq=False)
class _Family:
    received: int  # UTC-epoch minute
    size: int
    kind: str  # "p0", "open_at_p1_start", "p1" or "open_at_p1_end"
    rag: str = "none"
    referrer_type: str = ""


@dataclass(eq=False)
class _Enquiry:
    family: _Family
    decided: int | None = None
    outcome: str = ""


def oxfordshire_history(seed: int = 4) -> list[dict[str, str]]:
    """Rows in the importer's CSV format, oldest first, reproducing seed 004's tables."""
    rng = random.Random(seed)  # noqa: S311 - test data, reproducible by design
    p1 = EXPECTED["p1"]
    backlog = EXPECTED["open_at_p1_start"]
    p1_families = _sizes_for(rng, p1["family_enquiries_completed"], p1["completed"])
    backlog_sizes, p1_decided_sizes = _split_off(rng, p1_families, backlog)
    p0_decided_sizes = _sizes_totalling(rng, EXPECTED["p0"]["new"] - backlog)
    p1_open_sizes = _sizes_totalling(rng, p1["open_at_end"])

    families = _year_of_families(
        rng, PRE_MASH_YEAR, p0_decided_sizes, backlog_sizes, ("p0", "open_at_p1_start"), 14
    ) + _year_of_families(
        rng, REVIEW_YEAR, p1_decided_sizes, p1_open_sizes, ("p1", "open_at_p1_end"), 7
    )
    rag_codes, rag_weights = list(RAG_WEIGHTS), list(RAG_WEIGHTS.values())
    for family in families:
        family.rag = rng.choices(rag_codes, rag_weights)[0]
        in_hours = _working_minutes(family.received, family.received + 1) == 1
        referrers = REFERRER_TYPE_WEIGHTS if in_hours else OUT_OF_HOURS_REFERRER_TYPE_WEIGHTS
        family.referrer_type = rng.choices(list(referrers), list(referrers.values()))[0]

    enquiries = [_Enquiry(family) for family in families for _ in range(family.size)]
    in_window = _decide_outside_window(rng, enquiries)
    _decide_in_window(rng, in_window)
    _give_outcomes(
        rng,
        [enquiry for enquiry in enquiries if enquiry.family.kind == "p0"],
        EXPECTED["p0"]["leading_to_referral"],
    )
    _give_outcomes(
        rng,
        [enquiry for enquiry in enquiries if enquiry.family.kind in ("p1", "open_at_p1_start")],
        p1["leading_to_referral"],
    )
    return _rows(enquiries)


def write_csv(rows: Iterable[dict[str, str]], path_or_file: str | Path | IO[str]) -> None:
    """Write HEADER then the rows, to a path or an open text file."""
    if isinstance(path_or_file, str | Path):
        with open(path_or_file, "w", newline="", encoding="utf-8") as file:
            write_csv(rows, file)
        return
    writer = csv.DictWriter(path_or_file, fieldnames=HEADER)
    writer.writeheader()
    writer.writerows(rows)


def on_time_counts(decided: dict[str, int]) -> dict[str, int]:
    """On-time counts whose shares round to the seed's percentages, never sitting on a half.

    Each rating gets the count nearest its percentage; the counts are then nudged one at a time,
    within their own rounding, until the overall share rounds right too. Keeping clear of .5
    means half-up and half-even rounding agree, whichever the report uses.
    """
    percent = EXPECTED["timeliness_percent"]
    ranges = {rag: _rounding_range(n, percent[rag]) for rag, n in decided.items()}
    counts = {
        rag: min(max(round(n * percent[rag] / 100), ranges[rag][0]), ranges[rag][1])
        for rag, n in decided.items()
    }
    low, high = _rounding_range(sum(decided.values()), percent["overall"])
    low = max(low, sum(lo for lo, _ in ranges.values()))
    high = min(high, sum(hi for _, hi in ranges.values()))
    if low > high:
        raise ValueError(f"no on-time counts fit the seed's percentages for {decided}")
    target = min(max(round(sum(decided.values()) * percent["overall"] / 100), low), high)
    by_size = sorted(decided, key=decided.__getitem__, reverse=True)
    while (gap := target - sum(counts.values())) != 0:
        step = 1 if gap > 0 else -1
        rag = next(r for r in by_size if ranges[r][0] <= counts[r] + step <= ranges[r][1])
        counts[rag] += step
    return counts


def _rounding_range(decided: int, percent: int) -> tuple[int, int]:
    """On-time counts whose share lies strictly within half a percent of ``percent``."""
    low = decided * (2 * percent - 1) // 200 + 1
    high = (decided * (2 * percent + 1) - 1) // 200
    if low > high:
        raise ValueError(f"no count of {decided} rounds to {percent}%")
    return low, high


def _sizes_for(rng: random.Random, families: int, enquiries: int) -> list[int]:
    """Family sizes 1-4 with exactly this many families holding exactly this many enquiries."""
    sizes = rng.choices(FAMILY_SIZES, FAMILY_SIZE_WEIGHTS, k=families)
    surplus = sum(sizes) - enquiries
    if not families <= enquiries <= families * FAMILY_SIZES[-1]:
        raise ValueError(f"{families} families cannot hold {enquiries} enquiries")
    while surplus:
        index = rng.randrange(families)
        if surplus > 0 and sizes[index] > FAMILY_SIZES[0]:
            sizes[index] -= 1
            surplus -= 1
        elif surplus < 0 and sizes[index] < FAMILY_SIZES[-1]:
            sizes[index] += 1
            surplus += 1
    return sizes


def _sizes_totalling(rng: random.Random, enquiries: int) -> list[int]:
    """Family sizes 1-4 holding exactly this many enquiries, however many families it takes."""
    sizes = []
    while enquiries:
        size = min(rng.choices(FAMILY_SIZES, FAMILY_SIZE_WEIGHTS)[0], enquiries)
        sizes.append(size)
        enquiries -= size
    return sizes


def _split_off(rng: random.Random, sizes: Sequence[int], enquiries: int) -> tuple[list, list]:
    """Take random families holding exactly ``enquiries`` enquiries; return them and the rest."""
    shuffled = list(sizes)
    rng.shuffle(shuffled)
    taken, rest = [], []
    for size in shuffled:
        if size <= enquiries:
            taken.append(size)
            enquiries -= size
        else:
            rest.append(size)
    if enquiries:
        raise ValueError("too few single-child families to split off the backlog exactly")
    return taken, rest


def _year_of_families(
    rng: random.Random,
    period: tuple[date, date],
    decided_sizes: list[int],
    open_sizes: list[int],
    kinds: tuple[str, str],
    spread_days: float,
) -> list[_Family]:
    """Families received in ``period``; those still open at its end are mostly the latest.

    Open families are picked by receipt time plus a random lag, so they trail off into the
    weeks before the end instead of all sharing its last days; a family received too late to
    be decided within the period is always one of them.
    """
    receipts = _receipts(rng, period, len(decided_sizes) + len(open_sizes))
    end = _minute_of_day_start(period[1])
    lag = 1 / (spread_days * 1440)
    keys = [
        (_working_minutes(received, end) == 0, received + rng.expovariate(lag))
        for received in receipts
    ]
    by_lateness = sorted(range(len(receipts)), key=keys.__getitem__, reverse=True)
    still_open = set(by_lateness[: len(open_sizes)])
    decided_kind, open_kind = kinds
    decided_queue, open_queue = list(decided_sizes), list(open_sizes)
    rng.shuffle(decided_queue)
    rng.shuffle(open_queue)
    return [
        _Family(received, open_queue.pop(), open_kind)
        if index in still_open
        else _Family(received, decided_queue.pop(), decided_kind)
        for index, received in enumerate(receipts)
    ]


def _receipts(rng: random.Random, period: tuple[date, date], count: int) -> list[int]:
    """Arrival minutes through ``period``: busy working days, quieter evenings and weekends."""
    start, end = period
    days = [start + timedelta(days=n) for n in range((end - start).days)]
    open_days = [CALENDAR.is_working_day(day) for day in days]
    day_weights = [
        MONTH_FACTORS.get(day.month, 1.0) * (1.0 if is_open else CLOSED_DAY_FACTOR)
        for day, is_open in zip(days, open_days, strict=True)
    ]
    picked = rng.choices(range(len(days)), cum_weights=list(accumulate(day_weights)), k=count)
    working_hours = list(accumulate(WORKING_DAY_HOURS))
    closed_hours = list(accumulate(CLOSED_DAY_HOURS))
    receipts = []
    for index in picked:
        day = days[index]
        hours = working_hours if open_days[index] else closed_hours
        hour = rng.choices(range(24), cum_weights=hours)[0]
        local = datetime(day.year, day.month, day.day, hour, rng.randrange(60), tzinfo=LONDON)
        receipts.append(int(local.timestamp()) // 60)
    return sorted(receipts)


def _decide_outside_window(rng: random.Random, enquiries: list[_Enquiry]) -> list[tuple]:
    """Decide every enquiry whose decision falls outside the timeliness window.

    Returns the rest as ``(enquiry, working minutes left before the review year ends)``: those
    received once the last working minute before the window had passed.
    """
    p1_start = _minute_of_day_start(REVIEW_YEAR[0])
    window_start = _minute_of_day_start(TIMELINESS_WINDOW[0])
    p1_end = _minute_of_day_start(REVIEW_YEAR[1])
    in_window = []
    for enquiry in enquiries:
        family = enquiry.family
        if family.kind == "p0":
            room = _working_minutes(family.received, p1_start)
            enquiry.decided = _decide_freely(rng, family, room, ON_TIME_CHANCE["p0"])
        elif family.kind == "open_at_p1_start":
            enquiry.decided = _clear_backlog(rng, p1_start, window_start)
        elif family.kind == "p1":
            room = _working_minutes(family.received, window_start)
            if room:
                enquiry.decided = _decide_freely(rng, family, room, ON_TIME_CHANCE["p1"])
            else:
                in_window.append((enquiry, _working_minutes(family.received, p1_end)))
    return in_window


def _decide_freely(rng: random.Random, family: _Family, room: int, chance: dict) -> int:
    """A decision within ``room`` working minutes, on time with the given chance per rating."""
    allowance = ALLOWANCES[family.rag]
    on_time = rng.random() < chance[family.rag]
    for _ in range(10):
        offset = _offset(rng, allowance, on_time)
        if offset <= room:
            break
    else:
        offset = rng.randint(1, room)
    decided = _add_working_minutes(family.received, offset)
    return _maybe_in_the_evening(rng, family, decided, offset <= allowance)


def _clear_backlog(rng: random.Random, p1_start: int, window_start: int) -> int:
    """Backlog decisions: most in April-May 2015, when agency workers cleared it (seed 004 §13)."""
    while True:
        offset = 1 + int(rng.expovariate(1 / (12 * 480)))
        decided = _add_working_minutes(p1_start, offset)
        if decided < window_start and offset <= 50 * 480:
            return decided


def _decide_in_window(rng: random.Random, in_window: list[tuple]) -> None:
    """Decide the window's enquiries so each rating's on-time share is the seed's exactly."""
    by_rag: dict[str, list[tuple]] = {rag: [] for rag in ALLOWANCES}
    for enquiry, room in in_window:
        by_rag[enquiry.family.rag].append((enquiry, room))
    while True:
        try:
            counts = on_time_counts({rag: len(group) for rag, group in by_rag.items()})
            break
        except ValueError:
            _rerate_a_family(rng, by_rag)
    for rag, group in by_rag.items():
        allowance = ALLOWANCES[rag]
        can_be_late = [index for index, (_, room) in enumerate(group) if room > allowance]
        late_count = len(group) - counts[rag]
        if late_count > len(can_be_late):
            raise ValueError(f"too few {rag} enquiries have room to be decided late")
        late = set(rng.sample(can_be_late, late_count))
        on_the_minute = [
            i for i, (_, room) in enumerate(group) if i not in late and room >= allowance
        ]
        edges = set(on_the_minute[:EDGE_DECISIONS]) | set(sorted(late)[:EDGE_DECISIONS])
        for index, (enquiry, room) in enumerate(group):
            on_time = index not in late
            if index in edges:
                offset = allowance if on_time else allowance + 1
            else:
                offset = _offset(rng, allowance, on_time, room)
            decided = _add_working_minutes(enquiry.family.received, offset)
            if index not in edges:
                decided = _maybe_in_the_evening(rng, enquiry.family, decided, on_time)
            enquiry.decided = decided


def _rerate_a_family(rng: random.Random, by_rag: dict[str, list[tuple]]) -> None:
    """Move one family between no RAG and amber when chance has drifted the window's mix too
    far for the per-rating shares to round to the seed's overall share."""
    percent = EXPECTED["timeliness_percent"]
    decided = sum(len(group) for group in by_rag.values())
    centre = sum(len(group) * percent[rag] for rag, group in by_rag.items()) / decided
    donor, recipient = ("none", "amber") if centre > percent["overall"] else ("amber", "none")
    family = rng.choice(by_rag[donor])[0].family
    family.rag = recipient
    by_rag[recipient].extend(item for item in by_rag[donor] if item[0].family is family)
    by_rag[donor] = [item for item in by_rag[donor] if item[0].family is not family]


def _offset(rng: random.Random, allowance: int, on_time: bool, room: int | None = None) -> int:
    """Working minutes to a decision: within the allowance, or up to three times it."""
    if on_time:
        return rng.randint(1, allowance if room is None else min(allowance, room))
    return rng.randint(allowance + 1, 3 * allowance if room is None else min(3 * allowance, room))


def _maybe_in_the_evening(rng: random.Random, family: _Family, decided: int, on_time: bool) -> int:
    """Now and then a manager records the decision after 17:00; the clock is stopped by then.

    The evening keeps the decision's day, so it stays inside its period, and it is kept only if
    it leaves the decision on time or late as it was, and a late one within three allowances.
    """
    if rng.random() >= EVENING_DECISIONS:
        return decided
    day = datetime.fromtimestamp(decided * 60, LONDON)
    evening = day.replace(hour=17, minute=0) + timedelta(minutes=rng.randint(1, 240))
    later = int(evening.timestamp()) // 60
    elapsed = _working_minutes(family.received, later)
    allowance = ALLOWANCES[family.rag]
    if (elapsed <= allowance) != on_time or elapsed > 3 * allowance:
        return decided
    return later


def _give_outcomes(rng: random.Random, decided: list[_Enquiry], referrals: int) -> None:
    """Exactly ``referrals`` enquiries lead to a referral, urgent ones more often."""
    keys = [rng.random() ** (1 / REFERRAL_LIKELIHOOD[e.family.rag]) for e in decided]
    chosen = set(sorted(range(len(decided)), key=keys.__getitem__, reverse=True)[:referrals])
    referral_kinds, referral_weights = (
        list(REFERRAL_KIND_WEIGHTS),
        list(REFERRAL_KIND_WEIGHTS.values()),
    )
    for index, enquiry in enumerate(decided):
        if index in chosen:
            enquiry.outcome = rng.choices(referral_kinds, referral_weights)[0]
            continue
        weights = (
            POLICE_OTHER_OUTCOME_WEIGHTS
            if enquiry.family.referrer_type == "police"
            else OTHER_OUTCOME_WEIGHTS
        )
        enquiry.outcome = rng.choices(list(weights), list(weights.values()))[0]


def _rows(enquiries: list[_Enquiry]) -> list[dict[str, str]]:
    """CSV rows in order of receipt, numbered per year of receipt like the hub's references."""
    order = sorted(range(len(enquiries)), key=lambda i: (enquiries[i].family.received, i))
    family_numbers: dict[int, str] = {}
    next_number: dict[str, int] = {}
    rows = []
    for index in order:
        enquiry = enquiries[index]
        family = enquiry.family
        received = datetime.fromtimestamp(family.received * 60, LONDON)
        year = str(received.year)
        if id(family) not in family_numbers:
            family_numbers[id(family)] = _next_reference("OXF", year, next_number)
        rows.append(
            {
                "reference": _next_reference("OX", year, next_number),
                "family_reference": family_numbers[id(family)],
                "received_at": received.isoformat(),
                "rag": "" if family.rag == "none" else family.rag,
                "decided_at": ""
                if enquiry.decided is None
                else datetime.fromtimestamp(enquiry.decided * 60, LONDON).isoformat(),
                "outcome": enquiry.outcome,
                "referrer_type": family.referrer_type,
            }
        )
    return rows


def _next_reference(prefix: str, year: str, next_number: dict[str, int]) -> str:
    key = f"{prefix}-{year}"
    next_number[key] = next_number.get(key, 0) + 1
    return f"{key}-{next_number[key]:06d}"


def _minute_of_day_start(day: date) -> int:
    return int(datetime(day.year, day.month, day.day, tzinfo=LONDON).timestamp()) // 60


def _working_minutes(start: int, end: int) -> int:
    return working_minutes_between(
        CALENDAR, datetime.fromtimestamp(start * 60, UTC), datetime.fromtimestamp(end * 60, UTC)
    )


def _add_working_minutes(start: int, minutes: int) -> int:
    moment = add_working_minutes(CALENDAR, datetime.fromtimestamp(start * 60, UTC), minutes)
    return int(moment.timestamp()) // 60
