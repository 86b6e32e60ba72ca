"""Insert many generated rows fast: plain values straight to the database cursor.

`bulk_create` builds and prepares a model instance per row, about 0.1 ms each; seeding 100,000
demo enquiries inserts some 650,000 rows. Here rows are dicts of column values (attnames:
``family_id``, not ``family``) written with COPY on PostgreSQL and one `executemany` on
SQLite. Nothing is validated and no signals run (no audit log), so use it for generated data
only, inside a transaction.
"""

import io
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, datetime
from itertools import chain
from operator import itemgetter
from typing import Any, cast

from django.db import connection, models
from django.utils import timezone

Row = Mapping[str, Any]
Convert = Callable[[Any], Any]

COPY_CHUNK = 50_000  # rows per COPY: bounds the text buffer held in memory
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def reserve_ids(model: type[models.Model], count: int) -> list[int]:
    """Take `count` primary keys from the table's sequence, so rows can refer to each other
    before they are inserted, and later inserts never reuse them."""
    if count <= 0:
        return []
    quote = connection.ops.quote_name
    table, pk = model._meta.db_table, column(model._meta.pk)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                [quote(table), pk, count],
            )
            return [row[0] for row in cursor.fetchall()]
        # SQLite's AUTOINCREMENT keeps its high-water mark in sqlite_sequence; moving that on
        # is what reserves the ids (the transaction holds the write lock until commit).
        cursor.execute(f"SELECT coalesce(max({quote(pk)}), 0) FROM {quote(table)}")  # noqa: S608 - names from model metadata
        highest = cursor.fetchone()[0]
        cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
        highest = max([highest, *(row[0] for row in cursor.fetchall())])
        cursor.execute("DELETE FROM sqlite_sequence WHERE name = %s", [table])
        cursor.execute(
            "INSERT INTO sqlite_sequence (name, seq) VALUES (%s, %s)", [table, highest + count]
        )
        return list(range(highest + 1, highest + count + 1))


def insert_rows(model: type[models.Model], rows: Iterable[Row]) -> int:
    """Insert `rows` (all with the same keys) into `model`'s table; returns how many.

    Fields a row leaves out take their default, `auto_now` ones the current time; a left-out
    auto primary key is numbered by the database, a given one must come from `reserve_ids`.
    Generated columns are never written.
    """
    rows = iter(rows)
    first = next(rows, None)
    if first is None:
        return 0
    names = list(first)
    given = [_field(model, name) for name in names]
    defaults = _defaults(model, leaving_out=names)
    to_db = _to_copy_text if connection.vendor == "postgresql" else _to_sqlite
    converters = [to_db(field) for field in given]
    constants = tuple(to_db(field)(value) for field, value in defaults)
    pick = itemgetter(*names) if len(names) > 1 else lambda row: (row[names[0]],)
    values = (
        tuple([convert(value) for convert, value in zip(converters, pick(row), strict=True)])
        + constants
        for row in chain([first], rows)
    )
    table = model._meta.db_table
    columns = [column(field) for field in given] + [column(field) for field, _ in defaults]
    if connection.vendor == "postgresql":
        return _copy(table, columns, values)
    return _executemany(table, columns, values)


UPDATE_CHUNK = 1000  # rows per UPDATE: well inside both databases' limits on parameters


def update_rows(
    model: type[models.Model], objects: Sequence[models.Model], fields: list[str]
) -> int:
    """Write `fields` of each of `objects` (rows already saved, found by primary key) in one
    UPDATE per thousand: what `bulk_update` does, without the CASE it builds for every row and
    field (about 0.8 ms a row, where this takes a few hundredths). Nothing is validated and no
    signals run; returns how many rows were written."""
    if not objects:
        return 0
    quote = connection.ops.quote_name
    table, pk = quote(model._meta.db_table), model._meta.pk
    written = [concrete_field(model, name) for name in fields]
    postgres = connection.vendor == "postgresql"
    # PostgreSQL names a VALUES list's columns in its alias and is told their types; SQLite
    # calls them column1, column2... and takes values as they come.
    names = [f"c{index}" for index in range(len(written) + 1)]
    alias = f"v({', '.join(names)})" if postgres else "v"
    if not postgres:
        names = [f"column{index + 1}" for index in range(len(written) + 1)]
    assignments = ", ".join(
        f"{quote(column(field))} = "
        + (f"CAST(v.{name} AS {field.db_type(connection)})" if postgres else f"v.{name}")
        for field, name in zip(written, names[1:], strict=True)
    )
    row = "(" + ", ".join(["%s"] * (len(written) + 1)) + ")"
    count = 0
    with connection.cursor() as cursor:
        for start in range(0, len(objects), UPDATE_CHUNK):
            chunk = objects[start : start + UPDATE_CHUNK]
            params = [
                value
                for obj in chunk
                for value in (
                    obj.pk,
                    *(
                        field.get_db_prep_save(getattr(obj, field.attname), connection)
                        for field in written
                    ),
                )
            ]
            # Only names from the model's own metadata are formatted in; values are parameters.
            cursor.execute(
                f"UPDATE {table} SET {assignments} "  # noqa: S608
                f"FROM (VALUES {', '.join([row] * len(chunk))}) AS {alias} "
                f"WHERE {table}.{quote(column(pk))} = v.{names[0]}",
                params,
            )
            count += cursor.rowcount
    return count


