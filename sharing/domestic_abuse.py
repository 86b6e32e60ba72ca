"""Police triage of domestic-abuse notifications (seed 004 sections 16-17; docs/domain.md 5.7).

A police force sends its notifications in bulk: a CSV file (`import_notifications`, checked
whole before anything is written, like the import of past enquiries) or the API
(`receive_notifications`, all or nothing). Its practitioners triage each one
(`triage`): a DASH risk level, then either a referral into the hub, which logs an enquiry with
the notification's people and concern through the front door's own intake, or no further
action with the rationale. Until referred, nothing of it leaves the force (sharing.firewall).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import IO, Any, cast

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from agencies.models import User
from audit.access_log import acting_as, log_access
from audit.models import AccessLogEntry
from core.dates import EARLIEST
from core.exceptions import StaleEdit
from core.text import TEXT_LIMIT, clean_text, control_character
from enquiries.clock import clock_in_force
from enquiries.importing import BadFile, Problem, read_header
from enquiries.models import Enquiry, EnquiryPerson, LawfulBasis, Rag, ReferrerType
from enquiries.services import PersonDetails, enquiry_intake, without_consent_lawful_basis_error
from enquiries.worktime import working_minutes_between

from . import firewall
from .models import DomesticAbuseNotification
from .services import refusals_logged

Notification = DomesticAbuseNotification
Part = Notification.Part
Status = Notification.Status
RiskLevel = Notification.RiskLevel
Log = AccessLogEntry.Action
Channel = AccessLogEntry.Channel

# One row per person named in a notification; the notification's own columns may be left empty
# on its later rows, and when given must say what its first row said.
COLUMNS = (
    "police_reference",
    "incident_at",
    "address",
    "summary",
    "consent",
    "part",
    "first_name",
    "last_name",
    "date_of_birth",
)
NOTIFICATION_COLUMNS = ("incident_at", "address", "summary", "consent")
_COLUMN_ORDER = {name: index for index, name in enumerate(COLUMNS)}
MAX_ROWS = 5_000  # a day's notifications are a few dozen; bounds what is held to check
MAX_CHILDREN = 12  # an enquiry's subjects (docs/domain.md 4.2)
MAX_ADULTS = 20  # an enquiry's other people
REFERENCE_LENGTH = 50
ADDRESS_LENGTH = 300
NAME_LENGTH = 100
CONSENTS = {"": Enquiry.Consent.NOT_SOUGHT, **{value: value for value in Enquiry.Consent.values}}
POLICE_REFERRER = "police"
REFER, NFA = "refer", "nfa"
DECISIONS = {REFER: "Refer to the hub", NFA: "No further action"}


class BadNotificationFile(BadFile):
    """The file cannot be loaded as it is; nothing was written. Problems in column order."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(problems)
        self.problems = sorted(
            problems, key=lambda p: (p.line, _COLUMN_ORDER.get(p.column, -1), p.reason)
        )


class BadNotifications(Exception):
    """Notifications sent to the API that cannot be received; nothing was written. `errors`
    holds one {field: [message]} per notification, in the order sent, empty where it was
    fine."""

    def __init__(self, errors: list[dict[str, list[str]]]) -> None:
        self.errors = errors
        super().__init__("Some notifications cannot be received; nothing was saved.")


@dataclass
class _Incoming:
    """One notification as read, before it is saved."""

    police_reference: str
    incident_at: datetime | None
    address: str
    summary: str
    consent: str
    people: list[dict] = field(default_factory=list)


# Checks shared by the file and the API.


def _text_problem(value: str, *, required: str = "", max_length: int = TEXT_LIMIT) -> str | None:
    if not value:
        return required or None
    if reason := control_character(value):
        return reason
    if len(value) > max_length:
        return f"{len(value):,} characters long; at most {max_length:,}"
    return None


TOO_EARLY = f"before {EARLIEST.isoformat()}: check the year"


def _moment_problem(moment: datetime | None, now: datetime) -> str | None:
    if moment is None:
        return "missing; every notification needs the time of the incident"
    if timezone.is_naive(moment):
        return "no UTC offset; write it as in 2026-03-02T22:15+00:00"
    if moment > now:
        return "in the future"
    if moment.date() < EARLIEST:
        return TOO_EARLY
    return None


