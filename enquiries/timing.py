"""Stored timing that heals itself.

Each enquiry stores its deadline and thresholds, so the queue can sort and filter on them and
the SLA scan can judge them in the database, together with the `HubClock.version` they were
computed under (`Enquiry.timing_version`). Every change to what timing depends on (opening
hours, closures, bank holidays, the RAG allowances and their clocks, the at-risk share) bumps
that version in the transaction that saves it, and nothing more: the save returns at once.

`recompute_behind` then puts the clock in force on every open enquiry behind it, a bounded
batch per transaction, its rows locked with SKIP LOCKED so that two runs share the work. Beat
runs it every minute and a change queues it at once; nothing records progress but the rows
themselves, so a worker killed at any point leaves only rows still behind, which the next run
takes, with no one saving the clock again. What falls due with enquiries (information
requests' due times, kept by `sharing`) follows through `hooks.dependent_timings`.
"""

from dataclasses import dataclass

from django.db import transaction
from django.db.models import QuerySet, Subquery

from core.bulk import update_rows

from . import hooks
from .clock import Timing, clock_in_force
from .models import HUB_CLOCK_ID, Enquiry, HubClock

# Rows recomputed per transaction: each transaction holds its rows' locks for well under a
# second, so an edit of one of them waits no longer than that.
BATCH_SIZE = 500

TIMING_FIELDS = ["allowance_minutes", "deadline", "at_risk_from", "breached_from", "timing_version"]


def put_timing(enquiry: Enquiry, timing: Timing) -> list[str]:
    """Put a computed deadline and thresholds on the enquiry, with the clock version they
    were computed under; returns the fields to save."""
    enquiry.allowance_minutes = timing.allowance
    enquiry.deadline = timing.deadline
    enquiry.at_risk_from = timing.at_risk_from
    enquiry.breached_from = timing.breached_from
    enquiry.timing_version = timing.version
    return TIMING_FIELDS


def clock_version() -> Subquery:
    """The hub clock's version as committed now, inside the query that compares with it."""
    return Subquery(HubClock.objects.filter(pk=HUB_CLOCK_ID).values("version"))


def enquiries_behind(version: int | Subquery) -> QuerySet[Enquiry]:
    """Open enquiries whose stored timing an older clock computed (index
    `enquiry_open_timing_version`)."""
    return Enquiry.objects.filter(
        state__in=Enquiry.OPEN_STATES, timing_version__lt=version
    ).order_by()


def recompute_batch(*, batch_size: int = BATCH_SIZE) -> int:
    """Recompute at most `batch_size` open enquiries behind the clock, and what falls due with
    them (`hooks.timing_changed`), in one transaction; rows another transaction holds are left
    for a later batch. Returns how many it recomputed: 0 when it could take none."""
    with transaction.atomic():
        clock = clock_in_force()
        batch = list(
            enquiries_behind(clock.version)
            .select_for_update(skip_locked=True, no_key=True)
            .only("id", "rating", "received_at", *TIMING_FIELDS)[:batch_size]
        )
        if not batch:
            return 0
        for enquiry in batch:
            put_timing(
                enquiry, clock.timing(rating=enquiry.rating, received_at=enquiry.received_at)
            )
        update_rows(Enquiry, batch, TIMING_FIELDS)
        hooks.timing_changed.send(sender=Enquiry, enquiries=batch)
    return len(batch)


def recompute_behind(*, batch_size: int = BATCH_SIZE) -> dict[str, int]:
    """Recompute every open enquiry behind the clock, then every dependent time behind, a
    batch per transaction, until none is left that this run can take. Idempotent, and safe on
    any number of workers at once. Returns how many of each it recomputed."""
    done = {"enquiries": 0}
    # Two queries when nothing is behind, as on all but a few minutes of a hub's life.
    if enquiries_behind(clock_in_force().version).exists():
        while count := recompute_batch(batch_size=batch_size):
            done["enquiries"] += count
    for dependent in hooks.dependent_timings:
        done[dependent.label] = 0
        while count := dependent.catch_up(batch_size):
            done[dependent.label] += count
    return done


@dataclass(frozen=True)
class Behind:
    """How many stored times are still to be recomputed under the clock (and policy) in force:
    `counts` by kind, enquiries first."""

    counts: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def behind_count() -> Behind:
    """Open enquiries, and dependent times (open information requests), whose stored timing
    is behind the clock or policy in force: what the administration pages show while a change
    is being applied, and what a health check can watch (two queries, on partial indexes)."""
    counts = {"enquiries": enquiries_behind(clock_version()).count()}
    for dependent in hooks.dependent_timings:
        counts[dependent.label] = dependent.behind()
    return Behind(counts)
