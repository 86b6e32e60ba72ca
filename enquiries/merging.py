"""Merging two register entries found to be one person, and undoing it (docs/domain.md
section 4.7).

A merge moves the merged person's parts in enquiries, the enquiries about them and their
other names to the survivor, and remembers exactly what it moved (`PersonMerge.moved`), so
that its undo puts back what it took and nothing else. Both services are for managers, run in
one transaction, lock both people (and every enquiry touched) and write a line in the history
of every enquiry whose people changed.
"""

from collections.abc import Iterable
from datetime import date, datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from agencies.models import Role, User
from core.exceptions import StaleEdit

from .models import Enquiry, EnquiryEvent, EnquiryPerson, Person, PersonAlias, PersonMerge

# What a merge copies onto a survivor who lacks it; the merged person keeps theirs.
DETAILS = ("date_of_birth", "approximate_age", "nhs_number", "address")
DETAIL_LABELS = {
    "date_of_birth": "Date of birth",
    "approximate_age": "Approximate age",
    "nhs_number": "NHS number",
    "address": "Address",
}


class StalePeople(StaleEdit):
    """One of the two people changed after the manager read them: the merge is refused."""

    def __init__(self, *, changes: list[str], current_versions: tuple[int, int]) -> None:
        super().__init__(changes=changes, current_version=current_versions[0], what="person")
        self.current_versions = current_versions

    def details(self) -> dict:
        return {"changes": self.changes, "current_versions": list(self.current_versions)}


def _require_manager(actor: User) -> None:
    if not actor.has_role(Role.MANAGER):
        raise PermissionDenied("Your role does not allow this.")


def _required(field: str, value: str, message: str) -> str:
    value = (value or "").strip()
    if not value:
        raise ValidationError({field: message})
    return value


def _named(person: Person) -> str:
    return f"{person} (id {person.pk})"


def _lock_people(*people: Person) -> dict[int, Person]:
    """Both people as they are now, locked in id order so two merges cannot deadlock."""
    pks = sorted({person.pk for person in people})
    return {p.pk: p for p in Person.objects.select_for_update().filter(pk__in=pks).order_by("pk")}


def _lock_enquiries(ids: Iterable[int]) -> list[Enquiry]:
    return list(Enquiry.objects.select_for_update().filter(pk__in=set(ids)).order_by("pk"))


def _record_on(
    enquiries: list[Enquiry],
    *,
    kind: str,
    actor: User,
    at: datetime,
    person: Person,
    from_value: str,
    to_value: str,
    rationale: str,
    changes: dict[int, list[list[str]]],
) -> None:
    """Save each enquiry (its subject may have moved) at its next version, with a line in
    its history."""
    for enquiry in enquiries:
        enquiry.version += 1
        enquiry.save(update_fields=["subject", "version", "updated_at"])
    EnquiryEvent.objects.bulk_create(
        EnquiryEvent(
            enquiry=enquiry,
            version=enquiry.version,
            kind=kind,
            actor=actor,
            at=at,
            person=person,
            from_value=from_value[:200],
            to_value=to_value[:200],
            rationale=rationale,
            changes=changes.get(enquiry.pk, []),
        )
        for enquiry in enquiries
    )


def _detail_text(value) -> str:
    if isinstance(value, date):
        return value.isoformat()
    return "" if value is None else str(value)


def _same_name(a: Person, b: Person) -> bool:
    return (a.first_name.strip().casefold(), a.last_name.strip().casefold()) == (
        b.first_name.strip().casefold(),
        b.last_name.strip().casefold(),
    )