def _people_problem(people: Sequence[Mapping[str, Any]]) -> str | None:
    """What is wrong with a notification's people as a whole, if anything."""
    parts = [person["part"] for person in people]
    victims = parts.count(Part.VICTIM)
    if victims != 1:
        return f"names {victims} victims; a notification names exactly one"
    if parts.count(Part.CHILD) > MAX_CHILDREN:
        return f"names more than {MAX_CHILDREN} children; split the household"
    if len(parts) - parts.count(Part.CHILD) > MAX_ADULTS:
        return f"names more than {MAX_ADULTS} adults"
    return None


def _person_problems(person: Mapping[str, Any], today: date) -> dict[str, str]:
    problems = {}
    if person.get("part") not in Part.values:
        parts = ", ".join(Part.values)
        problems["part"] = f"unknown part {person.get('part')!r}: use one of {parts}"
    for name in ("first_name", "last_name"):
        if reason := _text_problem(
            person.get(name) or "", required="missing; name everyone", max_length=NAME_LENGTH
        ):
            problems[name] = reason
    born = person.get("date_of_birth")
    if born is not None and born > today:
        problems["date_of_birth"] = "in the future"
    elif born is not None and born < EARLIEST:
        problems["date_of_birth"] = TOO_EARLY
    return problems


def _person(part: str, first_name: str, last_name: str, born: date | None) -> dict:
    return {
        "part": part,
        "first_name": first_name,
        "last_name": last_name,
        "date_of_birth": born.isoformat() if born else None,
    }


def _stored_references(agency_id: int, references: Sequence[str]) -> set[str]:
    return set(
        Notification.objects.filter(
            agency_id=agency_id, police_reference__in=list(references)
        ).values_list("police_reference", flat=True)
    )


def _save_all(incoming: Sequence[_Incoming], *, actor: User, now: datetime) -> list[Notification]:
    # One by one, so the change log records each (a file is a day's few dozen).
    return [
        Notification.objects.create(
            agency_id=actor.agency_id,
            police_reference=item.police_reference,
            incident_at=cast(datetime, item.incident_at),  # checked: it has one
            received_at=now,
            address=item.address,
            people=item.people,
            summary=item.summary,
            consent=item.consent,
            created_by=actor,
        )
        for item in incoming
    ]


def _require_receiver(actor: User) -> None:
    reason = firewall.receive_notifications_refusal(actor)
    if reason:
        raise PermissionDenied(reason)


# The CSV file.


def _text_file(source: IO[bytes] | IO[str]) -> IO[str]:
    source.seek(0)
    if isinstance(source, io.TextIOBase):
        return source
    # Bytes that are not UTF-8 become lone surrogates, refused as control characters with
    # the line they are on.
    raw = source.read()
    text = raw if isinstance(raw, str) else raw.decode("utf-8-sig", errors="surrogateescape")
    return io.StringIO(text, newline="")


def _rows(file: IO[str]) -> Iterator[tuple[int, dict[str, str]]]:
    """Each row's first line and its values by column, stripped. A bad header, an unreadable
    file, or too many rows stop everything; a row of the wrong width is a problem."""
    reader = csv.reader(file)
    header = read_header(reader, COLUMNS, bad=BadNotificationFile)
    width, end, count = len(header), reader.line_num, 0
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            raise BadNotificationFile(
                [Problem(end + 1, "", f"not readable as CSV ({error})")]
            ) from None
        start, end = end + 1, reader.line_num
        if not cells:
            continue
        count += 1
        if count > MAX_ROWS:
            raise BadNotificationFile(
                [Problem(0, "", f"more than {MAX_ROWS:,} rows; send the file in parts")]
            )
        if len(cells) != width:
            yield start, {"": f"{len(cells)} values where the header has {width} columns"}
            continue
        yield start, {name: value.strip() for name, value in zip(header, cells, strict=True)}


def _read_moment(text: str) -> tuple[datetime | None, str | None]:
    if not text:
        return None, None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None, f"not an ISO 8601 date and time ({text})"
    if len(text) <= len("2026-03-02"):
        return None, f"a date with no time of day ({text})"
    return moment, None


