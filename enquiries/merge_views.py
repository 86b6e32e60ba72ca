"""The merge pages, for managers: find the other record of a person, compare the two side by
side, merge them with a reason; and undo a merge. Every page that shows a person's details
is in the access log."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone

from agencies.decorators import role_required
from agencies.models import Role, User
from agencies.requests import SignedInRequest
from audit import access_log
from audit.models import AccessLogEntry
from core.forms import add_service_errors

from .exceptions import StaleEdit
from .merge_forms import ChooseOtherForm, FindOtherForm, MergeForm, UndoMergeForm
from .merging import (
    enquiry_counts,
    merge_enquiries,
    merge_undo,
    moved_summary,
    people_merge,
)
from .models import Person, PersonMerge
from .selectors import person_matches

Log = AccessLogEntry.Action
PAGE = AccessLogEntry.Channel.PAGE
# Errors on these go to the summary: the form shows them nowhere else.
HIDDEN = ("other", "survivor_version", "other_version")
FIND_FIELDS = ("first_name", "last_name", "date_of_birth", "approximate_age")


def _people() -> QuerySet[Person]:
    return Person.objects.select_related("merged_into").prefetch_related("aliases")


def _other(pk) -> Person | None:
    try:
        return _people().get(pk=int(pk))
    except (TypeError, ValueError, Person.DoesNotExist):
        return None


def _log_looked_at(user: User, people: list[Person], doing: str, *, found=(), terms="") -> None:
    """The people whose details a page shows; the register search's finds as a search."""
    reason = access_log.acting_as(user, doing)
    batches = [
        access_log.access_entries(
            user=user,
            action=Log.VIEW_PERSON,
            channel=PAGE,
            person_ids=[person.pk for person in people],
            reason=reason,
        )
    ]
    if terms:
        batches.append(
            access_log.access_entries(
                user=user,
                action=Log.SEARCH,
                channel=PAGE,
                person_ids=[person.pk for person in found],
                reason=reason,
                terms=terms,
            )
        )
    access_log.write_access_log(*batches)


@role_required(Role.MANAGER)
def person_merge(request: SignedInRequest, person_id: int) -> HttpResponse:
    """Merge another record into this person's: choose it (by id, or from the register's
    likely matches), compare the two, then confirm with a reason. The other record's
    enquiries, parts and names move here."""
    person = get_object_or_404(_people(), pk=person_id)
    choose = ChooseOtherForm(request.GET if "other" in request.GET else None)
    other, form, stale = None, None, None
    if request.method == "POST":
        form = MergeForm(request.POST)
        other = _other(request.POST.get("other"))
        if other is None:
            form.add_error(None, "Choose the other record again: that one is not in the register.")
        elif form.is_valid():
            data = form.cleaned_data
            try:
                people_merge(
                    survivor=person,
                    merged=other,
                    actor=request.user,
                    reason=data["reason"],
                    expected_versions=(data["survivor_version"], data["other_version"]),
                )
            except StaleEdit as error:
                stale = error
                person, other = _people().get(pk=person.pk), _people().get(pk=other.pk)
                fresh = request.POST.copy()
                fresh["survivor_version"] = str(person.version)
                fresh["other_version"] = str(other.version)
                form = MergeForm(fresh)
            except ValidationError as error:
                add_service_errors(form, error, fields_elsewhere=HIDDEN)
            else:
                messages.success(request, f"{other}'s record was merged into {person}'s.")
                return redirect("person-detail", person.pk)
    elif choose.is_bound and choose.is_valid():
        other = _other(choose.cleaned_data["other"])
        if other is None:
            choose.add_error("other", "No one in the register has that id.")
        elif other.pk == person.pk:
            choose.add_error("other", "That is this record: give the id of the other one.")
            other = None
        else:
            form = MergeForm(
                initial={
                    "other": other.pk,
                    "survivor_version": person.version,
                    "other_version": other.version,
                }
            )
    if other is not None and form is not None:
        _log_looked_at(request.user, [person, other], "Merging two records of a person")
        counts = enquiry_counts([person, other])
        return render(
            request,
            "people/merge.html",
            {
                "person": person,
                "other": other,
                "form": form,
                "stale": stale,
                "person_enquiries": counts[person.pk],
                "other_enquiries": counts[other.pk],
            },
        )
    return _find_other(request, person, choose)


def _find_other(request: SignedInRequest, person: Person, choose: ChooseOtherForm) -> HttpResponse:
    """The first step: the register's likely matches for this person, or for what was typed."""
    searched = any(field in request.GET for field in FIND_FIELDS)
    find = FindOtherForm(
        request.GET if searched else None,
        initial={field: getattr(person, field) for field in FIND_FIELDS},
    )
    typed = find.cleaned_data if searched and find.is_valid() else find.initial
    matches = []
    if not searched or find.is_valid():
        matches = [
            match
            for match in person_matches(
                first_name=typed["first_name"] or "",
                last_name=typed["last_name"] or "",
                date_of_birth=typed["date_of_birth"],
                approximate_age=typed["approximate_age"],
                nhs_number="" if searched else person.nhs_number,
                today=timezone.localdate(),
                limit=10,
            )
            if match.person.pk != person.pk
        ]
    terms = access_log.search_terms(
        name=" ".join(f"{typed['first_name'] or ''} {typed['last_name'] or ''}".split()),
        born=typed["date_of_birth"],
        age=typed["approximate_age"],
    )
    _log_looked_at(
        request.user,
        [person],
        "Merging two records of a person",
        found=[match.person for match in matches],
        terms=terms or "nothing typed",
    )
    return render(
        request,
        "people/merge.html",
        {
            "person": person,
            "find": find,
            "choose": choose,
            "matches": matches,
            "person_enquiries": enquiry_counts([person])[person.pk],
        },
    )


@role_required(Role.MANAGER)
def person_merge_undo(request: SignedInRequest, merge_id: int) -> HttpResponse:
    """Undo a merge, with a reason: everything it moved goes back to the merged record."""
    merge = get_object_or_404(
        PersonMerge.objects.select_related("survivor", "merged", "merged_by", "undone_by"),
        pk=merge_id,
    )
    form = UndoMergeForm(request.POST or None)
    if request.method == "POST" and merge.undone_at is None and form.is_valid():
        try:
            merge_undo(merge=merge, actor=request.user, reason=form.cleaned_data["reason"])
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"Merge undone: {merge.merged} has their own record again.")
            return redirect("person-detail", merge.survivor_id)
    _log_looked_at(request.user, [merge.survivor, merge.merged], "Undoing a merge of two records")
    return render(
        request,
        "people/merge_undo.html",
        {
            "merge": merge,
            "form": form,
            "moved": moved_summary(merge),
            "references": merge_enquiries(merge),
        },
    )
