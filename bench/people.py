"""Time the people search and the person page against a trivial signed-in page, at two sizes.

Run from the repository root: ``python bench/people.py [--enquiries 1000000]``. It drops and
recreates its own PostgreSQL database (``BENCH_DATABASE_URL``, default ``mash_bench_people``),
seeds 1,000 demo enquiries with ``seed_demo``, tops the information records up to three per
enquiry and the access log to ten entries per enquiry (``bench/volume.py``), gives one person
in ten an NHS number and one person a rare surname, names one child in 30 enquiries, and times,
as a researcher: the search
for the commonest surname, the rare one, a date of birth and an NHS number, and that child's
person page (and, for information, a police practitioner's search). Then it tops up to
``--enquiries`` and times them again. It prints p50 and p95 over 50 requests, the queries per
page at both sizes and each p95 against the trivial page's (target: within 3x).
Exits 1 if a page fails or its query count changes with the data size.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository root

from bench.harness import (  # noqa: E402 - takes this folder off the path
    Page,
    Timing,
    looked_at_once,
    run_at_two_sizes,
    seed,
    signed_in_clients,
    time_pages,
    trivial_page,
)
from bench.volume import top_up_access_log, top_up_records  # noqa: E402

SMALL = 1_000
TARGET_RATIO = 3.0
RARE_SURNAME = "Featherstonehaugh"
IN_ENQUIRIES = 30
RECORDS_PER_ENQUIRY = 3
ENTRIES_PER_ENQUIRY = 10


def prepare() -> int:
    """NHS numbers for one person in ten and a rare surname for one, as a register has; the
    first child named in `IN_ENQUIRIES` enquiries. Returns that child's id. Idempotent, so the
    same child is timed at both sizes."""
    from django.db import connection

    from enquiries.models import Enquiry, EnquiryPerson, Person

    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE enquiries_person SET nhs_number = lpad(((id * 7919) % 9999999999)::text, "
            "10, '0') WHERE id % 10 = 0 AND nhs_number = ''"
        )
        cursor.execute("ANALYZE enquiries_person")
    child = Enquiry.objects.exclude(subject=None).order_by("id").first().subject
    Person.objects.filter(
        pk=Person.objects.exclude(pk=child.pk).order_by("id").values("pk")[:1]
    ).update(last_name=RARE_SURNAME)
    have = EnquiryPerson.objects.filter(person=child).values("enquiry_id").distinct().count()
    if have < IN_ENQUIRIES:
        named = EnquiryPerson.objects.filter(person=child).values("enquiry_id")
        others = Enquiry.objects.exclude(pk__in=named).order_by("id")[: IN_ENQUIRIES - have]
        EnquiryPerson.objects.bulk_create(
            EnquiryPerson(enquiry=enquiry, person=child, role=EnquiryPerson.Role.OTHER)
            for enquiry in others
        )
    return child.pk


def pages(child: int) -> list[Page]:
    from django.db.models import Count
    from django.urls import reverse

    from enquiries.models import Person

    search = reverse("people-search")
    common = (Person.objects.values("last_name").annotate(n=Count("id")).order_by("-n").first())[
        "last_name"
    ]
    born = Person.objects.exclude(date_of_birth=None).order_by("id").first().date_of_birth
    nhs_number = Person.objects.exclude(nhs_number="").order_by("id").first().nhs_number
    return [
        trivial_page(),
        Page("search: common surname", common, "researcher", [f"{search}?q={common}"]),
        Page("search: rare surname", RARE_SURNAME, "researcher", [f"{search}?q={RARE_SURNAME}"]),
        Page(
            "search: date of birth",
            born.isoformat(),
            "researcher",
            [f"{search}?q={born:%d/%m/%Y}"],
        ),
        Page("search: NHS number", nhs_number, "researcher", [f"{search}?q={nhs_number}"]),
        Page(
            "person page",
            f"in {IN_ENQUIRIES} enquiries",
            "researcher",
            [reverse("person-detail", args=[child])],
        ),
        Page("search as police: common surname", common, "police", [f"{search}?q={common}"]),
    ]


def measure(size: int, requests: int, warm_up: int) -> dict[str, Timing]:
    from enquiries.models import Person

    elapsed = seed(size)
    records = top_up_records(RECORDS_PER_ENQUIRY * size)
    logged = top_up_access_log(ENTRIES_PER_ENQUIRY * size)
    child = prepare()
    print(
        f"\nenquiries: {size:,} ({Person.objects.count():,} people), seeded on PostgreSQL "
        f"in {elapsed:.1f} s; records topped up towards {RECORDS_PER_ENQUIRY * size:,} in "
        f"{records:.1f} s and "
        f"{ENTRIES_PER_ENQUIRY * size:,} access-log entries in {logged:.1f} s"
    )
    signed_in = signed_in_clients(("police", "researcher"))
    timed = pages(child)
    looked_at_once(timed, signed_in, "person page")
    return time_pages(timed, signed_in, requests, warm_up)


def main() -> int:
    return run_at_two_sizes(
        description=__doc__.splitlines()[0],
        measure=measure,
        database=("BENCH_DATABASE_URL", "mash_bench_people"),
        small=SMALL,
        target=lambda name: None if "police" in name else TARGET_RATIO,
    )


if __name__ == "__main__":
    sys.exit(main())
