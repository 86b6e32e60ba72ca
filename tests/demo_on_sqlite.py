"""The demo on a fresh SQLite database (DATABASE_URL), in a process of its own, as `make demo`
has it: `python -m tests.at_instant tests.demo_on_sqlite WHAT`, so it seeds at the starting
test's instant. WHAT is one of:

- `enquiries`: seeded by the command, again to the same size, then topped up; prints what
  `test_demo.demo_facts` finds, as JSON on its last line;
- `sharing`: the hub, 400 enquiries and their sharing, twice; prints what
  `test_demo.sharing_facts` finds;
- `for-beat`: 100 enquiries and their sharing without the SLA scan `seed_demo` runs, so a scan
  from beat has events to record; then the red allowance changed to 120 minutes and the
  recompute of open deadlines queued, as a hub clock change in the admin does, for a worker
  started later to run.
"""

import io
import json
import sys

import django


def enquiries() -> dict:
    from django.core.management import call_command

    from demo.enquiries import seed_demo_enquiries
    from enquiries.models import Enquiry
    from tests.enquiries.test_demo import demo_facts

    call_command("seed_demo", "--enquiries", "300", stdout=io.StringIO())
    # The police's demo referral into the hub adds its own enquiries to the 300.
    seeded = Enquiry.objects.count()
    created = [seed_demo_enquiries(target=seeded), seed_demo_enquiries(target=seeded + 100)]
    return {"created": created, "seeded": seeded, "facts": demo_facts()}


def sharing() -> dict:
    from demo.enquiries import seed_demo_enquiries
    from demo.hub import seed_demo_hub
    from demo.sharing import seed_demo_sharing
    from tests.sharing.test_demo import sharing_facts

    seed_demo_hub()
    seed_demo_enquiries(target=400)
    seed_demo_sharing()
    again = seed_demo_sharing()
    return {"again": again.requests, "facts": sharing_facts(), "audit": audit_pages()}


def audit_pages() -> dict:
    """The auditor's log pages filtered by an enquiry and by a record, in both logs: their
    status codes and the rows each found."""
    from django.test import Client
    from django.test.utils import setup_test_environment

    from agencies.models import User
    from sharing.models import InformationRecord

    # The test client's host, and the context of the pages it reads.
    setup_test_environment()
    from django.urls import reverse

    from enquiries.models import Enquiry
    from enquiries.services import enquiry_escalate

    record = (
        InformationRecord.objects.select_related("enquiry", "agency")
        .filter(agency__kind="police", enquiry__state__in=Enquiry.OPEN_STATES)
        .order_by("pk")
        .first()
    )
    # Something in each log about the enquiry and the record: the police read their record,
    # correct where it came from, and a researcher escalates the enquiry.
    police = Client()
    police.force_login(User.objects.get(username="police"))
    police.get(reverse("sharing-record", args=[record.pk]))
    record.source_system = "Athena" if record.source_system != "Athena" else "Niche RMS"
    record.save(update_fields=["source_system"])
    enquiry_escalate(
        enquiry=record.enquiry,
        actor=User.objects.get(username="researcher"),
        reason="Checking the auditor's pages.",
    )
    client = Client()
    client.force_login(User.objects.get(username="auditor"))
    pages = {}
    for log in ("access", "changes"):
        for name, value in (("enquiry", record.enquiry.reference), ("record", record.pk)):
            page = client.get("/audit/", {"log": log, name: value})
            rows = len(page.context["page"].object_list) if page.status_code == 200 else None
            pages[f"{log} by {name}"] = {"status": page.status_code, "rows": rows}
    return pages


def for_beat() -> dict:
    from django.db import transaction

    from demo.enquiries import seed_demo_enquiries
    from demo.hub import seed_demo_hub
    from demo.sharing import seed_demo_sharing
    from enquiries.models import RagAllowance
    from enquiries.tasks import recompute_open_deadlines

    seed_demo_hub()
    seed_demo_enquiries(target=100)
    seed_demo_sharing()
    with transaction.atomic():
        red = RagAllowance.objects.get(rating="red")
        red.minutes = 120
        red.save()
        recompute_open_deadlines.delay_on_commit()
    return {}


def main() -> None:
    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    call_command("migrate", verbosity=0)
    seed = {"enquiries": enquiries, "sharing": sharing, "for-beat": for_beat}[sys.argv[1]]
    print(json.dumps(seed()))


if __name__ == "__main__":
    main()
