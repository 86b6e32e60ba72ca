"""People pages: the people search, the header's search box, the person page with its
chronology, and the chronology as CSV. Every search and every look is in the access log."""

from collections.abc import Iterator

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils import timezone

from agencies.decorators import role_required
from agencies.models import WORKING_ROLES, Role
from agencies.requests import SignedInRequest
from audit import access_log
from audit.models import AccessLogEntry
from core.downloads import csv_download, csv_lines
from core.keyset import query_without
from core.text import spreadsheet_safe

from . import people, visibility
from .hooks import CHRONOLOGY_KINDS
from .merging import merges_of
from .models import Person
from .people_access import log_people_search, log_person_page
from .people_forms import ChronologyForm, PeopleSearchForm

Log = AccessLogEntry.Action
Channel = AccessLogEntry.Channel


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
            user=request.user,
            channel=Channel.SEARCH,
            terms=access_log.search_terms(**form.query.terms()),
            found=results.found,
        )
    return render(
        request,
        "people/search.html",
        {
            "form": form,
            "results": results,
            "query": query_without(request.GET, "page"),
            "sees_every_enquiry": visibility.sees_every_enquiry(request.user),
        },
    )


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
        log_people_search(
            user=request.user,
            channel=Channel.SEARCH,
            terms=access_log.search_terms(q=text),
            found=results.found if results else [],
            doing="Searching for an enquiry or a person",
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
            "enquiry_link": people.links_by_reference(),
            "filters": filters,
            "kinds": CHRONOLOGY_KINDS,
            "query": query_without(request.GET, "page"),
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
