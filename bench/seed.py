"""Time `seed_demo --enquiries N` into a freshly migrated PostgreSQL database, as the benches
seed (bench/harness.py `seed()`: the management command, called in-process).

Run from the repository root: ``python bench/seed.py [--enquiries 1000000]``. It drops and
recreates its own database (``BENCH_SEED_DATABASE_URL``, default ``mash_bench_seed``; the name
must contain "bench"), migrates, then times one `seed()` call from an empty hub to
``--enquiries`` and prints the command's own lines (each step's time) and the total against
the target of 120 s for a million (issue 23). Exits 1 if the hub does not hold them all.
"""

from __future__ import annotations

import argparse
import sys
import time
from io import StringIO
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository root

from bench.harness import (  # noqa: E402 - takes this folder, and its "queue.py", off the path
    database_url_option,
    django_on_fresh_database,
    verdict,
)

TARGET_SECONDS_PER_ENQUIRY = 120 / 1_000_000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--enquiries", type=int, default=100_000, help="demo enquiries")
    database_url_option(parser, "BENCH_SEED_DATABASE_URL", "mash_bench_seed")
    options = parser.parse_args()
    if options.enquiries < 1:
        parser.error("--enquiries must be 1 or more")

    name = django_on_fresh_database(options.database_url)
    from django.core.management import call_command

    from enquiries.models import Enquiry

    print(f"database: {name}, created afresh")
    out = StringIO()
    started = time.perf_counter()
    # What bench/harness.py seed() runs, with the command's lines kept to print.
    call_command("seed_demo", "--enquiries", str(options.enquiries), stdout=out)
    seconds = time.perf_counter() - started
    for line in out.getvalue().splitlines():
        if line and not line.startswith(" ") and "logins" not in line:
            print(f"  {line}")
    target = options.enquiries * TARGET_SECONDS_PER_ENQUIRY
    held = Enquiry.objects.count()
    print(
        f"seed_demo --enquiries {options.enquiries:,}: {held:,} enquiries in {seconds:.1f} s; "
        f"target {target:.1f} s, ratio {seconds / target:.2f} ({verdict(seconds <= target)})"
    )
    return 0 if held >= options.enquiries else 1


if __name__ == "__main__":
    sys.exit(main())
