"""Load a hub's past enquiries from its previous system's CSV export (issue 7).

The whole file is checked, and every problem reported at once, by line and column; a bad
file loads nothing. A small file (or any on SQLite) is checked first, then read a second time
and written in one transaction through `core.bulk`, a chunk at a time. A large one on
PostgreSQL is read once (`_check_and_load`): each row is checked and, while no row has had a
problem, written through `core.bulk_load` (COPY from a second thread, the tables' indexes and
constraints set aside and built again at the end), all in one transaction that any problem
rolls back. Either way rows never sit in memory as models, and of a million rows only the
references that must be unique are held at once.

Imported enquiries have no subject (the old system sent no people), no referrer details and
no concern; their timing is what the clock in force computes, as for any other enquiry, so
reports count them on time or late in SQL like the rest.
"""

from __future__ import annotations

import csv
import io
import re
import time
from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from itertools import islice
from operator import itemgetter
from pathlib import Path
from typing import IO, Any, NamedTuple, cast

from django.db import connection, models, transaction
from django.utils import timezone

from agencies.models import Agency, User
from core.bulk import insert_rows, refresh_statistics, reserve_ids
from core.bulk_load import NULL, BulkLoad, CopyFormat, bulk_load, bulk_load_possible, escape
from core.text import control_character

from .clock import ClockInForce, Timing, clock_in_force
from .models import (
    Enquiry,
    EnquiryEvent,
    FamilyEnquiry,
    Outcome,
    Rag,
    ReferenceCounter,
    ReferrerType,
)
from .worktime import MIN_YEAR, working_minutes_between

COLUMNS = (
    "reference",
    "family_reference",
    "received_at",
    "rag",
    "decided_at",
    "outcome",
    "referrer_type",
)
RATINGS = {"red": Rag.RED, "amber": Rag.AMBER, "green": Rag.GREEN, "": Rag.NONE}
SYSTEM_USERNAME = "mash-import"
CHUNK = 20_000  # enquiries built and written at a time: bounds memory for a million
# From about this many rows, and as many as the hub holds already, a file on PostgreSQL is
# read once and bulk loaded; its rows are counted by its size (the bench's take 103 bytes).
BULK_FROM_ROWS = 20_000
ROW_BYTES = 100
PROGRESS_EVERY = 5_000
# The app's own references; imported ones in the same pattern move its counters past them.
APP_REFERENCE = re.compile(r"MASH-(?:F-)?(\d{4})-(\d{6,9})")
_NOT_UTF8 = re.compile("[\udc80-\udcff]")  # bytes that did not decode, kept as surrogates
NOT_UTF8_REASON = "not UTF-8 text; save the file as UTF-8 (CSV UTF-8 in Excel)"
MISSING = "missing; every row needs one"
_COLUMN_ORDER = {name: index for index, name in enumerate(COLUMNS)}
State = Enquiry.State
RECEIVED, DECISION = EnquiryEvent.Kind.RECEIVED, EnquiryEvent.Kind.DECISION
# As plain text for the COPY lines: formatting a choice goes through Python's Enum.
DECIDED, RECEIVED_TEXT, DECISION_TEXT = str(State.DECIDED), str(RECEIVED), str(DECISION)
REFERENCE_LENGTH = min(
    cast(int, Enquiry._meta.get_field("reference").max_length),  # a CharField's
    cast(int, FamilyEnquiry._meta.get_field("reference").max_length),
)

Source = str | Path | IO[bytes] | IO[str]
Progress = Callable[[str, int, int | None], None]  # phase, rows done, rows in all if known


@dataclass(frozen=True)
class Problem:
    """One reason a file cannot be loaded; line 0 is the file as a whole, 1 its header."""

    line: int
    column: str
    reason: str

    def __str__(self) -> str:
        if not self.line:
            return self.reason
        where = f"line {self.line}, {self.column}" if self.column else f"line {self.line}"
        return f"{where}: {self.reason}"


