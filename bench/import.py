"""Time `import_enquiries` on a generated CSV of past enquiries, on a fresh PostgreSQL database.

Run from the repository root: ``python bench/import.py [--rows 100000]``. It writes a CSV of
``--rows`` enquiries received over the last three years (families of 1-3; about 10% red, 25%
amber, 35% green, 30% no RAG; a quarter received out of hours; older ones decided, the newest
days partly open; outcomes and referrer types in realistic shares; references in the app's
own pattern, so the counters move). It drops and recreates its own database
(``BENCH_IMPORT_DATABASE_URL``, default ``mash_bench_import``; the name must contain "bench"),
migrates, then times two runs: the same file with one bad row at the end (everything is
checked, nothing is kept) and the good file; a file this large on an empty hub is bulk loaded
(enquiries/importing.py, `_check_and_load`). It prints rows, seconds, rows per second and the
ratio to the target of 60 s for a million rows (issue 23; 6 s per 100,000), and the process's
peak memory. Exits 1 if the good file does not load exactly or the bad one is not refused.
"""

from __future__ import annotations

import argparse
import csv
import random
import resource
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository root

from bench.harness import (  # noqa: E402 - takes this folder, and its "queue.py", off the path
    OUTCOMES,
    REFERRERS,
    SEED,
    database_url_option,
    django_on_fresh_database,
    family_sizes,
    in_office_hours,
    verdict,
    weighted_choice,
)

TARGET_SECONDS_PER_ROW = 60 / 1_000_000
LONDON = ZoneInfo("Europe/London")
HEADER = ["reference", "family_reference", "received_at", "rag", "decided_at", "outcome"]
HEADER += ["referrer_type"]
RATINGS = [("red", 10), ("amber", 25), ("green", 35), ("", 30)]
# Wall-clock minutes from receipt to decision, by rating: mostly within the allowance.
DECISION_MINUTES = {"red": (20, 2 * 1440), "amber": (60, 4 * 1440), "green": (120, 8 * 1440)}
DECISION_MINUTES[""] = DECISION_MINUTES["green"]


def write_csv(path: Path, rows: int, *, now: datetime, seed: int = SEED) -> None:
    """`rows` enquiries over the three years before `now`, oldest first, streamed to `path`."""
    rng = random.Random(seed)
    rating, outcome, referrer = (
        weighted_choice(rng, RATINGS),
        weighted_choice(rng, OUTCOMES),
        weighted_choice(rng, REFERRERS),
    )
    start = now - timedelta(days=3 * 365)
    span = (now - start).total_seconds() / 60
    # Families of one to three, spread evenly in time; each family's members arrive together.
    families = family_sizes(rng, rows)
    step = span / len(families)
    numbers: dict[int, int] = {}
    with path.open("w", newline="", encoding="utf-8") as file:
        out = csv.writer(file)
        out.writerow(HEADER)
        for index, size in enumerate(families):
            received = start + timedelta(minutes=int(index * step + rng.random() * step))
            received = received.astimezone(LONDON)  # written with the offset of its season
            received = in_office_hours(rng, received, latest=now)  # as most arrive
            year = received.year
            first = numbers.get(year, 0) + 1
            numbers[year] = first + size - 1
            family = f"MASH-F-{year}-{first:06d}"
            for member in range(size):
                rag = rating()
                low, high = DECISION_MINUTES[rag]
                decided = received + timedelta(minutes=rng.randint(low, high))
                recent = now - received < timedelta(days=14)
                if decided > now or (recent and rng.random() < 0.5):
                    decided_at = chosen = ""
                else:
                    decided_at, chosen = decided.isoformat(timespec="minutes"), outcome()
                out.writerow(
                    [
                        f"MASH-{year}-{first + member:06d}",
                        family,
                        received.isoformat(timespec="minutes"),
                        rag,
                        decided_at,
                        chosen,
                        referrer(),
                    ]
                )


def peak_memory_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000, help="enquiries in the file")
    database_url_option(parser, "BENCH_IMPORT_DATABASE_URL", "mash_bench_import")
    options = parser.parse_args()
    if options.rows < 1:
        parser.error("--rows must be 1 or more")

    name = django_on_fresh_database(options.database_url)
    from django.utils import timezone

    from agencies.models import Agency
    from enquiries.importing import BadFile, import_enquiries
    from enquiries.models import Enquiry, EnquiryEvent, FamilyEnquiry, ReferenceCounter

    # The system account the enquiries are logged under belongs to the lead agency.
    Agency.objects.create(name="Children's Social Care", kind="childrens_social_care")
    print(f"database: {name}, created afresh")

    now = timezone.now().replace(second=0, microsecond=0)
    target = options.rows * TARGET_SECONDS_PER_ROW
    failed = False
    with tempfile.TemporaryDirectory(prefix="mash-bench-import-") as folder:
        good, bad = Path(folder) / "good.csv", Path(folder) / "bad.csv"
        started = time.perf_counter()
        write_csv(good, options.rows, now=now)
        with good.open("rb") as source, bad.open("wb") as copy:
            for line in source:
                copy.write(line)
            copy.write(b"MASH-BAD-1,MASH-BAD-1,2025-03-07T16:00,red,,,police\r\n")
        size_mb = good.stat().st_size / 1e6
        print(
            f"file: {options.rows:,} rows, {size_mb:.1f} MB, "
            f"written in {time.perf_counter() - started:.1f} s"
        )

        started = time.perf_counter()
        try:
            import_enquiries(bad, now=now)
        except BadFile as error:
            seconds = time.perf_counter() - started
            problems = [str(problem) for problem in error.problems]
            print(
                f"bad row at the end: refused in {seconds:.1f} s "
                f"({options.rows / seconds:,.0f} rows/second checked): {'; '.join(problems)}"
            )
            failed |= len(problems) != 1 or Enquiry.objects.exists()
        else:
            print("bad row at the end: NOT refused")
            failed = True

        result = import_enquiries(good, now=now)
        print(
            f"good file: {result.rows:,} rows in {result.families:,} families "
            f"({result.decided:,} decided, {result.open:,} open)"
        )
        print(
            f"loaded in {result.seconds:.1f} s, {result.rows_per_second:,.0f} rows/second; "
            f"target {target:.0f} s, ratio {result.seconds / target:.2f} "
            f"({verdict(result.seconds <= target)})"
        )
    print(f"peak memory of the process: {peak_memory_mb():,.0f} MB")

    events = EnquiryEvent.objects.count()
    counts = (Enquiry.objects.count(), FamilyEnquiry.objects.count(), events)
    expected = (result.rows, result.families, result.rows + result.decided)
    on_time = Enquiry.objects.filter(decided_on_time=True).count()
    share = on_time / max(1, result.decided)
    print(
        f"stored: {counts[0]:,} enquiries, {counts[1]:,} families, {counts[2]:,} events; "
        f"{on_time:,} of {result.decided:,} decided on time ({share:.0%})"
    )
    counters = ReferenceCounter.objects.order_by("year")
    print("counters: " + ", ".join(f"{c.year} at {c.last_number:,}" for c in counters))
    if counts != expected:
        print(f"MISMATCH: stored {counts}, expected {expected}")
        failed = True
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
