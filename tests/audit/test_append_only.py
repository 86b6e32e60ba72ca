"""The logs are append-only for everyone, administrators included: not in the admin, no
`auditlogflush`, and the database refuses to change or delete a row, whoever asks."""

from io import StringIO

import pytest
from auditlog.models import LogEntry
from django.contrib import admin
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command, get_commands
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction
from django.urls import NoReverseMatch, reverse

from agencies.models import Agency, Role
from audit.account_log import log_account_event
from audit.models import AccessLogEntry, AccountEvent
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

LOGS = [LogEntry, AccessLogEntry, AccountEvent]


def fill_logs(user) -> None:
    LogEntry.objects.log_create(
        user.agency, action=LogEntry.Action.UPDATE, changes={"name": ["Old", "New"]}, actor=user
    )
    AccessLogEntry.objects.create(
        user=user, agency=user.agency, action="export", channel="export", reason="Export."
    )
    log_account_event(AccountEvent.Kind.SIGNED_IN, user=user)


@pytest.fixture
def logged(make_user):
    user = make_user(Role.RESEARCHER)
    fill_logs(user)
    return user


def refused(sql: str) -> None:
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(sql)


@pytest.mark.parametrize("log", LOGS, ids=lambda model: model._meta.label)
def test_the_database_refuses_to_change_or_delete_a_log_row(logged, log):
    table = connection.ops.quote_name(log._meta.db_table)
    rows = log.objects.count()

    refused(f"UPDATE {table} SET id = id")  # noqa: S608 (a table name from the model)
    refused(f"DELETE FROM {table}")  # noqa: S608

    assert rows and log.objects.count() == rows


def test_the_change_log_cannot_be_edited_through_the_orm_either(logged):
    entry = LogEntry.objects.get(actor=logged)

    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        LogEntry.objects.filter(pk=entry.pk).update(object_repr="Rewritten")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        entry.delete()

    assert LogEntry.objects.get(pk=entry.pk).object_repr == entry.object_repr


def test_someone_in_the_change_log_cannot_be_deleted(make_user):
    # Deleting a user would blank the entry's actor (auditlog's SET_NULL): refused. People who
    # leave are deactivated instead (the admin offers no delete).
    person = UserFactory(roles=[Role.RESEARCHER])
    LogEntry.objects.log_create(
        person.agency, action=LogEntry.Action.UPDATE, changes={"name": ["A", "B"]}, actor=person
    )

    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        person.delete()

    assert LogEntry.objects.filter(actor=person).exists()


@pytest.mark.parametrize(
    "url",
    [
        "/admin/auditlog/logentry/",
        "/admin/auditlog/logentry/add/",
        "/admin/auditlog/logentry/1/change/",
        "/admin/auditlog/logentry/1/delete/",
        "/admin/sharing/accesslogentry/",
        "/admin/agencies/accountevent/",
        "/admin/agencies/accountevent/1/delete/",
        "/admin/audit/accesslogentry/",
        "/admin/audit/accountevent/",
        "/admin/audit/accountevent/1/delete/",
    ],
)
def test_not_even_a_superuser_finds_the_logs_in_the_admin(client, logged, url):
    client.force_login(UserFactory(roles=[Role.ADMINISTRATOR], is_superuser=True))
    rows = [log.objects.count() for log in LOGS]

    assert client.get(url).status_code == 404
    assert client.post(url, {"post": "yes"}).status_code == 404
    assert [log.objects.count() for log in LOGS] == rows


@pytest.mark.parametrize("log", LOGS, ids=lambda model: model._meta.label)
def test_no_log_is_registered_in_the_admin(log):
    assert not admin.site.is_registered(log)
    with pytest.raises(NoReverseMatch):
        reverse(f"admin:{log._meta.app_label}_{log._meta.model_name}_changelist")


@pytest.mark.parametrize("options", [["--yes"], ["--yes", "--truncate"], ["-b", "2030-01-01"]])
def test_auditlogflush_refuses_and_says_why(logged, options):
    assert get_commands()["auditlogflush"] == "audit"
    entries = LogEntry.objects.count()

    with pytest.raises(CommandError, match="append-only"):
        call_command("auditlogflush", *options, stdout=StringIO())

    assert entries and LogEntry.objects.count() == entries


def test_the_log_keeps_its_entries_when_their_type_is_gone(logged):
    # Content types are removed for models deleted from the code; their entries stay.
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        ContentType.objects.get_for_model(Agency).delete()


@pytest.mark.django_db(transaction=True)
def test_the_test_suite_still_empties_the_logs_between_tests(migration_data):
    # Transactional tests end with a flush, which truncates: a row trigger does not see it.
    fill_logs(UserFactory(roles=[Role.RESEARCHER]))

    call_command("flush", interactive=False, verbosity=0)

    assert [log.objects.count() for log in LOGS] == [0, 0, 0]


def append_only_tables() -> set[str]:
    """The tables given the trigger; not the access log's partitions, which have their log's."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tgrelid::regclass::text FROM pg_trigger "
            "WHERE tgname = 'append_only' AND tgparentid = 0"
        )
        return {row[0] for row in cursor.fetchall()}


@pytest.mark.django_db(transaction=True)
def test_the_trigger_migration_reverses_and_reapplies(migration_data):
    tables = {log._meta.db_table for log in LOGS}
    assert append_only_tables() == tables

    call_command("migrate", "sharing", "0003", verbosity=0)
    assert append_only_tables() == set()

    call_command("migrate", verbosity=0)
    assert append_only_tables() == tables