class BadFile(Exception):
    """The file cannot be loaded as it is; nothing was written."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(
            problems, key=lambda p: (p.line, _COLUMN_ORDER.get(p.column, -1), p.reason)
        )
        rows = len({p.line for p in self.problems if p.line > 1})
        if rows:
            summary = f"{rows:,} bad row{_s(rows)}"
            if len(self.problems) != rows:
                summary += f" ({len(self.problems):,} problems)"
        elif len(self.problems) == 1:
            reason = self.problems[0].reason
            summary = reason[:1].upper() + reason[1:]
        else:
            summary = f"The header has {len(self.problems)} problems"
        self.summary = f"{summary}; nothing was loaded."
        super().__init__(self.summary)


class CannotImport(Exception):
    """The hub is not ready to take the file (no user to log it under)."""


@dataclass(frozen=True)
class ImportResult:
    rows: int
    families: int
    decided: int
    seconds: float

    @property
    def open(self) -> int:
        return self.rows - self.decided

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds else 0.0

    def __str__(self) -> str:
        return (
            f"Loaded {self.rows:,} enquiries in {self.families:,} families "
            f"({self.decided:,} decided, {self.open:,} open) in {self.seconds:.1f} s, "
            f"{self.rows_per_second:,.0f} rows/second."
        )


class _Record(NamedTuple):
    reference: str
    family: str
    received_at: datetime
    rating: str
    decided_at: datetime | None
    outcome_id: int | None
    referrer_type_id: int


@dataclass
class _Checked:
    """What the checking pass learnt that loading needs."""

    rows: int
    families: list[str]  # in the order first seen
    decided: int
    highest: dict[int, int]  # year: highest number in the app's reference pattern


def import_enquiries(
    source: Source,
    *,
    user: User | str | None = None,
    now: datetime | None = None,
    progress: Progress | None = None,
    bulk: bool | None = None,
) -> ImportResult:
    """Check the whole file and load it in one transaction; raises `BadFile` (nothing
    written) with every problem found. `user` logs the enquiries: a user or a username,
    by default the inactive `mash-import` account. `bulk` chooses the bulk load (PostgreSQL
    only) over checking first and loading after; by default, a large file is bulk loaded."""
    started = time.perf_counter()
    now = now or timezone.now()
    report = progress or (lambda phase, done, total: None)
    with transaction.atomic():
        rules = _Rules.load(now=now)
        if bulk is None:
            bulk = _worth_bulk_loading(source)
        if bulk and bulk_load_possible():
            actor = import_user(user)
            checked = _check_and_load(source, rules=rules, actor=actor, now=now, progress=report)
        else:
            checked = _check(source, rules=rules, progress=report)
            actor = import_user(user)
            _load(source, checked, rules=rules, actor=actor, now=now, progress=report)
    return ImportResult(
        rows=checked.rows,
        families=len(checked.families),
        decided=checked.decided,
        seconds=time.perf_counter() - started,
    )


def import_user(user: User | str | None) -> User:
    """The user named, or the system account imports are logged under: inactive, with no
    roles and no usable password, so nobody can sign in as it."""
    if isinstance(user, User):
        return user
    if user:
        found = User.objects.filter(username=user).first()
        if found is None:
            raise CannotImport(f"No user has the username {user!r}.")
        return found
    found = User.objects.filter(username=SYSTEM_USERNAME).first()
    if found is not None:
        return found
    # A user must belong to an agency: the lead agency if there is one.
    agency = (
        Agency.objects.filter(kind=Agency.Kind.CHILDRENS_SOCIAL_CARE).order_by("pk").first()
        or Agency.objects.order_by("pk").first()
    )
    if agency is None:
        raise CannotImport(
            "The hub has no agencies yet: add them first, or name the user to log the "
            "enquiries under with --user."
        )
    account = User(
        username=SYSTEM_USERNAME,
        first_name="Previous system",
        job_title="Logs the enquiries imported from the hub's previous system",
        agency=agency,
        is_active=False,
    )
    account.set_unusable_password()
    account.save()
    return account


@dataclass(frozen=True)
class _Rules:
    """What a row is checked against: the codes in the database and the time now."""

    clock: ClockInForce
    outcomes: dict[str, int]
    referrer_types: dict[str, int]
    now: datetime
    earliest: datetime  # the clock covers nothing before its first year

    @classmethod
    def load(cls, *, now: datetime) -> _Rules:
        clock = clock_in_force()
        return cls(
            clock=clock,
            outcomes=dict(Outcome.objects.values_list("code", "pk")),
            referrer_types=dict(ReferrerType.objects.values_list("code", "pk")),
            now=now,
            earliest=datetime(MIN_YEAR, 1, 1, tzinfo=clock.calendar.tz),
        )

    def read(self, line: int, values: tuple[str, ...]) -> tuple[_Record | None, list[Problem]]:
        """One row's values (in `COLUMNS` order) as a record, or what is wrong with them."""
        reference, family, received_text, rag, decided_text, outcome, referrer_type = values
        problems: list[Problem] = []

        def bad(column: str, reason: str) -> None:
            problems.append(Problem(line, column, reason))

        if _NOT_UTF8.search("".join(values)):
            for column, value in zip(COLUMNS, values, strict=True):
                if _NOT_UTF8.search(value):
                    bad(column, NOT_UTF8_REASON)
            return None, problems
        for column, value in (("reference", reference), ("family_reference", family)):
            if not value:
                bad(column, MISSING)
            elif len(value) > REFERENCE_LENGTH:
                bad(column, f"{len(value)} characters long; at most {REFERENCE_LENGTH}")
            elif reason := control_character(value):
                bad(column, reason)
        received_at = self._moment(line, "received_at", received_text, problems)
        rating = RATINGS.get(rag)
        if rating is None:
            bad("rag", f"unknown RAG {rag!r}: use red, amber, green, or leave it empty")
        decided_at = None
        if decided_text:
            decided_at = self._moment(line, "decided_at", decided_text, problems)
            if decided_at and received_at and decided_at < received_at:
                bad("decided_at", f"before received_at ({received_text})")
        outcome_id = None
        if not outcome:
            if decided_text:
                bad("outcome", "missing; a decided enquiry needs its outcome")
        elif not decided_text:
            bad("outcome", f"{outcome!r} given on an open row: add decided_at, or leave it empty")
        else:
            outcome_id = self.outcomes.get(outcome)
            if outcome_id is None:
                bad("outcome", f"unknown outcome {outcome!r}: use one of {_codes(self.outcomes)}")
        referrer_type_id = self.referrer_types.get(referrer_type)
        if not referrer_type:
            bad("referrer_type", MISSING)
        elif referrer_type_id is None:
            bad(
                "referrer_type",
                f"unknown referrer type {referrer_type!r}: use one of "
                f"{_codes(self.referrer_types)}",
            )
        if problems:
            return None, problems
        # With no problems, each value was read.
        record = _Record(
            reference,
            family,
            cast(datetime, received_at),
            cast(str, rating),
            decided_at,
            outcome_id,
            cast(int, referrer_type_id),
        )
        return record, problems

    def _moment(
        self, line: int, column: str, text: str, problems: list[Problem]
    ) -> datetime | None:
        reason = None
        moment = None
        if not text:
            reason = MISSING
        else:
            try:
                moment = datetime.fromisoformat(text)
            except ValueError:
                reason = f"not an ISO 8601 date and time ({text})"
            else:
                if len(text) <= len("2025-03-02"):
                    reason = f"a date with no time of day ({text})"
                elif moment.tzinfo is None:
                    reason = f"no UTC offset ({text}); write it as in 2025-03-02T10:00+00:00"
                elif moment > self.now:
                    reason = f"in the future ({text})"
                elif moment < self.earliest:
                    reason = f"before {MIN_YEAR}, earlier than the hub clock covers ({text})"
        if reason:
            problems.append(Problem(line, column, reason))
            return None
        return moment


