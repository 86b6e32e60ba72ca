"""What auditors read: the access log (who looked at, searched for, exported or decided on
information about people and agency information, and why) and the change log (django-auditlog's
record of every change to case data), filtered in the database, and both as CSV. Filtered by a
person, the access log answers "who has looked at this person, and why" in one query.

Auditors may not read agency information (docs/domain.md section 5), so neither log carries it: the
access log's queries never load a record's content columns, and the change log withholds the
values of content fields even if a model were registered with auditlog without excluding them.
"""

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from itertools import chain, islice

from auditlog.models import LogEntry
from django.db import models
from django.db.models import Q, QuerySet, Value
from django.utils import timezone

from agencies.models import Agency
from audit.models import AccessLogEntry
from core import downloads
from core.text import spreadsheet_safe
from enquiries.models import Enquiry, EnquiryPerson, Person

from .firewall import CONTENT_FIELDS
from .models import InformationRecord, InformationRequest, ReleaseDecision, ReleaseRequest

ACCESS = "access"
CHANGES = "changes"
LOGS = [(ACCESS, "Access to agency information"), (CHANGES, "Changes to records")]

CHANGE_ACTIONS = {
    "create": LogEntry.Action.CREATE,
    "update": LogEntry.Action.UPDATE,
    "delete": LogEntry.Action.DELETE,
}
CHANGE_ACTION_CHOICES = [("create", "Created"), ("update", "Changed"), ("delete", "Deleted")]
ACTION_CHOICES = [
    ("Access to agency information", AccessLogEntry.Action.choices),
    ("Changes to records", CHANGE_ACTION_CHOICES),
]
CHANGE_ACTION_LABELS = {CHANGE_ACTIONS[value]: label for value, label in CHANGE_ACTION_CHOICES} | {
    LogEntry.Action.ACCESS: "Accessed"
}

WITHHELD = "(not shown: agency information)"


def shown_log(data) -> str:
    """Which log a query string asks for: the access log unless it names the other."""
    value = data.get("log") if data else None
    return value if value in dict(LOGS) else ACCESS


def read_terms(log: str, filters: str, *, page: int = 1) -> str:
    """What an auditor read: which log, with which filters in words (and which page, past
    the first)."""
    terms = f"{dict(LOGS)[log]}: {filters}"
    return f"{terms}; page {page}" if page > 1 else terms


def audited_enquiry(reference: str) -> Enquiry | None:
    """The enquiry a reference names, whoever may see it: auditors read the logs about every
    enquiry, though the firewall shows them none."""
    return Enquiry.objects.only("pk", "reference").filter(reference=reference).first()


def action_label(value: str) -> str:
    labels = dict(AccessLogEntry.Action.choices) | dict(CHANGE_ACTION_CHOICES)
    return labels.get(value, value)


def _person_matches(prefix: str, text: str) -> Q:
    """Every word of `text` in the username, first or last name."""
    match = Q()
    for word in text.split():
        match &= (
            Q(**{f"{prefix}username__icontains": word})
            | Q(**{f"{prefix}first_name__icontains": word})
            | Q(**{f"{prefix}last_name__icontains": word})
        )
    return match


def _day_start(day: date) -> datetime:
    """The first instant of `day` in the hub's zone."""
    return timezone.make_aware(datetime.combine(day, time.min))


# Each filter, for either log: the logs name the same things in different columns.

WHEN = {ACCESS: "at", CHANGES: "timestamp"}


def by_user(log: str, text: str) -> Q:
    return _person_matches("actor__" if log == CHANGES else "user__", text)


def by_agency(log: str, agency: Agency) -> Q:
    """The user's agency when they acted (the access log keeps it), or the actor's now."""
    return Q(actor__agency=agency) if log == CHANGES else Q(agency=agency)


def about_people(log: str, people: tuple[Person, ...]) -> Q:
    return _changes_about_people(people) if log == CHANGES else _about_people(people)


def about_record(log: str, record_id: int) -> Q:
    return _changes_about_record(record_id) if log == CHANGES else Q(record_id=record_id)


