"""The test database, migrated once and copied at the start of each later run; and rows that
many tests share, made once.

Migrating a fresh test database takes seconds on every run. Instead, the first run keeps a
copy of its freshly migrated database as a PostgreSQL template named after every migration
file's content; later runs drop the test database and copy the template, which takes a
fraction of a second. That is safe where keeping the database itself (pytest-django's
`--reuse-db`) is not: every run still starts from exactly the state the migrations make,
whatever an earlier run left behind (rows a killed transactional test committed, data
migrations' rows an earlier flush emptied), and a changed, added or removed migration, here
or in an installed app, names another template, so it is migrated afresh. `--create-db`
migrates afresh too. Templates of other migrations are dropped when a new one is kept.
"""

import hashlib
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

import factory.random
import time_machine
from django.apps import apps
from django.db import connection, connections, transaction
from django.db.utils import DatabaseError

from mash import database_roles
from tests import instants

PREFIX = "tmpl_"
# The two roles of a deployment (docs/operations.md), on the test cluster: the suite itself
# connects as a superuser, which pytest-django needs to empty tables between tests; the tables'
# grants name the runtime role, which tests/audit/test_database_roles.py connects as.
OWNER_ROLE = "mash_test_owner"
RUNTIME_ROLE = "mash_test_app"
# Any fixed number: the advisory lock under which each xdist worker makes the roles.
ROLES_LOCK = 7_381_028


def migrations_digest() -> str:
    """Names the state the migrations make: every installed app's migration files, and the
    grants every migrate ends with (mash.database_roles)."""
    digest = hashlib.sha256()
    digest.update(Path(database_roles.__file__).read_bytes())
    for app in sorted(apps.get_app_configs(), key=lambda app: app.label):
        folder = Path(app.path) / "migrations"
        for path in sorted(folder.glob("*.py")):
            digest.update(f"{app.label}/{path.name}\0".encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def template_name(test_database: str) -> str:
    """`tmpl_<digest>_test_mash`: one per test database base name, shared by xdist workers."""
    base = test_database.rsplit("_gw", 1)[0]
    return f"{PREFIX}{migrations_digest()}_{base}"[:63]


def _admin(sql: str, *params) -> list[tuple]:
    """Runs `sql` outside any transaction on the server's maintenance database."""
    with connection._nodb_cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall() if cursor.description else []


def _quoted(name: str) -> str:
    return connection.ops.quote_name(name)


def make_roles() -> None:
    """The owner and runtime roles, made once per cluster: neither a superuser, neither able to
    make databases or roles. Roles are the cluster's, so every test database sees them."""
    for role in (OWNER_ROLE, RUNTIME_ROLE):
        _admin(
            f"""
            DO $$
            BEGIN
                PERFORM pg_advisory_xact_lock({ROLES_LOCK});
                IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{role}') THEN
                    CREATE ROLE {role} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION;
                END IF;
            END
            $$
            """
        )


def end_other_sessions(test_database: str) -> None:
    """Ends every other session on the test database before it is dropped: a connection a
    test's thread or child process left open would otherwise fail the whole run at its very
    end ("being accessed by other users")."""
    if connection.vendor != "postgresql":
        return
    connection.close()
    _admin(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
        "WHERE datname = %s AND pid <> pg_backend_pid()",
        test_database,
    )


@contextmanager
def one_worker_at_a_time(template: str, *, wait: bool = True) -> Iterator[None]:
    """While one xdist worker migrates a missing template, the others wait for it and then copy
    it, rather than every worker migrating the same database at once on the same cores. The
    lock is a session-level advisory lock, held on a connection of its own. Workers that will
    each migrate anyway (`--create-db`) need not wait."""
    if not wait or connection.vendor != "postgresql":
        yield
        return
    key = int(hashlib.sha256(template.encode()).hexdigest()[:15], 16)
    with connection._nodb_cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s)", [key])
        try:
            yield
        finally:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [key])


def template_exists(template: str) -> bool:
    return bool(_admin("SELECT 1 FROM pg_database WHERE datname = %s", template))


def copy_template(template: str, test_database: str) -> bool:
    """Replaces the test database with a copy of the template; False if that could not be
    done (a concurrent copy holding the template for long), so the caller migrates."""
    _admin(f"DROP DATABASE IF EXISTS {_quoted(test_database)}")
    for _ in range(20):
        try:
            _admin(f"CREATE DATABASE {_quoted(test_database)} TEMPLATE {_quoted(template)}")
        except DatabaseError as error:
            if "being accessed by other users" not in str(error):
                raise
            time.sleep(0.25)
        else:
            return True
    return False


def keep_as_template(test_database: str, template: str) -> None:
    """Copies the freshly migrated test database as the template, dropping older templates of
    the same base name. Another worker keeping it at the same time is no fault."""
    connections.close_all()
    same_base = re.compile(rf"{PREFIX}[0-9a-f]{{12}}_{re.escape(template.split('_', 2)[2])}")
    names = _admin("SELECT datname FROM pg_database WHERE datname LIKE %s", f"{PREFIX}%")
    for stale in {name for (name,) in names if same_base.fullmatch(name)} - {template}:
        try:
            _admin(f"DROP DATABASE IF EXISTS {_quoted(stale)}")
        except DatabaseError:
            pass  # being copied by another run right now; the next new template drops it
    try:
        _admin(f"CREATE DATABASE {_quoted(template)} TEMPLATE {_quoted(test_database)}")
    except DatabaseError as error:
        if "already exists" not in str(error):
            raise


T = TypeVar("T")


@contextmanager
def made_once_for_many_tests(django_db_blocker, key: str, make: Callable[[], T]) -> Iterator[T]:
    """Rows a whole module of tests can share, made once: for a module-scoped fixture.

    They are made inside a transaction that stays open while the tests run and is rolled back
    after them; each test's own transaction is a savepoint inside it, so it sees the rows, and
    what it changes is undone when it ends. They are made at the suite's instant with names
    that follow from `key`, as a test's own would. A test must not keep the Python objects
    across tests: take fresh copies from the database (as `Hub.fresh()` does)."""
    with django_db_blocker.unblock(), transaction.atomic():
        factory.random.reseed_random(key)
        with time_machine.travel(instants.session_instant(), tick=False):
            made = make()
        yield made
        transaction.set_rollback(True)


def indexes_and_constraints(*models) -> list[tuple]:
    """The models' tables' indexes and constraints, by name and definition: what a bulk load
    sets aside must come back exactly."""
    tables = [model._meta.db_table for model in models]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid) FROM pg_index "
            "WHERE indrelid = ANY(CAST(%s AS regclass[])) "
            "UNION ALL SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = ANY(CAST(%s AS regclass[])) ORDER BY 1, 2",
            [tables, tables],
        )
        return cursor.fetchall()