def _check_file(
    file: IO[str], *, agency_id: int, now: datetime
) -> tuple[list[_Incoming], list[Problem]]:
    problems: list[Problem] = []
    found: dict[str, _Incoming] = {}
    first_line: dict[str, int] = {}
    first_values: dict[str, dict[str, str]] = {}
    today = timezone.localdate(now)
    for line, values in _rows(file):

        def bad(column: str, reason: str, line: int = line) -> None:
            problems.append(Problem(line, column, reason))

        if "" in values:
            bad("", values[""])
            continue
        reference = values["police_reference"]
        if reason := _text_problem(
            reference, required="missing; every row needs one", max_length=REFERENCE_LENGTH
        ):
            bad("police_reference", reason)
            continue
        earlier = first_values.get(reference)
        if earlier is None:
            first_line[reference] = line
            first_values[reference] = values
            incident_at, reason = _read_moment(values["incident_at"])
            if reason or (reason := _moment_problem(incident_at, now)):
                bad("incident_at", reason)
            if reason := _text_problem(values["address"], max_length=ADDRESS_LENGTH):
                bad("address", reason)
            if reason := _text_problem(
                values["summary"], required="missing; say what happened, as police recorded it"
            ):
                bad("summary", reason)
            consent = CONSENTS.get(values["consent"])
            if consent is None:
                bad(
                    "consent",
                    f"unknown consent {values['consent']!r}: use yes, no, not_sought, or leave "
                    "it empty (not sought)",
                )
            found[reference] = _Incoming(
                police_reference=reference,
                incident_at=incident_at,
                address=values["address"],
                summary=values["summary"],
                consent=consent or "",
            )
        else:
            for column in NOTIFICATION_COLUMNS:
                if values[column] and values[column] != earlier[column]:
                    bad(
                        column,
                        f"differs from line {first_line[reference]} of {reference}; leave it "
                        "empty or give the same",
                    )
        born = None
        if values["date_of_birth"]:
            try:
                born = date.fromisoformat(values["date_of_birth"])
            except ValueError:
                bad("date_of_birth", f"not an ISO 8601 date ({values['date_of_birth']})")
        person = _person(values["part"], values["first_name"], values["last_name"], born)
        for column, reason in _person_problems({**person, "date_of_birth": born}, today).items():
            bad(column, reason)
        found[reference].people.append(person)
    if not found and not problems:
        raise BadNotificationFile([Problem(0, "", "the file has a header but no rows under it")])
    for reference, item in found.items():
        if reason := _people_problem(item.people):
            problems.append(Problem(first_line[reference], "part", f"{reference} {reason}"))
    for reference in sorted(_stored_references(agency_id, list(found))):
        problems.append(
            Problem(
                first_line[reference],
                "police_reference",
                f"{reference} has been received already",
            )
        )
    return list(found.values()), problems


@transaction.atomic
def import_notifications(
    file: IO[bytes] | IO[str], *, actor: User, now: datetime | None = None
) -> list[Notification]:
    """Check the whole file, then load it; raises `BadNotificationFile` (nothing written)
    with every problem found, by line and column."""
    _require_receiver(actor)
    now = now or timezone.now()
    incoming, problems = _check_file(_text_file(file), agency_id=actor.agency_id, now=now)
    if problems:
        raise BadNotificationFile(problems)
    return _save_all(incoming, actor=actor, now=now)


# The API.


@transaction.atomic
def receive_notifications(
    *, actor: User, rows: Sequence[Mapping[str, Any]], now: datetime | None = None
) -> list[Notification]:
    """Notifications sent by a force's system, each as the API's serializer reads it
    (`police_reference`, `incident_at`, `address`, `summary`, `consent`, `people`: a list of
    {part, first_name, last_name, date_of_birth}). All or nothing: `BadNotifications` with
    the errors of each."""
    _require_receiver(actor)
    now = now or timezone.now()
    today = timezone.localdate(now)
    if not rows:
        raise ValidationError({"notifications": "Send at least one notification."})
    errors: list[dict[str, list[str]]] = []
    incoming = []
    first_index: dict[str, int] = {}
    for index, row in enumerate(rows):
        problems: dict[str, list[str]] = {}
        reference = (row.get("police_reference") or "").strip()
        if reason := _text_problem(reference, required="Give the police reference."):
            problems["police_reference"] = [reason]
        elif first_index.setdefault(reference, index) != index:
            first = first_index[reference]
            problems["police_reference"] = [f"Sent twice: also notification {first}."]
        if reason := _moment_problem(row.get("incident_at"), now):
            problems["incident_at"] = [reason]
        for name, required, length in (
            ("summary", "Say what happened, as police recorded it.", TEXT_LIMIT),
            ("address", "", ADDRESS_LENGTH),
        ):
            try:
                clean_text(name, row.get(name) or "", max_length=length)
            except ValidationError as error:
                problems[name] = error.message_dict[name]
            if required and not (row.get(name) or "").strip():
                problems[name] = [required]
        people = list(row.get("people") or [])
        person_problems = [_person_problems(person, today) for person in people]
        if any(person_problems):
            problems["people"] = [
                f"Person {number}: {column}: {reason}"
                for number, found in enumerate(person_problems)
                for column, reason in found.items()
            ]
        elif reason := _people_problem(people):
            problems["people"] = [f"The notification {reason}."]
        errors.append(problems)
        incoming.append(
            _Incoming(
                police_reference=reference,
                incident_at=row.get("incident_at"),
                address=(row.get("address") or "").strip(),
                summary=(row.get("summary") or "").strip(),
                consent=row.get("consent") or Enquiry.Consent.NOT_SOUGHT,
                people=[
                    _person(
                        p["part"],
                        p["first_name"].strip(),
                        p["last_name"].strip(),
                        p.get("date_of_birth"),
                    )
                    for p in people
                ],
            )
        )
    for reference in _stored_references(actor.agency_id, list(first_index)):
        errors[first_index[reference]].setdefault("police_reference", []).append(
            f"{reference} has been received already."
        )
    if any(errors):
        raise BadNotifications(errors)
    return _save_all(incoming, actor=actor, now=now)


