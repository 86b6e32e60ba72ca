"""Reads about people: the people search, the person page and their chronology.

A researcher's first question is "do we know this child, this adult, this family?"
(docs/domain.md section 4.9). Every read narrows through the firewall's gate
(`visibility.only_visible`): a practitioner finds only people on enquiries their agency may
see, and of each person only those enquiries; the agencies' information in a chronology comes
from the layer above (`hooks.chronology_sources`), exactly as the firewall shows it.
"""

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo

from django.contrib.postgres.search import TrigramWordDistance
from django.core.exceptions import ValidationError
from django.core.paginator import Page, Paginator
from django.db import connection
from django.db.models import Count, Exists, Max, OuterRef, Prefetch, Q, QuerySet
from django.urls import reverse
from django.utils import timezone

from agencies.models import User

from . import hooks
from .hooks import ChronologyEntry
from .models import (
    Enquiry,
    EnquiryEvent,
    EnquiryPerson,
    Outcome,
    Person,
    PersonAlias,
    Rag,
)
from .selectors import trigram_similarity, years_before
from .visibility import only_visible, sees_every_enquiry

PAGE_SIZE = 25
CHRONOLOGY_PAGE_SIZE = 50

NHS_NUMBER = re.compile(r"\b(\d{3})\s?(\d{3})\s?(\d{4})\b")
DATE = re.compile(r"\b(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})\b|\b(\d{4})-(\d{2})-(\d{2})\b")
POSTCODE = re.compile(r"\b([A-Z]{1,2}\d[A-Z\d]?)\s*(\d[A-Z]{2})\b", re.IGNORECASE)
AGE = re.compile(r"\b(?:age|aged)\s*(\d{1,3})\b", re.IGNORECASE)
REFERENCE = re.compile(r"^\s*(?:MASH-)?(?:F-)?(?:\d{4}-)?\d{1,6}\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class PeopleQuery:
    """What a people search looks for; every part optional, all parts must hold."""

    name: str = ""
    date_of_birth: date | None = None
    age: int | None = None
    nhs_number: str = ""
    address: str = ""

    def __bool__(self) -> bool:
        return bool(
            self.name
            or self.date_of_birth
            or self.age is not None
            or self.nhs_number
            or self.address
        )

    def terms(self) -> dict:
        """For the access log's record of what was searched for."""
        return {
            "name": self.name,
            "born": self.date_of_birth,
            "age": self.age,
            "nhs_number": self.nhs_number,
            "address": self.address,
        }


def _real_date(year: int, month: int, day: int) -> date:
    try:
        return date(year, month, day)
    except ValueError:
        raise ValidationError(
            {"q": f"{day}/{month}/{year} is not a real date; give a date of birth as 3/4/2015."}
        ) from None


def read_search(text: str) -> PeopleQuery:
    """What one search box means: an NHS number (10 digits), a date of birth (3/4/2015 or
    2015-04-03), a postcode, "age 7", and whatever is left, a name. "Jayden Smith 3/4/2015"
    looks for that name born that day."""
    rest = " ".join((text or "").split())
    nhs_number = ""
    if found := NHS_NUMBER.search(rest):
        nhs_number = "".join(found.groups())
        rest = rest.replace(found.group(0), " ")
    born = None
    if found := DATE.search(rest):
        day, month, year, iso_year, iso_month, iso_day = found.groups()
        if year:
            born = _real_date(int(year), int(month), int(day))
        else:
            born = _real_date(int(iso_year), int(iso_month), int(iso_day))
        rest = rest.replace(found.group(0), " ")
    address = ""
    if found := POSTCODE.search(rest):
        address = f"{found.group(1)} {found.group(2)}".upper()
        rest = rest.replace(found.group(0), " ")
    age = None
    if found := AGE.search(rest):
        age = int(found.group(1))
        rest = rest.replace(found.group(0), " ")
    return PeopleQuery(
        name=" ".join(rest.split()),
        date_of_birth=born,
        age=age,
        nhs_number=nhs_number,
        address=address,
    )


def _age_range(age: int, today: date) -> tuple[date, date]:
    """The dates of birth of someone `age` years old today: (earliest, latest)."""
    latest = years_before(today, age)
    earliest = years_before(today, age + 1) + timedelta(days=1)
    return earliest, latest


def _on_a_visible_enquiry(viewer: User) -> Q | None:
    """People named in an enquiry `viewer` may see; None for the hub, who see everyone."""
    if sees_every_enquiry(viewer):
        return None
    return Q(
        Exists(
            only_visible(
                EnquiryPerson.objects.filter(person_id=OuterRef("pk")), viewer, field="enquiry_id"
            )
        )
    )


def visible_people(viewer: User) -> QuerySet[Person]:
    """People on at least one enquiry `viewer` may see (everyone, for the hub); merged
    records are found through their survivor."""
    people = Person.objects.filter(merged_into__isnull=True)
    condition = _on_a_visible_enquiry(viewer)
    return people if condition is None else people.filter(condition)


def _found_by_alias(name: str, limit: int = PAGE_SIZE) -> list[int]:
    """The people an alias or previous name like `name` belongs to (trigram word similarity,
    PostgreSQL): a short list, shown before the rest on the first page."""
    return list(
        PersonAlias.objects.filter(search_name__trigram_word_similar=name.lower())
        .order_by(TrigramWordDistance(name.lower(), "search_name"))
        .values_list("person_id", flat=True)[:limit]
    )


# pg_trgm's default `word_similarity_threshold`.
WORD_ALIKE = 0.6


def _word_similarity(typed: str, name: str) -> float:
    """pg_trgm's word similarity, near enough: the best share of what was typed found in
    any run of the name's words."""
    words = name.split()
    runs = [" ".join(words[i:j]) for i in range(len(words)) for j in range(i + 1, len(words) + 1)]
    return max((trigram_similarity(typed, run) for run in runs), default=0.0)


def _alike_in_python(people: QuerySet[Person], name: str, limit: int = 2000) -> list[int]:
    """SQLite has no trigrams: narrow by the first letter of each typed word, then measure
    in Python, as PostgreSQL would, over at most `limit` candidates (a demo's register)."""
    typed = name.lower()
    initials = Q()
    for word in typed.split():
        initials |= Q(first_name__istartswith=word[0]) | Q(last_name__istartswith=word[0])
        initials |= Q(aliases__first_name__istartswith=word[0])
        initials |= Q(aliases__last_name__istartswith=word[0])
    candidates = people.filter(initials).prefetch_related("aliases").distinct()[:limit]
    scored = []
    for person in candidates:
        names = [person.search_name, *(alias.search_name for alias in person.aliases.all())]
        score = max(_word_similarity(typed, known) for known in names)
        if score >= WORD_ALIKE:
            scored.append((-score, person.last_name, person.first_name, person.pk))
    return [pk for *_, pk in sorted(scored)]


@dataclass
class FoundPerson:
    """A person found by a search, with their enquiries the searcher may see, newest first."""

    person: Person
    parts: list[EnquiryPerson]
    known_as: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class PeopleResults:
    found: list[FoundPerson]
    page: int
    has_next: bool

    @property
    def has_previous(self) -> bool:
        return self.page > 1


def _parts_of(viewer: User) -> QuerySet[EnquiryPerson]:
    return (
        only_visible(EnquiryPerson.objects.all(), viewer, field="enquiry_id")
        .select_related("enquiry", "enquiry__outcome")
        .order_by("-enquiry__received_at", "-enquiry_id", "role")
    )


def search_people(query: PeopleQuery, *, viewer: User, today: date, page: int = 1) -> PeopleResults:
    """People matching every part of `query`, nearest name first, a page of 25 at a time,
    each with their enquiries: a constant number of queries whatever the register's size. No
    count: a common surname's thousands are not counted to show 25."""
    if not query:
        return PeopleResults([], page=1, has_next=False)
    people = visible_people(viewer)
    order: list = ["last_name", "first_name", "pk"]
    ranked: list[int] | None = None
    if query.date_of_birth:
        people = people.filter(date_of_birth=query.date_of_birth)
    if query.age is not None:
        earliest, latest = _age_range(query.age, today)
        people = people.filter(
            Q(date_of_birth__range=(earliest, latest))
            | Q(
                date_of_birth__isnull=True,
                approximate_age__range=(max(query.age - 1, 0), query.age + 1),
            )
        )
    if query.nhs_number:
        people = people.filter(nhs_number=query.nhs_number)
    if query.address:
        people = people.filter(address__icontains=query.address)
    page = max(page, 1)
    start = (page - 1) * PAGE_SIZE
    first: list[Person] = []
    if query.name and connection.vendor == "postgresql":
        # Nearest names first, straight from the GiST index (a k-nearest-neighbour scan):
        # "Smith" among a million reads 26 index entries, not every Smith. Ties keep the
        # index's order: a tie-break would sort every Smith.
        typed = query.name.lower()
        by_alias = _found_by_alias(typed)
        known_as = list(_with_parts(people.filter(pk__in=by_alias), viewer)) if by_alias else []
        known_as.sort(key=lambda person: by_alias.index(person.pk))
        first = known_as if page == 1 else []
        people = people.filter(search_name__trigram_word_similar=typed).exclude(pk__in=by_alias)
        order = [TrigramWordDistance(typed, "search_name")]
        start = max(start - len(known_as), 0)
    elif query.name:
        ranked = _alike_in_python(people, query.name)
    with_enquiries = _with_parts(people, viewer)
    if ranked is None:
        rows = first + list(
            with_enquiries.order_by(*order)[start : start + PAGE_SIZE + 1 - len(first)]
        )
    else:
        chosen = ranked[start : start + PAGE_SIZE + 1]
        by_pk = with_enquiries.in_bulk(chosen)
        rows = [by_pk[pk] for pk in chosen]
    found = []
    for person in rows[:PAGE_SIZE]:
        parts = person.visible_parts  # type: ignore[attr-defined]  # the prefetch's to_attr
        other_names = [str(alias) for alias in person.aliases.all()]
        found.append(FoundPerson(person, _one_part_per_enquiry(parts), other_names))
    return PeopleResults(found, page=page, has_next=len(rows) > PAGE_SIZE)


def _with_parts(people: QuerySet[Person], viewer: User) -> QuerySet[Person]:
    return people.prefetch_related(
        Prefetch("involvements", queryset=_parts_of(viewer), to_attr="visible_parts"), "aliases"
    )


def _one_part_per_enquiry(parts: Sequence[EnquiryPerson]) -> list[EnquiryPerson]:
    seen: set[int] = set()
    kept = []
    for part in parts:
        if part.enquiry_id not in seen:
            seen.add(part.enquiry_id)
            kept.append(part)
    return kept


# Finding an enquiry from the header's search box.


# References are given out by year since the hub's first (imported enquiries reach back).
FIRST_YEAR = 2000


def find_enquiries(text: str, *, viewer: User, today: date, limit: int = 10) -> list[Enquiry]:
    """Enquiries whose reference is what was typed, whole or in part ("MASH-2026-000123",
    "2026-123", "123": that number in any year), or whose family's is ("MASH-F-2026-123");
    open or closed, of those `viewer` may see, newest first. Each possible reference is looked
    up whole, by the unique index: no scan of every reference."""
    if not REFERENCE.match(text or ""):
        return []
    typed = text.strip().upper().removeprefix("MASH-")
    family = typed.startswith("F-")
    year, _, number = typed.removeprefix("F-").rpartition("-")
    years = [int(year)] if year else range(today.year, FIRST_YEAR - 1, -1)
    prefix = "MASH-F" if family else "MASH"
    references = [f"{prefix}-{each}-{int(number):06d}" for each in years]
    field_name = "family__reference__in" if family else "reference__in"
    enquiries = only_visible(Enquiry.objects.all(), viewer).filter(**{field_name: references})
    return list(
        enquiries.select_related("subject", "outcome").order_by("-received_at", "-id")[:limit]
    )


# The person page.


@dataclass(frozen=True)
class Relationship:
    """Someone who appears with this person, their part, and in how many enquiries."""

    person: Person
    parts: tuple[str, ...]
    enquiries: int
    latest: datetime

    @property
    def group(self) -> str:
        family = {
            EnquiryPerson.Role.PARENT_CARER.label,
            EnquiryPerson.Role.SIBLING.label,
            EnquiryPerson.Role.SUBJECT.label,
        }
        return "Family" if family & set(self.parts) else "Household and others"


def person_for_page(pk: int, *, viewer: User) -> Person:
    """One person with their aliases, if named in an enquiry `viewer` may see (else
    DoesNotExist, as for an id nobody has). A merged record is judged by its survivor, to
    whom its page sends the reader."""
    person = Person.objects.prefetch_related("aliases").get(pk=pk)
    condition = _on_a_visible_enquiry(viewer)
    if condition is not None:
        judged = person.merged_into_id or person.pk
        if not Person.objects.filter(condition, pk=judged).exists():
            raise Person.DoesNotExist
    return person


def person_parts(person: Person, *, viewer: User) -> list[EnquiryPerson]:
    """Every part this person has in an enquiry `viewer` may see, newest enquiry first."""
    return list(_parts_of(viewer).filter(person=person).select_related("enquiry__subject"))


def relationships(
    person: Person, enquiry_ids: Sequence[int], *, viewer: User
) -> list[Relationship]:
    """Everyone else named in this person's enquiries (those the viewer may see), with their
    parts, most enquiries together first: two queries."""
    rows = (
        EnquiryPerson.objects.filter(enquiry_id__in=enquiry_ids)
        .exclude(person=person)
        .values("person_id", "role")
        .annotate(enquiries=Count("enquiry_id", distinct=True), latest=Max("enquiry__received_at"))
    )
    by_person: dict[int, dict] = {}
    for row in rows:
        entry = by_person.setdefault(
            row["person_id"], {"parts": set(), "enquiries": 0, "latest": row["latest"]}
        )
        entry["parts"].add(EnquiryPerson.Role(row["role"]).label)
        entry["enquiries"] = max(entry["enquiries"], row["enquiries"])
        entry["latest"] = max(entry["latest"], row["latest"])
    people = Person.objects.in_bulk(list(by_person))
    found = [
        Relationship(people[pk], tuple(sorted(entry["parts"])), entry["enquiries"], entry["latest"])
        for pk, entry in by_person.items()
        if pk in people
    ]
    return sorted(found, key=lambda r: (-r.enquiries, -r.latest.timestamp(), str(r.person)))


# The chronology.


@dataclass(frozen=True)
class ChronologyFilters:
    start: date | None = None
    end: date | None = None
    kinds: frozenset[str] = frozenset()


@dataclass(frozen=True)
class ChronologyLine:
    entry: ChronologyEntry
    reference: str
    address: str
    # When, as the `date:"D j M Y, H:i"` filter writes it, at a fraction of its cost.
    when: str = ""


WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def day_date_and_time(moment: datetime, zone: tzinfo) -> str:
    """`moment` as `date:"D j M Y, H:i"` shows it in English ("Fri 27 Mar 2026, 17:00")."""
    local = moment.astimezone(zone)
    return (
        f"{WEEKDAYS[local.weekday()]} {local.day} {MONTHS[local.month - 1]} {local.year}, "
        f"{local.hour:02d}:{local.minute:02d}"
    )


def links_by_reference() -> tuple[str, str]:
    """What comes before and after the reference in an enquiry's address: links that differ
    only by the reference (which needs no quoting), one reverse() a page."""
    placeholder = "REFERENCE"
    before, after = reverse("enquiry-detail", args=[placeholder]).split(placeholder)
    return before, after


@dataclass(frozen=True)
class Chronology:
    entries: list[ChronologyEntry]
    references: dict[int, str]

    @property
    def shown(self) -> list:
        """The agencies' records whose content the chronology shows, for the access log."""
        return [entry.shown for entry in self.entries if entry.shown is not None]

    def reference(self, entry: ChronologyEntry) -> str:
        return self.references[entry.enquiry_id]

    def newest_first(self, number: int | str | None) -> Page:
        """One page of the entries, newest first, for the person page: a long history is
        read, and logged, a page at a time."""
        return Paginator(self.entries[::-1], CHRONOLOGY_PAGE_SIZE).get_page(number)

    def lines(self, entries: Sequence[ChronologyEntry]) -> list[ChronologyLine]:
        """Each entry with its enquiry's reference and address, and its time as the page
        shows it."""
        before, after = links_by_reference()
        zone = timezone.get_current_timezone()
        return [
            ChronologyLine(
                entry,
                reference,
                f"{before}{reference}{after}",
                day_date_and_time(entry.at, zone),
            )
            for entry in entries
            for reference in [self.references[entry.enquiry_id]]
        ]


# What of an enquiry's own history a chronology tells, as (kind, title); a title with
# "{rating}" or "{outcome}" names the event's new value. Stage moves and assignments are the
# hub's housekeeping, not what happened to the person.
EVENT_ENTRIES: dict[str, tuple[str, str]] = {
    EnquiryEvent.Kind.RECEIVED: ("received", "Received"),
    EnquiryEvent.Kind.RATING: ("rated", "Rated {rating}"),
    EnquiryEvent.Kind.ESCALATED: ("escalated", "Escalated for immediate protection"),
    EnquiryEvent.Kind.DECISION: ("decided", "Decided: {outcome}"),
    EnquiryEvent.Kind.FEEDBACK: ("feedback", "Feedback to the referrer ({rationale})"),
}
HOUSEKEEPING = {EnquiryEvent.Kind.STATE, EnquiryEvent.Kind.ASSIGNEE}


def _event_entries(
    events: Sequence[EnquiryEvent], enquiries: dict[int, Enquiry], outcomes: dict[str, str]
) -> list[ChronologyEntry]:
    """The hub's part of a chronology. An enquiry is received when the referrer called, not
    when it was logged, and what they said is the entry's text; feedback says how it was
    given and what was said."""
    ratings = dict(Rag.choices)
    entries = []
    for event in events:
        if event.kind in HOUSEKEEPING:
            continue
        kind, title = EVENT_ENTRIES.get(event.kind, ("amended", event.get_kind_display()))
        received = event.kind == EnquiryEvent.Kind.RECEIVED
        feedback = event.kind == EnquiryEvent.Kind.FEEDBACK
        enquiry = enquiries[event.enquiry_id]
        entries.append(
            ChronologyEntry(
                at=enquiry.received_at if received else event.at,
                kind=kind,
                enquiry_id=event.enquiry_id,
                title=title.format(
                    rating=ratings.get(event.to_value, event.to_value),
                    outcome=outcomes.get(event.to_value, event.to_value),
                    rationale=event.rationale,
                ),
                text=(
                    enquiry.concern
                    if received
                    else enquiry.feedback_text
                    if feedback
                    else event.rationale
                ),
                by=str(event.actor),
            )
        )
    return entries


def chronology(
    person: Person,
    enquiries: Sequence[Enquiry],
    *,
    viewer: User,
    filters: ChronologyFilters = ChronologyFilters(),
) -> Chronology:
    """One date-ordered timeline, oldest first, across `enquiries` (this person's, those
    `viewer` may see): what the hub did, from their histories, and what the agencies were
    asked and gave, from the layer above as the firewall shows it to `viewer`. A constant
    number of queries whatever the number of enquiries."""
    enquiry_ids = [enquiry.pk for enquiry in enquiries]
    references = {enquiry.pk: enquiry.reference for enquiry in enquiries}
    if not enquiry_ids:
        return Chronology([], references)
    outcomes = dict(Outcome.objects.values_list("code", "name"))
    events = EnquiryEvent.objects.filter(enquiry_id__in=enquiry_ids).select_related("actor")
    entries = _event_entries(list(events), {enquiry.pk: enquiry for enquiry in enquiries}, outcomes)
    for source in hooks.chronology_sources:
        entries.extend(source(viewer, enquiry_ids, person))
    zone = timezone.get_current_timezone()
    kept = [
        entry
        for entry in entries
        if (not filters.kinds or entry.kind in filters.kinds)
        and (filters.start is None or entry.at.astimezone(zone).date() >= filters.start)
        and (filters.end is None or entry.at.astimezone(zone).date() <= filters.end)
    ]
    kept.sort(key=lambda entry: (entry.at, entry.enquiry_id, entry.order))
    return Chronology(kept, references)


@dataclass(frozen=True)
class PersonPage:
    person: Person
    parts: list[EnquiryPerson]
    enquiries: list[Enquiry]
    relationships: list[Relationship]
    chronology: Chronology


def person_page(
    person: Person,
    *,
    viewer: User,
    filters: ChronologyFilters = ChronologyFilters(),
    with_chronology: bool = True,
) -> PersonPage:
    """Everything the person page shows, in a fixed number of queries."""
    parts = person_parts(person, viewer=viewer)
    enquiries = list({part.enquiry_id: part.enquiry for part in parts}.values())
    ids = [enquiry.pk for enquiry in enquiries]
    return PersonPage(
        person=person,
        parts=parts,
        enquiries=enquiries,
        relationships=relationships(person, ids, viewer=viewer),
        chronology=(
            chronology(person, enquiries, viewer=viewer, filters=filters)
            if with_chronology
            else Chronology([], {})
        ),
    )
