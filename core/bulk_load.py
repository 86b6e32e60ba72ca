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
day. Nothing here knows any app: callers say which models, and what rows. A load written in
SQL rather than built in Python (the benches' volumes) sets the same indexes and keys aside
with `indexes_set_aside`.
"""

from __future__ import annotations

import gc
import io
import json
import queue
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from operator import call, itemgetter
from typing import Any, NamedTuple, cast

from django.db import connection, models
from django.utils import timezone

from .bulk import Row, column

MAINTENANCE_WORK_MEM = "256MB"  # for each index build; the server's default is 64MB
SEND_SIZE = 1 << 20  # bytes handed to the server at a time
# COPY text built and waiting: bounds memory while the server catches up, or builds the
# indexes of a table already loaded (`BulkLoad.loaded`) while the caller builds more rows.
QUEUED_BYTES = 256 << 20
NULL = "\\N"
REMEMBERED = 4096  # text values a column remembers the COPY text of (`_Escaped`)


def escape(value: str) -> str:
    """A string as COPY text. Four `replace`s: `str.translate` with a table looks every
    character up in a dict, five times slower on the short strings a load is made of."""
    return (
        value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    )


class _Escaped(dict[Any, str]):
    """A text column's values as COPY text, remembered: a load repeats a few values (states,
    names from a list, the same note) millions of times, and a dict look-up in C costs a
    fraction of `escape`'s four `replace`s. Only the first `REMEMBERED` strings are kept, so
    a column of unique values (references) costs a miss more than `escape` and no memory."""

    def __missing__(self, value: Any) -> str:
        text = NULL if value is None else escape(str(value))
        if type(value) is str and len(self) < REMEMBERED:
            self[value] = text
        return text


class _JsonText:
    """A JSON column's values as COPY text, as `json.dumps(value, cls=encoder)` writes them,
    remembered for lists of plain values (the demo's categories: the same few lists a million
    times, each encoded in about 2 µs). A list is remembered by its items and their types,
    so that 1, 1.0 and True, equal in a dict, are told apart."""

    def __init__(self, encoder: type[json.JSONEncoder] | None) -> None:
        self.encode = (encoder or json.JSONEncoder)().encode
        self.known: dict[tuple, str] = {}

    def __call__(self, value: Any) -> str:
        if type(value) is not list:
            return escape(self.encode(value))
        try:
            key = (tuple(value), tuple(map(type, value)))
            return self.known[key]
        except TypeError:  # a list holding lists or objects
            return escape(self.encode(value))
        except KeyError:
            text = escape(self.encode(value))
            if len(self.known) < REMEMBERED:
                self.known[key] = text
            return text


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
        text = _JsonText(cast(models.JSONField, field).encoder)
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
    else:
        return _Escaped().__getitem__  # a string, or a choice (which is one), or None
    if field.null:
        return lambda value: NULL if value is None else text(value)
    return text


class BulkLoad:
    """One large load into `models`' tables, inside the caller's transaction (see the module's
    docstring). Rows go in with `insert` (dicts) or `send` (COPY text already made); ids
    with `reserve`; `loaded` says a table is complete, so its indexes are built while the
    caller builds other tables' rows; `finish` waits for the server, puts the rest of the
    schema back and ANALYZEs. The writer thread shares the transaction's connection: until
    `finish`, the caller queries the database only through `reserve` and after `wait`."""

    def __init__(self, *loaded: type[models.Model], set_aside: bool = True) -> None:
        if not bulk_load_possible():
            raise RuntimeError("a bulk load needs PostgreSQL")
        if connection.get_autocommit():
            raise RuntimeError("a bulk load runs inside the caller's transaction")
        self.models = loaded
        self.tables = [model._meta.db_table for model in loaded]
        self.restore: list[_Restore] = []
        self.analysed: set[str] = set()
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

    def loaded(self, *models: type[models.Model]) -> None:
        """No more rows go into these models' tables: their indexes and unique constraints
        are built again, and their statistics taken, by the writer once the rows queued
        before are in, while the caller goes on with the other tables (the demo's people,
        whose trigram indexes take longest, before their enquiries). Foreign keys wait for
        `finish`, when every table they join is complete."""
        quote = connection.ops.quote_name
        writer = cast(_Writer, self.writer)
        for table in (model._meta.db_table for model in models):
            now = [step for step in self.restore if step.table == table and not step.foreign]
            for step in now:
                writer.put(step.statement, None)
            writer.put(f"ANALYZE {quote(table)}", None)
            self.restore = [step for step in self.restore if step not in now]
            self.analysed.add(table)

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
            for step in self.restore:
                cursor.execute(step.statement)
            for table in self.tables:
                if table not in self.analysed:
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
    """A `BulkLoad` into `loaded`, finished when the block ends well; inside a transaction,
    with the garbage collector paused (`collector_paused`)."""
    with collector_paused():
        load = BulkLoad(*loaded, set_aside=set_aside)
        try:
            yield load
            load.finish()
        finally:
            load.abandon()


@contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector off for the block (as it was, after). Building a
    million rows makes millions of dicts and tuples, each of which counts towards the next
    collection, and each full collection walks every one still alive: a sixth of the time
    seeding 200,000 demo enquiries. Rows hold no reference cycles; reference counting frees
    them as before."""
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()


