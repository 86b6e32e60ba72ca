"""The access log's hash chain: every entry names the one before, so an edit, a deletion or an
insertion made by whoever owns the tables (and could set the append-only trigger aside) is
found, and the hourly check tells every auditor which entry it was."""

import threading
from datetime import timedelta
from io import StringIO

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, connections, transaction
from django.urls import reverse

from agencies.models import Role
from audit import access_log
from audit.access_log import check_access_log, verify_access_log
from audit.models import HEAD_FUNCTION, AccessLogEntry
from audit.tasks import verify_access_log as verify_task
from core.append_only import CHAIN_LOCK, entry_digest, forget_chain_heads, last_hash
from enquiries.models import Notification

TABLE = AccessLogEntry._meta.db_table
Log = AccessLogEntry.Action
Channel = AccessLogEntry.Channel


def write_entries(user, count: int) -> list[AccessLogEntry]:
    for number in range(count):
        access_log.log_access(
            user=user, action=Log.SEARCH, channel=Channel.SEARCH, terms=f"search {number}"
        )
    return list(AccessLogEntry.objects.order_by("pk"))


def as_the_owner(sql: str, *params) -> None:
    """What the tables' owner can do that the app's role cannot: set the trigger aside."""
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # ALTER waits for no deferred check
        cursor.execute(f"ALTER TABLE {TABLE} DISABLE TRIGGER append_only")
        cursor.execute(sql, params)
        cursor.execute(f"ALTER TABLE {TABLE} ENABLE TRIGGER append_only")


@pytest.mark.django_db
def test_each_entry_is_chained_to_the_one_before(make_user):
    entries = write_entries(make_user(Role.RESEARCHER), 4)

    assert entries[0].previous_hash == ""
    for before, after in zip(entries, entries[1:], strict=False):
        assert after.previous_hash == before.hash
    fields = {name: getattr(entries[2], name) for name in AccessLogEntry.chained_fields}
    assert entries[2].hash == entry_digest(AccessLogEntry, fields, entries[1].hash)
    assert len({entry.hash for entry in entries}) == 4
    assert verify_access_log() is None


@pytest.mark.django_db
def test_the_command_says_the_log_holds(make_user):
    write_entries(make_user(Role.RESEARCHER), 3)
    out = StringIO()
    call_command("verify_access_log", stdout=out)
    assert out.getvalue().strip() == "The access log holds: 3 entries, every one chained."


@pytest.mark.django_db
def test_an_entry_the_owner_edits_is_named(make_user):
    entries = write_entries(make_user(Role.RESEARCHER), 5)
    as_the_owner(f"UPDATE {TABLE} SET terms = 'nothing to see' WHERE id = %s", entries[2].pk)  # noqa: S608

    link = verify_access_log()
    assert link is not None
    assert (link.entry_id, link.reason) == (entries[2].pk, "was changed after it was written")
    with pytest.raises(CommandError, match=f"entry {entries[2].pk} was changed"):
        call_command("verify_access_log", stdout=StringIO())


@pytest.mark.django_db
def test_a_time_the_owner_moves_is_found(make_user):
    entries = write_entries(make_user(Role.RESEARCHER), 3)
    as_the_owner(
        f"UPDATE {TABLE} SET at = %s WHERE id = %s",  # noqa: S608
        entries[1].at - timedelta(days=30),
        entries[1].pk,
    )
    assert verify_access_log().entry_id == entries[1].pk


@pytest.mark.django_db
def test_an_entry_the_owner_deletes_is_found_at_the_next(make_user):
    entries = write_entries(make_user(Role.RESEARCHER), 5)
    as_the_owner(f"DELETE FROM {TABLE} WHERE id = %s", entries[2].pk)  # noqa: S608

    link = verify_access_log()
    assert link.entry_id == entries[3].pk
    assert "does not follow the entry before it" in link.reason


@pytest.mark.django_db
def test_deleting_the_first_entries_is_found(make_user):
    entries = write_entries(make_user(Role.RESEARCHER), 3)
    as_the_owner(f"DELETE FROM {TABLE} WHERE id = %s", entries[0].pk)  # noqa: S608

    link = verify_access_log()
    assert link.entry_id == entries[1].pk
    assert "entries before it were deleted" in link.reason


