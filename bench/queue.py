"""Time the triage queue, the enquiry page and the manager dashboard against a trivial page.

Run from the repository root: ``python bench/queue.py [--enquiries 1000000]``. It drops and
recreates its own PostgreSQL database (``BENCH_DATABASE_URL``, default ``mash_bench``; the name
must contain "bench"), migrates, seeds 1,000 demo enquiries with ``seed_demo``, tops the
information records up to three per enquiry and the access log to ten entries per enquiry
(``bench/volume.py``), vacuums the enquiry tables as autovacuum would, times each page through
the test client, tops up to 100,000 and times them again (the enquiry page on the same sample
of enquiries). The queue is timed on its first page, each of its filters, the name search and
its last page as "Next" reaches it. It prints p50 and p95 over 50 requests, the queries per
page at both sizes and each page's p95 against the trivial page's (target: within 3x).
Exits 1 if a page fails or its query count changes with the data size.
"""

from __future__ import annotations

import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository root

from bench.harness import (  # noqa: E402 - takes this folder, and its "queue.py", off the path
    SEED,
    Page,
    Timing,
    looked_at_once,
    run_at_two_sizes,
    seed,
    signed_in_clients,
    time_pages,
    trivial_page,
    vacuumed,
)
from bench.volume import top_up_access_log, top_up_records  # noqa: E402

SMALL = 1_000
TARGET_RATIO = 3.0
SEARCH = "Kowalski"  # one of the demo's surnames
# What the queue and the enquiry page read, vacuumed after each load (`vacuumed`).
QUEUE_TABLES = (
    "enquiries_enquiry",
    "enquiries_enquiryperson",
    "enquiries_person",
    "enquiries_notification",
)
# A hub's volumes at each size: information records and access-log entries per enquiry.
RECORDS_PER_ENQUIRY = 3
ENTRIES_PER_ENQUIRY = 10


# The first size measured, the small one: the enquiry page's sample is drawn from the
# enquiries made by then, so that both sizes read the same ones.
_first_size: list[int] = []


def pages(requests: int) -> list[Page]:
    """The pages to time, chosen from the data as it is now (the last page moves with it)."""
    from django.urls import reverse

    from enquiries.models import Enquiry
    from enquiries.selectors import QUEUE_PAGE_SIZE, QueuePlace, open_enquiries

    queue = reverse("triage-queue")
    open_count = Enquiry.objects.filter(state__in=Enquiry.OPEN_STATES).count()
    last_page = max(1, -(-open_count // QUEUE_PAGE_SIZE))
    # The last page as its "Next" links reach it: read from the place where the page before
    # it ends (enquiries.selectors.QueuePlace), not counted out from the first.
    last_link = f"{queue}?page={last_page}"
    if last_page > 1:
        place = open_enquiries().values("id", "escalated_at", "deadline")[
            (last_page - 1) * QUEUE_PAGE_SIZE - 1
        ]
        last_link = f"{queue}?after={QueuePlace.of(place).token}&page={last_page}"
    # The same enquiries at both sizes (the first made, as many as the small size), so that
    # their query counts, which differ with the kind of enquiry, compare like with like.
    first = _first_size[0] if _first_size else SMALL
    references = list(Enquiry.objects.order_by("id").values_list("reference", flat=True)[:first])
    sample = random.Random(SEED).sample(references, min(requests, len(references)))  # noqa: S311
    return [
        trivial_page(),
        Page("queue: first page", "", "researcher", [queue]),
        Page("queue: rating red", "", "researcher", [f"{queue}?rating=red"]),
        Page("queue: rating amber", "", "researcher", [f"{queue}?rating=amber"]),
        Page("queue: rating green", "", "researcher", [f"{queue}?rating=green"]),
        Page("queue: at risk", "", "researcher", [f"{queue}?at_risk=on"]),
        Page("queue: breached", "", "researcher", [f"{queue}?breached=on"]),
        Page("queue: escalated", "", "researcher", [f"{queue}?escalated=on"]),
        Page("queue: not acknowledged", "", "researcher", [f"{queue}?acknowledged=no"]),
        Page("queue: state screening", "", "researcher", [f"{queue}?state=screening"]),
        Page("queue: only mine", "", "researcher", [f"{queue}?mine=on"]),
        Page("queue: unassigned", "", "researcher", [f"{queue}?unassigned=on"]),
        Page("queue: name search", f"q={SEARCH}", "researcher", [f"{queue}?q={SEARCH}"]),
        Page("queue: last page", f"page {last_page}, by Next", "researcher", [last_link]),
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

    if not _first_size:
        _first_size.append(size)
    elapsed = seed(size)
    records = top_up_records(RECORDS_PER_ENQUIRY * size)
    logged = top_up_access_log(ENTRIES_PER_ENQUIRY * size)
    vacuumed(*QUEUE_TABLES)
    open_count = Enquiry.objects.filter(state__in=Enquiry.OPEN_STATES).count()
    print(
        f"\nenquiries: {size:,} ({open_count:,} open), seeded on PostgreSQL in {elapsed:.1f} s; "
        f"records: {RECORDS_PER_ENQUIRY * size:,} in {records:.1f} s; access log: "
        f"{ENTRIES_PER_ENQUIRY * size:,} in {logged:.1f} s"
    )
    signed_in = signed_in_clients(("police", "researcher", "manager"))
    timed = pages(requests)
    looked_at_once(timed, signed_in, "enquiry page")
    return time_pages(timed, signed_in, requests, warm_up)


def main() -> int:
    return run_at_two_sizes(
        description=__doc__.splitlines()[0],
        measure=measure,
        database=("BENCH_DATABASE_URL", "mash_bench"),
        small=SMALL,
        target=lambda name: TARGET_RATIO,
    )


if __name__ == "__main__":
    sys.exit(main())
