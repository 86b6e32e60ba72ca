"""The auditor's page over both logs: who may open it, each filter, the CSV export (itself
logged, safe to open in a spreadsheet) and that agency information never shows in it."""

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime

import pytest
from auditlog.context import set_actor
from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from rest_framework.test import APIClient

from agencies.models import Role, User
from audit.models import AccessLogEntry
from enquiries import services as enquiry_services
from enquiries.models import Enquiry, EnquiryPerson, ReferrerType
from enquiries.services import PersonDetails
from sharing import audit
from sharing.models import InformationRecord
from tests.factories import UserFactory

from .conftest import log_child

pytestmark = pytest.mark.django_db

Action = AccessLogEntry.Action
Channel = AccessLogEntry.Channel
CONTENT = ("Summary", "Detail", "Niche RMS", "SystmOne", "Condition")


def local(text: str) -> datetime:
    return timezone.make_aware(datetime.fromisoformat(text))


@dataclass
class Logged:
    """Four access log entries, told apart by their reasons."""

    hub: object
    police_record: InformationRecord
    health_record: InformationRecord
    other: Enquiry


@pytest.fixture
def logged(hub) -> Logged:
    names = {
        hub.researcher: ("Rosa", "Reid"),
        hub.manager: ("Mo", "Khan"),
        hub.police_officer: ("Pat", "Constable"),
        hub.health_visitor: ("Hana", "Visitor"),
    }
    for user, (first, last) in names.items():
        User.objects.filter(pk=user.pk).update(first_name=first, last_name=last)
    police_record = hub.record("sensitive", marker="A")
    health_record = hub.record("non_sensitive", marker="B", agency="health")
    other = log_child(hub.researcher, "Ben", "Other", minutes_ago=10)
    for user, action, at, record, enquiry, reason in [
        (hub.police_officer, Action.VIEW, "2026-07-01 00:30", police_record, None, "ONE"),
        (hub.researcher, Action.RELEASE_REQUEST, "2026-07-02 23:59", police_record, None, "TWO"),
        (hub.health_visitor, Action.VIEW, "2026-07-03 00:30", health_record, None, "THREE"),
        (hub.manager, Action.EXPORT, "2026-06-30 23:59", None, other, "FOUR"),
    ]:
        AccessLogEntry.objects.create(
            at=local(at),
            user=user,
            agency_id=User.objects.get(pk=user.pk).agency_id,
            action=action,
            channel=Channel.EXPORT if action == Action.EXPORT else Channel.PAGE,
            record=record,
            enquiry_id=enquiry.pk if enquiry else record.enquiry_id,
            reason=reason,
        )
    return Logged(hub, police_record, health_record, other)


def audit_page(client, **params):
    return client.get(reverse("audit-log"), params)


def reasons(response) -> set[str]:
    return {entry.reason for entry in response.context["page"].object_list}


def export(client, **params):
    return client.get(reverse("audit-export"), params)


def cell(row: list[str], column: str) -> str:
    return row[audit.ACCESS_COLUMNS.index(column)]


def logged_reasons(rows: list[list[str]]) -> set[str]:
    """The reasons in an access log export, less the export's own entry (written first, it is
    in the export when it matches the filters)."""
    return {
        cell(row, "justification") for row in rows[1:] if cell(row, "action") != "Read the logs"
    }


def csv_rows(response) -> list[list[str]]:
    assert response.streaming
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(body)))


# Who may.


@pytest.mark.parametrize("url_name", ["audit-log", "audit-export"])
@pytest.mark.parametrize("role", Role.values)
def test_only_auditors_reach_the_page_and_the_export(client, make_user, role, url_name):
    client.force_login(make_user(role))

    response = client.get(reverse(url_name))

    assert response.status_code == (200 if role == Role.AUDITOR else 403)
    reads = AccessLogEntry.objects.filter(action=Action.READ_LOG)
    assert [entry.channel for entry in reads] == (
        [Channel.EXPORT if url_name == "audit-export" else Channel.PAGE]
        if role == Role.AUDITOR
        else []
    )


@pytest.mark.parametrize("url_name", ["audit-log", "audit-export"])
def test_anonymous_people_are_sent_to_sign_in(client, url_name):
    response = client.get(reverse(url_name))

    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


# The access log.


