"""The logs are append-only in the database too, for every role and every connection: a
trigger refuses UPDATE and DELETE on the change log (django-auditlog's), the access log and the
account log, whatever the ORM, the admin, a management command or a psql session tries. And the
role the app runs as may only read and add to them (mash.database_roles grants by `LOGS`).

TRUNCATE is left alone (a row trigger never sees it): the test suite empties its tables with it
between tests. In production only the tables' owner may truncate; the app's role is not it.

PostgreSQL only: the demo's SQLite database has no such guard.
"""

FUNCTION = "refuse_log_change"
TRIGGER = "append_only"
LOGS = [("auditlog", "LogEntry"), ("audit", "AccessLogEntry"), ("audit", "AccountEvent")]


def log_tables(apps) -> list[str]:
    """The logs' tables, from `apps` (the project's, or a migration's historical state)."""
    return [apps.get_model(app, model)._meta.db_table for app, model in LOGS]


def refuse_changes_sql(tables: list[str]) -> list[str]:
    """Statements that make `tables` append-only; each may be run again."""
    return [
        f"""
        CREATE OR REPLACE FUNCTION {FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION '% refused: % is append-only', TG_OP, TG_TABLE_NAME
                USING HINT = 'Audit entries are never changed or deleted, by anyone.';
        END
        $$
        """,
        *(
            f"CREATE OR REPLACE TRIGGER {TRIGGER} BEFORE UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION {FUNCTION}()"
            for table in tables
        ),
    ]