class _Restore(NamedTuple):
    """One statement that puts back what `_set_aside` took from a table."""

    table: str  # as the load names it
    statement: str
    foreign: bool  # a foreign key, which needs the table it refers to complete


def _set_aside(
    cursor: Any, tables: list[str], *, unique: bool = True, partial: bool = False
) -> list[_Restore]:
    """Drop the tables' foreign keys, unique constraints and secondary indexes; the statements
    that make each again, constraints after the indexes they may use. Primary keys stay: other
    tables' foreign keys hang on them. So do partial indexes, unless `partial`: they take few
    of the rows, and their condition, printed and read again, would come back written
    differently. Without `unique`, unique constraints and indexes stay too. A partitioned
    table's indexes and keys are its partitions': made again on the table, they are made on
    every partition."""
    cursor.execute(
        """
        SELECT c.conrelid::regclass::text, c.conname, c.contype,
               pg_get_constraintdef(c.oid),
               array_position(CAST(%s AS regclass[]), c.conrelid)
        FROM pg_constraint c
        WHERE c.conrelid = ANY(CAST(%s AS regclass[])) AND c.conparentid = 0
          AND (c.contype = 'f' OR (%s AND c.contype = 'u'))
          AND NOT EXISTS (
              SELECT 1 FROM pg_constraint f WHERE f.contype = 'f' AND f.conindid = c.conindid
                AND c.contype = 'u'
          )
        ORDER BY c.contype, c.conrelid, c.conname
        """,
        [tables, tables, unique],
    )
    constraints = cursor.fetchall()
    cursor.execute(
        """
        SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid),
               array_position(CAST(%s AS regclass[]), i.indrelid)
        FROM pg_index i
        WHERE i.indrelid = ANY(CAST(%s AS regclass[])) AND NOT i.indisprimary
          AND (%s OR NOT i.indisunique) AND (%s OR i.indpred IS NULL)
          AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
          AND NOT EXISTS (SELECT 1 FROM pg_inherits h WHERE h.inhrelid = i.indexrelid)
        ORDER BY i.indrelid, i.indexrelid
        """,
        [tables, tables, unique, partial],
    )
    indexes = cursor.fetchall()
    # A partitioned table's index, made on the table alone ("ON ONLY"), would stay invalid.
    restore = [
        _Restore(tables[at - 1], definition.replace(" ON ONLY ", " ON "), False)
        for _, definition, at in indexes
    ]
    for table, name, kind, definition, at in sorted(constraints, key=lambda c: c[2] == "f"):
        statement = f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}'
        restore.append(_Restore(tables[at - 1], statement, kind == "f"))
    for table, name, *_ in sorted(constraints, key=lambda c: c[2] != "f"):
        cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
    for index, *_ in indexes:
        cursor.execute(f"DROP INDEX {index}")
    return restore


@contextmanager
def indexes_set_aside(*tables: str, unique: bool = True, partial: bool = False) -> Iterator[None]:
    """The tables' secondary indexes and foreign keys set aside (`_set_aside`) while the block
    writes to them, in as many transactions as it likes, and made again when it ends, even
    by an error. For loads in SQL (`INSERT ... SELECT`, the benches' volumes); rows built in
    Python go through `BulkLoad`, which does the same inside the caller's transaction."""
    with connection.cursor() as cursor:
        restore = _set_aside(cursor, list(tables), unique=unique, partial=partial)
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"SET maintenance_work_mem = '{MAINTENANCE_WORK_MEM}'")
            for step in restore:
                cursor.execute(step.statement)
            cursor.execute("RESET maintenance_work_mem")


class _Writer:
    """A thread that sends the queued COPYs (and statements) through the transaction's own
    connection: its psycopg2 connection, used by one thread at a time (`drain` before any
    other query). At most `QUEUED_BYTES` of COPY text wait, unless one chunk is larger."""

    def __init__(self) -> None:
        connection.ensure_connection()
        self.raw = connection.connection
        self.queue: queue.Queue[tuple[str, bytes | None] | None] = queue.Queue()
        self.queued = 0  # bytes of COPY text waiting
        self.room = threading.Condition()
        self.failure: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="bulk-load-copy", daemon=True)
        self.thread.start()

    def put(self, sql: str, data: bytes | None) -> None:
        """Queue COPY text for `sql`, or (with `data` None) the statement `sql` itself."""
        self._raise()
        size = len(data or b"")
        with self.room:
            self.room.wait_for(lambda: not self.queued or self.queued + size <= QUEUED_BYTES)
            self.queued += size
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
                        if data is None:
                            cursor.execute(sql)
                        else:
                            cursor.copy_expert(sql, io.BytesIO(data), size=SEND_SIZE)
            except BaseException as error:  # noqa: BLE001 - raised again in the loading thread
                self.failure = error
            finally:
                with self.room:
                    self.queued -= len(item[1] or b"")
                    self.room.notify_all()
                self.queue.task_done()
        self.queue.task_done()
