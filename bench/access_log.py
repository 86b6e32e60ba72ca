"""Time the access log as one table and as a table a month (audit.partitions), at a size.

    .venv/bin/python bench/access_log.py --entries 10000000 \\
        --database-url postgres://postgres@127.0.0.1:5432/mash_bench_log

On a fresh bench database, migrated to just before the access log is partitioned, it writes
`--entries` entries spread over the 24 months before now with one `INSERT ... SELECT` over
`generate_series` a million at a time (indexes and foreign keys made after, as PostgreSQL's
bulk-loading advice says), then times, on the one table:

- writing an entry as the app does (`audit.access_log.log_access`: the chain's lock, the last
  hash, the insert, the commit), one at a time;
- the auditor's first page (the newest 25 entries), and searches of one month: its newest 25
  entries, how many there were, the newest 25 exports in it, and one person's newest 25 and
  how many (the auditor's page, `sharing.filters.AuditFilter`, asks the same).

It then applies the migration that partitions the log (timing it), and times the same again.
The entries are not chained (as in bench/volume.py); nothing here verifies the chain.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.harness import (  # noqa: E402
    database_url_option,
    django_on_fresh_database,
    percentile,
    timed,
)

MONTHS = 24
CHUNK = 1_000_000
USERS = 50
UNUSABLE = "!"  # nobody signs in as a bench user
ACTIONS = ["view_person", "view_person", "view", "view", "search", "export", "read_log", "denied"]


def load(entries: int) -> float:
    """Seconds to write `entries` unchained entries over the `MONTHS` months before now."""
    from django.db import connection, transaction

    from agencies.models import Agency, User

    agency = Agency.objects.create(name="Bench Police", kind="police")
    users = User.objects.bulk_create(
        User(username=f"bench{n}", agency=agency, password=UNUSABLE) for n in range(USERS)
    )
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = 'sharing_accesslogentry'::regclass AND contype = 'f'"
        )
        keys = cursor.fetchall()
        cursor.execute(
            "SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid) FROM pg_index "
            "WHERE indrelid = 'sharing_accesslogentry'::regclass AND NOT indisprimary"
        )
        indexes = cursor.fetchall()
        for name, _ in keys:
            cursor.execute(f'ALTER TABLE sharing_accesslogentry DROP CONSTRAINT "{name}"')
        for name, _ in indexes:
            cursor.execute(f"DROP INDEX {name}")
    for first in range(0, entries, CHUNK):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                """
                INSERT INTO sharing_accesslogentry (
                    at, user_id, agency_id, role, action, channel, person_id, reason, terms,
                    address, request_id, hash, previous_hash)
                SELECT now() - make_interval(months => %(months)s)
                           + (g::float8 / %(entries)s) * make_interval(months => %(months)s),
                       (%(users)s::bigint[])[1 + g %% %(user_count)s], %(agency)s,
                       'researcher', (%(actions)s::text[])[1 + g %% %(action_count)s],
                       'page', NULL,
                       'Working on an enquiry as Researcher: deciding what the hub needs',
                       '', '10.0.0.1', md5(g::text), md5(g::text) || md5((g + 1)::text),
                       md5((g - 1)::text) || md5(g::text)
                FROM generate_series(%(first)s, %(last)s) AS g
                """,
                {
                    "months": MONTHS,
                    "entries": entries,
                    "users": [user.pk for user in users],
                    "user_count": USERS,
                    "agency": agency.pk,
                    "actions": ACTIONS,
                    "action_count": len(ACTIONS),
                    "first": first,
                    "last": min(first + CHUNK, entries) - 1,
                },
            )
    with connection.cursor() as cursor:
        cursor.execute("SET maintenance_work_mem = '256MB'")
        for _, definition in indexes:
            cursor.execute(definition)
        for name, definition in keys:
            cursor.execute(
                f'ALTER TABLE sharing_accesslogentry ADD CONSTRAINT "{name}" {definition}'
            )
    vacuum()
    return time.perf_counter() - started


def vacuum() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE sharing_accesslogentry")


def time_log(runs: int) -> dict[str, list[float]]:
    """Milliseconds for each write and each search of a month, in months cycled through."""
    from datetime import timedelta

    from django.utils import timezone

    from agencies.models import User
    from audit.access_log import log_access
    from audit.models import AccessLogEntry

    user = User.objects.order_by("pk").first()
    now = timezone.now()
    months = [
        (now - timedelta(days=30 * (n + 2)), now - timedelta(days=30 * (n + 1))) for n in range(12)
    ]

    def write(number: int) -> None:
        log_access(user=user, action="search", channel="search", terms=f"bench {number}")

    def month(number: int):
        start, end = months[number % len(months)]
        return AccessLogEntry.objects.filter(at__gte=start, at__lt=end)

    def by_user(number: int):
        return month(number).filter(user_id=users[number % len(users)])

    users = list(User.objects.filter(username__startswith="bench").values_list("pk", flat=True))
    return {
        "write one entry (as the app)": timed(write, runs * 10, warm_up=10),
        "the whole log: newest 25": timed(
            lambda n: list(AccessLogEntry.objects.order_by("-at", "-id")[:25]), runs, warm_up=3
        ),
        "a month: newest 25": timed(
            lambda n: list(month(n).order_by("-at", "-id")[:25]), runs, warm_up=3
        ),
        "a month: how many": timed(lambda n: month(n).count(), runs, warm_up=3),
        "a month: newest 25 exports": timed(
            lambda n: list(month(n).filter(action="export").order_by("-at", "-id")[:25]),
            runs,
            warm_up=3,
        ),
        "a month: one person's newest 25": timed(
            lambda n: list(by_user(n).order_by("-at", "-id")[:25]), runs, warm_up=3
        ),
        "a month: one person's, how many": timed(lambda n: by_user(n).count(), runs, warm_up=3),
    }


def table_size() -> str:
    """The log's size on disk, indexes included, and how many entries its DEFAULT holds."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_size_pretty(coalesce("
            "  (SELECT sum(pg_total_relation_size(relid))"
            "   FROM pg_partition_tree('sharing_accesslogentry')),"
            "  pg_total_relation_size('sharing_accesslogentry'))),"
            " (SELECT count(*) FROM pg_inherits"
            "  WHERE inhparent = 'sharing_accesslogentry'::regclass)"
        )
        size, partitions = cursor.fetchone()
        if not partitions:
            return size
        cursor.execute("SELECT count(*) FROM sharing_accesslogentry_default")
        (in_default,) = cursor.fetchone()
    return f"{size} in {partitions} partitions, {in_default} entries in the DEFAULT"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=30, help="timed searches of each kind")
    database_url_option(parser, "BENCH_ACCESS_LOG_DATABASE_URL", "mash_bench_log")
    options = parser.parse_args()

    django_on_fresh_database(options.database_url)
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", "audit", "0003", verbosity=0)
    loaded = load(options.entries)
    print(f"{options.entries:,} entries over {MONTHS} months loaded in {loaded:.1f} s")
    results = {"one table": time_log(options.runs)}
    print(f"one table: {table_size()}")
    started = time.perf_counter()
    call_command("migrate", "audit", verbosity=0)
    vacuum()
    connection.close()  # timed on a new connection, as the app's would be after a deploy
    print(f"partitioned by month in {time.perf_counter() - started:.1f} s: {table_size()}")
    results["a table a month"] = time_log(options.runs)

    print(f"\n| at {options.entries:,} entries | one table p50 / p95 | a table a month p50 / p95 |")
    print("|---|---|---|")
    for name in results["one table"]:
        cells = [
            f"{percentile(times[name], 50):.2f} / {percentile(times[name], 95):.2f} ms"
            for times in results.values()
        ]
        print(f"| {name} | {' | '.join(cells)} |")


if __name__ == "__main__":
    main()