def about_enquiry(log: str, enquiry: Enquiry) -> Q:
    return _changes_about_enquiry(enquiry) if log == CHANGES else Q(enquiry=enquiry)


def from_day(log: str, day: date) -> Q:
    """From the start of the hub's local day."""
    return Q(**{f"{WHEN[log]}__gte": _day_start(day)})


def to_day(log: str, day: date) -> Q:
    """To the end of the hub's local day, included."""
    return Q(**{f"{WHEN[log]}__lt": _day_start(day + timedelta(days=1))})


def by_action(log: str, action: str) -> Q:
    return Q(action=CHANGE_ACTIONS[action]) if log == CHANGES else Q(action=action)


def log_entries(log: str) -> QuerySet[AccessLogEntry] | QuerySet[LogEntry]:
    """Either log, newest first, before its filters."""
    return change_log() if log == CHANGES else access_log()


# The access log.

# Entries about an enquiry as a whole show everyone named in it: its page (and the API's
# enquiry, and an information request's page) and its information picture.
WHOLE_ENQUIRY = (AccessLogEntry.Action.VIEW_PERSON, AccessLogEntry.Action.EXPORT)


def _about_people(people: tuple[Person, ...]) -> Q:
    """Entries that name one of `people`, and views and exports of a whole enquiry that
    names them. The enquiries are read first, in one query, so the log is searched through
    its person and enquiry indexes rather than scanned."""
    enquiry_ids = list(
        EnquiryPerson.objects.filter(person__in=people)
        .values_list("enquiry_id", flat=True)
        .distinct()
    )
    return Q(person__in=people) | Q(
        enquiry_id__in=enquiry_ids, record__isnull=True, action__in=WHOLE_ENQUIRY
    )


def access_log() -> QuerySet[AccessLogEntry]:
    """Access log entries, newest first; what they name is read by `with_names`. A record's
    content columns are never read, nor any of a person's details but their name."""
    return AccessLogEntry.objects.only(
        "at",
        "user",
        "agency",
        "role",
        "person",
        "record",
        "enquiry",
        "action",
        "channel",
        "reason",
        "terms",
        "address",
        "request_id",
        "account",
    ).order_by("-at", "-id")


# What an entry names, read by key: (the field, its model's fields shown, related rows).
_NAMED = (
    ("user", ("username", "first_name", "last_name"), ()),
    ("agency", ("name",), ()),
    ("person", ("first_name", "last_name"), ()),
    ("record", ("agency", "agency__name"), ("agency",)),
    ("enquiry", ("reference",), ()),
)


def with_names(entries: list[AccessLogEntry]) -> list[AccessLogEntry]:
    """`entries` with the people, agencies, persons, records (with their agency) and
    enquiries they name, read by key in five queries whatever the entries name (0, nobody's
    key, keeps each asked): joined to the entries instead, the log's monthly tables made
    PostgreSQL take 8.7 ms to plan the auditor's page (0.75 ms to run it) at 10,000,000."""
    for name, fields, related in _NAMED:
        model = AccessLogEntry._meta.get_field(name).related_model
        attname = f"{name}_id"
        keys = {getattr(entry, attname) for entry in entries} - {None}
        named = model._base_manager.select_related(*related)  # type: ignore[union-attr]
        found = named.only(*fields).in_bulk([*keys, 0])
        for entry in entries:
            key = getattr(entry, attname)
            if key is not None:
                setattr(entry, name, found.get(key))
    return entries


# The change log.


