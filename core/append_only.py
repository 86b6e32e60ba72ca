"""Logs that are only ever added to: the account log and the access log.

Neither a row nor a queryset of them can be changed or deleted through the ORM; PostgreSQL
triggers refuse the same to anyone who tries it in SQL (sharing migration 0004), and the role
the app runs as may only read and add to them (mash.database_roles).

A chained log goes further, for whoever owns the tables and could switch the triggers off:
each entry stores a SHA-256 over its own fields and the previous entry's hash, so an entry
edited, deleted or slipped in afterwards breaks the chain at that point (`broken_link`).
"""

import functools
import hashlib
import ipaddress
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ClassVar, cast

from django.db import connections, models, router, transaction

# Any fixed number: the one PostgreSQL advisory lock that puts writers to a chained log in
# a line, so each reads the hash of the entry before its own.
CHAIN_LOCK = 7_381_027


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise TypeError(self.model.append_only_message())

    def delete(self):
        raise TypeError(self.model.append_only_message())


class AppendOnlyModel(models.Model):
    """A log entry: written once, never changed. `log_name` names the log in the refusal."""

    log_name = "log"

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None:
            raise TypeError(self.append_only_message())
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise TypeError(self.append_only_message())

    @classmethod
    def append_only_message(cls) -> str:
        return f"The {cls.log_name} is append-only."


def _canonical(value):
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat(timespec="microseconds")
    return value


# What `json.dumps(..., sort_keys=True, separators=(",", ":"))` makes, without building an
# encoder for each entry: the hashes written so far were made by that call.
_PAYLOAD = json.JSONEncoder(sort_keys=True, separators=(",", ":"))


@functools.cache
def _address_fields(model: "type[ChainedLogModel]") -> frozenset[str]:
    """The chained fields holding an IP address, written in its canonical form."""
    return frozenset(
        name
        for name in model.chained_fields
        if isinstance(model._meta.get_field(name), models.GenericIPAddressField)
    )


def entry_digest(model: "type[ChainedLogModel]", values: Mapping, previous: str) -> str:
    """The hash of one entry: its `chained_fields` and the previous entry's hash. A page can
    log a hundred entries at once (the records it shows), so this is kept to the one pass."""
    addresses = _address_fields(model)
    fields = {}
    for name in model.chained_fields:
        value = values[name]
        if value and name in addresses:
            value = str(ipaddress.ip_address(value))
        fields[name] = _canonical(value)
    payload = _PAYLOAD.encode({"entry": fields, "previous": previous})
    return hashlib.sha256(payload.encode()).hexdigest()


def chain(
    model: "type[ChainedLogModel]",
    entries: "Iterable[ChainedLogModel | dict[str, Any]]",
    *,
    previous: str,
) -> str:
    """Give each entry (a model instance or a dict of attnames, in insertion order) the
    previous entry's hash and its own; returns the last."""
    for entry in entries:
        if isinstance(entry, models.Model):
            values = {name: getattr(entry, name) for name in model.chained_fields}
            entry.previous_hash = previous
            entry.hash = previous = entry_digest(model, values, previous)
        else:
            entry["previous_hash"] = previous
            entry["hash"] = previous = entry_digest(model, entry, previous)
    return previous


def _head_function(connection, model: type[models.Model]) -> str:
    """The log's `head_function`, if this database has it: asked once a connection, so code
    that runs before its migration, or after it was undone, still writes by two queries."""
    name = getattr(model, "head_function", "")
    if not name:
        return ""
    known = connection.__dict__.setdefault("chain_heads", {})
    if name not in known:
        with connection.cursor() as cursor:
            cursor.execute("SELECT to_regprocedure(%s) IS NOT NULL", [f"{name}(bigint)"])
            known[name] = cursor.fetchone()[0]
    return name if known[name] else ""


def forget_chain_heads(connection) -> None:
    """For a migration that makes or drops a head function: ask again."""
    connection.__dict__.pop("chain_heads", None)


def last_hash(model: type[models.Model], *, using: str) -> str:
    """The newest entry's hash, with the writers' lock taken on PostgreSQL: call it inside the
    transaction that inserts the next entries. (SQLite takes its write lock at BEGIN.)

    Where the log has a `head_function` on PostgreSQL, both in one call of it: a function's
    query keeps its plan for the session, where planning the same query across the access
    log's monthly tables each time, after the lock in a query of its own, took 1.7 ms of
    every page that logs (0.3 ms by the function)."""
    connection = connections[using]
    if connection.vendor == "postgresql":
        head = _head_function(connection, model)
        with connection.cursor() as cursor:
            if head:
                cursor.execute(f"SELECT {connection.ops.quote_name(head)}(%s)", [CHAIN_LOCK])
                return cursor.fetchone()[0] or ""
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [CHAIN_LOCK])
    newest = model._base_manager.using(using).order_by("-pk").values_list("hash", flat=True)
    return newest.first() or ""


