import time

from django.core.management.base import BaseCommand, CommandError

from agencies.demo import seed_demo_hub
from enquiries.demo import seed_demo_enquiries


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
        self.stdout.write("")
        self.stdout.write("Demo logins (username / password / agency / roles):")
        for user in result.users:
            self.stdout.write(
                f"  {user.username:<11} {user.password:<24} {user.agency:<24} "
                f"{', '.join(user.roles)}"
            )