def test_the_access_log_is_the_default_and_says_who_did_what_to_which_record(client, hub):
    record = hub.record("released", marker="X")
    client.force_login(hub.auditor)

    with CaptureQueriesContext(connection) as queries:
        response = audit_page(client)

    html = response.content.decode()
    assert response.context["log"] == "access"
    assert [entry.action for entry in response.context["page"].object_list] == [
        Action.RELEASE,
        Action.RELEASE_REQUEST,
    ]
    assert escape(f"{hub.researcher} ({hub.csc.name})") in html
    assert escape(f"{hub.police_officer} ({hub.police.name})") in html
    assert f"{record.pk} ({hub.police.name})" in html
    assert hub.enquiry.reference in html
    assert "Needed to assess the risk." in html
    assert "Summary X" not in html
    assert "Detail X" not in html
    assert 'aria-current="page">Access to agency information' in html
    # The content never even reaches Python.
    assert not [q for q in queries if '"sharing_informationrecord"."detail"' in q["sql"]]


FILTERS = [
    pytest.param(lambda s: {}, {"ONE", "TWO", "THREE", "FOUR"}, id="none"),
    pytest.param(lambda s: {"user": "Pat_Constable"}, set(), id="user-no-match"),
    pytest.param(lambda s: {"user": s.hub.police_officer.username}, {"ONE"}, id="username"),
    pytest.param(lambda s: {"user": "reid"}, {"TWO"}, id="last-name"),
    pytest.param(lambda s: {"user": " Mo   Khan "}, {"FOUR"}, id="full-name"),
    pytest.param(lambda s: {"agency": s.hub.police.pk}, {"ONE"}, id="agency"),
    pytest.param(lambda s: {"agency": s.hub.csc.pk}, {"TWO", "FOUR"}, id="agency-csc"),
    pytest.param(lambda s: {"record": s.police_record.pk}, {"ONE", "TWO"}, id="record"),
    pytest.param(
        lambda s: {"enquiry": s.hub.enquiry.reference.lower()},
        {"ONE", "TWO", "THREE"},
        id="enquiry",
    ),
    pytest.param(lambda s: {"enquiry": s.other.reference}, {"FOUR"}, id="other-enquiry"),
    # Local days: 00:30 on 1 July is 23:30 on 30 June in UTC.
    pytest.param(lambda s: {"date_from": "2026-07-01"}, {"ONE", "TWO", "THREE"}, id="from"),
    pytest.param(lambda s: {"date_to": "2026-07-02"}, {"ONE", "TWO", "FOUR"}, id="to"),
    pytest.param(
        lambda s: {"date_from": "2026-07-02", "date_to": "2026-07-02"}, {"TWO"}, id="one-day"
    ),
    pytest.param(lambda s: {"action": "view"}, {"ONE", "THREE"}, id="action"),
    pytest.param(
        lambda s: {"action": "view", "agency": s.hub.health.pk, "record": s.health_record.pk},
        {"THREE"},
        id="combined",
    ),
]


@pytest.mark.parametrize(("params", "expected"), FILTERS)
def test_each_filter_narrows_the_access_log(client, logged, params, expected):
    client.force_login(logged.hub.auditor)

    response = audit_page(client, **params(logged))

    assert response.status_code == 200
    assert reasons(response) == expected


@pytest.mark.parametrize(("params", "expected"), FILTERS)
def test_the_export_has_the_same_entries_as_the_page(client, logged, params, expected):
    client.force_login(logged.hub.auditor)

    rows = csv_rows(export(client, **params(logged)))

    assert logged_reasons(rows) == expected


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        (
            {"date_from": "2026-07-02", "date_to": "2026-07-01"},
            "date_to",
            "The end date must be the same as or after the start date.",
        ),
        ({"enquiry": "MASH-1999-000001"}, "enquiry", "No enquiry has the reference"),
        ({"date_from": "yesterday"}, "date_from", "The from date must be a real date"),
        ({"record": "x"}, "record", "The information record number must be a whole number, like 7"),
        ({"action": "create"}, "action", "“Created” is an action of changes to records."),
        (
            {"log": "changes", "action": "view"},
            "action",
            "is an action of access to agency information.",
        ),
    ],
)
def test_filters_that_make_no_sense_are_explained_and_nothing_is_exported(
    client, logged, params, field, message
):
    client.force_login(logged.hub.auditor)

    page = audit_page(client, **params)
    download = export(client, **params)

    assert page.status_code == 200
    assert message in page.context["form"].errors[field][0]
    assert "There is a problem" in page.content.decode()
    assert not page.context["page"].object_list
    assert download.status_code == 400
    assert message in download.content.decode()
    # Nothing was read, so nothing is logged.
    assert not AccessLogEntry.objects.filter(user=logged.hub.auditor)