def _codes(codes: Collection[str]) -> str:
    return ", ".join(sorted(codes))


ENCODING, ERRORS = "utf-8-sig", "surrogateescape"


@contextmanager
def _opened(source: Source) -> Iterator[IO[str]]:
    """The file as text from its start. Bytes that are not UTF-8 become lone surrogates, so
    the check can name the line they are on rather than fail somewhere in a buffer."""

    if isinstance(source, str | Path):
        with open(source, encoding=ENCODING, errors=ERRORS, newline="") as file:
            yield file
        return
    source.seek(0)
    if isinstance(source, io.TextIOBase):
        yield source
        return
    text = io.TextIOWrapper(cast(IO[bytes], source), encoding=ENCODING, errors=ERRORS, newline="")
    try:
        yield text
    finally:
        text.detach()  # the caller's file stays open


def read_header(reader: Any, columns: Sequence[str], *, bad: type[BadFile] = BadFile) -> list[str]:
    """A CSV file's header, stripped, naming each of `columns` once and nothing else; else
    `bad` is raised with every reason, on line 1. Shared by every import that reads a file."""
    try:
        header = next(reader, None)
    except csv.Error as error:
        raise bad([Problem(1, "", f"not readable as CSV ({error})")]) from None
    if header is None:
        raise bad([Problem(0, "", "the file is empty")])
    header = [name.lstrip("\ufeff").strip() for name in header]
    if _NOT_UTF8.search("".join(header)):
        raise bad([Problem(1, "", NOT_UTF8_REASON)])
    missing = [name for name in columns if name not in header]
    unknown = [repr(name) for name in header if name not in columns]
    twice = sorted({name for name in header if name in columns and header.count(name) > 1})
    reasons = []
    if missing:
        reasons.append(f"missing column{_s(len(missing))} {', '.join(missing)}")
    if unknown:
        reasons.append(
            f"unknown column{_s(len(unknown))} {', '.join(unknown)}; "
            f"the columns are {', '.join(columns)}"
        )
    if twice:
        reasons.append(f"column{_s(len(twice))} named twice: {', '.join(twice)}")
    if reasons:
        raise bad([Problem(1, "", reason) for reason in reasons])
    return header


