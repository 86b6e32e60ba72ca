"""The access log kept in one table a month (PostgreSQL declarative partitioning).

Two years of a hub's looks make some ten million entries: one table of them is vacuumed and
indexed whole, and a log that refuses deletes can never be trimmed. A table a month lets
PostgreSQL read only the months a search names, and a month past its retention can be
detached and archived whole (docs/performance.md).

The parent, `sharing_accesslogentry`, is PARTITION BY RANGE ("at"): each month (UTC) has its
own partition, `sharing_accesslogentry_2026_12`, and a DEFAULT partition takes any entry no
month has been made for yet, so an insert never fails for want of one.

PostgreSQL asks that a partitioned table's primary key include the partition key, so the
database's key is (id, at); Django still knows `id` as the primary key, and ids stay unique
because one sequence gives them all. Nothing refers to an access log entry by foreign key.

The append-only trigger and the grants hold on every partition: a row trigger made on the
parent is made on each partition, now and later, by PostgreSQL itself, and each partition
is given the parent's grants as it is made. Partitions are made ahead by
`access_log_months_ahead(first_month, months)`, installed by audit migration 0004 and run
daily by beat (audit.tasks): a SECURITY DEFINER function, because the role the app runs as
may create nothing. A month whose entries already went to the DEFAULT partition is left
there: moving them would mean deleting rows from an append-only log.

PostgreSQL only: the demo's SQLite database keeps one plain table.
"""

from django.db import connections
from django.utils import timezone

TABLE = "sharing_accesslogentry"
DEFAULT_PARTITION = f"{TABLE}_default"
FUNCTION = "access_log_months_ahead"
# Beat makes this month's partition and the next ones: a quarter's margin for a beat that
# stopped.
MONTHS_AHEAD = 3
# The most months one call makes: a caller passing a huge number makes a bounded few tables.
MOST_MONTHS = 24


def months_ahead_function_sql(schema: str) -> str:
    """The function that makes the monthly partitions from `first_month` to `months` after it,
    skipping any that exist, each with the parent's grants; it returns how many it made."""
    return f"""
    CREATE OR REPLACE FUNCTION {FUNCTION}(first_month date, months integer)
    RETURNS integer LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = {_identifier(schema)}, pg_temp
    AS $$
    DECLARE
        parent regclass := '{_identifier(schema)}.{TABLE}'::regclass;
        month date;
        partition_name text;
        starts timestamptz;
        ends timestamptz;
        grant_row record;
        made integer := 0;
    BEGIN
        IF months NOT BETWEEN 0 AND {MOST_MONTHS} THEN
            RAISE EXCEPTION 'months must be between 0 and {MOST_MONTHS}, not %', months;
        END IF;
        FOR step IN 0..months LOOP
            month := date_trunc('month', first_month) + make_interval(months => step);
            partition_name := '{TABLE}_' || to_char(month, 'YYYY_MM');
            CONTINUE WHEN to_regclass(quote_ident(partition_name)) IS NOT NULL;
            starts := month::timestamp AT TIME ZONE 'UTC';
            ends := (month + interval '1 month')::timestamp AT TIME ZONE 'UTC';
            -- Entries already in the DEFAULT partition would fall outside it: leave the month.
            CONTINUE WHEN EXISTS (
                SELECT FROM {DEFAULT_PARTITION} WHERE at >= starts AND at < ends
            );
            EXECUTE format(
                'CREATE TABLE %I PARTITION OF %s FOR VALUES FROM (%L) TO (%L)',
                partition_name, parent, starts, ends
            );
            FOR grant_row IN
                SELECT acl.grantee, string_agg(acl.privilege_type, ', ') AS privileges
                FROM pg_class, aclexplode(pg_class.relacl) AS acl
                WHERE pg_class.oid = parent AND acl.grantee <> pg_class.relowner
                GROUP BY acl.grantee
            LOOP
                EXECUTE format(
                    'GRANT %s ON %I TO %s',
                    grant_row.privileges,
                    partition_name,
                    CASE WHEN grant_row.grantee = 0 THEN 'PUBLIC'
                    ELSE quote_ident(pg_get_userbyid(grant_row.grantee)) END
                );
            END LOOP;
            made := made + 1;
        END LOOP;
        RETURN made;
    END
    $$
    """  # noqa: S608 (names from this module and the schema, quoted)


def _identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def add_months_ahead(first_month, *, months: int = MONTHS_AHEAD, using: str = "default") -> int:
    """Make the partitions of `first_month` and the `months` after it that are missing; the
    number made. Nothing on a database that does not partition the log."""
    connection = connections[using]
    if connection.vendor != "postgresql":
        return 0
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regprocedure(%s)", [f"{FUNCTION}(date, integer)"])
        (installed,) = cursor.fetchone()
        if installed is None:
            return 0
        cursor.execute(f"SELECT {FUNCTION}(%s, %s)", [first_month, months])
        (made,) = cursor.fetchone()
    return made


def partitions(using: str = "default") -> list[str]:
    """The access log's partitions, by name, DEFAULT last; none where it is one table."""
    connection = connections[using]
    if connection.vendor != "postgresql":
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT inhrelid::regclass::text FROM pg_inherits "
            "WHERE inhparent = to_regclass(%s) ORDER BY 1",
            [TABLE],
        )
        names = [name for (name,) in cursor.fetchall()]
    return sorted(names, key=lambda name: name == DEFAULT_PARTITION)


# Converting the table, both ways (audit migration 0004).


