"""The demo on a fresh SQLite database: seeded by the command, run again to the same size,
then topped up; prints what `test_demo.demo_facts` finds, as JSON on its last line.

`test_demo.test_the_demo_is_the_same_on_sqlite` runs it through `tests.at_instant`, so it
seeds at that test's instant.
"""

import io
import json

import django
from django.conf import settings


def main() -> None:
    django.setup()
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    from django.core.management import call_command

    from enquiries.demo import seed_demo_enquiries
    from tests.enquiries.test_demo import demo_facts

    call_command("migrate", verbosity=0)
    call_command("seed_demo", "--enquiries", "300", stdout=io.StringIO())
    created = [seed_demo_enquiries(target=300), seed_demo_enquiries(target=400)]
    print(json.dumps({"created": created, "facts": demo_facts()}))


if __name__ == "__main__":
    main()
