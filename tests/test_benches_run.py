"""The page benches still run: each at a tiny size, in a process of its own (they set their own
environment before Django loads), against a database of its own on the same PostgreSQL.

Their figures are for `make bench`; this is only so that a change to sign-in or to a page
cannot break them unseen, as two-factor sign-in once did (every page answered 302)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

from tests.database import template_name

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.skipif(
    settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql",
    reason="the benches run on PostgreSQL",
)


def bench_database_url(name: str, worker_id: str) -> str:
    database = settings.DATABASES["default"]
    login = ":".join(filter(None, [database["USER"], database.get("PASSWORD")]))
    return f"postgres://{login}@{database['HOST']}:{database['PORT']}/mash_bench_{name}_{worker_id}"


@pytest.mark.parametrize(
    ("bench", "arguments", "says"),
    # Each page's status and queries are checked on a first request of every url of it, before
    # any is timed (bench/harness.py `time_page`): the timed and warm-up requests, whose
    # figures this does not read, are kept to the fewest. The queue's ten are its sample of
    # enquiries.
    [
        (
            "firewall",
            ["--requests", "1", "--enquiries", "200"],
            "each user read exactly the records the firewall allows",
        ),
        # The enquiry page reads the same ten enquiries at both sizes. The sizes are small:
        # seeding a thousand was most of these tests' time, and what they check (every page
        # answers, its queries the same at both sizes) does not need a thousand.
        ("queue", ["--requests", "10", "--small", "100", "--enquiries", "120"], "enquiries: 120"),
        # The same child's page, and the same searches, at both sizes.
        ("people", ["--requests", "1", "--small", "100", "--enquiries", "110"], "enquiries: 110"),
        # The inbox, record search and auditor's log, over records and access-log entries
        # topped up in SQL (bench/volume.py).
        ("pages", ["--requests", "1", "--small", "100", "--enquiries", "110"], "enquiries: 110"),
        # Every page again, its time given to its parts (what a target asks of a page).
        ("anatomy", ["--requests", "1", "--enquiries", "100"], "person page"),
    ],
)
def test_the_bench_signs_in_and_reads_its_pages(bench, arguments, says, worker_id, django_db_setup):
    environment = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    # The suite's migrated template, copied in a moment, rather than migrating afresh (seconds).
    environment["BENCH_TEMPLATE_DATABASE"] = template_name(settings.DATABASES["default"]["NAME"])
    url = bench_database_url(bench, worker_id)

    finished = subprocess.run(
        [
            *[sys.executable, "-m", "tests.at_instant", f"bench/{bench}.py"],
            *["--warm-up", "0", *arguments, "--database-url", url],
        ],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )

    assert finished.returncode == 0, finished.stdout[-3000:] + finished.stderr[-3000:]
    assert "FAILED" not in finished.stdout
    assert says in finished.stdout
