"""Time the enquiry page's agency information, as three kinds of user, and the agency inbox,
against the trivial signed-in page.

Run from the repository root: ``python bench/firewall.py [--enquiries 10000]``. It drops and
recreates its own PostgreSQL database (``BENCH_FIREWALL_DATABASE_URL``, default
``mash_bench_firewall``; the name must contain "bench"), migrates, seeds 10,000 demo enquiries
with ``seed_demo`` (which gives them the demo's information sharing, so the inboxes are full),
then builds two enquiries through the sharing services: one answered by 2 agencies with 10
records, one by 10 agencies with 50. Each agency gives 5 records: non-sensitive, sensitive,
release requested, released and refused. It times each page through the test client (50
requests after 5 to warm up, ``DEBUG`` off, no Redis) and prints p50, p95, the queries per page
with both enquiries, and each p95 against the trivial page's. Exits 1 if a page fails, shows
content the firewall should hide or hides content it should show, or runs a different number of
queries for 10 records than for 50.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository root

from bench.harness import (  # noqa: E402 - takes this folder, and its "queue.py", off the path
    Page,
    Timing,
    bulk,
    database_url_option,
    django_on_fresh_database,
    page_timing_options,
    seed,
    signed_in_clients,
    time_pages,
    trivial_page,
)

DEMO_ENQUIRIES = 10_000
STATES = ("non_sensitive", "sensitive", "release_requested", "released", "refused")
# The demo's agencies that answer. Children's Social Care is left out: the demo manager is also
# its practitioner, and would read its sensitive records.
ANSWERING = [
    "Police",
    "Community Health",
    "Acute Hospital Trust",
    "Mental Health Trust",
    "Education",
    "Probation",
    "Youth Offending Service",
    "Housing",
    "Drug and Alcohol Services",
    "Domestic Abuse Services",
]
USERS = {"researcher": "researcher", "practitioner": "police", "manager": "manager"}


@dataclass(frozen=True)
class Built:
    """An enquiry built for the bench: what each of its records says, and its state."""

    reference: str
    agencies: int
    markers: dict[str, tuple[str, str]]  # marker: (owning agency's name, state)


PRACTITIONER_PASSWORD = "bench-practitioner-2026"  # noqa: S105 - the bench's own database


def practitioners() -> dict[str, object]:
    """One practitioner per answering agency: the demo's where it has one."""
    from django.contrib.auth.hashers import make_password
    from django.contrib.auth.models import Group

    from agencies.models import Agency, Role, User

    group = Group.objects.get(name=Role.PRACTITIONER)
    # A release needs its practitioner's password again (step-up): the same for each, hashed
    # once, as a hash is made to be slow.
    password = make_password(PRACTITIONER_PASSWORD)
    found = {}
    for name in ANSWERING:
        agency = Agency.objects.get(name=name)
        user = User.objects.filter(agency=agency, groups=group).order_by(
            "id"
        ).first() or User.objects.create(
            username=f"bench-{agency.pk}", first_name="Bench", last_name=name, agency=agency
        )
        user.groups.add(group)
        user.password = password
        user.save(update_fields=["password"])
        found[name] = user
    return found


def build_enquiry(tag: str, agency_count: int, owners: dict) -> Built:
    """A family enquiry answered by `agency_count` agencies, 5 records each, one per state."""
    from django.utils import timezone

    from agencies.models import Agency, User
    from enquiries.models import Enquiry, EnquiryPerson, ReferrerType
    from enquiries.services import PersonDetails, enquiry_intake
    from sharing import services
    from sharing.models import LawfulBasis, Sensitivity

    researcher = User.objects.get(username="researcher")
    enquiry = enquiry_intake(
        actor=researcher,
        received_at=timezone.now() - timedelta(minutes=30),
        referrer_name="Ms Head",
        referrer_type=ReferrerType.objects.get(code="school"),
        subjects=[PersonDetails(first_name="Bench", last_name=f"Subject {tag}")],
        subject_type=Enquiry.SubjectType.CHILD,
        concern="Bruising noticed at school.",
        categories=["physical_abuse"],
        consent=Enquiry.Consent.YES,
        others=[
            (
                PersonDetails(first_name="Bench", last_name="Parent"),
                EnquiryPerson.Role.PARENT_CARER,
            ),
            (
                PersonDetails(first_name="Bench", last_name="Partner"),
                EnquiryPerson.Role.ALLEGED_PERPETRATOR,
            ),
            (
                PersonDetails(first_name="Bench", last_name="Lodger"),
                EnquiryPerson.Role.HOUSEHOLD_MEMBER,
            ),
        ],
    )[0]
    people = [link.person for link in enquiry.involvements.select_related("person")]
    agencies = list(Agency.objects.filter(name__in=ANSWERING[:agency_count]))
    markers = {}
    today = timezone.localdate()
    for request in services.send_information_requests(
        enquiry=enquiry, actor=researcher, agencies=agencies
    ):
        owner = owners[request.agency.name]
        for number, state in enumerate(STATES):
            marker = f"bench-{tag}-a{request.agency_id:03d}-r{number}-end"
            markers[marker] = (request.agency.name, state)
            record = services.add_information_record(
                request=request,
                actor=owner,
                person=people[number % len(people)],
                summary=f"Summary {marker}",
                detail=f"What {request.agency.name} holds, {marker}. " * 6,
                source_system="Case management system",
                information_date=today - timedelta(days=30 * number + 1),
                sensitivity=Sensitivity.NON_SENSITIVE
                if state == "non_sensitive"
                else Sensitivity.SENSITIVE,
            )
            if state in ("release_requested", "released", "refused"):
                services.request_release(
                    record_pk=record.pk, actor=researcher, reason="Needed to assess the risk."
                )
            if state == "released":
                services.release_record(
                    record_pk=record.pk,
                    actor=owner,
                    reason="Pertinent to the risk assessment.",
                    necessary_and_proportionate=True,
                    lawful_basis=LawfulBasis.CHILDREN_ACT_1989_S47,
                    conditions="Not to be shared with the family.",
                    password=PRACTITIONER_PASSWORD,
                )
            if state == "refused":
                services.refuse_release(
                    record_pk=record.pk, actor=owner, reason="Live investigation."
                )
        request.refresh_from_db()
        services.send_answer(request=request, actor=owner, expected_version=request.version)
    return Built(enquiry.reference, agency_count, markers)