# Triage.


def _lock(notification: Notification, actor: User, expected_version) -> Notification:
    locked = Notification.objects.select_for_update().get(pk=notification.pk)
    if not firewall.domestic_abuse_notifications(actor).filter(pk=locked.pk).exists():
        raise firewall.NotVisible("No such domestic-abuse notification.")
    reason = firewall.triage_refusal(actor, notification)
    if reason:
        raise PermissionDenied(reason)
    if expected_version is not None and int(expected_version) != locked.version:
        changes = [f"it is now {locked.get_status_display().lower()}"]
        if locked.triaged_by_id is not None:
            changes = [f"{changes[0]}, triaged by {locked.triaged_by}"]
        raise StaleEdit(changes=changes, current_version=locked.version, what="notification")
    if locked.status != Status.NEW:
        raise ValidationError(
            f"This notification has been triaged already: {locked.get_status_display()}."
        )
    return locked


def _details(person: dict, address: str = "") -> PersonDetails:
    born = person.get("date_of_birth")
    return PersonDetails(
        first_name=person["first_name"],
        last_name=person["last_name"],
        date_of_birth=date.fromisoformat(born) if born else None,
        address=address,
    )


def default_lawful_basis(notification: Notification) -> str:
    """What police share a notification under without consent: the duty to safeguard
    children, or adult safeguarding where no child lives there."""
    if notification.named(Part.CHILD):
        return LawfulBasis.CHILDREN_ACT_2004_S11
    return LawfulBasis.CARE_ACT_2014_S42


def concern_text(notification: Notification, risk_level: str, rationale: str) -> str:
    incident = timezone.localtime(notification.incident_at)
    lines = [
        f"Domestic-abuse notification {notification.police_reference} from "
        f"{notification.agency}: incident on {incident.day} {incident:%B %Y at %H:%M}"
        + (f" at {notification.address}" if notification.address else "")
        + f". Police triage: {RiskLevel(risk_level).label.lower()} risk (DASH).",
        "",
        notification.summary,
    ]
    if rationale:
        lines += ["", f"Police triage rationale: {rationale}"]
    return "\n".join(lines)


def _refer(
    notification: Notification,
    *,
    actor: User,
    risk_level: str,
    rationale: str,
    lawful_basis: str,
    now: datetime,
) -> Enquiry:
    """Log the hub enquiry: the children as the subjects of a family enquiry, the victim
    (as a household member) and the alleged perpetrators with them; with no child, an
    adult-at-risk enquiry about the victim."""
    children = notification.named(Part.CHILD)
    victim = notification.named(Part.VICTIM)[0]
    perpetrators = notification.named(Part.ALLEGED_PERPETRATOR)
    address = notification.address
    others: list[tuple[PersonDetails, str]] = [
        (_details(person), EnquiryPerson.Role.ALLEGED_PERPETRATOR) for person in perpetrators
    ]
    if children:
        subjects = [_details(child, address) for child in children]
        subject_type = Enquiry.SubjectType.CHILD
        others.insert(0, (_details(victim, address), EnquiryPerson.Role.HOUSEHOLD_MEMBER))
    else:
        subjects = [_details(victim, address)]
        subject_type = Enquiry.SubjectType.ADULT
    consent = notification.consent
    referrer_type = ReferrerType.objects.filter(code=POLICE_REFERRER).first()
    if referrer_type is None:
        raise ValidationError("The hub has no referrer type 'police': ask an administrator.")
    enquiries = enquiry_intake(
        actor=actor,
        received_at=now,
        referrer_name=actor.get_full_name() or actor.username,
        referrer_organisation=str(notification.agency),
        referrer_type=referrer_type,
        referrer_contact=actor.email,
        subjects=subjects,
        subject_type=subject_type,
        concern=concern_text(notification, risk_level, rationale),
        categories=[Enquiry.Concern.DOMESTIC_ABUSE],
        consent=consent,
        consent_reason=""
        if consent == Enquiry.Consent.YES
        else f"Police domestic-abuse notification triaged as {RiskLevel(risk_level).label.lower()} "
        "risk: shared to safeguard those at risk.",
        lawful_basis=lawful_basis,
        others=others,
        now=now,
        referred_by_agency=True,
    )
    return enquiries[0]


