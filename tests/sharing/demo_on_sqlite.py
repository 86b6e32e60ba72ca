"""The demo's information sharing on a fresh SQLite database, seeded twice; prints what
`test_demo.sharing_facts` finds, as JSON on its last line.

`test_demo.test_the_demo_is_the_same_on_sqlite` runs it through `tests.at_instant`, so it
seeds at that test's instant.
"""

import json

import django
from django.conf import settings


def main() -> None:
    django.setup()
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    from django.core.management import call_command

    from agencies.demo import seed_demo_hub
    from enquiries.demo import seed_demo_enquiries
    from sharing.demo import seed_demo_sharing
    from tests.sharing.test_demo import sharing_facts

    call_command("migrate", verbosity=0)
    seed_demo_hub()
    seed_demo_enquiries(target=400)
    seed_demo_sharing()
    again = seed_demo_sharing()
    print(json.dumps({"again": again.requests, "facts": sharing_facts()}))


if __name__ == "__main__":
    main()
