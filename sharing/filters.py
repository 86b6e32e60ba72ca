"""The sharing lists' filters, declared once: the information requests and records of the API,
the record search page (the API's `q`), and the auditor's page over the logs and its CSV.

The requests and records narrow what the firewall hands them (`firewall.visible_requests`,
`firewall.visible_records`): a filter can only leave out what the person may see.
"""

from typing import Any

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db.models import Q, QuerySet

from agencies.models import Agency
from core.filters import (
    NOT_A_CHOICE,
    NOT_A_NUMBER,
    FilterSet,
    FreeTextFilter,
    WholeNumberFilter,
    YesNoFilter,
)
from core.text import FreeTextField
from enquiries.models import Enquiry

from . import audit, firewall
from .forms import AuditFilterForm
from .models import InformationRequest, ReleaseStatus

MINE = "mine"


class AgencyField(FreeTextField):
    """An agency's id (its digits), or "mine" for the person's own; exactly that, as the
    schema's pattern says, untrimmed."""

    default_validators = [
        RegexValidator(rf"\A({MINE}|[0-9]+)\Z", message="Give an agency's id, or “mine”.")
    ]

    def __init__(self, **kwargs) -> None:
        super().__init__(strip=False, **kwargs)

    def clean(self, value) -> int | str | None:
        text = super().clean(value)
        if not text:
            return None
        return text if text == MINE else int(text)


class AgencyFilter(FreeTextFilter):
    field_class = AgencyField

    def filter(self, qs: QuerySet, value: int | str | None) -> QuerySet:
        if value is None:
            return qs
        return qs.filter(agency_id=self.parent.request.user.agency_id if value == MINE else value)


class RequestFilter(FilterSet):
    """Information requests by enquiry, status, agency, and whether they are still open."""

    enquiry = FreeTextFilter(
        field_name="enquiry__reference", max_length=32, help_text="A reference."
    )
    status = django_filters.ChoiceFilter(
        choices=InformationRequest.Status.choices, error_messages=NOT_A_CHOICE
    )
    agency = AgencyFilter(
        max_length=12,
        help_text="An agency's id, or `mine` for your own agency's (a practitioner's inbox).",
    )
    open = YesNoFilter(help_text="Only those not yet answered.", method="still_open")

    def still_open(
        self, requests: QuerySet[InformationRequest], name: str, value: bool
    ) -> QuerySet[InformationRequest]:
        if not value:
            return requests
        return requests.filter(status__in=InformationRequest.OPEN_STATUSES)


class RecordSearch(FilterSet):
    """Words in the records' content: the search page's one filter, and the API's `q`. A
    signposted record is never a hit, so a search cannot reveal what it says."""

    q = FreeTextFilter(
        label="Words in the summary or detail",
        max_length=100,
        help_text="Words in the summary or detail, among the records whose content you may "
        "read: a signposted record is never a hit.",
        method="containing",
    )

    def containing(
        self, records: "QuerySet[firewall.VisibleRecord]", name: str, words: str
    ) -> "QuerySet[firewall.VisibleRecord]":
        return records.filter(content_visible=True).filter(
            Q(summary__icontains=words) | Q(detail__icontains=words)
        )


class RecordFilter(RecordSearch):
    """Agency records by enquiry, owning agency, request, release status, and words."""

    enquiry = FreeTextFilter(
        field_name="enquiry__reference", max_length=32, help_text="A reference."
    )
    agency = AgencyFilter(max_length=12, help_text="The owning agency's id, or `mine`.")
    request = WholeNumberFilter(
        field_name="request_id",
        min_value=1,
        help_text="A request's id.",
        error_messages=NOT_A_NUMBER,
    )
    release_status = django_filters.ChoiceFilter(
        choices=ReleaseStatus.choices, error_messages=NOT_A_CHOICE
    )


# The auditor's.


class WordsField(FreeTextField):
    """Free text, its runs of spaces made one once it passes the rules (so the message about a
    control character counts from what was typed)."""

    def clean(self, value) -> str:
        return " ".join(super().clean(value).split())


class EnquiryReferenceField(FreeTextField):
    """An enquiry's reference, in any case: the enquiry, or None."""

    def clean(self, value) -> Enquiry | None:
        reference = super().clean(value).strip().upper()
        if not reference:
            return None
        enquiry = audit.audited_enquiry(reference)
        if enquiry is None:
            raise ValidationError(f"No enquiry has the reference {reference}.")
        return enquiry


class WordsFilter(FreeTextFilter):
    field_class = WordsField


class EnquiryReferenceFilter(FreeTextFilter):
    field_class = EnquiryReferenceField