@transaction.atomic
def people_merge(
    *,
    survivor: Person,
    merged: Person,
    actor: User,
    reason: str,
    expected_versions: tuple[int, int] | None = None,
    now: datetime | None = None,
) -> PersonMerge:
    """`merged` is found to be `survivor`: their parts in enquiries, the enquiries about them
    and their other names move to the survivor, who also takes their name as a merged name and
    any date of birth, age, NHS number or address the survivor lacks.

    A part the survivor already has in the same enquiry (both were named as its parent, say)
    is not doubled: the merged person's is deleted, and remembered so the undo recreates it.
    `expected_versions` are the two people's versions (survivor's, merged's) as the manager
    read them. What agencies recorded about the merged person (`sharing`'s records and
    requests, a layer above this one) stays with the merged person's entry, which still exists
    and now points to the survivor.
    """
    _require_manager(actor)
    reason = _required("reason", reason, "Say why these are the same person.")
    if survivor.pk == merged.pk:
        raise ValidationError({"other": "A person cannot be merged with themselves."})
    people = _lock_people(survivor, merged)
    survivor, merged = people[survivor.pk], people[merged.pk]
    for field, person in (("survivor", survivor), ("other", merged)):
        if person.merged_into_id is not None:
            raise ValidationError(
                {
                    field: f"{_named(person)} was already merged into person id "
                    f"{person.merged_into_id}: merge with that person, or undo that merge first."
                }
            )
    if expected_versions is not None:
        stale = [
            f"{_named(person)} was changed (version {expected} when you read it, now "
            f"{person.version})"
            for person, expected in zip((survivor, merged), expected_versions, strict=True)
            if person.version != expected
        ]
        if stale:
            raise StalePeople(changes=stale, current_versions=(survivor.version, merged.version))
    now = now or timezone.now()

    theirs = list(EnquiryPerson.objects.filter(person=merged).order_by("pk"))
    subject_of = list(Enquiry.objects.filter(subject=merged).values_list("pk", flat=True))
    enquiries = _lock_enquiries([link.enquiry_id for link in theirs] + subject_of)
    already = set(
        EnquiryPerson.objects.filter(
            person=survivor, enquiry_id__in=[link.enquiry_id for link in theirs]
        ).values_list("enquiry_id", "role")
    )
    moving = [link for link in theirs if (link.enquiry_id, link.role) not in already]
    doubled = [link for link in theirs if (link.enquiry_id, link.role) in already]

    changes: dict[int, list[list[str]]] = {}
    for link in moving:
        changes.setdefault(link.enquiry_id, []).append(
            [link.get_role_display(), _named(merged), _named(survivor)]
        )
    for link in doubled:
        changes.setdefault(link.enquiry_id, []).append(
            [link.get_role_display(), _named(merged), f"{_named(survivor)}, already named"]
        )
    for enquiry_id in subject_of:
        if not any(
            link.enquiry_id == enquiry_id and link.role == EnquiryPerson.Role.SUBJECT
            for link in theirs
        ):
            changes.setdefault(enquiry_id, []).append(["Subject", _named(merged), _named(survivor)])

    # One row at a time, so that the change log records each with its actor.
    deleted = [{"id": link.pk, "enquiry": link.enquiry_id, "role": link.role} for link in doubled]
    for link in moving:
        link.person = survivor
        link.save(update_fields=["person"])
    for link in doubled:
        link.delete()
    for enquiry in enquiries:
        if enquiry.pk in subject_of:
            enquiry.subject = survivor
    aliases = list(merged.aliases.order_by("pk"))
    for alias in aliases:
        alias.person = survivor
        alias.save(update_fields=["person"])
    merged_alias = None
    if not _same_name(survivor, merged):
        merged_alias = PersonAlias.objects.create(
            person=survivor,
            kind=PersonAlias.Kind.MERGED,
            first_name=merged.first_name,
            last_name=merged.last_name,
        )

    copied = {}
    for field in DETAILS:
        if field == "approximate_age" and (survivor.date_of_birth or "date_of_birth" in copied):
            continue  # an age is only for someone whose date of birth is unknown
        ours, other = getattr(survivor, field), getattr(merged, field)
        if ours in (None, "") and other not in (None, ""):
            setattr(survivor, field, other)
            copied[field] = _detail_text(other)
    survivor.version += 1
    survivor.save(update_fields=[*copied, "version"])
    merged.merged_into, merged.version = survivor, merged.version + 1
    merged.save(update_fields=["merged_into", "version"])

    merge = PersonMerge.objects.create(
        survivor=survivor,
        merged=merged,
        reason=reason,
        merged_by=actor,
        merged_at=now,
        moved={
            "involvements": [link.pk for link in moving],
            "deleted_involvements": deleted,
            "subjects": subject_of,
            "aliases": [alias.pk for alias in aliases],
            "merged_alias": merged_alias.pk if merged_alias else None,
            "details": copied,
            "enquiries": [enquiry.pk for enquiry in enquiries],
        },
    )
    _record_on(
        enquiries,
        kind=EnquiryEvent.Kind.PEOPLE_MERGED,
        actor=actor,
        at=now,
        person=survivor,
        from_value=_named(merged),
        to_value=_named(survivor),
        rationale=reason,
        changes=changes,
    )
    return merge


