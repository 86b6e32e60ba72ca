"""The database role the app runs as may read and add to the logs, and never rewrite them.

Two roles (docs/operations.md): an owner, which owns the database and its tables and runs
`migrate`, and the runtime role, named by DATABASE_RUNTIME_ROLE, that the web app, the worker
and beat connect as. The runtime role owns nothing and may not create in the schema, so
PostgreSQL itself refuses it ALTER TABLE (DISABLE TRIGGER among it), DROP and CREATE, and
`SET session_replication_role` (superusers only). On the three logs, and on each monthly
partition of the access log (audit.partitions), it holds SELECT and INSERT alone, so UPDATE,
DELETE and TRUNCATE are refused for want of the privilege, before the append-only trigger
(sharing migration 0004) is even asked.

The grants follow every `migrate`, new tables included (a post_migrate handler, connected in
mash.apps); `manage.py grant_runtime_role` makes them on demand; `manage.py check --deploy
--database default` warns when the app connects as a role that could rewrite the logs.

PostgreSQL only: the demo's SQLite database has no roles.
"""

from django.apps import apps
from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured
from django.db import connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper

from audit import protection


def log_tables() -> list[str]:
    return protection.log_tables(apps)


def _identifier(name: str) -> str:
    """A name quoted for SQL, as PostgreSQL's quote_ident does (Django's does not double `"`)."""
    return '"' + name.replace('"', '""') + '"'


def runtime_grants(role: str, *, schema: str, logs: list[str], owns_schema: bool) -> list[str]:
    """The statements that leave `role` able to read and write every table in `schema` but
    only read and add to the `logs` there; each is idempotent."""
    grantee, schema = _identifier(role), _identifier(schema)
    statements = [
        f"GRANT USAGE ON SCHEMA {schema} TO {grantee}",
        f"REVOKE CREATE ON SCHEMA {schema} FROM {grantee}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {schema} TO {grantee}",
        f"REVOKE TRUNCATE, REFERENCES, TRIGGER ON ALL TABLES IN SCHEMA {schema} FROM {grantee}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {schema} TO {grantee}",
    ]
    if logs:
        tables = ", ".join(f"{schema}.{_identifier(table)}" for table in logs)
        statements.append(f"REVOKE UPDATE, DELETE ON {tables} FROM {grantee}")
    if owns_schema:
        # PostgreSQL before 15 let every role create in `public`; only its owner can say no.
        statements.insert(0, f"REVOKE CREATE ON SCHEMA {schema} FROM PUBLIC")
    return statements


def grant_runtime_role(connection: BaseDatabaseWrapper, role: str) -> list[str]:
    """Grant `role` what the app needs and no more (`runtime_grants`), as the connected role,
    which must own the tables. Returns the statements run."""
    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        cursor.execute(
            "SELECT rolsuper, nspname, pg_has_role(nspowner, 'USAGE'), array("
            "  SELECT relname::text FROM pg_class"
            "  WHERE relnamespace = pg_namespace.oid AND relname = ANY(%s)"
            "  UNION SELECT partition.relname::text FROM pg_class AS partition"
            "  JOIN pg_inherits ON inhrelid = partition.oid"
            "  JOIN pg_class AS parent ON parent.oid = inhparent"
            "  WHERE parent.relnamespace = pg_namespace.oid AND parent.relname = ANY(%s)"
            "  ORDER BY 1"
            ") FROM pg_roles, pg_namespace WHERE rolname = %s AND nspname = current_schema()",
            [log_tables(), log_tables(), role],
        )
        found = cursor.fetchone()
        if found is None:
            raise ImproperlyConfigured(
                f"DATABASE_RUNTIME_ROLE is {role!r}, which is not a role in this PostgreSQL "
                'cluster: create it first (docs/operations.md "Database roles").'
            )
        # Only the logs there now: a migrate back to before one leaves it missing.
        superuser, schema, owns_schema, logs = found
        if superuser:
            raise ImproperlyConfigured(
                f"DATABASE_RUNTIME_ROLE is {role!r}, a superuser, which could rewrite the logs "
                "whatever it is granted: make it NOSUPERUSER."
            )
        statements = runtime_grants(role, schema=schema, logs=logs, owns_schema=owns_schema)
        for statement in statements:
            cursor.execute(statement)
    return statements