# The change log.


def test_the_change_log_tab_shows_changes_with_who_made_them(client, hub):
    with set_actor(hub.police_officer):
        record = hub.record("sensitive", marker="X")
    client.force_login(hub.auditor)

    response = audit_page(client, log="changes")

    html = response.content.decode()
    assert response.context["log"] == "changes"
    assert 'aria-current="page">Changes to records' in html
    assert f"Information record: {record}" in html
    assert escape(f"{hub.police_officer} ({hub.police.name})") in html
    assert "sensitivity: Sensitive" in html
    assert "Enquiry: " + hub.enquiry.reference in html


def test_a_records_content_never_reaches_the_change_log(client, hub):
    records = [
        hub.record(state, marker=f"MARK{n}") for n, state in enumerate(("released", "refused"))
    ]
    client.force_login(hub.auditor)

    entries = LogEntry.objects.filter(content_type__model="informationrecord")
    page = audit_page(client, log="changes").content.decode()
    exported = b"".join(export(client, log="changes").streaming_content).decode()

    assert {entry.object_pk for entry in entries} == {str(record.pk) for record in records}
    assert entries.filter(action=LogEntry.Action.CREATE).count() == 2
    for entry in entries:
        assert "MARK" not in str(entry.changes) + entry.changes_text + entry.object_repr
    for text in (page, exported):
        assert "MARK" not in text
        assert "Niche RMS" not in text
    assert "conditions: (not shown: agency information)" in page


def test_content_is_withheld_even_if_auditlog_recorded_it(client, hub):
    record = hub.record("sensitive", marker="LEAK")
    # Entries are never changed (tests/audit/test_append_only.py): one is added instead.
    LogEntry.objects.log_create(
        record,
        action=LogEntry.Action.UPDATE,
        changes={"summary": ["", "Summary LEAK"], "detail": ["", "Detail LEAK"]},
    )
    client.force_login(hub.auditor)

    html = audit_page(client, log="changes", record=record.pk).content.decode()

    assert "LEAK" not in html
    assert "summary: (not shown: agency information)" in html


def test_changes_read_as_people_say_them(hub):
    record = hub.record("sensitive", marker="Z")
    entry = LogEntry(
        content_type=ContentType.objects.get_for_model(InformationRecord),
        object_pk=str(record.pk),
        action=LogEntry.Action.UPDATE,
        changes={
            "release_status": ["not_requested", "requested"],
            "recorded_at": ["2026-07-01 11:00:00", "2026-07-01 12:00:00.123456"],
            "access_log_entries": ["", "sharing.AccessLogEntry.None"],
            "detail": ["", "Detail Z"],
        },
    )

    assert audit.changes_text(entry) == (
        "release status: Not requested → Release requested; "
        "recorded at: 2026-07-01 12:00 → 2026-07-01 13:00; "
        "detail: (not shown: agency information)"
    )


@pytest.fixture
def changed(hub):
    """Changes made by named people: police add a record, health another, the researcher asks
    for release of the police one; another enquiry is logged by the manager."""
    with set_actor(hub.police_officer):
        police_record = hub.record("sensitive", marker="P")
    with set_actor(hub.health_visitor):
        health_record = hub.record("non_sensitive", marker="H", agency="health")
    from sharing import services

    with set_actor(hub.researcher):
        services.request_release(record_pk=police_record.pk, actor=hub.researcher, reason="Needed.")
    with set_actor(hub.manager):
        other = log_child(hub.researcher, "Ben", "Other", minutes_ago=10)
    # Intake adds the people in one insert, which auditlog does not see: a later change does.
    with set_actor(hub.researcher):
        for link in EnquiryPerson.objects.filter(enquiry__in=[hub.enquiry, other]):
            LogEntry.objects.log_create(
                link, action=LogEntry.Action.UPDATE, changes={"role": ["sibling", "subject"]}
            )
    return police_record, health_record, other


def entry_keys(response) -> set[tuple[str, str, int]]:
    return {
        (row.entry.content_type.model, row.entry.object_pk, row.entry.action)
        for row in response.context["rows"]
    }