def _undo_problems(merge: PersonMerge, survivor: Person, merged: Person) -> list[str]:
    """What has changed since the merge such that undoing it could not put things back as
    they were; empty if it can."""
    moved = merge.moved
    problems = []
    links = EnquiryPerson.objects.in_bulk(moved["involvements"])
    for pk in moved["involvements"]:
        link = links.get(pk)
        if link is None:
            problems.append(f"a part moved to {survivor} has since been removed from its enquiry")
        elif link.person_id != survivor.pk:
            problems.append(f"{link} has since moved to someone else")
    for gone in moved["deleted_involvements"]:
        if EnquiryPerson.objects.filter(
            enquiry_id=gone["enquiry"], person=merged, role=gone["role"]
        ).exists():
            problems.append(f"{merged} has since been named again in enquiry id {gone['enquiry']}")
        elif not Enquiry.objects.filter(pk=gone["enquiry"]).exists():
            problems.append(f"enquiry id {gone['enquiry']} no longer exists")
    subjects = dict(
        Enquiry.objects.filter(pk__in=moved["subjects"]).values_list("pk", "subject_id")
    )
    for pk in moved["subjects"]:
        if subjects.get(pk) != survivor.pk:
            problems.append(f"enquiry id {pk} is no longer about {survivor}")
    aliases = PersonAlias.objects.in_bulk(moved["aliases"])
    for pk in moved["aliases"]:
        alias = aliases.get(pk)
        if alias is None or alias.person_id != survivor.pk:
            problems.append(
                f"a name that came with {merged} has since been removed from {survivor}"
            )
    for field, value in moved["details"].items():
        now = _detail_text(getattr(survivor, field))
        if now != value:
            problems.append(
                f"{survivor}'s {DETAIL_LABELS[field].lower()} has been corrected since "
                f"(from {value} to {now or 'nothing'})"
            )
    return problems