def _runtime_role_for(connection: BaseDatabaseWrapper) -> str:
    """The runtime role to grant to over this connection, or '' if there is none: not set, not
    PostgreSQL, or the connected role itself (a deployment with one role)."""
    role = settings.DATABASE_RUNTIME_ROLE
    if not role or connection.vendor != "postgresql":
        return ""
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user")
        (current,) = cursor.fetchone()
    return "" if role == current else role


def grant_after_migrate(sender, *, using: str, plan=None, **kwargs) -> None:
    """post_migrate: after `migrate` (which always passes a plan, empty or not; a flush passes
    none and creates no table), grant the runtime role its privileges on every table."""
    with_models = [config for config in apps.get_app_configs() if config.models_module]
    # Sent once per app: grant once, after the last app's tables exist.
    if plan is None or sender is not with_models[-1]:
        return
    connection = connections[using]
    if role := _runtime_role_for(connection):
        grant_runtime_role(connection, role)


ROLE_STATE = """
WITH here AS (SELECT oid, nspowner FROM pg_namespace WHERE nspname = current_schema()),
tables AS (
    SELECT pg_class.oid, relowner FROM pg_class JOIN here ON relnamespace = here.oid
    WHERE relname = ANY(%(logs)s)
),
logs AS (
    SELECT oid, relowner FROM tables
    UNION SELECT inhrelid, relowner FROM pg_inherits JOIN pg_class ON pg_class.oid = inhrelid
    WHERE inhparent IN (SELECT oid FROM tables)
)
SELECT
    current_user,
    (SELECT rolsuper FROM pg_roles WHERE rolname = current_user),
    EXISTS (SELECT FROM logs WHERE pg_has_role(relowner, 'MEMBER'))
        OR EXISTS (SELECT FROM here WHERE pg_has_role(nspowner, 'MEMBER')),
    EXISTS (SELECT FROM logs WHERE has_table_privilege(oid, 'UPDATE, DELETE, TRUNCATE, TRIGGER'))
        OR EXISTS (SELECT FROM here WHERE has_schema_privilege(oid, 'CREATE'))
"""


def check_runtime_role(app_configs=None, databases=None, **kwargs) -> list[checks.CheckMessage]:
    """Deploy check, run by `check --deploy --database default`: the role the app connects as
    must not be able to rewrite the logs."""
    found: list[checks.CheckMessage] = []
    for alias in databases or ():
        connection = connections[alias]
        if connection.vendor != "postgresql":
            continue
        with connection.cursor() as cursor:
            cursor.execute(ROLE_STATE, {"logs": log_tables()})
            role, superuser, owner, privileged = cursor.fetchone()
        if superuser:
            found.append(
                checks.Warning(
                    f"The app connects to the {alias!r} database as {role!r}, a superuser, "
                    "which can switch the logs' append-only triggers off and rewrite them.",
                    hint="Connect as a runtime role that owns nothing (docs/operations.md).",
                    id="mash.W001",
                )
            )
        elif owner:
            found.append(
                checks.Warning(
                    f"The app connects to the {alias!r} database as {role!r}, which owns (or "
                    "may act as the owner of) the logs or their schema, so it can truncate "
                    "them, drop them or switch their append-only triggers off.",
                    hint="Run migrations as the owner and the app as a runtime role that owns "
                    'nothing (docs/operations.md "Database roles").',
                    id="mash.W002",
                )
            )
        elif privileged:
            found.append(
                checks.Warning(
                    f"The app connects to the {alias!r} database as {role!r}, which may "
                    "update, delete, truncate or add triggers to the logs, or create tables.",
                    hint="Run `manage.py grant_runtime_role` as the owner.",
                    id="mash.W003",
                )
            )
    return found
