"""Time the agency inbox, the record search and the auditor's search against a trivial page.

Run from the repository root: ``python bench/pages.py [--enquiries 1000000]``. It drops and
recreates its own PostgreSQL database (``BENCH_PAGES_DATABASE_URL``, default
``mash_bench_pages``; the name must contain "bench"), seeds 1,000 demo enquiries with
``seed_demo``, tops the information records up to three per enquiry and the access log to ten
entries per enquiry over two years (``bench/volume.py``), and times through the test client:
the police practitioner's inbox (its first and last page), the record search (as the police
practitioner and as a researcher), and the auditor's log (unfiltered, one person's entries, one
user's entries in a month, one agency's exports). Then it tops up to ``--enquiries`` and times
them again. It prints p50 and p95 over 50 requests, the queries per page at both sizes and each
p95 against the trivial page's (target: within 3x).
Exits 1 if a page fails or its query count changes with the data size.
"""

from __future__ import annotations

import sys
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository root

from bench.harness import (  # noqa: E402 - takes this folder off the path
    Page,
    Timing,
    run_at_two_sizes,
    seed,
    signed_in_clients,
    time_pages,
    trivial_page,
)
from bench.volume import top_up_access_log, top_up_records  # noqa: E402

SMALL = 1_000
TARGET_RATIO = 3.0
RECORDS_PER_ENQUIRY = 3
ENTRIES_PER_ENQUIRY = 10
SEARCH_WORD = "school"
INBOX_PAGE_SIZE = 50


def pages() -> list[Page]:
    """The pages to time, chosen from the data as it is now (the inbox's last page moves with
    it; the person audited is the first enquiry's subject, the same at both sizes)."""
    from django.urls import reverse
    from django.utils import timezone

    from agencies.models import Agency, User
    from enquiries.models import Enquiry
    from sharing.models import InformationRequest

    police = User.objects.get(username="police")
    researcher = User.objects.get(username="researcher")
    open_requests = InformationRequest.objects.filter(
        agency_id=police.agency_id, status__in=InformationRequest.OPEN_STATUSES
    ).count()
    last_page = max(1, -(-open_requests // INBOX_PAGE_SIZE))
    inbox = reverse("agency-inbox")
    search = reverse("sharing-search")
    audit = reverse("audit-log")
    person = Enquiry.objects.exclude(subject=None).order_by("id").values("subject_id")[0]
    this_month = timezone.localdate().replace(day=1)
    last_month = (this_month - timedelta(days=1)).replace(day=1)
    month = f"date_from={last_month.isoformat()}&date_to={(this_month - timedelta(days=1))}"
    hub_agency = Agency.objects.get(pk=researcher.agency_id)
    return [
        trivial_page(),
        Page("inbox: first page", f"{open_requests:,} open", "police", [inbox]),
        Page("inbox: last page", f"page {last_page}", "police", [f"{inbox}?page={last_page}"]),
        Page("record search: police", f"q={SEARCH_WORD}", "police", [f"{search}?q={SEARCH_WORD}"]),
        Page(
            "record search: researcher",
            f"q={SEARCH_WORD}",
            "researcher",
            [f"{search}?q={SEARCH_WORD}"],
        ),
        Page("audit: newest entries", "no filters", "auditor", [audit]),
        Page(
            "audit: a person's entries",
            f"person {person['subject_id']}",
            "auditor",
            [f"{audit}?person={person['subject_id']}"],
        ),
        Page(
            "audit: a user's month",
            f"researcher, {last_month:%B %Y}",
            "auditor",
            [f"{audit}?user=researcher&{month}"],
        ),
        Page(
            "audit: an agency's exports",
            hub_agency.name,
            "auditor",
            [f"{audit}?agency={hub_agency.pk}&action=export"],
        ),
    ]


def fill(size: int) -> str:
    """Seed `size` demo enquiries and top up their records and access log; what it took."""
    from sharing.models import InformationRecord

    seeded = seed(size)
    records = top_up_records(RECORDS_PER_ENQUIRY * size)
    logged = top_up_access_log(ENTRIES_PER_ENQUIRY * size)
    return (
        f"enquiries: {size:,} seeded in {seeded:.1f} s; records: "
        f"{InformationRecord.objects.count():,} in {records:.1f} s; access log: "
        f"{ENTRIES_PER_ENQUIRY * size:,} in {logged:.1f} s"
    )


def measure(size: int, requests: int, warm_up: int) -> dict[str, Timing]:
    print(f"\n{fill(size)}")
    signed_in = signed_in_clients(("police", "researcher", "auditor"))
    return time_pages(pages(), signed_in, requests, warm_up)


def main() -> int:
    return run_at_two_sizes(
        description=__doc__.splitlines()[0],
        measure=measure,
        database=("BENCH_PAGES_DATABASE_URL", "mash_bench_pages"),
        small=SMALL,
        target=lambda name: TARGET_RATIO,
    )


if __name__ == "__main__":
    sys.exit(main())
