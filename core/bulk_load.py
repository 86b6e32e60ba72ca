"""Load a great many rows into PostgreSQL as its manual's "Populating a Database" advises.

`core.bulk` COPYs rows into tables as they are, indexes, foreign keys and all: each new row
updates every index on its way in, and each deferred foreign key is checked row by row at
commit (at 100,000 imported enquiries, 11 s of the 38). A `BulkLoad` does what the manual
says for a load that is large beside its tables: inside the caller's transaction it locks
the tables, sets their secondary indexes, unique constraints and foreign keys aside, COPYs
the rows from a second thread (so PostgreSQL stores one chunk while Python builds the next),
then builds the indexes again in one sort each, adds the constraints back (one check of the
whole table each) and ANALYZEs. The schema comes back exactly as it was, by name and
definition, before the transaction can commit; a failure anywhere rolls all of it back.

While the load runs its tables take no other writes, and no reads once their indexes are
set aside: this is for seeding and for taking on a hub's past enquiries, not for the working
day. Nothing here knows any app: callers say which models, and what rows.
"""

from __future__ import annotations

import io
import json
import queue
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from operator import call, itemgetter, methodcaller
from typing import Any, cast

from django.db import connection, models
from django.utils import timezone

from .bulk import Row, column

MAINTENANCE_WORK_MEM = "256MB"  # for each index build; the server's default is 64MB
SEND_SIZE = 1 << 20  # bytes handed to the server at a time
QUEUED_CHUNKS = 3  # chunks built and waiting: bounds memory while the server catches up
NULL = "\\N"
_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
escape = methodcaller("translate", _ESCAPES)  # a value as COPY text, without a Python frame


def bulk_load_possible() -> bool:
    return connection.vendor == "postgresql"


class CopyFormat:
    """The COPY text of a model's rows given as dicts of `names` (attnames), every other
    column at its default: one converter a column, chosen once, none of them a Python call
    where a C one will do."""

    def __init__(self, model: type[models.Model], names: Sequence[str]) -> None:
        fields = {field.attname: field for field in model._meta.concrete_fields}
        given = [fields[name] for name in names]
        now = timezone.now()
        left = [
            field
            for field in model._meta.concrete_fields
            if field.attname not in names
            and not field.generated
            and field is not model._meta.auto_field
        ]
        self.table = model._meta.db_table
        self.columns = [column(field) for field in given + left]
        self.names = list(names)
        self.converters = [copy_text(field) for field in given]
        constants = [
            now
            if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False)
            else field.get_default()
            for field in left
        ]
        self.suffix = (
            "".join(
                "\t" + (NULL if value is None else copy_text(field)(value))
                for field, value in zip(left, constants, strict=True)
            )
            + "\n"
        )
        self.pick = itemgetter(*names) if len(names) > 1 else lambda row: (row[names[0]],)

    def line(self, row: Row) -> str:
        return "\t".join(map(call, self.converters, self.pick(row))) + self.suffix

    @property
    def sql(self) -> str:
        quote = connection.ops.quote_name
        return f"COPY {quote(self.table)} ({', '.join(map(quote, self.columns))}) FROM STDIN"


def copy_text(field: models.Field) -> Callable[[Any], str]:
    """The converter of a field's values to COPY's text format."""
    kind = field.get_internal_type()
    text: Callable[[Any], str]
    if kind == "JSONField":
        encoder = cast(models.JSONField, field).encoder
        text = lambda value: escape(json.dumps(value, cls=encoder))  # noqa: E731
    elif kind == "DateTimeField":
        text = datetime.isoformat  # with its offset, so the session's zone does not matter
    elif kind == "DateField":
        text = date.isoformat
    elif kind == "BooleanField":
        booleans = {True: "t", False: "f", None: NULL}
        return booleans.__getitem__
    elif isinstance(field, models.IntegerField) or (
        isinstance(field, models.ForeignKey) and isinstance(field.target_field, models.IntegerField)
    ):
        text = str
    elif field.null:
        return lambda value: NULL if value is None else escape(str(value))
    else:
        return escape  # a string (or a choice, which is one), never None
    if field.null:
        return lambda value: NULL if value is None else text(value)
    return text