@pytest.mark.django_db
def test_an_edit_rehashed_by_the_owner_is_found_at_the_next_entry(make_user):
    """Someone who knows the scheme can make an edited entry's own hash right again, but not
    the next entry's record of it without rewriting everything after."""
    entries = write_entries(make_user(Role.RESEARCHER), 4)
    edited = entries[1]
    edited.terms = "something else"
    fields = {name: getattr(edited, name) for name in AccessLogEntry.chained_fields}
    rehashed = entry_digest(AccessLogEntry, fields, edited.previous_hash)
    as_the_owner(
        f"UPDATE {TABLE} SET terms = %s, hash = %s WHERE id = %s",  # noqa: S608
        "something else",
        rehashed,
        edited.pk,
    )
    assert verify_access_log().entry_id == entries[2].pk


@pytest.mark.django_db
def test_a_break_is_named_to_every_auditor_once(client, make_user):
    auditors = [make_user(Role.AUDITOR), make_user(Role.AUDITOR)]
    researcher = make_user(Role.RESEARCHER)
    entries = write_entries(researcher, 3)
    assert check_access_log() is None
    assert not Notification.objects.filter(kind=Notification.Kind.LOG_BROKEN).exists()

    as_the_owner(f"UPDATE {TABLE} SET reason = 'x' WHERE id = %s", entries[1].pk)  # noqa: S608
    assert verify_task() == entries[1].pk
    assert verify_task() == entries[1].pk

    told = Notification.objects.filter(kind=Notification.Kind.LOG_BROKEN)
    assert sorted(told.values_list("recipient", flat=True)) == sorted(a.pk for a in auditors)
    assert f"entry {entries[1].pk} was changed after it was written" in told.first().message
    assert not Notification.objects.filter(recipient=researcher).exists()

    client.force_login(auditors[0])
    page = client.get(reverse("notifications")).content.decode()
    assert "Access log broken" in page
    assert f"entry {entries[1].pk} was changed" in page
    assert reverse("audit-log") in page


@pytest.mark.django_db(transaction=True)
def test_writers_at_the_same_time_keep_one_chain(migration_data, make_user):
    """Each writer waits for the one before to commit, so no two entries name the same
    predecessor."""
    ContentType.objects.clear_cache()  # an earlier flush made them anew, with new ids
    user = make_user(Role.RESEARCHER)
    start = threading.Barrier(4)

    def write() -> None:
        try:
            start.wait(timeout=10)
            for number in range(10):
                access_log.log_access(
                    user=user, action=Log.SEARCH, channel=Channel.SEARCH, terms=str(number)
                )
        finally:
            connections.close_all()

    threads = [threading.Thread(target=write) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    entries = list(AccessLogEntry.objects.order_by("pk"))
    assert len(entries) == 40
    assert len({entry.previous_hash for entry in entries}) == 40
    assert verify_access_log() is None


@pytest.mark.django_db
def test_the_head_function_takes_the_writers_lock_and_reads_the_newest_hash(make_user):
    """One call where a write took two queries (audit migration 0006); on SQLite, the query
    it stands for."""
    with transaction.atomic():
        assert last_hash(AccessLogEntry, using="default") == ""
    entries = write_entries(make_user(Role.RESEARCHER), 3)

    with transaction.atomic():
        assert last_hash(AccessLogEntry, using="default") == entries[-1].hash
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' "
                    "AND pid = pg_backend_pid() AND objid = %s AND granted",
                    [CHAIN_LOCK],
                )
                assert cursor.fetchone() == (1,)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT to_regprocedure(%s) IS NOT NULL", [f"{HEAD_FUNCTION}(bigint)"])
            assert cursor.fetchone() == (True,)


@pytest.mark.django_db
@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite has no head function")
def test_without_the_head_function_a_write_takes_the_lock_and_reads_the_hash_itself(make_user):
    """As before audit migration 0006, or after it is undone: asked again once forgotten."""
    entries = write_entries(make_user(Role.RESEARCHER), 2)
    with connection.cursor() as cursor:
        cursor.execute(f"DROP FUNCTION {HEAD_FUNCTION}(bigint)")  # undone with the test
    database = connections["default"]
    forget_chain_heads(database)
    try:
        more = write_entries(entries[0].user, 1)
        assert more[-1].previous_hash == entries[-1].hash
        assert database.chain_heads == {HEAD_FUNCTION: False}
    finally:
        forget_chain_heads(database)
    assert verify_access_log() is None
