"""The logs are append-only in the database too, for every role and every connection: a trigger
refuses UPDATE and DELETE on the change log, the access log and the account log, whatever the
ORM, the admin, a management command or a psql session tries.

TRUNCATE is left alone (a row trigger never sees it): the test suite empties its tables with it
between tests. In production only the tables' owner may truncate; the app's database role
should not be it.

PostgreSQL only: the demo's SQLite database has no such guard.
"""

from django.db import migrations

FUNCTION = "refuse_log_change"
TRIGGER = "append_only"
LOGS = [("auditlog", "LogEntry"), ("sharing", "AccessLogEntry"), ("agencies", "AccountEvent")]


def _tables(apps) -> list[str]:
    return [apps.get_model(app, model)._meta.db_table for app, model in LOGS]


def refuse_changes(apps, schema_editor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        f"""
        CREATE FUNCTION {FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION '% refused: % is append-only', TG_OP, TG_TABLE_NAME
                USING HINT = 'Audit entries are never changed or deleted, by anyone.';
        END
        $$
        """,
        None,  # no parameters: the % signs are plpgsql's
    )
    for table in _tables(apps):
        schema_editor.execute(
            f"CREATE TRIGGER {TRIGGER} BEFORE UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION {FUNCTION}()"
        )


def allow_changes(apps, schema_editor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in _tables(apps):
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {TRIGGER} ON {table}")
    schema_editor.execute(f"DROP FUNCTION IF EXISTS {FUNCTION}()")


class Migration(migrations.Migration):
    dependencies = [
        ("agencies", "0004_account_events"),
        ("auditlog", "0017_add_actor_email"),
        ("sharing", "0003_answered_requests_index"),
    ]

    operations = [migrations.RunPython(refuse_changes, allow_changes, elidable=False)]
