"""Logs nobody can quietly rewrite (issue 16): PostgreSQL itself refuses the role the app runs
as every way of changing history, and the app still works as it.

The suite connects as a superuser, which pytest-django needs to empty tables between tests.
Most tests here open a second connection to the same test database as the runtime role
(tests.database.RUNTIME_ROLE, granted its privileges as the template database was migrated)
and try each rewrite. Privileges are checked before any row is read, so no committed rows are
needed, and each refusal is insufficient_privilege (42501): the append-only trigger, which
raises P0001, is never reached."""

from collections.abc import Iterator
from contextlib import contextmanager
from io import StringIO

import psycopg2
import pytest
from auditlog.models import LogEntry
from django.apps import apps
from django.core.checks import Tags, run_checks
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from agencies.models import Role
from audit.models import AccessLogEntry, AccountEvent
from mash import database_roles
from tests.audit.test_append_only import LOGS, fill_logs
from tests.database import OWNER_ROLE, RUNTIME_ROLE
from tests.factories import UserFactory

LOG_TABLES = [log._meta.db_table for log in LOGS]
INSUFFICIENT_PRIVILEGE = "42501"


@pytest.fixture(scope="module")
def runtime(django_db_setup, django_db_blocker) -> Iterator[psycopg2.extensions.connection]:
    """A second connection to the test database, as the runtime role. The grants are made
    again first: a transactional test that migrated back and forth (tests/test_migrations.py)
    may have run before, and the tables it made anew end with the test's flush."""
    with django_db_blocker.unblock():
        database_roles.grant_runtime_role(connection, RUNTIME_ROLE)
    database = connection.settings_dict
    second = psycopg2.connect(
        host=database["HOST"] or None,
        port=database["PORT"] or None,
        dbname=database["NAME"],
        user=RUNTIME_ROLE,
        # A statement that queued behind the suite's own connection would fail, not hang.
        options="-c lock_timeout=5s",
    )
    yield second
    second.close()


def run(runtime, sql: str) -> list[tuple]:
    """Runs `sql` as the runtime role and rolls it back."""
    try:
        with runtime.cursor() as cursor:
            cursor.execute(sql)
            return cursor.fetchall() if cursor.description else []
    finally:
        runtime.rollback()


def refused(runtime, sql: str) -> str:
    with pytest.raises(psycopg2.Error) as refusal:
        run(runtime, sql)
    assert refusal.value.pgcode == INSUFFICIENT_PRIVILEGE, refusal.value.pgerror
    return refusal.value.pgerror


REWRITES = {
    "update": "UPDATE {table} SET id = id",
    "delete": "DELETE FROM {table}",
    "truncate": "TRUNCATE {table}",
    "disable trigger": "ALTER TABLE {table} DISABLE TRIGGER append_only",
    "drop trigger": "DROP TRIGGER append_only ON {table}",
    "add a trigger": (
        "CREATE TRIGGER undo BEFORE INSERT ON {table} "
        "FOR EACH ROW EXECUTE FUNCTION refuse_log_change()"
    ),
    "drop table": "DROP TABLE {table}",
    "rename table": "ALTER TABLE {table} RENAME TO {table}_old",
}


@pytest.mark.parametrize("rewrite", REWRITES)
@pytest.mark.parametrize("table", LOG_TABLES)
def test_the_runtime_role_cannot_rewrite_a_log(runtime, table, rewrite):
    refusal = refused(runtime, REWRITES[rewrite].format(table=table))

    assert table in refusal


@pytest.mark.parametrize("table", LOG_TABLES)
def test_the_runtime_role_reads_and_adds_to_a_log(runtime, table):
    # No row is needed: INSERT's privilege is checked as UPDATE's is, before any row.
    assert run(runtime, f"SELECT count(*) FROM {table}")  # noqa: S608 (a table name from a model)
    assert run(runtime, f"INSERT INTO {table} SELECT * FROM {table} WHERE false") == []  # noqa: S608


def test_the_runtime_role_cannot_switch_the_triggers_off_for_its_session(runtime):
    refusal = refused(runtime, "SET session_replication_role = replica")

    assert "session_replication_role" in refusal


def test_the_runtime_role_cannot_create_a_table_or_function(runtime):
    refused(runtime, "CREATE TABLE public.shadow_log (id int)")
    refused(runtime, "CREATE FUNCTION public.nothing() RETURNS trigger LANGUAGE sql AS ''")


def test_the_runtime_role_is_not_the_owner_and_cannot_become_it(runtime):
    refused(runtime, f"SET ROLE {OWNER_ROLE}")
    refused(runtime, f"SET ROLE {connection.settings_dict['USER']}")  # the suite's superuser
    [(superuser, owned)] = run(
        runtime,
        "SELECT rolsuper, (SELECT count(*) FROM pg_class WHERE relowner = pg_roles.oid) "
        "FROM pg_roles WHERE rolname = current_user",
    )

    assert (superuser, owned) == (False, 0)