def test_each_filter_narrows_the_change_log(client, hub, changed):
    police_record, health_record, other = changed
    client.force_login(hub.auditor)
    record_created = ("informationrecord", str(police_record.pk), LogEntry.Action.CREATE)
    health_created = ("informationrecord", str(health_record.pk), LogEntry.Action.CREATE)
    release_asked = ("informationrecord", str(police_record.pk), LogEntry.Action.UPDATE)
    other_logged = ("enquiry", str(other.pk), LogEntry.Action.CREATE)
    enquiry_logged = ("enquiry", str(hub.enquiry.pk), LogEntry.Action.CREATE)

    def keys(**params):
        return entry_keys(audit_page(client, log="changes", **params))

    everything = keys()
    assert {record_created, health_created, release_asked, other_logged, enquiry_logged} <= (
        everything
    )

    by_police = keys(user=hub.police_officer.username)
    assert record_created in by_police and health_created not in by_police
    assert keys(agency=hub.police.pk) == by_police
    assert {key[0] for key in keys(user=hub.manager.username)} == {"enquiry", "person"}
    assert all(key[0] != "enquiry" or key[1] == str(other.pk) for key in keys(agency=hub.csc.pk))

    on_record = keys(record=police_record.pk)
    assert {key[0] for key in on_record} == {"informationrecord", "releaserequest"}
    assert {key[1] for key in on_record if key[0] == "informationrecord"} == {str(police_record.pk)}

    on_enquiry = keys(enquiry=hub.enquiry.reference)
    assert {record_created, health_created, release_asked, enquiry_logged} <= on_enquiry
    assert other_logged not in on_enquiry
    assert {"enquiryperson", "releaserequest"} <= {key[0] for key in on_enquiry}
    on_other = keys(enquiry=other.reference)
    assert other_logged in on_other and record_created not in on_other
    people_on = {key[1] for key in on_enquiry | on_other if key[0] == "enquiryperson"}
    assert people_on == {
        str(link.pk) for link in EnquiryPerson.objects.filter(enquiry__in=[hub.enquiry, other])
    }
    assert (
        not people_on
        & {key[1] for key in on_enquiry if key[0] == "enquiryperson"}
        & {key[1] for key in on_other if key[0] == "enquiryperson"}
    )

    created = keys(action="create")
    assert record_created in created and release_asked not in created
    assert release_asked in keys(action="update")


def test_the_change_log_dates_are_local_days(client, hub, changed):
    police_record = changed[0]
    # Entries are never changed (tests/audit/test_append_only.py): a back-dated one is added.
    LogEntry.objects.log_create(
        police_record,
        action=LogEntry.Action.ACCESS,
        timestamp=local("2026-07-01 00:30"),
        force_log=True,
    )
    backdated = ("informationrecord", str(police_record.pk), LogEntry.Action.ACCESS)
    client.force_login(hub.auditor)

    def keys(**params):
        return entry_keys(audit_page(client, log="changes", **params))

    assert keys(date_from="2026-07-01", date_to="2026-07-01") == {backdated}
    assert backdated not in keys(date_to="2026-06-30")
    assert backdated not in keys(date_from="2026-07-02")


def test_switching_logs_keeps_the_filters_but_not_the_action(client, logged):
    client.force_login(logged.hub.auditor)

    response = audit_page(client, user="reid", action="view")

    tabs = {tab["label"]: tab["query"] for tab in response.context["tabs"]}
    assert tabs["Changes to records"] == "user=reid&log=changes"
    assert tabs["Access to agency information"] == "user=reid&log=access"
    assert 'href="/audit/export.csv?user=reid&amp;action=view"' in response.content.decode()


def test_filtering_stays_on_the_log_shown(client, logged):
    client.force_login(logged.hub.auditor)

    html = audit_page(client, log="changes", user="reid").content.decode()

    assert '<input type="hidden" name="log" value="changes">' in html
    assert 'value="reid"' in html


# The export.