def _rows(file: IO[str], problems: list[Problem]) -> Iterator[tuple[int, tuple[str, ...]]]:
    """Each row's first physical line and its values, stripped, in `COLUMNS` order. A bad
    header stops everything; a row of the wrong width or unreadable CSV is a problem."""
    reader = csv.reader(file)
    header = read_header(reader, COLUMNS)
    pick = itemgetter(*(header.index(name) for name in COLUMNS))
    width = len(header)
    end = reader.line_num
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            problems.append(Problem(end + 1, "", f"not readable as CSV ({error})"))
            return
        start, end = end + 1, reader.line_num
        if not cells:
            continue  # a blank line
        if len(cells) != width:
            problems.append(
                Problem(start, "", f"{len(cells)} values where the header has {width} columns")
            )
            continue
        yield start, tuple(map(str.strip, pick(cells)))


def _s(count: int) -> str:
    return "" if count == 1 else "s"


@dataclass
class _Tally:
    """Each row checked, the same whichever way the file is loaded: its own values, and the
    one check across rows (a reference already on an earlier line); and what loading needs
    to know of the good rows."""

    rules: _Rules
    problems: list[Problem] = field(default_factory=list)
    first_line: dict[str, int] = field(default_factory=dict)  # reference: its first line
    families: dict[str, None] = field(default_factory=dict)  # an ordered set
    highest: dict[int, int] = field(default_factory=dict)  # year: highest in APP_REFERENCE
    rows: int = 0
    decided: int = 0

    def read(self, line: int, values: tuple[str, ...]) -> _Record | None:
        """The row's record, or None with its problems added to `problems`."""
        self.rows += 1
        record, problems = self.rules.read(line, values)
        reference = values[0]
        # A reference the database could not compare (a NUL) is not looked up there; one in
        # a row read without problems is known to be readable.
        readable = record is not None or (
            reference and not _NOT_UTF8.search(reference) and not control_character(reference)
        )
        earlier = self.first_line.setdefault(reference, line) if readable else line
        if earlier != line:
            problems.append(Problem(line, "reference", f"{reference} is already on line {earlier}"))
        if problems or record is None:
            self.problems.extend(problems)
            return None
        if record.family not in self.families:
            self.families[record.family] = None
            self._note(record.family)
        self._note(reference)
        self.decided += record.decided_at is not None
        return record

    def _note(self, reference: str) -> None:
        match = APP_REFERENCE.fullmatch(reference)
        if match:
            year, number = int(match[1]), int(match[2])
            if number > self.highest.get(year, 0):
                self.highest[year] = number

    def checked(self) -> _Checked:
        if not self.rows and not self.problems:
            raise BadFile([Problem(0, "", "the file has a header but no enquiries under it")])
        if self.problems:
            raise BadFile(self.problems)
        return _Checked(
            rows=self.rows,
            families=list(self.families),
            decided=self.decided,
            highest=self.highest,
        )


