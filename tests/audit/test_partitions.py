"""The access log, a table a month (audit.partitions, issue 23): each entry lands in its
month's partition, beat makes the months ahead, and every partition is as append-only as the
log was, for the tables' owner and the app's role, whether asked directly or through the log.

The tests run in 2030, months no partition was made for when the test database was migrated,
so each makes its own months inside its transaction."""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from agencies.models import Role
from audit import access_log, partitions
from audit.models import AccessLogEntry
from audit.tasks import add_access_log_months
from mash import database_roles
from tests.database import RUNTIME_ROLE

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.instant("2030-01-15T12:00"),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="SQLite keeps the access log in one table"
    ),
]

TABLE = partitions.TABLE
JANUARY, FEBRUARY, APRIL, MAY = (
    f"{TABLE}_2030_01",
    f"{TABLE}_2030_02",
    f"{TABLE}_2030_04",
    f"{TABLE}_2030_05",
)


def one(sql: str, *params):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()


def partition_of(entry: AccessLogEntry) -> str:
    return one(f"SELECT tableoid::regclass::text FROM {TABLE} WHERE id = %s", entry.pk)[0]  # noqa: S608


def log_at(user, at: datetime) -> AccessLogEntry:
    entry = AccessLogEntry(
        at=at, user=user, agency=user.agency, action="export", channel="export", reason="Export."
    )
    entry.save()
    return entry


@contextmanager
def as_role(role: str) -> Iterator[None]:
    """This connection as `role` until the block ends (SET LOCAL: the test's rollback undoes
    it), so it sees the partitions the test made and has not committed."""
    with connection.cursor() as cursor:
        cursor.execute(f"SET LOCAL ROLE {role}")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET ROLE")


def refused(sql: str, match: str) -> None:
    with pytest.raises(DatabaseError, match=match), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(sql)


def test_the_access_log_is_partitioned_by_month_with_a_default():
    strategy, key = one(
        "SELECT partstrat, pg_get_partkeydef(partrelid) FROM pg_partitioned_table "
        "WHERE partrelid = %s::regclass",
        TABLE,
    )

    assert (strategy, key) == ("r", "RANGE (at)")
    assert partitions.partitions()[-1] == partitions.DEFAULT_PARTITION


def test_beat_makes_this_month_and_the_next_three_once():
    assert add_access_log_months() == 4
    assert add_access_log_months() == 0

    made = [name for name in partitions.partitions() if "_2030_" in name]
    assert made == [JANUARY, FEBRUARY, f"{TABLE}_2030_03", APRIL]
    assert one(
        "SELECT pg_get_expr(relpartbound, oid) FROM pg_class WHERE relname = %s", FEBRUARY
    ) == ("FOR VALUES FROM ('2030-02-01 00:00:00+00') TO ('2030-03-01 00:00:00+00')",)


def test_an_entry_dated_next_month_lands_in_its_partition_and_the_chain_holds(make_user):
    user = make_user(Role.RESEARCHER)
    add_access_log_months()
    this_month = log_at(user, timezone.now())
    next_month = log_at(user, timezone.now() + timedelta(days=20))
    last_instant = log_at(user, datetime(2030, 2, 28, 23, 59, 59, 999999, tzinfo=UTC))
    first_instant = log_at(user, datetime(2030, 3, 1, tzinfo=UTC))

    assert partition_of(this_month) == JANUARY
    assert partition_of(next_month) == FEBRUARY
    assert partition_of(last_instant) == FEBRUARY
    assert partition_of(first_instant) == f"{TABLE}_2030_03"
    assert access_log.verify_access_log() is None
    out = StringIO()
    call_command("verify_access_log", stdout=out)
    assert "holds" in out.getvalue()


def test_an_entry_no_month_was_made_for_waits_in_the_default_and_keeps_its_month(make_user):
    user = make_user(Role.RESEARCHER)
    add_access_log_months()
    stray = log_at(user, datetime(2030, 5, 2, tzinfo=UTC))

    made = partitions.add_months_ahead(date(2030, 4, 1), months=1)

    assert partition_of(stray) == partitions.DEFAULT_PARTITION
    assert made == 0  # April was there; May has an entry in the default, so is left alone
    assert MAY not in partitions.partitions()
    assert AccessLogEntry.objects.filter(at__month=5).get() == stray


def test_the_months_asked_for_are_bounded():
    with pytest.raises(DatabaseError, match="months must be between 0 and 24"):
        partitions.add_months_ahead(date(2030, 1, 1), months=25)


def test_every_partition_has_the_append_only_trigger_even_one_made_later():
    add_access_log_months()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tgrelid::regclass::text FROM pg_trigger "
            "WHERE tgname = 'append_only' AND tgrelid::regclass::text LIKE %s",
            [f"{TABLE}%"],
        )
        with_trigger = {name for (name,) in cursor.fetchall()}

    assert with_trigger == {TABLE, *partitions.partitions()}
    assert {JANUARY, APRIL} <= with_trigger