def test_the_access_log_exports_as_csv_in_local_time(client, logged):
    hub = logged.hub
    client.force_login(hub.auditor)

    response = export(client, record=logged.police_record.pk)

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="audit-access-')
    rows = csv_rows(response)
    assert rows[0] == [
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
    # Written directly, these entries have no role, person, terms, address or request id:
    # tests/sharing/test_access_log_entries.py has entries as the app writes them.
    assert [row for row in rows[1:] if cell(row, "action") != "Read the logs"] == [
        [
            "2026-07-02T23:59+01:00",
            "Rosa Reid",
            hub.researcher.username,
            "",
            hub.csc.name,
            "Requested release",
            "Web page",
            "",
            "",
            str(logged.police_record.pk),
            hub.police.name,
            hub.enquiry.reference,
            "TWO",
            "",
            "",
            "",
        ],
        [
            "2026-07-01T00:30+01:00",
            "Pat Constable",
            hub.police_officer.username,
            "",
            hub.police.name,
            "Viewed sensitive content",
            "Web page",
            "",
            "",
            str(logged.police_record.pk),
            hub.police.name,
            hub.enquiry.reference,
            "ONE",
            "",
            "",
            "",
        ],
    ]


def test_the_export_is_itself_logged_with_the_filters_used(client, logged):
    hub = logged.hub
    client.force_login(hub.auditor)

    response = export(
        client,
        user="reid",
        agency=hub.csc.pk,
        record=logged.police_record.pk,
        enquiry=hub.enquiry.reference,
        date_from="2026-07-01",
        date_to="2026-07-31",
        action="release_request",
    )
    rows = csv_rows(response)

    entry = AccessLogEntry.objects.get(action=Action.READ_LOG, user=hub.auditor)
    assert entry.channel == Channel.EXPORT
    assert entry.agency_id == hub.auditor.agency_id
    assert entry.role == "auditor"
    assert entry.enquiry_id == hub.enquiry.pk
    assert entry.record_id is None
    assert entry.address == "127.0.0.1"
    assert entry.request_id == response["X-Request-ID"]
    assert entry.reason == "Auditing the logs as Auditor"
    assert entry.terms == (
        "Access to agency information: user “reid”; "
        f"agency {hub.csc.name}; record {logged.police_record.pk}; "
        f"enquiry {hub.enquiry.reference}; from 2026-07-01; to 2026-07-31; "
        "action Requested release"
    )
    assert [cell(row, "justification") for row in rows[1:]] == ["TWO"]


def test_the_change_log_exports_as_csv(client, hub, changed):
    police_record = changed[0]
    client.force_login(hub.auditor)

    response = export(client, log="changes", record=police_record.pk, action="create")
    rows = csv_rows(response)

    assert response["Content-Disposition"].startswith('attachment; filename="audit-changes-')
    assert rows[0] == ["when", "user", "username", "agency", "action", "what", "object", "changes"]
    [row] = [row for row in rows[1:] if row[5] == "information record"]
    assert row[1:7] == [
        str(hub.police_officer),
        hub.police_officer.username,
        hub.police.name,
        "Created",
        "information record",
        str(police_record),
    ]
    assert "sensitivity: Sensitive" in row[7]
    assert "MARK" not in row[7] and "Summary" not in row[7]
    entry = AccessLogEntry.objects.get(action=Action.READ_LOG)
    assert entry.channel == Channel.EXPORT
    assert entry.terms == f"Changes to records: record {police_record.pk}; action Created"


@pytest.mark.parametrize("formula", ['=HYPERLINK("http://x")', "+1+1", "-2+3", "@SUM(A1)"])
def test_cells_that_look_like_formulas_are_exported_as_text(client, hub, formula):
    mallory = UserFactory(
        roles=[Role.RESEARCHER], agency=hub.csc, first_name=formula, last_name="Quillfeather"
    )
    AccessLogEntry.objects.create(
        user=mallory,
        agency=hub.csc,
        action=Action.RELEASE_REQUEST,
        channel=Channel.API,
        enquiry=hub.enquiry,
        reason=formula,
        terms=formula,
    )
    client.force_login(hub.auditor)

    rows = csv_rows(export(client, user="Quillfeather"))

    [row] = rows[1:]
    assert cell(row, "user") == f"'{formula} Quillfeather"
    assert cell(row, "justification") == f"'{formula}"
    assert cell(row, "terms") == f"'{formula}"


# Speed.


def fill_access_log(hub, n: int) -> None:
    record = hub.record("sensitive", marker="Q")
    AccessLogEntry.objects.bulk_create(
        AccessLogEntry(
            user=user,
            agency_id=user.agency_id,
            action=Action.VIEW,
            channel=Channel.PAGE,
            record=record if i % 2 else None,
            enquiry=hub.enquiry,
            reason=f"look {i}",
        )
        for i in range(n)
        for user in [(hub.police_officer, hub.researcher, hub.manager)[i % 3]]
    )


def fill_change_log(hub, n: int) -> None:
    with set_actor(hub.police_officer):
        for i in range(n // 2):
            hub.record("sensitive", marker=f"Q{i}")


@pytest.mark.parametrize("entries", [6, 130])
def test_the_access_log_page_runs_a_fixed_number_of_queries(
    client, hub, django_assert_max_num_queries, entries
):
    fill_access_log(hub, entries)
    client.force_login(hub.auditor)

    # session, user + agency, groups, agencies for the filter, enquiry by reference, count,
    # page of entries, then the people, agencies, persons, records with their agency and
    # enquiries they name (by key, five queries whatever the page names), the read
    # itself written to the access log (lock and last hash in one call, insert), unread
    # notifications
    with django_assert_max_num_queries(15):
        response = audit_page(client, enquiry=hub.enquiry.reference)

    assert response.status_code == 200
    assert len(response.context["page"].object_list) == min(entries, 50)
    assert f"look {entries - 1}" in response.content.decode()


@pytest.mark.parametrize("records", [2, 60])
def test_the_change_log_page_runs_a_fixed_number_of_queries(
    client, hub, django_assert_max_num_queries, records
):
    fill_change_log(hub, records * 2)
    client.force_login(hub.auditor)

    # session, user + agency, groups, agencies for the filter, enquiry by reference, keys of
    # what belongs to the enquiry, count, page of entries with actor, agency and type, the
    # read written to the access log (lock, last hash, insert), unread notifications
    with django_assert_max_num_queries(12):
        response = audit_page(client, log="changes", enquiry=hub.enquiry.reference)

    assert response.status_code == 200
    # the records, the enquiry, the police and health requests and the people each is asked
    # about, police's request in progress
    assert len(response.context["rows"]) == min(50, records + 6)


@pytest.mark.parametrize("log", ["access", "changes"])
@pytest.mark.parametrize("entries", [6, 130])
def test_the_export_runs_a_fixed_number_of_queries(
    client, hub, django_assert_max_num_queries, log, entries
):
    fill_access_log(hub, entries)
    fill_change_log(hub, entries)
    client.force_login(hub.auditor)

    # session, user + agency, groups, enquiry by reference, the export's access log entry
    # (lock and last hash in one call, insert), (for changes) keys of what belongs to the
    # enquiry, then the log through one cursor (and, for the access log, what a chunk of it
    # names: five lookups by key)
    with django_assert_max_num_queries(8 if log == "changes" else 12):
        rows = csv_rows(export(client, log=log, enquiry=hub.enquiry.reference))

    assert len(rows) > entries // 2


# Reading the logs is itself logged.


def test_reading_either_log_is_logged_with_the_filters(client, logged):
    hub = logged.hub
    client.force_login(hub.auditor)

    access = audit_page(client, user="reid", action="view")
    changes = audit_page(client, log="changes", record=logged.police_record.pk)

    reads = {
        entry.request_id: entry
        for entry in AccessLogEntry.objects.filter(action=Action.READ_LOG, user=hub.auditor)
    }
    assert set(reads) == {access["X-Request-ID"], changes["X-Request-ID"]}
    for response, terms in [
        (access, "Access to agency information: user “reid”; action Viewed sensitive content"),
        (changes, f"Changes to records: record {logged.police_record.pk}"),
    ]:
        entry = reads[response["X-Request-ID"]]
        assert (entry.channel, entry.role, entry.agency_id, entry.address) == (
            Channel.PAGE,
            "auditor",
            hub.auditor.agency_id,
            "127.0.0.1",
        )
        assert entry.reason == "Auditing the logs as Auditor"
        assert entry.terms == terms
    # Read first, then logged: the page shows the log as it stood.
    assert Action.READ_LOG not in {e.action for e in access.context["page"].object_list}


def test_a_later_page_of_the_log_says_which_page_was_read(client, hub):
    fill_access_log(hub, 60)
    client.force_login(hub.auditor)

    response = audit_page(client, page=2)

    entry = AccessLogEntry.objects.get(request_id=response["X-Request-ID"])
    assert entry.terms == "Access to agency information: no filters; page 2"


# Who has looked at this person, and why.


@dataclass
class Looks:
    """Looks at people made through the app: a family whose page names Jo, a parent, besides
    the child; Amy's enquiry (the hub's); another child, Ben."""

    hub: object
    jo: object
    family: Enquiry
    about_amy: set[str]  # request ids of the requests that looked at Amy
    about_jo: set[str]
    elsewhere: set[str]


@pytest.fixture
def looks(client, hub) -> Looks:
    [family] = enquiry_services.enquiry_intake(
        actor=hub.researcher,
        received_at=timezone.now(),
        referrer_name="Ms Head",
        referrer_type=ReferrerType.objects.get(code="school"),
        subjects=[PersonDetails(first_name="Cal", last_name="Parent")],
        others=[
            (
                PersonDetails(first_name="Jo", last_name="Parent", date_of_birth=date(1990, 1, 2)),
                "parent_carer",
            )
        ],
        subject_type=Enquiry.SubjectType.CHILD,
        concern="Bruising noticed at school.",
        categories=["physical_abuse"],
        consent=Enquiry.Consent.YES,
    )
    jo = family.involvements.get(person__first_name="Jo").person
    other = log_child(hub.researcher, "Ben", "Other", minutes_ago=10)
    record = hub.record("released", marker="AMY")
    api = APIClient()
    api.force_authenticate(hub.manager)
    client.force_login(hub.researcher)
    about_amy = [
        client.get(hub.enquiry.get_absolute_url()),  # the page, and the released record on it
        client.get(reverse("sharing-record", args=[record.pk])),
        client.get(reverse("enquiry-information-export", args=[hub.enquiry.reference])),
        api.get(reverse("api:person-match-list"), {"first_name": "Amy", "last_name": "Firewall"}),
    ]
    about_jo = [client.get(family.get_absolute_url())]
    police = APIClient()
    police.force_authenticate(hub.police_officer)
    elsewhere = [
        client.get(other.get_absolute_url()),
        client.get(reverse("triage-queue"), {"q": "firewall"}),
        # Refused, about the enquiry as a whole: nobody's information was shown.
        police.post(
            reverse("api:information-request-list"),
            {"enquiry": hub.enquiry.reference, "agencies": [hub.csc.pk]},
            format="json",
        ),
    ]
    client.force_login(hub.auditor)
    elsewhere.append(audit_page(client, enquiry=hub.enquiry.reference))  # read of Amy's log

    def ids(responses) -> set[str]:
        return {response["X-Request-ID"] for response in responses}

    return Looks(hub, jo, family, ids(about_amy), ids(about_jo), ids(elsewhere))


def request_ids(response) -> list[str]:
    return [entry.request_id for entry in response.context["page"].object_list]


def test_a_person_filter_finds_every_look_at_them_and_nothing_else(client, looks):
    hub = looks.hub
    amy = hub.enquiry.subject
    client.force_login(hub.auditor)

    for_amy = audit_page(client, person=amy.pk)
    for_jo = audit_page(client, person=looks.jo.pk)

    entries = list(for_amy.context["page"].object_list)
    # The request for release of her police record and its release (by services here, in no
    # request), then the looks: the page, the record page and the export, each with the
    # released record's content seen, and the register check that showed her.
    made_here = [entry.action for entry in entries if not entry.request_id]
    assert sorted(made_here) == sorted([Action.RELEASE_REQUEST, Action.RELEASE])
    assert set(request_ids(for_amy)) - {""} == looks.about_amy
    assert sorted(entry.action for entry in entries if entry.request_id) == sorted(
        [Action.VIEW_PERSON, Action.VIEW, Action.VIEW_PERSON, Action.VIEW]
        + [Action.EXPORT, Action.VIEW, Action.SEARCH]
    )
    assert all(entry.reason for entry in entries)
    assert AccessLogEntry.objects.filter(
        action=Action.DENIED, enquiry=hub.enquiry, request_id__in=looks.elsewhere
    ).exists()
    # Jo is not the subject of the family's enquiry, but its page shows her.
    assert set(request_ids(for_jo)) == looks.about_jo
    [jo_seen] = for_jo.context["page"].object_list
    assert (jo_seen.action, jo_seen.person_id, jo_seen.enquiry_id) == (
        Action.VIEW_PERSON,
        looks.family.subject_id,
        looks.family.pk,
    )


def test_a_person_is_found_by_name_and_date_of_birth(client, looks):
    client.force_login(looks.hub.auditor)

    response = audit_page(client, name="  jo   PARENT ", born="1990-01-02")

    assert set(request_ids(response)) == looks.about_jo
    entry = AccessLogEntry.objects.get(request_id=response["X-Request-ID"])
    assert entry.terms == f"Access to agency information: person {looks.jo.pk} (Jo Parent)"


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"name": "Jo Parent"}, "born", "Give both the person's name and their date of birth."),
        ({"born": "1990-01-02"}, "name", "Give both the person's name and their date of birth."),
        (
            {"name": "Jo Parent", "born": "1990-01-03"},
            "name",
            "No one in the register has the name Jo Parent, born 03/01/1990.",
        ),
        ({"person": "999999"}, "person", "No one in the register has number 999999."),
    ],
)
def test_a_person_filter_that_finds_nobody_is_explained(client, looks, params, field, message):
    client.force_login(looks.hub.auditor)

    response = audit_page(client, **params)

    assert message in response.context["form"].errors[field]
    assert not response.context["page"].object_list