class BulkLoad:
    """One large load into `models`' tables, inside the caller's transaction (see the module's
    docstring). Rows go in with `insert` (dicts) or `send` (COPY text already made); ids
    with `reserve`; `finish` waits for the server, puts the schema back and ANALYZEs. The
    writer thread shares the transaction's connection: until `finish`, the caller queries
    the database only through `reserve` and after `wait`."""

    def __init__(self, *loaded: type[models.Model], set_aside: bool = True) -> None:
        if not bulk_load_possible():
            raise RuntimeError("a bulk load needs PostgreSQL")
        if connection.get_autocommit():
            raise RuntimeError("a bulk load runs inside the caller's transaction")
        self.models = loaded
        self.tables = [model._meta.db_table for model in loaded]
        self.restore: list[str] = []
        self.writer: _Writer | None = None
        self.formats: dict[tuple[type[models.Model], tuple[str, ...]], CopyFormat] = {}
        quote = connection.ops.quote_name
        with connection.cursor() as cursor:
            # Lost on a crash before the commit is flushed; the load is all or nothing anyway.
            cursor.execute("SET LOCAL synchronous_commit = off")
            cursor.execute(f"SET LOCAL maintenance_work_mem = '{MAINTENANCE_WORK_MEM}'")
            cursor.execute(
                f"LOCK TABLE {', '.join(map(quote, self.tables))} IN SHARE ROW EXCLUSIVE MODE"
            )
            if set_aside:
                # A table with foreign keys still to check at commit cannot be altered:
                # check them now, then defer again, as Django declares them.
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
                cursor.execute("SET CONSTRAINTS ALL DEFERRED")
                self.restore = _set_aside(cursor, self.tables)
        self.writer = _Writer()

    def reserve(self, model: type[models.Model], count: int) -> range:
        """`count` primary keys from the table's sequence in one statement (not a row each),
        so rows can refer to each other before they are stored. The table lock keeps the
        app's own inserts from taking ids meanwhile; only another session calling `nextval`
        on the same sequence in the same instant could be given one of the block."""
        if count <= 0:
            return range(0)
        self._idle()
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT setval(seq, nextval(seq) + %s - 1) "
                "FROM (SELECT CAST(pg_get_serial_sequence(%s, %s) AS regclass) AS seq) AS s",
                [count, connection.ops.quote_name(model._meta.db_table), column(model._meta.pk)],
            )
            last = cursor.fetchone()[0]
        return range(last - count + 1, last + 1)

    def insert(self, model: type[models.Model], rows: Iterable[Row]) -> int:
        """Queue `rows` (dicts with the same keys) for the model's table; how many."""
        rows = list(rows)
        if not rows:
            return 0
        names = tuple(rows[0])
        form = self.formats.get((model, names))
        if form is None:
            form = self.formats[model, names] = CopyFormat(model, names)
        line = form.line
        self.send(form.sql, "".join([line(row) for row in rows]))
        return len(rows)

    def send(self, sql: str, text: str) -> None:
        """Queue COPY text (`CopyFormat` lines) for the statement `sql`."""
        if text:
            cast(_Writer, self.writer).put(sql, text.encode())

    def stored_before(self, model: type[models.Model], first_id: int) -> str:
        """A condition on the model's table picking the rows stored before this load: its
        ids come from the sequence after theirs."""
        return f"{connection.ops.quote_name(column(model._meta.pk))} < {int(first_id)}"

    def wait(self) -> None:
        """Wait until every row queued is in its table, so the caller can query them."""
        self._idle()

    def finish(self) -> None:
        """Every row stored, the indexes and constraints back, the statistics fresh."""
        self._idle()
        self.abandon()
        quote = connection.ops.quote_name
        with connection.cursor() as cursor:
            for statement in self.restore:
                cursor.execute(statement)
            for table in self.tables:
                cursor.execute(f"ANALYZE {quote(table)}")
        self.restore = []

    def abandon(self) -> None:
        """Stop the writer (after a failure, the transaction's rollback undoes the rest)."""
        if self.writer is not None:
            self.writer.stop()
            self.writer = None

    def _idle(self) -> None:
        # The connection may carry one statement at a time: the writer's COPY, or ours.
        if self.writer is not None:
            self.writer.drain()