def refresh_statistics(*models_loaded: type[models.Model]) -> None:
    """Let PostgreSQL's planner see the tables' new sizes now: until autovacuum next analyses
    them it plans for the old ones (a join over 100,000 rows planned for 8,000 ran 60 ms,
    not 1). SQLite keeps no statistics unless asked, and then never refreshes them."""
    if connection.vendor != "postgresql":
        return
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        for model in models_loaded:
            cursor.execute(f"ANALYZE {quote(model._meta.db_table)}")


def _field(model: type[models.Model], attname: str) -> models.Field:
    for field in model._meta.concrete_fields:
        if field.attname == attname:
            if field.generated:
                raise ValueError(f"{model.__name__}.{attname} is generated by the database")
            return field
    raise ValueError(f"{model.__name__} has no column {attname}")


def column(field: models.Field) -> str:
    """A concrete field's column: Django's `column` is None only for fields without one."""
    return cast(str, field.column)


def concrete_field(model: type[models.Model], name: str) -> models.Field:
    """A model's own field by name: one with a column, not a relation seen from its far side
    (for the statements written by hand)."""
    return cast(models.Field, model._meta.get_field(name))


def _defaults(
    model: type[models.Model], *, leaving_out: list[str]
) -> list[tuple[models.Field, Any]]:
    """Every other writable field with the value it takes when not given."""
    now = timezone.now()
    defaults = []
    for field in model._meta.concrete_fields:
        if field.attname in leaving_out or field.generated or field is model._meta.auto_field:
            continue
        auto_now = getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False)
        defaults.append((field, now if auto_now else field.get_default()))
    return defaults


def _to_sqlite(field: models.Field) -> Convert:
    """What SQLite's cursor takes for the field's values, as `get_db_prep_save` gives but
    without its per-value overhead."""
    kind = field.get_internal_type()
    if kind == "JSONField":
        encoder = cast(models.JSONField, field).encoder
        return _or_null(lambda value: json.dumps(value, cls=encoder))
    if kind == "DateTimeField":
        # As Django stores them there: naive text in the connection's zone (UTC).
        zone = connection.timezone
        return _or_null(lambda value: str(value.astimezone(zone).replace(tzinfo=None)))
    if kind == "DateField":
        return _or_null(date.isoformat)
    return lambda value: value


def _to_copy_text(field: models.Field) -> Convert:
    """The field's values in PostgreSQL COPY's text format."""
    kind = field.get_internal_type()
    if kind == "JSONField":
        encoder = cast(models.JSONField, field).encoder
        text = lambda value: _copy_escape(json.dumps(value, cls=encoder))  # noqa: E731
    elif kind == "DateTimeField":
        text = datetime.isoformat  # with its offset, so the zone it is in does not matter
    elif kind == "DateField":
        text = date.isoformat
    elif kind == "BooleanField":
        text = _copy_boolean
    else:
        text = _copy_escape
    return _or_null(text, null="\\N") if field.null else text


def _copy_escape(value: Any) -> str:
    return str(value).translate(_COPY_ESCAPES)


def _copy_boolean(value: bool) -> str:
    return "t" if value else "f"


def _or_null(convert: Convert, null: Any = None) -> Convert:
    return lambda value: null if value is None else convert(value)


def _executemany(table: str, columns: list[str], values: Iterable[tuple]) -> int:
    quote = connection.ops.quote_name
    sql = (
        f"INSERT INTO {quote(table)} ({', '.join(map(quote, columns))}) "  # noqa: S608 - names from model metadata
        f"VALUES ({', '.join(['%s'] * len(columns))})"
    )
    with connection.cursor() as cursor:
        # Any iterable of rows will do (the generator is never held in memory whole); the
        # stubs ask for a Sequence.
        cursor.executemany(sql, values)  # type: ignore[arg-type]
        return cursor.rowcount


def _copy(table: str, columns: list[str], lines: Iterable[tuple[str, ...]]) -> int:
    quote = connection.ops.quote_name
    sql = f"COPY {quote(table)} ({', '.join(map(quote, columns))}) FROM STDIN"
    count = 0
    with connection.cursor() as cursor:
        buffer = io.StringIO()
        for line in lines:
            buffer.write("\t".join(line))
            buffer.write("\n")
            count += 1
            if count % COPY_CHUNK == 0:
                _send(cursor, sql, buffer)
                buffer = io.StringIO()
        _send(cursor, sql, buffer)
    return count


def _send(cursor, sql: str, buffer: io.StringIO) -> None:
    if buffer.tell():
        buffer.seek(0)
        cursor.copy_expert(sql, buffer)