def test_the_person_links_to_everything_logged_about_them(client, looks):
    client.force_login(looks.hub.auditor)

    html = audit_page(client, person=looks.hub.enquiry.subject_id).content.decode()

    link = f'href="{reverse("audit-log")}?person={looks.hub.enquiry.subject_id}"'
    assert link in html
    assert "Amy Firewall" in html
    assert f"Working on {looks.hub.enquiry.reference} as Researcher" in html
    assert "127.0.0.1" in html
    assert "name: Amy Firewall" in html  # the register check's terms
    assert "Summary AMY" not in html and "Detail AMY" not in html


def test_the_export_carries_who_why_and_from_where(client, looks):
    hub = looks.hub
    client.force_login(hub.auditor)

    rows = csv_rows(export(client, person=looks.jo.pk))

    [row] = rows[1:]
    assert cell(row, "role") == "researcher"
    assert cell(row, "action") == "Viewed person-level information"
    assert cell(row, "person") == "Cal Parent"
    assert cell(row, "person number") == str(looks.family.subject_id)
    assert cell(row, "enquiry") == looks.family.reference
    assert cell(row, "justification") == f"Working on {looks.family.reference} as Researcher"
    assert cell(row, "address") == "127.0.0.1"
    assert cell(row, "request id") in looks.about_jo
    read = AccessLogEntry.objects.get(action=Action.READ_LOG, channel=Channel.EXPORT)
    assert read.terms == f"Access to agency information: person {looks.jo.pk} (Jo Parent)"