def test_the_runtime_role_writes_ordinary_tables(runtime):
    run(runtime, "UPDATE enquiries_enquiry SET updated_at = updated_at")
    run(runtime, "DELETE FROM django_session")
    run(runtime, "INSERT INTO django_session SELECT * FROM django_session WHERE false")


@contextmanager
def as_role(role: str) -> Iterator[None]:
    """The suite's own connection as `role` in the block (SET LOCAL: the test's rollback
    undoes it even if the block fails half way)."""
    with connection.cursor() as cursor:
        cursor.execute(f"SET LOCAL ROLE {role}")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET ROLE")


@pytest.mark.django_db
def test_the_app_writes_its_logs_as_the_runtime_role(client):
    with as_role(RUNTIME_ROLE):
        user = UserFactory(roles=[Role.RESEARCHER])
        client.force_login(user)
        fill_logs(user)

        assert client.get("/", follow=True).status_code == 200
        assert LogEntry.objects.filter(actor=user).exists()
        assert AccessLogEntry.objects.filter(user=user).exists()
        assert AccountEvent.objects.filter(user=user).exists()


def runtime_privileges() -> set[tuple[str, str]]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname, privilege_type FROM pg_class, aclexplode(relacl) "
            "WHERE relnamespace = 'public'::regnamespace AND grantee = %s::regrole",
            [RUNTIME_ROLE],
        )
        return set(cursor.fetchall())


def migrated() -> None:
    """What every `migrate` ends with (and a flush, which passes no plan, does not)."""
    last = [config for config in apps.get_app_configs() if config.models_module][-1]
    database_roles.grant_after_migrate(sender=last, using="default", plan=[])


@pytest.mark.django_db
def test_migrate_grants_the_runtime_role_exactly_what_the_app_needs():
    granted = runtime_privileges()

    for table in LOG_TABLES:
        assert {kind for name, kind in granted if name == table} == {"SELECT", "INSERT"}
    assert {kind for name, kind in granted if name == "enquiries_enquiry"} == {
        "SELECT",
        "INSERT",
        "UPDATE",
        "DELETE",
    }
    assert {kind for _, kind in granted} == {"SELECT", "INSERT", "UPDATE", "DELETE", "USAGE"}


@pytest.mark.django_db
def test_the_grants_after_migrate_restore_what_was_lost_and_are_idempotent():
    granted = runtime_privileges()
    with connection.cursor() as cursor:
        cursor.execute(f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {RUNTIME_ROLE}")
        cursor.execute(f"GRANT TRUNCATE ON {LOG_TABLES[0]} TO {RUNTIME_ROLE}")

    migrated()
    assert runtime_privileges() == granted
    migrated()
    assert runtime_privileges() == granted


@pytest.mark.django_db
def test_nothing_is_granted_after_a_flush_or_without_a_runtime_role(settings):
    last = [config for config in apps.get_app_configs() if config.models_module][-1]

    with CaptureQueriesContext(connection) as queries:
        database_roles.grant_after_migrate(sender=last, using="default")
        settings.DATABASE_RUNTIME_ROLE = ""
        migrated()

    assert queries.captured_queries == []


@pytest.mark.django_db
def test_a_role_migrating_as_the_runtime_role_grants_itself_nothing():
    with as_role(RUNTIME_ROLE), CaptureQueriesContext(connection) as queries:
        migrated()

    assert [query["sql"] for query in queries.captured_queries] == ["SELECT current_user"]


@pytest.mark.django_db
def test_the_command_grants_and_names_a_missing_role():
    out = StringIO()

    call_command("grant_runtime_role", stdout=out)
    with pytest.raises(CommandError, match="'nobody_here', which is not a role"):
        call_command("grant_runtime_role", role="nobody_here")

    assert "REVOKE UPDATE, DELETE ON " in out.getvalue()
    assert out.getvalue().endswith(
        f"{RUNTIME_ROLE} may read and write the tables, and only read and add to the logs.\n"
    )


def warnings() -> list[str]:
    return [
        message.id
        for message in run_checks(
            tags=[Tags.database], include_deployment_checks=True, databases=["default"]
        )
    ]


@pytest.mark.django_db
def test_the_deploy_check_warns_of_an_app_connected_as_a_superuser():
    assert warnings() == ["mash.W001"]
    assert database_roles.check_runtime_role(databases=None) == []


@pytest.mark.django_db
def test_the_deploy_check_warns_of_an_app_connected_as_the_owner():
    with connection.cursor() as cursor:
        cursor.execute(f"ALTER TABLE {LOG_TABLES[1]} OWNER TO {OWNER_ROLE}")

    with as_role(OWNER_ROLE):
        assert warnings() == ["mash.W002"]


@pytest.mark.django_db
def test_the_deploy_check_warns_until_the_runtime_role_is_granted_only_what_it_needs():
    with connection.cursor() as cursor:
        cursor.execute(f"GRANT TRUNCATE ON {LOG_TABLES[2]} TO {RUNTIME_ROLE}")
    with as_role(RUNTIME_ROLE):
        assert warnings() == ["mash.W003"]

    call_command("grant_runtime_role", stdout=StringIO())

    with as_role(RUNTIME_ROLE):
        assert warnings() == []
