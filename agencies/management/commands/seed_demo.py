from django.core.management.base import BaseCommand, CommandError

from agencies.demo import seed_demo_hub


class Command(BaseCommand):
    help = "Create the demo hub: its agencies and one login per role. Safe to run twice."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--enquiries",
            type=int,
            default=0,
            metavar="N",
            help="How many demo enquiries to create (default 0).",
        )

    def handle(self, *args, enquiries: int, **options) -> None:
        if enquiries < 0:
            raise CommandError("--enquiries must be 0 or more.")
        if enquiries:
            raise CommandError(
                "--enquiries needs the enquiry records, which this version of mash "
                "does not have yet; run it with --enquiries 0."
            )
        result = seed_demo_hub()
        self.stdout.write(
            f"Demo hub ready: {result.agencies_created} agencies and "
            f"{result.users_created} people created (the rest already existed)."
        )
        self.stdout.write("")
        self.stdout.write("Demo logins (username / password / agency / roles):")
        for user in result.users:
            self.stdout.write(
                f"  {user.username:<11} {user.password:<24} {user.agency:<24} "
                f"{', '.join(user.roles)}"
            )
