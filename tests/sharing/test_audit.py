"""The auditor's page over both logs: who may open it, each filter, the CSV export (itself
logged, safe to open in a spreadsheet) and that agency information never shows in it."""

import csv
import io
from dataclasses import dataclass
from datetime import datetime

import pytest
from auditlog.context import set_actor
from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from agencies.models import Role, User
from enquiries.models import Enquiry, EnquiryPerson
from sharing import audit
from sharing.models import AccessLogEntry, InformationRecord
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


def logged_reasons(rows: list[list[str]]) -> set[str]:
    """The reasons in an access log export, less the export's own entry (written first, it is
    in the export when it matches the filters)."""
    return {row[-1] for row in rows[1:] if not row[-1].startswith("Audit export of")}


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
    assert AccessLogEntry.objects.filter(action=Action.EXPORT).count() == (
        1 if role == Role.AUDITOR and url_name == "audit-export" else 0
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
        ({"date_from": "yesterday"}, "date_from", "Enter a valid date."),
        ({"record": "x"}, "record", "Enter a whole number."),
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
    assert not AccessLogEntry.objects.filter(action=Action.EXPORT, user=logged.hub.auditor)


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
        "agency",
        "action",
        "channel",
        "record",
        "record's agency",
        "enquiry",
        "reason",
    ]
    assert [row for row in rows[1:] if row[4] != "Exported"] == [
        [
            "2026-07-02T23:59+01:00",
            "Rosa Reid",
            hub.researcher.username,
            hub.csc.name,
            "Requested release",
            "Web page",
            str(logged.police_record.pk),
            hub.police.name,
            hub.enquiry.reference,
            "TWO",
        ],
        [
            "2026-07-01T00:30+01:00",
            "Pat Constable",
            hub.police_officer.username,
            hub.police.name,
            "Viewed sensitive content",
            "Web page",
            str(logged.police_record.pk),
            hub.police.name,
            hub.enquiry.reference,
            "ONE",
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

    entry = AccessLogEntry.objects.get(action=Action.EXPORT, user=hub.auditor)
    assert entry.channel == Channel.EXPORT
    assert entry.agency_id == hub.auditor.agency_id
    assert entry.enquiry_id == hub.enquiry.pk
    assert entry.record_id is None
    assert entry.reason == (
        "Audit export of access to agency information: user “reid”; "
        f"agency {hub.csc.name}; record {logged.police_record.pk}; "
        f"enquiry {hub.enquiry.reference}; from 2026-07-01; to 2026-07-31; "
        "action Requested release"
    )
    assert [row[-1] for row in rows[1:]] == ["TWO"]


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
    entry = AccessLogEntry.objects.get(action=Action.EXPORT)
    assert entry.reason == (
        f"Audit export of changes to records: record {police_record.pk}; action Created"
    )


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
    )
    client.force_login(hub.auditor)

    rows = csv_rows(export(client, user="Quillfeather"))

    [row] = rows[1:]
    assert row[1] == f"'{formula} Quillfeather"
    assert row[-1] == f"'{formula}"


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
    # page of entries with user, agency, record's agency and enquiry, unread notifications
    with django_assert_max_num_queries(8):
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
    # what belongs to the enquiry, count, page of entries with actor, agency and type, unread
    # notifications
    with django_assert_max_num_queries(9):
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

    # session, user + agency, groups, enquiry by reference, the export's access log entry,
    # (for changes) keys of what belongs to the enquiry, then the log through one cursor
    with django_assert_max_num_queries(7):
        rows = csv_rows(export(client, log=log, enquiry=hub.enquiry.reference))

    assert len(rows) > entries // 2
