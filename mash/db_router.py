"""An optional read replica for reports and exports (`DATABASE_REPLICA_URL`).

With a replica configured (the "replica" alias, mash.settings), the reads of a report page or
download, and of the auditor's log export, go to it, so a long report never competes with the
hub's own work on the primary; code outside a request asks for the same with `from_replica()`.
Everything else reads from the primary, and every write goes to it: the access log entry an
export writes, above all. Once a request (or a `from_replica()` block) has written anything,
its later reads go to the primary too, so it never reads older data than it wrote.

Only the case data a report counts is read from the replica (`REPLICA_APPS`): who someone is,
their roles, session and second factor are always read from the primary, so an account
locked or a role removed a moment ago is never honoured from a copy that lags.

A replica that cannot be reached is not waited for: its reads go to the primary, and it is
tried again after `REPLICA_RETRY_SECONDS` (a report slower for a while beats a report that
fails because an optional copy is down).

Without `DATABASE_REPLICA_URL` the router is not installed at all.
"""

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections

from core.request_context import current_request

REPLICA = "replica"
# The pages whose reads a replica's few seconds of lag cannot mislead: reports of past periods
# and the exports, by URL name.
REPLICA_PAGES = frozenset({"report", "report-csv", "report-xlsx", "audit-export"})
# What a report or export counts; never accounts, roles, sessions or second factors.
REPLICA_APPS = frozenset({"enquiries", "sharing", "audit", "auditlog", "reports"})
# How long reads stay on the primary after the replica refused a connection.
REPLICA_RETRY_SECONDS = 30

logger = logging.getLogger(__name__)
# When this process may next try the replica (time.monotonic), after it could not connect.
_replica_retry_at = 0.0


@dataclass
class Reading:
    """Whether this request or block reads from the replica, until it writes."""

    from_replica: bool
    wrote: bool = False


_block: ContextVar[Reading | None] = ContextVar("replica_reading", default=None)
# The request being answered and how it reads, decided once its view is known.
_in_request: ContextVar[tuple[object, Reading] | None] = ContextVar(
    "replica_reading_in_request", default=None
)


@contextmanager
def from_replica() -> Iterator[None]:
    """Reads of case data in the block go to the replica, if there is one, until a write."""
    token = _block.set(Reading(from_replica=True))
    try:
        yield
    finally:
        _block.reset(token)


def _reading() -> Reading | None:
    if (block := _block.get()) is not None:
        return block
    request = current_request()
    if request is None:
        return None
    decided = _in_request.get()
    if decided is not None and decided[0] is request:
        return decided[1]
    match = getattr(request, "resolver_match", None)
    if match is None:
        return None  # not yet routed to a view: decide once it is
    reading = Reading(from_replica=match.url_name in REPLICA_PAGES)
    _in_request.set((request, reading))
    return reading


def _replica_reachable() -> bool:
    """Whether the replica can be read now: connected, or connecting at once. A failure sends
    this process's reads to the primary for `REPLICA_RETRY_SECONDS`, said once in the log."""
    global _replica_retry_at
    if REPLICA not in connections or time.monotonic() < _replica_retry_at:
        return False
    replica = connections[REPLICA]
    if replica.connection is not None:
        return True
    try:
        replica.ensure_connection()
    except DatabaseError as error:
        _replica_retry_at = time.monotonic() + REPLICA_RETRY_SECONDS
        logger.warning(
            "The read replica cannot be reached (%s); reports read the primary for %s s.",
            " ".join(str(error).split()) or type(error).__name__,
            REPLICA_RETRY_SECONDS,
        )
        return False
    return True


class ReplicaRouter:
    """Reads of case data for reports and exports to the replica; all else to the primary."""

    def db_for_read(self, model, **hints) -> str:
        reading = _reading()
        if (
            reading is not None
            and reading.from_replica
            and not reading.wrote
            and model._meta.app_label in REPLICA_APPS
            and _replica_reachable()
        ):
            return REPLICA
        return DEFAULT_DB_ALIAS

    def db_for_write(self, model, **hints) -> str:
        if (reading := _reading()) is not None:
            reading.wrote = True
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints) -> bool:
        return True  # the replica is a copy of the primary: its rows are the same rows

    def allow_migrate(self, db, app_label, model_name=None, **hints) -> bool:
        return db == DEFAULT_DB_ALIAS
