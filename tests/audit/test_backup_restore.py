"""A backup restores whole (docs/operations.md "Backups and restores"): PostgreSQL's own pg_dump
of the database, pg_restore into an empty one, and the restored access log is the same chain,
still verifies, and still refuses to be changed; the tables triggers keep (the open enquiries'
names, the decisions counted by day) come back as they were, and their triggers with them."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import psycopg2
import pytest
from django.conf import settings
from django.db import connection

from agencies.models import Role
from audit import access_log
from audit.models import AccessLogEntry
from enquiries import services
from enquiries.models import Outcome
from reports import decisions
from tests import database
from tests.factories import police_notification

ROOT = Path(settings.BASE_DIR)

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's own backup"),
]

KEPT_BY_TRIGGERS = ("enquiries_openenquiryname", "reports_decisionday", "reports_decisionsummary")
TRIGGERS = (
    "SELECT tgrelid::regclass::text, tgname, tgenabled FROM pg_trigger WHERE NOT tgisinternal "
    "ORDER BY 1, 2"
)


def url_of(name: str) -> str:
    primary = settings.DATABASES["default"]
    login = ":".join(filter(None, [primary["USER"], primary.get("PASSWORD")]))
    return f"postgres://{login}@{primary['HOST']}:{primary['PORT']}/{name}"


def run(*command: str, **options) -> subprocess.CompletedProcess:
    return subprocess.run(command, capture_output=True, text=True, check=False, **options)


def counts(cursor) -> dict[str, int]:
    found = {}
    for table in (AccessLogEntry._meta.db_table, *KEPT_BY_TRIGGERS):
        cursor.execute(f"SELECT count(*) FROM {table}")  # noqa: S608 - our own table names
        found[table] = cursor.fetchone()[0]
    return found


@pytest.fixture
def restored_name():
    name = f"{settings.DATABASES['default']['NAME']}_restored"[:63]
    database._admin(f'DROP DATABASE IF EXISTS "{name}"')
    database._admin(f'CREATE DATABASE "{name}"')
    yield name
    database._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_a_backup_restores_with_its_chain_its_protection_and_its_kept_tables(
    tmp_path, make_user, restored_name
):
    # A test before this one that committed may have flushed the summary the migration made.
    decisions.keep_summary()
    researcher, manager = make_user(Role.RESEARCHER), make_user(Role.MANAGER)
    ann, bea = police_notification(researcher, "Ann", "Bea")
    services.enquiry_decide(
        enquiry=bea,
        actor=manager,
        outcome=Outcome.objects.get(code="nfa"),
        rationale="No further action.",
        expected_version=bea.version,
    )
    for number in range(3):
        access_log.log_access(
            user=researcher,
            action=AccessLogEntry.Action.SEARCH,
            channel=AccessLogEntry.Channel.SEARCH,
            terms=f"search {number}",
        )
    with connection.cursor() as cursor:
        before = counts(cursor)
        cursor.execute(TRIGGERS)
        triggers = cursor.fetchall()
    assert all(before.values()), before
    dump = tmp_path / "mash.dump"

    dumped = run(
        shutil.which("pg_dump") or "pg_dump",
        "--format=custom",
        f"--file={dump}",
        url_of(settings.DATABASES["default"]["NAME"]),
    )
    assert dumped.returncode == 0, dumped.stderr
    restoring = run(
        shutil.which("pg_restore") or "pg_restore",
        "--exit-on-error",
        f"--dbname={url_of(restored_name)}",
        str(dump),
    )
    assert restoring.returncode == 0, restoring.stderr

    restored = psycopg2.connect(url_of(restored_name))
    try:
        with restored.cursor() as cursor:
            assert counts(cursor) == before
            cursor.execute(
                f"SELECT hash FROM {AccessLogEntry._meta.db_table} ORDER BY id DESC LIMIT 1"  # noqa: S608
            )
            assert cursor.fetchone()[0] == AccessLogEntry.objects.order_by("-id")[0].hash
        with pytest.raises(psycopg2.Error, match="append-only"), restored.cursor() as cursor:
            cursor.execute(f"UPDATE {AccessLogEntry._meta.db_table} SET terms = 'rewritten'")  # noqa: S608
        restored.rollback()
        # The triggers came back too, each on its table: append-only, chain, names, counts.
        with restored.cursor() as cursor:
            cursor.execute(TRIGGERS)
            assert cursor.fetchall() == triggers
    finally:
        restored.close()

    verified = run(
        sys.executable,
        "manage.py",
        "verify_access_log",
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": url_of(restored_name), "DEBUG": "true"},
    )
    assert verified.returncode == 0, verified.stderr
    assert f"The access log holds: {before['sharing_accesslogentry']} entries" in verified.stdout