def _check(source: Source, *, rules: _Rules, progress: Progress) -> _Checked:
    """Read the whole file once; every problem in it, or what loading needs to know."""
    tally = _Tally(rules)
    with _opened(source) as file:
        for line, values in _rows(file, tally.problems):
            tally.read(line, values)
            if not tally.rows % PROGRESS_EVERY:
                progress("checking", tally.rows, None)
    progress("checking", tally.rows, None)
    if tally.rows:
        tally.problems += _already_stored(
            source, references=tally.first_line, families=tally.families
        )
    return tally.checked()


def _already_stored(
    source: Source,
    *,
    references: Collection[str],
    families: Collection[str],
    before: tuple[str, str] = ("", ""),
) -> list[Problem]:
    """The rows whose reference or family is in the database already: two queries, and a
    second reading of the file only when there are some, to name their lines. `before`
    limits each query to the rows stored before a bulk load began (SQL conditions)."""
    stored = _stored(Enquiry, references, before[0])
    stored_families = _stored(FamilyEnquiry, families, before[1])
    if not stored and not stored_families:
        return []
    problems: list[Problem] = []
    with _opened(source) as file:
        for line, (reference, family, *_) in _rows(file, []):
            if reference in stored:
                problems.append(
                    Problem(line, "reference", f"{reference} is already in the database")
                )
            if family in stored_families:
                problems.append(
                    Problem(line, "family_reference", f"{family} is already in the database")
                )
    return problems


def _stored(
    model: type[Enquiry] | type[FamilyEnquiry], references: Collection[str], where: str = ""
) -> set[str]:
    """Which of `references` the model's table holds, in one query on PostgreSQL."""
    if not references:
        return set()
    if connection.vendor == "postgresql":
        table = connection.ops.quote_name(model._meta.db_table)
        with connection.cursor() as cursor:
            # A join to the unnested list: a hash join for a big file (a million references
            # took 3.5 s, against 6 s as `= ANY(...)`), index look-ups for a small one.
            cursor.execute(
                f"SELECT reference FROM {table} JOIN unnest(%s::text[]) AS wanted(reference) "  # noqa: S608 - table name from model metadata, condition from core.bulk_load
                f"USING (reference) {'WHERE ' + where if where else ''}",
                [list(references)],
            )
            return {row[0] for row in cursor.fetchall()}
    found: set[str] = set()
    wanted = list(references)
    for start in range(0, len(wanted), 500):  # under SQLite's limit on parameters
        found.update(
            model.objects.filter(reference__in=wanted[start : start + 500]).values_list(
                "reference", flat=True
            )
        )
    return found


def _worth_bulk_loading(source: Source) -> bool:
    """Whether the file is large enough, beside what the hub holds, that setting the tables'
    indexes and constraints aside and building them again costs less than keeping them."""
    if not bulk_load_possible():
        return False
    rows = _size(source) // ROW_BYTES
    if rows < BULK_FROM_ROWS:
        return False
    with connection.cursor() as cursor:
        # The planner's estimate: counting a million rows would take longer than it saves.
        cursor.execute(
            "SELECT greatest(reltuples, 0) FROM pg_class WHERE oid = CAST(%s AS regclass)",
            [connection.ops.quote_name(Enquiry._meta.db_table)],
        )
        held = cursor.fetchone()[0]
    return rows >= held


def _size(source: Source) -> int:
    """The file's size in bytes (characters, for text already in memory)."""
    if isinstance(source, str | Path):
        return Path(source).stat().st_size
    at = source.tell()
    size = source.seek(0, io.SEEK_END)
    source.seek(at)
    return size


