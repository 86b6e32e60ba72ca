"""Time a hub-clock change over many open enquiries with Redis unreachable, and the catch-up.

Run from the repository root: ``python bench/timing.py [--enquiries 50000]``. It drops and
recreates its own PostgreSQL database (``BENCH_DATABASE_URL``, default ``mash_bench``; the name
must contain "bench"), migrates, writes that many open enquiries (and an information request
for every tenth) with their deadlines under the default clock, then, with the broker pointed at
a closed port, an administrator changes the Red allowance and the at-risk share on the admin
page. It prints how long the change took to answer, how many deadlines were then behind, how
long the per-minute catch-up (`enquiries.tasks.recompute_stale_deadlines`) took to bring them
all to the new clock, and checks every one against a fresh computation.
Exits 1 if the change took 2 s or more or a deadline is wrong.
"""

from __future__ import annotations

import argparse
import socket
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository root

from bench.harness import (  # noqa: E402 - takes this folder off the path first
    database_url_option,
    django_on_fresh_database,
    signed_in_client,
)

# Received over the last ten days, a minute apart in a cycle, so deadlines differ widely while
# the distinct (rating, minute) pairs to time stay few.
SPREAD_MINUTES = 10 * 24 * 60 - 7
RATINGS = ("red", "amber", "green", "none")


def make_open_enquiries(count: int, *, now: datetime, requests_every: int = 10) -> None:
    """`count` open enquiries (and an open information request for every `requests_every`-th,
    to one agency) with their timing under the clock in force, written in bulk (core.bulk):
    about 1.5 s for 50,000 on a laptop. Makes the agency and the user it needs."""
    from agencies.models import Agency, User
    from core import bulk
    from enquiries.clock import Timing, clock_in_force
    from enquiries.models import Enquiry, FamilyEnquiry, ReferrerType
    from sharing.models import InformationRequest, SharingPolicy
    from sharing.services import request_due_at

    clock = clock_in_force()
    policy = SharingPolicy.current()
    agency = Agency.objects.create(name=f"Bulk agency {now:%H%M%S%f}", kind="police")
    author = User.objects.create(username=f"bulk-{now:%H%M%S%f}", agency=agency)
    family = FamilyEnquiry.objects.create(reference=f"BULK-F-{now:%H%M%S%f}")
    referrer = ReferrerType.objects.get(code="police").pk
    ids = bulk.reserve_ids(Enquiry, count)
    timings: dict[tuple[str, int], Timing] = {}
    enquiries, requests = [], []
    for number, pk in enumerate(ids):
        rating, minutes = RATINGS[number % 4], number % SPREAD_MINUTES
        received = (now - timedelta(minutes=minutes)).replace(second=0, microsecond=0)
        timing = timings.get((rating, minutes))
        if timing is None:
            timing = timings[rating, minutes] = clock.timing(rating=rating, received_at=received)
        row = {
            "id": pk,
            "reference": f"BULK-{pk:08d}",
            "family_id": family.pk,
            "received_at": received,
            "referrer_name": "A referrer",
            "referrer_type_id": referrer,
            "subject_type": Enquiry.SubjectType.CHILD,
            "concern": "Bulk",
            "consent": Enquiry.Consent.YES,
            "state": Enquiry.State.SCREENING,
            "rating": rating,
            "allowance_minutes": timing.allowance,
            "deadline": timing.deadline,
            "at_risk_from": timing.at_risk_from,
            "breached_from": timing.breached_from,
            "timing_version": timing.version,
            "created_by_id": author.pk,
        }
        enquiries.append(row)
        if number % requests_every == 0:
            requests.append(
                {
                    "enquiry_id": pk,
                    "agency_id": agency.pk,
                    "question": "Bulk",
                    "requested_at": received,
                    "requested_by_id": author.pk,
                    "due_at": request_due_at(
                        Enquiry(
                            rating=rating, received_at=received, allowance_minutes=timing.allowance
                        ),
                        percent=policy.request_due_percent,
                        clock=clock,
                    ),
                    "clock_version": clock.version,
                    "policy_version": policy.version,
                }
            )
    bulk.insert_rows(Enquiry, enquiries)
    bulk.insert_rows(InformationRequest, requests)