def _about(objects: list[tuple[type[models.Model], QuerySet]]) -> Q:
    """Entries about the objects each queryset finds. The keys are read first, in one query,
    so the log is searched through its `object_pk` index rather than scanned; the model is
    matched through the content type join the page selects anyway."""
    # Unordered: SQLite refuses ORDER BY (a model's default ordering) inside a UNION.
    found = objects[0][1].order_by().values_list(Value(0), "pk")
    found = found.union(
        *(
            queryset.order_by().values_list(Value(n), "pk")
            for n, (_, queryset) in enumerate(objects)
            if n
        ),
        all=True,
    )
    keys: dict[int, list[str]] = {}
    for n, pk in found:
        keys.setdefault(n, []).append(str(pk))
    if not keys:
        return Q(pk__in=[])
    about = Q()
    for n, pks in keys.items():
        meta = objects[n][0]._meta
        about |= Q(
            content_type__app_label=meta.app_label,
            content_type__model=meta.model_name,
            object_pk__in=pks,
        )
    return Q(object_pk__in=[pk for pks in keys.values() for pk in pks]) & about


def _changes_about_enquiry(enquiry: Enquiry) -> Q:
    """Changes to the enquiry itself, the people named in it, the information requests sent
    for it, their records, and the release requests and decisions on those records."""
    return _about(
        [
            (Enquiry, Enquiry.objects.filter(pk=enquiry.pk)),
            (EnquiryPerson, EnquiryPerson.objects.filter(enquiry=enquiry)),
            (InformationRequest, InformationRequest.objects.filter(enquiry=enquiry)),
            (InformationRecord, InformationRecord.objects.filter(enquiry=enquiry)),
            (ReleaseRequest, ReleaseRequest.objects.filter(record__enquiry=enquiry)),
            (ReleaseDecision, ReleaseDecision.objects.filter(record__enquiry=enquiry)),
        ]
    )


def _changes_about_record(record_id: int) -> Q:
    """Changes to the record (its content withheld), and to release requests and decisions on
    it. A record that no longer exists is still found by its number."""
    record = Q(
        content_type__app_label=InformationRecord._meta.app_label,
        content_type__model=InformationRecord._meta.model_name,
        object_pk=str(record_id),
    )
    return record | _about(
        [
            (ReleaseRequest, ReleaseRequest.objects.filter(record_id=record_id)),
            (ReleaseDecision, ReleaseDecision.objects.filter(record_id=record_id)),
        ]
    )


def _changes_about_people(people: tuple[Person, ...]) -> Q:
    """Changes to the people themselves, to their part in enquiries, and to the records
    about them (their content withheld)."""
    return _about(
        [
            (Person, Person.objects.filter(pk__in=[person.pk for person in people])),
            (EnquiryPerson, EnquiryPerson.objects.filter(person__in=people)),
            (InformationRecord, InformationRecord.objects.filter(person__in=people)),
        ]
    )


def change_log() -> QuerySet[LogEntry]:
    """Recorded changes to audited models, newest first, with the actor, their agency and the
    model in the same row."""
    return (
        LogEntry.objects.select_related("actor", "actor__agency", "content_type")
        .defer("serialized_data", "additional_data")
        .order_by("-timestamp", "-id")
    )


def _withheld_fields(entry: LogEntry) -> frozenset[str]:
    """Agency information never shows in the change log, whatever auditlog was told."""
    if entry.content_type.app_label == InformationRecord._meta.app_label:
        return frozenset(CONTENT_FIELDS)
    return frozenset()


def _model_fields(entry: LogEntry) -> dict:
    """The model's fields by name, from the app registry (no query); empty if it is gone."""
    model = entry.content_type.model_class()
    return {field.name: field for field in model._meta.get_fields()} if model else {}


def _value(field, value) -> str:
    """A stored value as people read it: choice labels, local times to the minute."""
    if value in (None, "", "None"):
        return "–"
    if isinstance(field, models.DateTimeField):
        try:
            moment = datetime.fromisoformat(str(value))
        except ValueError:
            return str(value)
        if timezone.is_naive(moment):
            # auditlog stores times naive, in UTC.
            moment = timezone.make_aware(moment, UTC)
        return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")
    if field is not None and field.choices:
        return str(dict(field.flatchoices).get(value, value))
    return str(value)


