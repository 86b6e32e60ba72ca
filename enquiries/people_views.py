"""People pages: the people search, the header's search box, the person page with its
chronology, and the chronology as CSV. Every search and every look is in the access log."""

from collections.abc import Iterator, Sequence

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils import timezone

from agencies.decorators import role_required
from agencies.models import WORKING_ROLES, Role, User
from agencies.requests import SignedInRequest
from audit import access_log
from audit.models import AccessLogEntry
from core.downloads import csv_download, csv_lines
from core.text import spreadsheet_safe

from . import people, visibility
from .hooks import CHRONOLOGY_KINDS
from .merging import merges_of
from .models import Person
from .people_forms import ChronologyForm, PeopleSearchForm

Log = AccessLogEntry.Action
Channel = AccessLogEntry.Channel


def log_people_search(
    *, user: User, channel: str, query: people.PeopleQuery, found: Sequence[people.FoundPerson]
) -> None:
    """A search of the register: one entry for each person it showed, or one naming nobody,
    with what was typed."""
    access_log.write_access_log(
        access_log.access_entries(
            user=user,
            action=Log.SEARCH,
            channel=channel,
            person_ids=[result.person.pk for result in found],
            reason=access_log.acting_as(user, "Searching for people"),
            terms=access_log.search_terms(**query.terms()),
        )
    )


def log_person_page(
    *, user: User, channel: str, person: Person, shown: Sequence, action: str = Log.VIEW_PERSON
) -> None:
    """A look at (or, with `action` EXPORT, a download of) a person's page: one entry for the
    person, and one for each sensitive record whose content its chronology shows, in one
    insert."""
    reason = access_log.acting_as(user, f"Looking at the person page of {person}")
    content = [record for record in shown if record.is_sensitive and record.content_visible]
    if action == Log.VIEW_PERSON:
        about_records = access_log.content_view_entries(
            user=user, records=content, channel=channel, reasons=reason
        )
    elif content:
        about_records = access_log.access_entries(
            user=user, action=action, channel=channel, records=content, reason=reason
        )
    else:
        about_records = []
    access_log.write_access_log(
        access_log.access_entries(
            user=user, action=action, channel=channel, person_id=person.pk, reason=reason
        ),
        about_records,
    )


@role_required(*WORKING_ROLES)
def people_search(request: SignedInRequest) -> HttpResponse:
    """Do we know this child, this adult, this family? Found people with their enquiries."""
    form = PeopleSearchForm(request.GET or None)
    results = None
    if form.is_bound and form.is_valid() and form.query:
        results = people.search_people(
            form.query, viewer=request.user, today=timezone.localdate(), page=form.page_number
        )
        log_people_search(
            user=request.user, channel=Channel.SEARCH, query=form.query, found=results.found
        )
    return render(
        request,
        "people/search.html",
        {
            "form": form,
            "results": results,
            "query": _without_page(request),
            "sees_every_enquiry": visibility.sees_every_enquiry(request.user),
        },
    )


def _without_page(request: SignedInRequest) -> str:
    params = request.GET.copy()
    params.pop("page", None)
    return params.urlencode()


@role_required(*WORKING_ROLES)
def find(request: SignedInRequest) -> HttpResponse:
    """The header's search box: an enquiry by its full or partial reference, or a person;
    open or closed. A full reference goes straight to its enquiry."""
    text = " ".join(request.GET.get("q", "").split())[:200]
    enquiries = (
        people.find_enquiries(text, viewer=request.user, today=timezone.localdate()) if text else []
    )
    exact = [e for e in enquiries if e.reference.upper() == text.upper()]
    if len(exact) == 1:
        return redirect(exact[0])
    form = PeopleSearchForm({"q": text} if text else None)
    results = None
    if text and not people.REFERENCE.match(text) and form.is_valid() and form.query:
        results = people.search_people(form.query, viewer=request.user, today=timezone.localdate())
    if text:
        access_log.write_access_log(
            access_log.access_entries(
                user=request.user,
                action=Log.SEARCH,
                channel=Channel.SEARCH,
                person_ids=[found.person.pk for found in results.found] if results else [],
                reason=access_log.acting_as(request.user, "Searching for an enquiry or a person"),
                terms=access_log.search_terms(q=text),
            )
        )
    return render(
        request,
        "people/find.html",
        {"text": text, "enquiries": enquiries, "form": form, "results": results},
    )


def _person_or_404(request: SignedInRequest, pk: int) -> Person:
    try:
        return people.person_for_page(pk, viewer=request.user)
    except Person.DoesNotExist:
        raise Http404("No person has that number.") from None


@role_required(*WORKING_ROLES)
def person_detail(request: SignedInRequest, pk: int) -> HttpResponse:
    """Who they are, who they appear with, every enquiry about them and what happened, in one
    timeline, as the firewall shows it to the reader."""
    person = _person_or_404(request, pk)
    if person.merged_into_id is not None:
        messages.info(request, f"{person}'s record was merged into this one.")
        return redirect("person-detail", person.merged_into_id)
    filters = ChronologyForm(request.GET or None)
    page = people.person_page(person, viewer=request.user, filters=filters.filters)
    entries = page.chronology.newest_first(request.GET.get("page"))
    hub = visibility.sees_every_enquiry(request.user)
    log_person_page(
        user=request.user,
        channel=Channel.PAGE,
        person=person,
        shown=[entry.shown for entry in entries if entry.shown is not None],
    )
    return render(
        request,
        "people/person.html",
        {
            "page": page,
            "person": person,
            "entries": entries,
            "lines": page.chronology.lines(entries),
            "filters": filters,
            "kinds": CHRONOLOGY_KINDS,
            "query": _without_page(request),
            "sees_every_enquiry": hub,
            "may_merge": request.user.has_role(Role.MANAGER),
            # The register's history of this record, for the hub, who see every enquiry
            # either record was in.
            "merges": list(merges_of(person)) if hub else [],
        },
    )


def chronology_rows(page: people.PersonPage) -> Iterator[list[str]]:
    yield ["When", "Enquiry", "What", "Details", "By"]
    zone = timezone.get_current_timezone()
    for entry in page.chronology.entries:
        yield [
            entry.at.astimezone(zone).strftime("%Y-%m-%d %H:%M"),
            page.chronology.reference(entry),
            spreadsheet_safe(entry.title),
            spreadsheet_safe(entry.text),
            spreadsheet_safe(entry.by),
        ]


@role_required(*WORKING_ROLES)
def person_chronology_csv(request: SignedInRequest, pk: int) -> HttpResponseBase:
    """The chronology as filtered on the page, as a spreadsheet; an export in the log."""
    person = _person_or_404(request, pk)
    if person.merged_into_id is not None:
        return redirect("person-chronology-csv", person.merged_into_id)
    filters = ChronologyForm(request.GET or None)
    page = people.person_page(person, viewer=request.user, filters=filters.filters)
    log_person_page(
        user=request.user,
        channel=Channel.EXPORT,
        person=person,
        shown=page.chronology.shown,
        action=Log.EXPORT,
    )
    return csv_download(csv_lines(chronology_rows(page)), f"chronology-person-{person.pk}.csv")