def triage(
    *,
    notification: Notification,
    actor: User,
    risk_level: str,
    decision: str,
    rationale: str = "",
    lawful_basis: str = "",
    expected_version: int | None,
    channel: str = Channel.PAGE,
    now: datetime | None = None,
) -> Notification:
    """Grade the risk and refer the notification to the hub or close it with no further
    action (with the rationale). A refusal changes nothing and is in the access log."""
    with refusals_logged(
        user=actor,
        action=f"triage domestic-abuse notification {notification.pk}",
        channel=channel,
    ):
        return _triage(
            notification=notification,
            actor=actor,
            risk_level=risk_level,
            decision=decision,
            rationale=rationale,
            lawful_basis=lawful_basis,
            expected_version=expected_version,
            channel=channel,
            now=now,
        )


@transaction.atomic
def _triage(
    *,
    notification: Notification,
    actor: User,
    risk_level: str,
    decision: str,
    rationale: str,
    lawful_basis: str,
    expected_version: int | None,
    channel: str,
    now: datetime | None,
) -> Notification:
    locked = _lock(notification, actor, expected_version)
    now = (now or timezone.now()).replace(second=0, microsecond=0)
    errors: dict[str, str] = {}
    if risk_level not in RiskLevel.values:
        errors["risk_level"] = "Choose the risk level: standard, medium or high."
    if decision not in DECISIONS:
        errors["decision"] = "Choose whether to refer it to the hub or take no further action."
    try:
        rationale = clean_text("rationale", rationale)
    except ValidationError as error:
        errors["rationale"] = error.message_dict["rationale"][0]
    else:
        if decision == NFA and not rationale:
            errors["rationale"] = "Say why no further action is needed."
    if decision == REFER and locked.consent != Enquiry.Consent.YES:
        lawful_basis = lawful_basis or default_lawful_basis(locked)
        if reason := without_consent_lawful_basis_error(lawful_basis):
            errors["lawful_basis"] = reason
    if errors:
        raise ValidationError(errors)
    locked.agency = notification.agency  # read with it: the concern names the force
    if decision == REFER:
        locked.enquiry = _refer(
            locked,
            actor=actor,
            risk_level=risk_level,
            rationale=rationale,
            lawful_basis=lawful_basis,
            now=now,
        )
        locked.status = Status.REFERRED
    else:
        locked.status = Status.NO_FURTHER_ACTION
    clock = clock_in_force()
    locked.risk_level = risk_level
    locked.rationale = rationale
    locked.triaged_at = now
    locked.triaged_by = actor
    locked.triage_minutes = working_minutes_between(
        clock.calendar_for(Rag.NONE), min(locked.received_at, now), now
    )
    locked.version += 1
    locked.save(
        update_fields=[
            "status",
            "risk_level",
            "rationale",
            "triaged_at",
            "triaged_by",
            "triage_minutes",
            "enquiry",
            "version",
        ]
    )
    if locked.enquiry is not None:
        # Police information leaves the force: a disclosure to the hub, on record.
        log_access(
            user=actor,
            action=Log.RELEASE,
            channel=channel,
            enquiry=locked.enquiry,
            person_id=locked.enquiry.subject_id,
            reason=acting_as(
                actor,
                f"Referring domestic-abuse notification {locked.police_reference} to the hub "
                f"as {locked.enquiry.reference} ({locked.get_risk_level_display().lower()} risk)",
            ),
        )
    return locked


# The access log: every look at notifications.


def log_notifications_seen(
    *, user: User, notifications: Sequence[Notification], channel: str, doing: str
) -> None:
    """One entry for a look at notifications (a page of the queue, one notification, an API
    answer), naming each shown by its police reference."""
    if not notifications:
        return
    references = ", ".join(n.police_reference for n in notifications)
    log_access(
        user=user,
        action=Log.VIEW_PERSON,
        channel=channel,
        reason=acting_as(user, doing),
        terms=f"Domestic-abuse notifications shown: {references}",
    )