@contextmanager
def bulk_load(*loaded: type[models.Model], set_aside: bool = True) -> Iterator[BulkLoad]:
    """A `BulkLoad` into `loaded`, finished when the block ends well; inside a transaction."""
    load = BulkLoad(*loaded, set_aside=set_aside)
    try:
        yield load
        load.finish()
    finally:
        load.abandon()


def _set_aside(cursor: Any, tables: list[str]) -> list[str]:
    """Drop the tables' foreign keys, unique constraints and secondary indexes; the statements
    that make each again, constraints after the indexes they may use. Primary keys stay: other
    tables' foreign keys hang on them. So do partial indexes: they take few of the rows, and
    their condition, printed and read again, would come back written differently."""
    cursor.execute(
        """
        SELECT c.conrelid::regclass::text, c.conname, c.contype,
               pg_get_constraintdef(c.oid)
        FROM pg_constraint c
        WHERE c.conrelid = ANY(CAST(%s AS regclass[])) AND c.contype IN ('f', 'u')
          AND NOT EXISTS (
              SELECT 1 FROM pg_constraint f WHERE f.contype = 'f' AND f.conindid = c.conindid
                AND c.contype = 'u'
          )
        ORDER BY c.contype, c.conrelid, c.conname
        """,
        [tables],
    )
    constraints = cursor.fetchall()
    cursor.execute(
        """
        SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
        FROM pg_index i
        WHERE i.indrelid = ANY(CAST(%s AS regclass[])) AND NOT i.indisprimary
          AND i.indpred IS NULL
          AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
        ORDER BY i.indrelid, i.indexrelid
        """,
        [tables],
    )
    indexes = cursor.fetchall()
    restore = [definition for _, definition in indexes]
    for table, name, _, definition in sorted(constraints, key=lambda c: c[2] == "f"):
        restore.append(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
    for table, name, _, _ in sorted(constraints, key=lambda c: c[2] != "f"):
        cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
    for index, _ in indexes:
        cursor.execute(f"DROP INDEX {index}")
    return restore


class _Writer:
    """A thread that sends the queued COPYs through the transaction's own connection: its
    psycopg2 connection, used by one thread at a time (`drain` before any other query)."""

    def __init__(self) -> None:
        connection.ensure_connection()
        self.raw = connection.connection
        self.queue: queue.Queue[tuple[str, bytes] | None] = queue.Queue(QUEUED_CHUNKS)
        self.failure: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="bulk-load-copy", daemon=True)
        self.thread.start()

    def put(self, sql: str, data: bytes) -> None:
        self._raise()
        self.queue.put((sql, data))

    def drain(self) -> None:
        self.queue.join()
        self._raise()

    def stop(self) -> None:
        self.queue.put(None)
        self.thread.join()

    def _raise(self) -> None:
        if self.failure is not None:
            failure, self.failure = self.failure, None
            raise failure

    def _run(self) -> None:
        while (item := self.queue.get()) is not None:
            try:
                if self.failure is None:
                    sql, data = item
                    with self.raw.cursor() as cursor:
                        cursor.copy_expert(sql, io.BytesIO(data), size=SEND_SIZE)
            except BaseException as error:  # noqa: BLE001 - raised again in the loading thread
                self.failure = error
            finally:
                self.queue.task_done()
        self.queue.task_done()