def inbox_sizes() -> str:
    from sharing.models import InformationRecord, InformationRequest, ReleaseStatus

    requests = InformationRequest.objects.filter(agency__name="Police")
    open_requests = requests.filter(status__in=InformationRequest.OPEN_STATUSES).count()
    awaiting = InformationRecord.objects.filter(
        agency__name="Police", release_status=ReleaseStatus.REQUESTED
    ).count()
    return (
        f"police inbox: {open_requests} open requests, {requests.count() - open_requests} "
        f"answered, {awaiting} records awaiting a release decision"
    )


def may_read(kind: str, owner: str, state: str) -> bool:
    """The firewall's rules, restated for the check: what each kind of user reads."""
    return state in ("non_sensitive", "released") or (kind == "practitioner" and owner == "Police")


def wrong_content(client, kind: str, built: Built) -> list[str]:
    """Records whose content the page shows when it should not, or hides when it should not."""
    from django.urls import reverse

    page = client.get(reverse("enquiry-detail", args=[built.reference])).content.decode()
    return [
        f"{kind} {'sees' if marker in page else 'misses'} {owner} {state} record"
        for marker, (owner, state) in built.markers.items()
        if (marker in page) != may_read(kind, owner, state)
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    page_timing_options(parser)
    database_url_option(parser, "BENCH_FIREWALL_DATABASE_URL", "mash_bench_firewall")
    parser.add_argument(
        "--enquiries", type=int, default=DEMO_ENQUIRIES, help="demo enquiries (default 10,000)"
    )
    options = parser.parse_args()

    name = django_on_fresh_database(options.database_url)
    from django.apps import apps
    from django.urls import reverse

    print(f"database: {name}, created afresh")
    elapsed = seed(options.enquiries)
    print(f"demo enquiries: {options.enquiries:,} with their sharing, seeded in {elapsed:.1f} s")
    owners = practitioners()
    small = build_enquiry("small", 2, owners)
    large = build_enquiry("large", 10, owners)
    bulk().refresh_statistics(*apps.get_app_config("sharing").get_models())
    print(
        f"enquiries: {small.reference} ({len(small.markers)} records from {small.agencies} "
        f"agencies), {large.reference} ({len(large.markers)} from {large.agencies})"
    )
    print(inbox_sizes())
    print(f"requests: {options.requests} timed per page, after {options.warm_up} to warm up")

    signed_in = signed_in_clients(USERS.values())
    wrong = [
        problem
        for kind, username in USERS.items()
        for built in (small, large)
        for problem in wrong_content(signed_in[username], kind, built)
    ]
    pages = [trivial_page()]
    for built in (small, large):
        url = reverse("enquiry-detail", args=[built.reference])
        for kind, username in USERS.items():
            pages.append(
                Page(
                    f"enquiry page, {len(built.markers)} records: {kind}",
                    username,
                    username,
                    [url],
                )
            )
    inbox = "agency inbox: practitioner"
    pages.append(
        Page(inbox, USERS["practitioner"], USERS["practitioner"], [reverse("agency-inbox")])
    )

    print()
    results = time_pages(pages, signed_in, options.requests, options.warm_up, ratio=True)
    return report(results, small, large, wrong)


def report(results: dict[str, Timing], small: Built, large: Built, wrong: list[str]) -> int:
    print(f"\nqueries with {len(small.markers)} and {len(large.markers)} records:")
    differ = []
    for kind in USERS:
        few = results[f"enquiry page, {len(small.markers)} records: {kind}"]
        many = results[f"enquiry page, {len(large.markers)} records: {kind}"]
        verdict = "same" if few.queries == many.queries else "DIFFERENT"
        if verdict != "same":
            differ.append(kind)
        print(f"  enquiry page: {kind:<20} {few.query_text:>4} {many.query_text:>4}  {verdict}")
    failed = sorted(name for name, timing in results.items() if timing.failures)
    if wrong:
        print("\nthe firewall showed the wrong content:\n  " + "\n  ".join(wrong))
    else:
        print("\ncontent check: each user read exactly the records the firewall allows")
    if differ:
        print(f"\nquery counts changed with the number of records: {', '.join(differ)}")
    if failed:
        print(f"\npages that failed: {', '.join(failed)}")
    return 1 if wrong or differ or failed else 0


if __name__ == "__main__":
    sys.exit(main())