# Columns whose values go to PostgreSQL as the model holds them: psycopg2 adapts ints and
# strings itself. Any other kind of column is prepared by its field, as Django would.
_AS_HELD = frozenset(
    {"AutoField", "BigAutoField", "BigIntegerField", "IntegerField", "ForeignKey", "CharField"}
    | {"TextField"}
)


def _insert_unnested(model: type[models.Model], objs: list, *, using: str) -> None:
    """Insert new entries in one statement, a column an array, and give each its id, as
    `bulk_create` does on PostgreSQL but without Django preparing each value of each entry
    through its field: that was half the Python of a page logging its hundred records."""
    connection = connections[using]
    fields = [field for field in model._meta.concrete_fields if not field.primary_key]
    columns = []
    for field in fields:
        if field.get_internal_type() in _AS_HELD:
            columns.append([getattr(obj, field.attname) for obj in objs])
        else:
            columns.append(
                [field.get_db_prep_save(field.pre_save(obj, True), connection) for obj in objs]
            )
    quote = connection.ops.quote_name
    sql = "INSERT INTO {} ({}) SELECT * FROM UNNEST({}) RETURNING {}".format(  # noqa: S608
        quote(model._meta.db_table),
        ", ".join(quote(cast(str, field.column)) for field in fields),
        ", ".join(f"%s::{field.db_type(connection)}[]" for field in fields),
        quote(cast(str, model._meta.pk and model._meta.pk.column)),
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, columns)
        ids = [pk for (pk,) in cursor.fetchall()]
    for obj, pk in zip(objs, ids, strict=True):
        obj.pk = pk
        obj._state.adding = False
        obj._state.db = using


class ChainedQuerySet(AppendOnlyQuerySet):
    def bulk_create(self, objs, *args, **kwargs):
        objs = list(objs)
        self._for_write = True  # the writing database, as Django's own bulk_create asks
        with transaction.atomic(using=self.db, savepoint=False):
            chain(self.model, objs, previous=last_hash(self.model, using=self.db))
            plain = not (args or kwargs) and all(obj.pk is None for obj in objs)
            if not (objs and plain and connections[self.db].vendor == "postgresql"):
                return super().bulk_create(objs, *args, **kwargs)
            _insert_unnested(self.model, objs, using=self.db)
            return objs


class ChainedLogModel(AppendOnlyModel):
    """An append-only log whose entries are hash-chained in id order. `chained_fields` names
    the columns (attnames) each hash covers: a fixed list, so a column added later leaves
    the hashes already written true."""

    chained_fields: tuple[str, ...] = ()
    # A PostgreSQL function, (lock) -> hash, that takes the writers' lock and returns the
    # newest entry's hash, if a migration made one (`last_hash`).
    head_function: ClassVar[str] = ""

    previous_hash = models.CharField(
        max_length=64, editable=False, help_text="The hash of the entry before this one."
    )
    hash = models.CharField(
        max_length=64,
        editable=False,
        help_text="SHA-256 over the entry's fields and the previous entry's hash.",
    )

    objects: ClassVar = ChainedQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None:
            raise TypeError(self.append_only_message())
        using = kwargs.get("using") or router.db_for_write(type(self), instance=self)
        with transaction.atomic(using=using, savepoint=False):
            chain(type(self), [self], previous=last_hash(type(self), using=using))
            super().save(*args, **kwargs)


@dataclass(frozen=True)
class BrokenLink:
    """The first entry at which a chain stops holding, and how."""

    entry_id: int
    reason: str

    def __str__(self) -> str:
        return f"entry {self.entry_id} {self.reason}"


def broken_link(model: type[ChainedLogModel], *, batch_size: int = 5000) -> BrokenLink | None:
    """Walk the chain from its first entry: the first break, or None if every entry holds.

    An entry whose own fields no longer make its hash was changed after it was written. An
    entry that does not name its predecessor's hash follows one that was deleted, changed and
    re-hashed, or slipped in."""
    previous = ""
    rows = model._base_manager.order_by("pk").values(
        "pk", "hash", "previous_hash", *model.chained_fields
    )
    for row in rows.iterator(chunk_size=batch_size):
        if row["hash"] != entry_digest(model, row, row["previous_hash"]):
            return BrokenLink(row["pk"], "was changed after it was written")
        if row["previous_hash"] != previous:
            return BrokenLink(
                row["pk"],
                "does not follow the entry before it: an entry before it was deleted or rewritten"
                if previous
                else "does not start the log: entries before it were deleted",
            )
        previous = row["hash"]
    return None