def changes_text(entry: LogEntry) -> str:
    """What changed, as `field: old → new` (or `field: new` when created), content withheld."""
    withheld = _withheld_fields(entry)
    fields = _model_fields(entry)
    parts = []
    for name, change in (entry.changes or {}).items():
        field = fields.get(name)
        if field is not None and field.auto_created and not field.concrete:
            continue  # auditlog lists reverse relations on create; they hold nothing.
        label = name.replace("_", " ")
        if name in withheld:
            parts.append(f"{label}: {WITHHELD}")
        elif isinstance(change, dict):
            objects = ", ".join(str(item) for item in change.get("objects", []))
            parts.append(f"{label}: {change.get('operation', 'changed')} {objects}".strip())
        elif entry.action == LogEntry.Action.CREATE:
            parts.append(f"{label}: {_value(field, change[1])}")
        elif entry.action == LogEntry.Action.DELETE:
            parts.append(f"{label}: {_value(field, change[0])}")
        else:
            parts.append(f"{label}: {_value(field, change[0])} → {_value(field, change[1])}")
    return "; ".join(parts)


@dataclass(frozen=True)
class ChangeRow:
    entry: LogEntry
    changes: str

    @property
    def action(self) -> str:
        return CHANGE_ACTION_LABELS.get(self.entry.action, str(self.entry.action))


def change_rows(entries: Iterable[LogEntry]) -> list[ChangeRow]:
    return [ChangeRow(entry, changes_text(entry)) for entry in entries]


# CSV.


ACCESS_COLUMNS = [
    "when",
    "user",
    "username",
    "role",
    "agency",
    "action",
    "channel",
    "person",
    "person number",
    "record",
    "record's agency",
    "enquiry",
    "justification",
    "terms",
    "address",
    "request id",
]
CHANGE_COLUMNS = ["when", "user", "username", "agency", "action", "what", "object", "changes"]


def local_minute(moment: datetime) -> str:
    return timezone.localtime(moment).isoformat(timespec="minutes")


def _person(user) -> tuple[str, str]:
    if user is None:
        return "System", ""
    return str(user), user.username


def _access_row(entry: AccessLogEntry) -> list:
    name, username = _person(entry.user)
    return [
        local_minute(entry.at),
        name,
        username,
        entry.role,
        entry.agency.name,
        entry.get_action_display(),
        entry.get_channel_display(),
        str(entry.person) if entry.person_id else "",
        entry.person_id or "",
        entry.record_id or "",
        entry.record.agency.name if entry.record is not None else "",
        entry.enquiry.reference if entry.enquiry is not None else "",
        entry.reason,
        entry.terms,
        entry.address or "",
        entry.request_id,
    ]


def _change_row(entry: LogEntry) -> list:
    name, username = _person(entry.actor)
    return [
        local_minute(entry.timestamp),
        name,
        username,
        entry.actor.agency.name if entry.actor else "",
        CHANGE_ACTION_LABELS.get(entry.action, entry.action),
        entry.content_type.name,
        entry.object_repr,
        changes_text(entry),
    ]


def csv_lines(
    log: str, entries: QuerySet[AccessLogEntry] | QuerySet[LogEntry], *, chunk_size: int = 2000
) -> Iterator[str]:
    """The log's entries (`log_entries`, filtered) as CSV lines, read from the database a
    chunk at a time, so memory stays flat however long the log."""
    columns, row = (
        (CHANGE_COLUMNS, _change_row) if log == CHANGES else (ACCESS_COLUMNS, _access_row)
    )
    return downloads.csv_lines(
        chain(
            [columns],
            (
                [spreadsheet_safe(cell) for cell in row(entry)]
                for entry in _read(log, entries, chunk_size)
            ),
        )
    )


def _read(log: str, entries: QuerySet, chunk_size: int) -> Iterator:
    """The entries a chunk at a time; an access log's with what each chunk names."""
    if log == CHANGES:
        yield from entries.iterator(chunk_size=chunk_size)
        return
    rows = entries.iterator(chunk_size=chunk_size)
    while chunk := list(islice(rows, chunk_size)):
        yield from with_names(chunk)


def export_filename(log: str) -> str:
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    return f"audit-{'changes' if log == CHANGES else 'access'}-{stamp}.csv"
