"""Time the triage queue, the enquiry page and the manager dashboard against a trivial page.

Run from the repository root: ``python bench/queue.py [--enquiries 1000000]``. It drops and
recreates its own PostgreSQL database (``BENCH_DATABASE_URL``, default ``mash_bench``; the name
must contain "bench"), migrates, seeds 1,000 demo enquiries with ``seed_demo``, times each page
through the test client, tops up to 100,000 and times them again (the enquiry page on the
same sample of enquiries). It prints p50 and p95 over 50 requests, the queries per page at both
sizes and the queue's p95 against the trivial page's.
Exits 1 if a page fails or its query count changes with the data size.
"""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository root

from bench.harness import (  # noqa: E402 - takes this folder, and its "queue.py", off the path
    SEED,
    Page,
    Timing,
    database_url_option,
    django_on_fresh_database,
    page_timing_options,
    seed,
    signed_in_clients,
    time_pages,
    trivial_page,
    two_size_report,
)

SMALL = 1_000
TARGET_RATIO = 3.0
SEARCH = "Kowalski"  # one of the demo's surnames


def pages(requests: int) -> list[Page]:
    """The pages to time, chosen from the data as it is now (the last page moves with it)."""
    from django.urls import reverse

    from enquiries.models import Enquiry

    queue = reverse("triage-queue")
    open_count = Enquiry.objects.filter(state__in=Enquiry.OPEN_STATES).count()
    last_page = max(1, -(-open_count // 50))
    # The same enquiries at both sizes (the first SMALL made), so that their query counts,
    # which differ with the kind of enquiry, compare like with like.
    references = list(Enquiry.objects.order_by("id").values_list("reference", flat=True)[:SMALL])
    sample = random.Random(SEED).sample(references, min(requests, len(references)))  # noqa: S311
    return [
        trivial_page(),
        Page("queue: first page", "", "researcher", [queue]),
        Page("queue: rating red", "", "researcher", [f"{queue}?rating=red"]),
        Page("queue: at risk", "", "researcher", [f"{queue}?at_risk=on"]),
        Page("queue: name search", f"q={SEARCH}", "researcher", [f"{queue}?q={SEARCH}"]),
        Page("queue: last page", f"page {last_page}", "researcher", [f"{queue}?page={last_page}"]),
        Page(
            "enquiry page",
            f"{len(sample)} enquiries",
            "researcher",
            [reverse("enquiry-detail", args=[reference]) for reference in sample],
        ),
        Page("manager dashboard", "", "manager", [reverse("manager-dashboard")]),
    ]


def measure(size: int, requests: int, warm_up: int) -> dict[str, Timing]:
    from enquiries.models import Enquiry

    elapsed = seed(size)
    open_count = Enquiry.objects.filter(state__in=Enquiry.OPEN_STATES).count()
    print(f"\nenquiries: {size:,} ({open_count:,} open), seeded on PostgreSQL in {elapsed:.1f} s")
    signed_in = signed_in_clients(("police", "researcher", "manager"))
    return time_pages(pages(requests), signed_in, requests, warm_up)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--enquiries", type=int, default=100_000, help="the large size (default 100,000)"
    )
    page_timing_options(parser)
    database_url_option(parser, "BENCH_DATABASE_URL", "mash_bench")
    options = parser.parse_args()
    if options.enquiries <= SMALL:
        parser.error(f"--enquiries must be more than {SMALL:,}")

    name = django_on_fresh_database(options.database_url)
    print(f"database: {name}, created afresh")
    print(f"requests: {options.requests} timed per page, after {options.warm_up} to warm up")

    small = measure(SMALL, options.requests, options.warm_up)
    large = measure(options.enquiries, options.requests, options.warm_up)
    return two_size_report(
        small,
        large,
        small_size=SMALL,
        size=options.enquiries,
        target=lambda name: TARGET_RATIO if name.startswith("queue") else None,
    )


if __name__ == "__main__":
    sys.exit(main())