def test_the_change_log_filters_by_person_too(client, looks):
    client.force_login(looks.hub.auditor)

    response = audit_page(client, log="changes", person=looks.jo.pk)

    keys = entry_keys(response)
    assert ("person", str(looks.jo.pk), LogEntry.Action.CREATE) in keys
    assert {key[0] for key in keys} <= {"person", "enquiryperson", "informationrecord"}
    assert not any(key[0] == "person" and key[1] != str(looks.jo.pk) for key in keys)


@pytest.mark.parametrize("entries", [6, 130])
def test_a_person_filtered_log_runs_a_fixed_number_of_queries(
    client, hub, django_assert_max_num_queries, entries
):
    fill_access_log(hub, entries)
    AccessLogEntry.objects.bulk_create(
        AccessLogEntry(
            user=hub.researcher,
            agency_id=hub.researcher.agency_id,
            action=Action.VIEW_PERSON,
            channel=Channel.PAGE,
            enquiry=hub.enquiry,
            person=hub.enquiry.subject,
            reason=f"look at Amy {i}",
        )
        for i in range(entries)
    )
    client.force_login(hub.auditor)

    # session, user + agency, groups, agencies for the filter, the person by number, the
    # enquiries they are named in, count, page of entries, what they name (five lookups by
    # key, whatever they name), the read written to the access log (lock and last hash in one
    # call, insert), unread notifications
    with django_assert_max_num_queries(16) as queries:
        response = audit_page(client, person=hub.enquiry.subject_id)

    assert response.status_code == 200
    assert len(response.context["page"].object_list) == min(entries, 50)
    reads = [q for q in queries.captured_queries if '"sharing_accesslogentry"."reason"' in q["sql"]]
    assert len(reads) == 1  # the entries themselves, in one query
    assert not [
        q for q in queries.captured_queries if '"sharing_informationrecord"."detail"' in q["sql"]
    ]


def test_what_the_access_logs_entries_name_costs_the_same_whatever_they_name(
    hub, django_assert_num_queries
):
    """Five lookups by key, asked even when no entry names anything of a kind: the page's
    query count is the same for a log of searches as for a log of records viewed."""
    AccessLogEntry.objects.bulk_create(
        [
            AccessLogEntry(
                user=hub.researcher,
                agency_id=hub.researcher.agency_id,
                action=Action.SEARCH,
                channel=Channel.SEARCH,
                terms="nothing named",
            )
        ]
    )
    searches = list(audit.access_log()[:1])
    fill_access_log(hub, 6)
    named = list(audit.access_log().filter(record__isnull=False)[:3])
    assert searches[0].record_id is None and searches[0].enquiry_id is None
    assert named

    for entries in (searches, named):
        with django_assert_num_queries(5):
            audit.with_names(entries)

    with django_assert_num_queries(0):
        assert {entry.record.agency.name for entry in named} == {hub.police.name}
        assert {entry.enquiry.reference for entry in named} == {hub.enquiry.reference}
        assert searches[0].person is None and searches[0].enquiry is None
        assert searches[0].user.username == hub.researcher.username
