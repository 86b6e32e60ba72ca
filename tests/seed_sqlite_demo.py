"""The demo's database without a worker: `python -m tests.seed_sqlite_demo ENQUIRIES` migrates
and seeds the database DATABASE_URL names, leaving out the SLA scan that `manage.py seed_demo`
runs, so a scan from beat has events to record; then changes the red allowance to 120 minutes
and queues the recompute of open deadlines, as a hub clock change in the admin does, for a
worker started later to run."""

import sys

import django


def main() -> None:
    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import transaction

    from agencies.demo import seed_demo_hub
    from enquiries.demo import seed_demo_enquiries
    from enquiries.models import RagAllowance
    from enquiries.tasks import recompute_open_deadlines
    from sharing.demo import seed_demo_sharing

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    call_command("migrate", verbosity=0)
    seed_demo_hub()
    seed_demo_enquiries(target=int(sys.argv[1]))
    seed_demo_sharing()
    with transaction.atomic():
        red = RagAllowance.objects.get(rating="red")
        red.minutes = 120
        red.save()
        recompute_open_deadlines.delay_on_commit()


if __name__ == "__main__":
    main()