def test_the_owner_cannot_change_or_delete_a_row_in_a_partition_directly(make_user):
    add_access_log_months()
    log_at(make_user(Role.RESEARCHER), timezone.now())

    refused(f"UPDATE {JANUARY} SET reason = 'Rewritten'", "UPDATE refused")  # noqa: S608
    refused(f"DELETE FROM {JANUARY}", "DELETE refused")  # noqa: S608
    refused(f"UPDATE {TABLE} SET reason = 'Rewritten'", "UPDATE refused")  # noqa: S608
    assert one(f"SELECT count(*) FROM {JANUARY}") == (1,)  # noqa: S608


def test_the_app_role_adds_through_the_log_and_cannot_rewrite_a_partition(make_user):
    database_roles.grant_runtime_role(connection, RUNTIME_ROLE)
    user = make_user(Role.RESEARCHER)
    with as_role(RUNTIME_ROLE):
        # Beat runs as the app's role, which may create nothing: the function may.
        assert add_access_log_months() == 4
        entry = log_at(user, timezone.now() + timedelta(days=20))

        for sql in (
            f"UPDATE {FEBRUARY} SET reason = 'Rewritten'",  # noqa: S608
            f"DELETE FROM {FEBRUARY}",  # noqa: S608
            f"TRUNCATE {FEBRUARY}",
            f"ALTER TABLE {FEBRUARY} DISABLE TRIGGER append_only",
            f"UPDATE {TABLE} SET reason = 'Rewritten'",  # noqa: S608
            f"DELETE FROM {TABLE}",  # noqa: S608
            f"UPDATE {partitions.DEFAULT_PARTITION} SET reason = 'Rewritten'",  # noqa: S608
        ):
            refused(sql, "permission denied|must be owner")
        assert one(f"SELECT reason FROM {FEBRUARY}") == ("Export.",)  # noqa: S608

    assert partition_of(entry) == FEBRUARY


def test_a_partition_made_later_has_the_logs_grants_and_no_more():
    database_roles.grant_runtime_role(connection, RUNTIME_ROLE)
    add_access_log_months()

    privileges = {
        table: one(
            "SELECT has_table_privilege(%s, %s, 'SELECT'), has_table_privilege(%s, %s, 'INSERT'),"
            " has_table_privilege(%s, %s, 'UPDATE, DELETE, TRUNCATE, TRIGGER')",
            *[RUNTIME_ROLE, table] * 3,
        )
        for table in (TABLE, JANUARY, APRIL, partitions.DEFAULT_PARTITION)
    }

    assert set(privileges.values()) == {(True, True, False)}


def test_the_deploy_check_sees_a_partition_the_app_role_could_rewrite():
    database_roles.grant_runtime_role(connection, RUNTIME_ROLE)
    add_access_log_months()
    with connection.cursor() as cursor:
        cursor.execute(f"GRANT UPDATE ON {APRIL} TO {RUNTIME_ROLE}")

    with as_role(RUNTIME_ROLE):
        found = database_roles.check_runtime_role(databases=["default"])

    assert [message.id for message in found] == ["mash.W003"]


@pytest.mark.django_db(transaction=True)
@pytest.mark.instant("2032-06-15T12:00")
def test_the_migration_moves_every_row_and_back_keeping_ids_the_chain_and_the_sequence(
    migration_data, make_user
):
    user = make_user(Role.RESEARCHER)
    before = [log_at(user, at) for at in (timezone.now() - timedelta(days=40), timezone.now())]
    assert {partition_of(entry) for entry in before} == {partitions.DEFAULT_PARTITION}

    call_command("migrate", "audit", "0003", verbosity=0)

    assert partitions.partitions() == []
    assert list(AccessLogEntry.objects.order_by("pk")) == before
    between = log_at(user, timezone.now())
    assert between.pk == before[-1].pk + 1

    call_command("migrate", "audit", verbosity=0)

    entries = list(AccessLogEntry.objects.order_by("pk"))
    assert entries == [*before, between]
    assert [partition_of(entry) for entry in entries] == [
        f"{TABLE}_2032_05",
        f"{TABLE}_2032_06",
        f"{TABLE}_2032_06",
    ]
    assert f"{TABLE}_2032_09" in partitions.partitions()
    assert log_at(user, timezone.now()).pk == between.pk + 1
    assert access_log.verify_access_log() is None
    assert one(
        "SELECT count(*) FROM pg_trigger WHERE tgname = 'append_only' AND tgrelid = %s::regclass",
        f"{TABLE}_2032_05",
    ) == (1,)