def wrong_timings() -> int:
    """Open enquiries and open requests whose stored timing differs from a fresh computation
    under the clock and policy in force (enquiries.clock, sharing.services)."""
    from enquiries.clock import clock_in_force
    from enquiries.models import Enquiry
    from sharing.models import InformationRequest, SharingPolicy
    from sharing.services import request_due_at

    clock = clock_in_force()
    percent = SharingPolicy.current().request_due_percent
    fields = ("allowance_minutes", "deadline", "at_risk_from", "breached_from")
    wrong = 0
    for enquiry in Enquiry.objects.filter(state__in=Enquiry.OPEN_STATES).iterator(5000):
        timing = clock.timing(rating=enquiry.rating, received_at=enquiry.received_at)
        fresh = (timing.allowance, timing.deadline, timing.at_risk_from, timing.breached_from)
        wrong += tuple(getattr(enquiry, field) for field in fields) != fresh
    for request in (
        InformationRequest.objects.filter(status__in=InformationRequest.OPEN_STATUSES)
        .select_related("enquiry")
        .iterator(5000)
    ):
        wrong += request.due_at != request_due_at(request.enquiry, percent=percent, clock=clock)
    return wrong


def admin_form_data(response) -> dict[str, object]:
    """The admin change form as a browser would post it back, unchanged."""
    forms = [response.context["adminform"].form]
    for inline in response.context["inline_admin_formsets"]:
        forms.append(inline.formset.management_form)
        forms.extend(inline.formset.forms)
    data = {}
    for form in forms:
        for name in form.fields:
            value = form[name].value()
            if value is False or name == "DELETE":
                continue
            data[form.add_prefix(name)] = "" if value is None else value
    return data


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--enquiries", type=int, default=50_000)
    database_url_option(parser, "BENCH_DATABASE_URL", "mash_bench")
    arguments = parser.parse_args()
    name = django_on_fresh_database(arguments.database_url)

    from django.contrib.auth.models import Group
    from django.test.utils import setup_test_environment
    from django.utils import timezone

    from agencies.models import Agency, Role, User
    from enquiries.tasks import recompute_stale_deadlines
    from enquiries.timing import behind_count
    from mash.celery import app

    print(f"database: {name}")
    started = time.perf_counter()
    make_open_enquiries(arguments.enquiries, now=timezone.now())
    print(
        f"open enquiries: {arguments.enquiries:,}, written in {time.perf_counter() - started:.1f} s"
    )

    administrator = User.objects.create(
        username="bench-administrator", agency=Agency.objects.order_by("pk").first()
    )
    administrator.groups.add(Group.objects.get(name=Role.ADMINISTRATOR))
    client = signed_in_client(administrator)
    url = "/admin/enquiries/hubclock/1/change/"
    setup_test_environment()  # so the test client returns the page's context
    form = client.get(url)
    if form.status_code != 200:
        print(f"the clock's admin page answered {form.status_code}")
        return 1
    data = admin_form_data(form)
    data["ragallowance_set-0-minutes"] = "120"
    data["at_risk_percent"] = "80"
    app.conf.broker_url = f"redis://127.0.0.1:{closed_port()}/0"
    app.conf.task_always_eager = False
    started = time.perf_counter()
    response = client.post(url, data)
    answered = time.perf_counter() - started
    print(f"clock change with Redis unreachable: {response.status_code} in {answered:.2f} s")
    behind = behind_count()
    print(f"behind after the change: {behind.counts}")

    started = time.perf_counter()
    done = recompute_stale_deadlines.apply().get()
    print(f"catch-up: {done} in {time.perf_counter() - started:.1f} s")
    wrong = wrong_timings()
    print(f"behind after the catch-up: {behind_count().counts}; wrong: {wrong}")
    return 0 if response.status_code == 302 and answered < 2 and not wrong else 1


if __name__ == "__main__":
    sys.exit(main())