def _check_and_load(
    source: Source, *, rules: _Rules, actor: User, now: datetime, progress: Progress
) -> _Checked:
    """`_check` and `_load` in one reading, for a large file on PostgreSQL: each row is
    checked, and written while no row before it had a problem; at the end the references
    already in the database are looked for among the rows stored before. Any problem
    raises `BadFile`, and the transaction's rollback takes back all that was written."""
    tally = _Tally(rules)
    # An empty table holds no reference to clash with: no query (at a million rows, seconds).
    held = {model: _holds_rows(model) for model in (Enquiry, FamilyEnquiry)}
    with bulk_load(FamilyEnquiry, Enquiry, EnquiryEvent) as load:
        writer = _BulkWriter(
            load, rules=rules, actor_id=actor.pk, now=now, expected=_size(source) // ROW_BYTES
        )
        with _opened(source) as file:
            for line, values in _rows(file, tally.problems):
                record = tally.read(line, values)
                if not tally.rows % PROGRESS_EVERY:
                    progress("checking", tally.rows, None)
                if record is not None and not tally.problems:
                    writer.add(record)  # nothing more is written once the file cannot load
        progress("checking", tally.rows, None)
        writer.flush()
        load.wait()
        if tally.rows:
            tally.problems += _already_stored(
                source,
                references=tally.first_line if held[Enquiry] else (),
                families=tally.families if held[FamilyEnquiry] else (),
                before=writer.before(),
            )
        checked = tally.checked()
        progress("indexing", checked.rows, checked.rows)
    _move_counters(checked.highest)
    return checked


def _holds_rows(model: type[Enquiry] | type[FamilyEnquiry]) -> bool:
    with connection.cursor() as cursor:
        table = connection.ops.quote_name(model._meta.db_table)
        cursor.execute(f"SELECT EXISTS (SELECT FROM {table})")  # noqa: S608 - from model metadata
        return cursor.fetchone()[0]


# The columns `_BulkWriter` writes, in its lines' order; the rest take their defaults.
ENQUIRY_COLUMNS = (
    "id",
    "reference",
    "family_id",
    "received_at",
    "referrer_type_id",
    "state",
    "rating",
    "allowance_minutes",
    "deadline",
    "at_risk_from",
    "breached_from",
    "timing_version",
    "decided_at",
    "decided_by_id",
    "outcome_id",
    "elapsed_minutes",
    "decided_on_time",
    "imported_at",
    "created_by_id",
    "version",
)
EVENT_COLUMNS = (
    "enquiry_id",
    "version",
    "kind",
    "at",
    "actor_id",
    "from_value",
    "to_value",
    "rationale",
)
OPEN = "\t".join([NULL] * 5)  # decided_at to decided_on_time