@transaction.atomic
def merge_undo(
    *, merge: PersonMerge, actor: User, reason: str, now: datetime | None = None
) -> PersonMerge:
    """Put back exactly what a merge moved: parts, enquiries, names and details return to the
    merged person (parts the merge deleted as doubles are made again), and they are their own
    entry in the register again. Refused if anything moved has changed since, so nothing is
    put back half-way or over a later correction."""
    _require_manager(actor)
    reason = _required("reason", reason, "Say why this merge was wrong.")
    people = _lock_people(merge.survivor, merge.merged)
    merge = PersonMerge.objects.select_for_update().get(pk=merge.pk)
    survivor, merged = people[merge.survivor_id], people[merge.merged_id]
    if merge.undone_at is not None:
        undone = timezone.localtime(merge.undone_at)
        raise ValidationError({"merge": f"This merge was already undone on {undone:%d %b %Y}."})
    if survivor.merged_into_id is not None:
        raise ValidationError(
            {
                "merge": f"{_named(survivor)} has since been merged into person id "
                f"{survivor.merged_into_id}: undo that merge first."
            }
        )
    problems = _undo_problems(merge, survivor, merged)
    if problems:
        raise ValidationError(
            {
                "merge": "This merge cannot be undone exactly, because since it "
                + "; ".join(problems)
                + ". Put those back first, or correct the people by hand."
            }
        )
    now = now or timezone.now()
    moved = merge.moved
    enquiries = _lock_enquiries(moved["enquiries"])

    links = EnquiryPerson.objects.in_bulk(moved["involvements"])
    changes: dict[int, list[list[str]]] = {}
    for link in links.values():
        changes.setdefault(link.enquiry_id, []).append(
            [link.get_role_display(), _named(survivor), _named(merged)]
        )
    roles = dict(EnquiryPerson.Role.choices)
    for gone in moved["deleted_involvements"]:
        changes.setdefault(gone["enquiry"], []).append(
            [roles[gone["role"]], f"{_named(survivor)} only", f"also {_named(merged)}"]
        )
    moved_subject_parts = {(link.enquiry_id, link.role) for link in links.values()}
    for pk in moved["subjects"]:
        if (pk, EnquiryPerson.Role.SUBJECT) not in moved_subject_parts:
            changes.setdefault(pk, []).append(["Subject", _named(survivor), _named(merged)])

    for link in links.values():
        link.person = merged
        link.save(update_fields=["person"])
    for gone in moved["deleted_involvements"]:
        EnquiryPerson.objects.create(
            id=gone["id"], enquiry_id=gone["enquiry"], person=merged, role=gone["role"]
        )
    for enquiry in enquiries:
        if enquiry.pk in moved["subjects"]:
            enquiry.subject = merged
    for alias in PersonAlias.objects.filter(pk__in=moved["aliases"]):
        alias.person = merged
        alias.save(update_fields=["person"])
    created = PersonAlias.objects.filter(pk=moved["merged_alias"] or 0, person=survivor).first()
    if created is not None:
        created.delete()
    for field in moved["details"]:
        setattr(survivor, field, None if field in ("date_of_birth", "approximate_age") else "")
    survivor.version += 1
    survivor.save(update_fields=[*moved["details"], "version"])
    merged.merged_into, merged.version = None, merged.version + 1
    merged.save(update_fields=["merged_into", "version"])

    merge.undone_at, merge.undone_by, merge.undo_reason = now, actor, reason
    merge.save(update_fields=["undone_at", "undone_by", "undo_reason"])
    _record_on(
        enquiries,
        kind=EnquiryEvent.Kind.MERGE_UNDONE,
        actor=actor,
        at=now,
        person=survivor,
        from_value=_named(survivor),
        to_value=_named(merged),
        rationale=reason,
        changes=changes,
    )
    return merge


def merges_of(person: Person) -> QuerySet[PersonMerge]:
    """Every merge `person` was in, kept or merged, undone ones too, newest first: the
    register's history of them, for their page."""
    return (
        PersonMerge.objects.filter(Q(survivor=person) | Q(merged=person))
        .select_related("survivor", "merged", "merged_by", "undone_by")
        .order_by("-merged_at", "-id")
    )


def enquiry_counts(people: Iterable[Person]) -> dict[int, int]:
    """How many enquiries each person is named in, for comparing two records (one query)."""
    counts = dict(
        EnquiryPerson.objects.filter(person__in=list(people))
        .values("person")
        .annotate(enquiries=Count("enquiry", distinct=True))
        .values_list("person", "enquiries")
    )
    return {person.pk: counts.get(person.pk, 0) for person in people}


def merge_enquiries(merge: PersonMerge) -> list[str]:
    """The references of the enquiries a merge changed."""
    return list(
        Enquiry.objects.filter(pk__in=merge.moved.get("enquiries", []))
        .order_by("reference")
        .values_list("reference", flat=True)
    )


def _plural(count: int) -> str:
    return "" if count == 1 else "s"


def moved_summary(merge: PersonMerge) -> list[str]:
    """What a merge moved, in words, for the page that undoes it."""
    moved = merge.moved
    lines = []
    parts, doubles = len(moved["involvements"]), len(moved["deleted_involvements"])
    if parts:
        lines.append(f"{parts} part{_plural(parts)} in enquiries moved to {merge.survivor}")
    if doubles:
        lines.append(
            f"{doubles} part{_plural(doubles)} {merge.survivor} already had in the same "
            "enquiry removed (made again on undo)"
        )
    if aliases := len(moved["aliases"]):
        lines.append(f"{aliases} other name{_plural(aliases)} moved to {merge.survivor}")
    if moved["merged_alias"]:
        lines.append(f"{merge.merged} added as a name of {merge.survivor}")
    if moved["details"]:
        copied = ", ".join(DETAIL_LABELS[field].lower() for field in moved["details"])
        lines.append(f"Copied to {merge.survivor}, who had none: {copied}")
    return lines or ["Nothing moved: the merged record was in no enquiry"]