def _date_input() -> forms.DateInput:
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class AuditFilter(FilterSet):
    """The auditor's filters over either log (`log`), for its page and its CSV. Each narrows
    the log shown, whose columns differ (`audit.by_user` and the rest); the person's number,
    name and date of birth find the people together (`AuditFilterForm`)."""

    log = django_filters.ChoiceFilter(
        choices=audit.LOGS, empty_label=None, widget=forms.HiddenInput, method="_as_found"
    )
    user = WordsFilter(
        label="User", max_length=150, help_text="Username or name", method="_by_user"
    )
    agency = django_filters.ModelChoiceFilter(
        label="Agency",
        # Agencies no longer active still appear in the logs.
        queryset=lambda request: Agency.objects.order_by("name"),
        empty_label="Any agency",
        help_text="The user's agency when they acted",
        method="_by_agency",
    )
    person = WholeNumberFilter(
        label="Person number",
        min_value=1,
        help_text="From a person's link in the log",
        method="_as_found",
    )
    name = WordsFilter(
        label="Person's name",
        max_length=201,
        help_text="First and last name, with the date of birth",
        method="_as_found",
    )
    born = django_filters.DateFilter(
        label="Date of birth", widget=_date_input(), method="_as_found"
    )
    record = WholeNumberFilter(
        label="Information record", min_value=1, help_text="Record number", method="_about_record"
    )
    enquiry = EnquiryReferenceFilter(
        label="Enquiry",
        max_length=32,
        help_text="Reference, like MASH-2026-000123",
        method="_about_enquiry",
    )
    date_from = django_filters.DateFilter(label="From", widget=_date_input(), method="_from_day")
    date_to = django_filters.DateFilter(
        label="To", help_text="Included", widget=_date_input(), method="_to_day"
    )
    action = django_filters.ChoiceFilter(
        label="Action", choices=audit.ACTION_CHOICES, empty_label="Any action", method="_by_action"
    )

    class Meta:
        form = AuditFilterForm

    @classmethod
    def of_log(cls, data, *, request) -> "AuditFilter":
        """The filters over the log they ask for (the access log unless they name the other)."""
        return cls(data, audit.log_entries(audit.shown_log(data)), request=request)

    @property
    def shown_log(self) -> str:
        """Which log is shown, whatever else is wrong with the filters."""
        return audit.shown_log(self.data if self.is_bound else None)

    @property
    def enquiry_asked(self) -> Enquiry | None:
        return self.cleaned.get("enquiry")

    @property
    def narrowed(self) -> bool:
        """Whether any filter but the log's was given."""
        return any(value for name, value in self.asked().items() if name != "log")

    def filter_queryset(self, queryset: QuerySet) -> QuerySet:
        queryset = super().filter_queryset(queryset)
        people = self.cleaned.get("people")
        return queryset.filter(audit.about_people(self.shown_log, people)) if people else queryset

    def read_terms(self, *, page: int = 1) -> str:
        """What the auditor read, in words, for the access log entry that records it."""
        asked: dict[str, Any] = {**self.asked(), "people": self.cleaned.get("people", ())}
        parts = [
            f"user “{asked['user']}”" if asked["user"] else "",
            f"agency {asked['agency'].name}" if asked["agency"] else "",
            *(f"person {person.pk} ({person})" for person in asked["people"]),
            f"record {asked['record']}" if asked["record"] else "",
            f"enquiry {asked['enquiry'].reference}" if asked["enquiry"] else "",
            f"from {asked['date_from'].isoformat()}" if asked["date_from"] else "",
            f"to {asked['date_to'].isoformat()}" if asked["date_to"] else "",
            f"action {audit.action_label(asked['action'])}" if asked["action"] else "",
        ]
        filters = "; ".join(part for part in parts if part) or "no filters"
        return audit.read_terms(self.shown_log, filters, page=page)

    # Each filter on the log shown.

    def _as_found(self, entries: QuerySet, name: str, value: Any) -> QuerySet:
        """The log picks the entries (`of_log`); the person is found with the form's `clean`."""
        return entries

    def _by_user(self, entries: QuerySet, name: str, text: str) -> QuerySet:
        return entries.filter(audit.by_user(self.shown_log, text))

    def _by_agency(self, entries: QuerySet, name: str, agency: Agency) -> QuerySet:
        return entries.filter(audit.by_agency(self.shown_log, agency))

    def _about_record(self, entries: QuerySet, name: str, record_id: int) -> QuerySet:
        return entries.filter(audit.about_record(self.shown_log, record_id))

    def _about_enquiry(self, entries: QuerySet, name: str, enquiry: Enquiry) -> QuerySet:
        return entries.filter(audit.about_enquiry(self.shown_log, enquiry))

    def _from_day(self, entries: QuerySet, name: str, day) -> QuerySet:
        return entries.filter(audit.from_day(self.shown_log, day))

    def _to_day(self, entries: QuerySet, name: str, day) -> QuerySet:
        return entries.filter(audit.to_day(self.shown_log, day))

    def _by_action(self, entries: QuerySet, name: str, action: str) -> QuerySet:
        return entries.filter(audit.by_action(self.shown_log, action))
