import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from agencies.demo import seed_demo_hub
from enquiries.demo import seed_demo_enquiries
from enquiries.sla_scan import record_sla_events
from sharing.demo import seed_demo_sharing


class Command(BaseCommand):
    help = "Create the demo hub: its agencies and one login per role. Safe to run twice."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--enquiries",
            type=int,
            default=0,
            metavar="N",
            help="Top the hub up to N demo enquiries in every state and rating (default 0).",
        )

    def handle(self, *args, enquiries: int, **options) -> None:
        if enquiries < 0:
            raise CommandError("--enquiries must be 0 or more.")
        result = seed_demo_hub()
        self.stdout.write(
            f"Demo hub ready: {result.agencies_created} agencies and "
            f"{result.users_created} people created (the rest already existed)."
        )
        if enquiries:
            started = time.monotonic()
            created = seed_demo_enquiries(target=enquiries)
            self.stdout.write(
                f"Demo enquiries: {created} created in {time.monotonic() - started:.1f} s "
                f"(the hub now holds at least {enquiries})."
            )
            started = time.monotonic()
            shared = seed_demo_sharing()
            self.stdout.write(
                f"Demo information sharing: {shared.requests} requests and {shared.records} "
                f"records on {shared.enquiries} enquiries in {time.monotonic() - started:.1f} s."
            )
            # What the per-minute scan would have recorded by now, so the notifications
            # page has something in it without a Celery worker.
            started = time.monotonic()
            scan = record_sla_events()
            self.stdout.write(
                f"SLA scan: {scan.at_risk} at risk, {scan.breached} breached, "
                f"{scan.notifications} notifications in {time.monotonic() - started:.1f} s."
            )
        self.stdout.write("")
        self.stdout.write("Demo logins (username / password / agency / roles):")
        for user in result.users:
            self.stdout.write(
                f"  {user.username:<11} {user.password:<24} {user.agency:<24} "
                f"{', '.join(user.roles)}"
            )
        self.stdout.write("")
        if settings.TWO_FACTOR_REQUIRED:
            self.stdout.write(
                "Two-factor sign-in is on: each login sets up an authenticator app at its first "
                "sign-in (make demo switches it off)."
            )
        else:
            self.stdout.write(
                "Two-factor sign-in is off (TWO_FACTOR_REQUIRED=false): these passwords alone "
                "sign in, and every page says so."
            )