class _BulkWriter:
    """The same rows as `_Builder` and `core.bulk` make, written as COPY text straight from
    each record, a chunk at a time, with ids reserved in large blocks."""

    def __init__(
        self, load: BulkLoad, *, rules: _Rules, actor_id: int, now: datetime, expected: int
    ) -> None:
        self.load, self.rules, self.expected = load, rules, expected
        self.actor = str(actor_id)
        self.imported = now.isoformat()
        self.outcome_codes = {pk: escape(code) for code, pk in rules.outcomes.items()}
        self.family_ids: dict[str, int] = {}
        self.first_ids: dict[type[models.Model], int] = {}
        self.free: dict[type[models.Model], Iterator[int]] = {}
        self.issued: dict[type[models.Model], int] = {}
        self.families: list[str] = []
        self.enquiries: list[str] = []
        self.events: list[str] = []
        self.timings: dict[tuple[str, str], tuple[int, str]] = {}
        self.enquiry_ids: Iterator[int] = iter(())  # the block `_id` took last, taken from inline
        self.calendars = {rating: rules.clock.calendar_for(rating) for rating in Rag.values}
        # Rated enquiries had been screened; a decision stops the clock.
        self.before_decision = {
            rating: str(State.SCREENING if rating != Rag.NONE else State.RECEIVED)
            for rating in Rag.values
        }
        self.formats = {
            FamilyEnquiry: CopyFormat(FamilyEnquiry, ("id", "reference")),
            Enquiry: CopyFormat(Enquiry, ENQUIRY_COLUMNS),
            EnquiryEvent: CopyFormat(EnquiryEvent, EVENT_COLUMNS),
        }

    def add(self, record: _Record) -> None:
        reference, family, received_at, rating, decided_at, outcome_id, referrer_type_id = record
        family_id = self.family_ids.get(family)
        if family_id is None:
            family_id = self.family_ids[family] = self._id(FamilyEnquiry)
            self.families.append(f"{family_id}\t{escape(family)}")
        pk = next(self.enquiry_ids, None) or self._id(Enquiry)
        actor = self.actor
        received = received_at.isoformat()
        allowance, timed = self._timing(rating, received_at, received)
        before = self.before_decision[rating]
        self.events.append(f"{pk}\t1\t{RECEIVED_TEXT}\t{received}\t{actor}\t\t\t")
        if decided_at is None:
            state, version, decision = before, 1, OPEN
        else:
            elapsed = working_minutes_between(self.calendars[rating], received_at, decided_at)
            on_time = "t" if elapsed <= allowance else "f"
            decided = decided_at.isoformat()
            state, version = DECIDED, 2
            decision = f"{decided}\t{actor}\t{outcome_id}\t{elapsed}\t{on_time}"
            self.events.append(
                f"{pk}\t2\t{DECISION_TEXT}\t{decided}\t{actor}\t{before}\t"
                f"{self.outcome_codes[cast(int, outcome_id)]}\t"  # decided: it has one
            )
        self.enquiries.append(
            f"{pk}\t{escape(reference)}\t{family_id}\t{received}\t"
            f"{referrer_type_id}\t{state}\t{rating}\t{timed}\t{decision}\t"
            f"{self.imported}\t{actor}\t{version}"
        )
        if len(self.enquiries) >= CHUNK:
            self.flush()

    def flush(self) -> None:
        for model, lines in (
            (FamilyEnquiry, self.families),
            (Enquiry, self.enquiries),
            (EnquiryEvent, self.events),
        ):
            if lines:
                form = self.formats[model]
                self.load.send(form.sql, form.suffix.join(lines) + form.suffix)
        self.families, self.enquiries, self.events = [], [], []
        self.timings.clear()  # bounds memory; a family's enquiries come together

    def before(self) -> tuple[str, str]:
        """Conditions picking the enquiries and families stored before this load."""
        return (
            self.load.stored_before(Enquiry, self.first_ids[Enquiry])
            if Enquiry in self.first_ids
            else "",
            self.load.stored_before(FamilyEnquiry, self.first_ids[FamilyEnquiry])
            if FamilyEnquiry in self.first_ids
            else "",
        )

    def _timing(self, rating: str, received_at: datetime, received: str) -> tuple[int, str]:
        """The allowance and the timing columns' text. A family's enquiries usually arrive
        together with the same rating: they are timed once (keyed by the text, whose hash
        is cheaper than an aware datetime's)."""
        found = self.timings.get((rating, received))
        if found is None:
            timing = self.rules.clock.timing(rating=rating, received_at=received_at)
            timed = (
                f"{timing.allowance}\t{timing.deadline.isoformat()}\t"
                f"{timing.at_risk_from.isoformat()}\t{timing.breached_from.isoformat()}\t"
                f"{timing.version}"
            )
            found = self.timings[rating, received] = (timing.allowance, timed)
        return found

    def _id(self, model: type[models.Model]) -> int:
        free = self.free.get(model)
        pk = next(free, None) if free is not None else None
        if pk is None:
            # The file's size tells roughly how many rows; then more, if it has more.
            issued = self.issued.get(model, 0)
            block = self.load.reserve(model, max(CHUNK, self.expected - issued, issued // 4))
            self.issued[model] = issued + len(block)
            self.first_ids.setdefault(model, block.start)
            free = self.free[model] = iter(block)
            pk = next(free)
            if model is Enquiry:
                self.enquiry_ids = free
        return pk


def _load(
    source: Source,
    checked: _Checked,
    *,
    rules: _Rules,
    actor: User,
    now: datetime,
    progress: Progress,
) -> None:
    """Write the checked file: its families, then its enquiries and their history a chunk at
    a time, then move the reference counters past what came in."""
    family_ids = dict(
        zip(checked.families, reserve_ids(FamilyEnquiry, len(checked.families)), strict=True)
    )
    insert_rows(FamilyEnquiry, ({"id": pk, "reference": ref} for ref, pk in family_ids.items()))
    build = _Builder(rules=rules, family_ids=family_ids, actor_id=actor.pk, now=now)
    done = 0
    with _opened(source) as file:
        problems: list[Problem] = []
        rows = _rows(file, problems)
        while chunk := [rules.read(line, values) for line, values in islice(rows, CHUNK)]:
            if problems or any(found for _, found in chunk):
                # Changed since it was checked: the transaction undoes everything.
                raise BadFile(problems + [p for _, found in chunk for p in found])
            records = [cast(_Record, record) for record, _ in chunk]  # none had problems
            enquiries, events = build.rows(records, reserve_ids(Enquiry, len(records)))
            insert_rows(Enquiry, enquiries)
            insert_rows(EnquiryEvent, events)
            done += len(chunk)
            progress("loading", done, checked.rows)
    if done != checked.rows:
        raise BadFile([Problem(0, "", "the file changed while it was being loaded")])
    _move_counters(checked.highest)
    refresh_statistics(FamilyEnquiry, Enquiry, EnquiryEvent)


@dataclass
class _Builder:
    """Enquiry and event rows for `core.bulk`, timed by the clock in force.

    Columns left out take their defaults: no subject, and empty referrer name, subject type,
    categories, concern and consent, which the old system did not send.
    """

    rules: _Rules
    family_ids: dict[str, int]
    actor_id: int
    now: datetime

    def rows(self, records: list[_Record], ids: list[int]) -> tuple[list[dict], list[dict]]:
        clock, actor_id, now = self.rules.clock, self.actor_id, self.now
        outcome_codes = {pk: code for code, pk in self.rules.outcomes.items()}
        # A family's enquiries usually arrive together with the same rating: time them once.
        timings: dict[tuple[str, datetime], Timing] = {}
        enquiries, events = [], []
        for record, pk in zip(records, ids, strict=True):
            rating, received_at, decided_at = record.rating, record.received_at, record.decided_at
            timing = timings.get((rating, received_at))
            if timing is None:
                timing = clock.timing(rating=rating, received_at=received_at)
                timings[rating, received_at] = timing
            # Rated enquiries had been screened; a decision stops the clock.
            before = State.SCREENING if rating != Rag.NONE else State.RECEIVED
            enquiry = {
                "id": pk,
                "reference": record.reference,
                "family_id": self.family_ids[record.family],
                "received_at": received_at,
                "referrer_type_id": record.referrer_type_id,
                "state": before,
                "rating": rating,
                "allowance_minutes": timing.allowance,
                "deadline": timing.deadline,
                "at_risk_from": timing.at_risk_from,
                "breached_from": timing.breached_from,
                "timing_version": timing.version,
                "decided_at": None,
                "decided_by_id": None,
                "outcome_id": None,
                "elapsed_minutes": None,
                "decided_on_time": None,
                "imported_at": now,
                "created_by_id": actor_id,
                "version": 1,
            }
            events.append(
                {"enquiry_id": pk, "version": 1} | event_row(RECEIVED, received_at, actor_id)
            )
            if decided_at is not None:
                elapsed = working_minutes_between(
                    clock.calendar_for(rating), received_at, decided_at
                )
                enquiry |= {
                    "state": State.DECIDED,
                    "decided_at": decided_at,
                    "decided_by_id": actor_id,
                    "outcome_id": record.outcome_id,
                    "elapsed_minutes": elapsed,
                    "decided_on_time": elapsed <= timing.allowance,
                    "version": 2,
                }
                decision = event_row(
                    DECISION,
                    decided_at,
                    actor_id,
                    before,
                    outcome_codes[cast(int, record.outcome_id)],  # decided: it has one
                )
                events.append({"enquiry_id": pk, "version": 2} | decision)
            enquiries.append(enquiry)
        return enquiries, events


def _move_counters(highest: dict[int, int]) -> None:
    """Put each year's reference counter at or past the highest imported number in the
    app's own pattern, so references given out later never collide with imported ones."""
    if not highest:
        return
    ReferenceCounter.objects.bulk_create(
        [ReferenceCounter(year=year) for year in highest], ignore_conflicts=True
    )
    for counter in ReferenceCounter.objects.select_for_update().filter(year__in=highest):
        if highest[counter.year] > counter.last_number:
            counter.last_number = highest[counter.year]
            counter.save(update_fields=["last_number"])


def event_row(
    kind: str,
    at: datetime,
    actor_id: int,
    from_value: str = "",
    to_value: str = "",
    rationale: str = "",
) -> dict:
    """One enquiry event as a row for `core.bulk` (the import's and the demo's)."""
    return {
        "kind": kind,
        "at": at,
        "actor_id": actor_id,
        "from_value": from_value,
        "to_value": to_value,
        "rationale": rationale,
    }