def _rows(schema_editor, sql: str, params=()) -> list[tuple]:
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _definitions(schema_editor, table: str) -> dict:
    """What a table is besides its columns: its primary key's name, other indexes, foreign
    keys and other constraints, its own triggers, grants and identity sequence."""
    (primary_key,) = _rows(
        schema_editor,
        "SELECT conname FROM pg_constraint WHERE conrelid = %s::regclass AND contype = 'p'",
        [table],
    )[0]
    indexes = [
        definition.replace(" ON ONLY ", " ON ")
        for (definition,) in _rows(
            schema_editor,
            "SELECT pg_get_indexdef(indexrelid) FROM pg_index "
            "WHERE indrelid = %s::regclass AND NOT indisprimary ORDER BY indexrelid",
            [table],
        )
    ]
    constraints = _rows(
        schema_editor,
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conrelid = %s::regclass AND contype <> 'p' AND conparentid = 0 ORDER BY oid",
        [table],
    )
    triggers = [
        definition
        for (definition,) in _rows(
            schema_editor,
            "SELECT pg_get_triggerdef(oid) FROM pg_trigger "
            "WHERE tgrelid = %s::regclass AND NOT tgisinternal AND tgparentid = 0 ORDER BY oid",
            [table],
        )
    ]
    grants = _rows(
        schema_editor,
        "SELECT CASE WHEN acl.grantee = 0 THEN 'PUBLIC' "
        "ELSE quote_ident(pg_get_userbyid(acl.grantee)) END, "
        "string_agg(acl.privilege_type, ', ') "
        "FROM pg_class, aclexplode(pg_class.relacl) AS acl "
        "WHERE pg_class.oid = %s::regclass AND acl.grantee <> pg_class.relowner "
        "GROUP BY acl.grantee ORDER BY 1",
        [table],
    )
    [(sequence,)] = _rows(schema_editor, "SELECT pg_get_serial_sequence(%s, 'id')", [table])
    return {
        "primary_key": primary_key,
        "indexes": indexes,
        "constraints": constraints,
        "triggers": triggers,
        "grants": grants,
        "sequence": sequence,
    }


def _convert(schema_editor, *, partitioned: bool) -> None:
    """Rebuild the access log as a partitioned table or back as a plain one, rows, ids,
    indexes, constraints, trigger, grants and sequence as they were. The rows are copied
    before the indexes and foreign keys are made, as PostgreSQL's bulk-loading advice says."""
    execute = schema_editor.execute
    old = f"{TABLE}_before"
    found = _definitions(schema_editor, TABLE)
    [(schema,)] = _rows(schema_editor, "SELECT current_schema()")
    position = f"SELECT last_value, is_called FROM {found['sequence']}"  # noqa: S608
    [(last_value, is_called)] = _rows(schema_editor, position)
    execute(f"ALTER TABLE {TABLE} RENAME TO {old}")
    execute(f"ALTER SEQUENCE {found['sequence']} RENAME TO {old}_id_seq")
    execute(
        f"CREATE TABLE {TABLE} (LIKE {old} INCLUDING DEFAULTS INCLUDING IDENTITY "
        "INCLUDING STORAGE INCLUDING COMMENTS)"
        + (' PARTITION BY RANGE ("at")' if partitioned else "")
    )
    if partitioned:
        execute(f"CREATE TABLE {DEFAULT_PARTITION} PARTITION OF {TABLE} DEFAULT")
        execute(months_ahead_function_sql(schema), None)
        months = _rows(
            schema_editor,
            f"SELECT DISTINCT date_trunc('month', at AT TIME ZONE 'UTC')::date FROM {old}",  # noqa: S608
        )
        for (month,) in months:
            execute(f"SELECT {FUNCTION}(%s, 0)", [month])
        execute(f"SELECT {FUNCTION}(%s, %s)", [timezone.now().date(), MONTHS_AHEAD])
    else:
        execute(f"DROP FUNCTION IF EXISTS {FUNCTION}(date, integer)")
    execute(f"INSERT INTO {TABLE} SELECT * FROM {old}")  # noqa: S608
    [(sequence,)] = _rows(schema_editor, "SELECT pg_get_serial_sequence(%s, 'id')", [TABLE])
    execute("SELECT setval(%s, %s, %s)", [sequence, last_value, is_called])
    execute(f"DROP TABLE {old}")
    key = "(id, at)" if partitioned else "(id)"
    execute(f"ALTER TABLE {TABLE} ADD CONSTRAINT {found['primary_key']} PRIMARY KEY {key}")
    for definition in found["indexes"]:
        execute(definition)
    for name, definition in found["constraints"]:
        execute(f"ALTER TABLE {TABLE} ADD CONSTRAINT {_identifier(name)} {definition}")
    for definition in found["triggers"]:
        execute(definition)
    tables = [TABLE, *(partitions_of(schema_editor) if partitioned else [])]
    for grantee, privileges in found["grants"]:
        for table in tables:
            execute(f"GRANT {privileges} ON {table} TO {grantee}")
    execute(f"ANALYZE {TABLE}")


def partitions_of(schema_editor) -> list[str]:
    return [
        name
        for (name,) in _rows(
            schema_editor,
            "SELECT inhrelid::regclass::text FROM pg_inherits WHERE inhparent = %s::regclass",
            [TABLE],
        )
    ]


def partition_by_month(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        _convert(schema_editor, partitioned=True)


def one_table_again(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        _convert(schema_editor, partitioned=False)
