"""Correcting and withdrawing a record (sharing.revisions, docs/domain.md section 5.5), when a
record counts as read (sharing.reads), and the check before "Send the answer"."""

from datetime import UTC, date, datetime

import pytest
from auditlog.models import LogEntry
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from rest_framework.test import APIClient

from agencies.models import Agency, Role
from audit.models import AccessLogEntry
from core.exceptions import StaleEdit
from enquiries.models import Notification
from sharing import revisions, services
from sharing.models import (
    InformationRecord,
    InformationRequest,
    RecordRevision,
    ReleaseStatus,
    Sensitivity,
)
from tests.factories import AgencyFactory, UserFactory

pytestmark = pytest.mark.django_db

Log = AccessLogEntry.Action
NOW = datetime(2026, 3, 4, 10, 30, tzinfo=UTC)
WHY = "Sent in error: it is about another family."


def read_by_the_hub(record: InformationRecord) -> InformationRecord:
    InformationRecord.objects.filter(pk=record.pk).update(first_read_at=NOW)
    record.refresh_from_db()
    return record


def correction(record: InformationRecord, **changes) -> dict:
    """The record as it is, with `changes`: what a practitioner sends to correct it."""
    return {
        "record_pk": record.pk,
        "summary": record.summary,
        "detail": record.detail,
        "source_system": record.source_system,
        "information_date": record.information_date,
        "sensitivity": record.sensitivity,
        "conditions": record.conditions,
        "expected_version": record.version,
        **changes,
    }


def told(kind: str) -> list[Notification]:
    return list(Notification.objects.filter(kind=kind))


# The services.


def test_a_correction_before_anyone_read_it_needs_no_reason_and_tells_nobody(hub):
    record = hub.record("non_sensitive", marker="BEFORE")

    corrected = revisions.correct_record(
        actor=hub.police_officer,
        **correction(record, summary="Summary CORRECTED", sensitivity=Sensitivity.SENSITIVE),
        now=NOW,
    )

    assert (corrected.summary, corrected.sensitivity, corrected.version) == (
        "Summary CORRECTED",
        Sensitivity.SENSITIVE,
        record.version + 1,
    )
    revision = RecordRevision.objects.get(record=record)
    assert (revision.kind, revision.after_read, revision.reason, revision.version) == (
        RecordRevision.Kind.CORRECTED,
        False,
        "",
        corrected.version,
    )
    assert revision.revised_at == NOW
    assert revision.previous == {
        "person_id": hub.enquiry.subject_id,
        "summary": "Summary BEFORE",
        "detail": "Detail BEFORE: intelligence held about the household.",
        "source_system": "Niche RMS",
        "information_date": "2025-10-01",
        "sensitivity": "non_sensitive",
        "release_status": "not_requested",
        "conditions": "",
    }
    assert told(Notification.Kind.RECORD_CORRECTED) == []
    entry = AccessLogEntry.objects.get(action=Log.CORRECT_RECORD)
    assert (entry.user, entry.record_id, entry.reason) == (
        hub.police_officer,
        record.pk,
        "Corrected before anyone outside Thames Valley Police read it.",
    )


def test_after_it_was_read_a_correction_needs_a_reason_and_nothing_is_saved_without(hub):
    record = read_by_the_hub(hub.record("non_sensitive", marker="READ"))

    with pytest.raises(ValidationError) as refused:
        revisions.correct_record(
            actor=hub.police_officer, **correction(record, summary="Summary NEW"), now=NOW
        )

    assert list(refused.value.message_dict) == ["reason"]
    assert "has read this record" in refused.value.message_dict["reason"][0]
    record.refresh_from_db()
    assert (record.summary, record.version) == ("Summary READ", 1)
    assert not RecordRevision.objects.exists()
    assert AccessLogEntry.objects.filter(
        user=hub.police_officer, action=Log.DENIED, record_id=record.pk
    ).exists()


def test_after_it_was_read_the_hub_is_told_of_a_correction_but_not_what_it_said(hub):
    record = read_by_the_hub(hub.record("non_sensitive", marker="SECRETWORD"))

    revisions.correct_record(
        actor=hub.police_officer,
        **correction(record, detail="Detail corrected.", reason=WHY),
        now=NOW,
    )

    (notice,) = told(Notification.Kind.RECORD_CORRECTED)
    # nobody is assigned: whoever asked the agency hears of it
    assert notice.recipient == hub.researcher
    assert notice.message == (
        f"{hub.enquiry.reference}: Thames Valley Police corrected information it had shared. "
        f"Why: {WHY}"
    )
    assert "SECRETWORD" not in notice.message
    assert RecordRevision.objects.get().after_read is True


def test_the_enquirys_assignee_is_told_rather_than_whoever_asked(hub):
    hub.enquiry.assignee = hub.manager
    hub.enquiry.save(update_fields=["assignee"])
    record = read_by_the_hub(hub.record("non_sensitive", marker="ASSIGNED"))

    revisions.withdraw_record(
        record_pk=record.pk,
        actor=hub.police_officer,
        reason=WHY,
        expected_version=record.version,
        now=NOW,
    )

    assert [n.recipient for n in told(Notification.Kind.RECORD_WITHDRAWN)] == [hub.manager]


def test_a_withdrawal_before_anyone_read_it_tells_nobody(hub):
    record = hub.record("non_sensitive", marker="QUIET")

    withdrawn = revisions.withdraw_record(
        record_pk=record.pk, actor=hub.police_officer, expected_version=1, now=NOW
    )

    assert (withdrawn.withdrawn_at, withdrawn.withdrawn_by, withdrawn.withdrawal_reason) == (
        NOW,
        hub.police_officer,
        "",
    )
    assert told(Notification.Kind.RECORD_WITHDRAWN) == []
    assert RecordRevision.objects.get().kind == RecordRevision.Kind.WITHDRAWN


def test_a_withdrawal_after_it_was_read_needs_a_reason(hub):
    record = read_by_the_hub(hub.record("released", marker="READ"))

    with pytest.raises(ValidationError) as refused:
        revisions.withdraw_record(
            record_pk=record.pk, actor=hub.police_officer, expected_version=record.version
        )

    assert list(refused.value.message_dict) == ["reason"]
    record.refresh_from_db()
    assert record.withdrawn_at is None


def test_a_stale_version_is_refused_and_nothing_is_saved(hub):
    record = hub.record("non_sensitive", marker="STALE")
    revisions.correct_record(
        actor=hub.police_officer, **correction(record, summary="Summary ONE"), now=NOW
    )

    with pytest.raises(StaleEdit) as stale:
        revisions.correct_record(
            actor=hub.police_officer, **correction(record, summary="Summary TWO")
        )

    assert stale.value.current_version == 2
    assert "corrected by" in stale.value.changes[0]
    record.refresh_from_db()
    assert (record.summary, record.version) == ("Summary ONE", 2)
    assert RecordRevision.objects.count() == 1


def test_a_correction_that_changes_nothing_is_refused(hub):
    record = hub.record("non_sensitive", marker="SAME")

    with pytest.raises(ValidationError, match="Nothing has changed"):
        revisions.correct_record(actor=hub.police_officer, **correction(record))


def test_a_correction_to_someone_not_in_the_enquiry_is_refused_on_its_field(hub):
    from enquiries.models import Person

    record = hub.record("non_sensitive", marker="WHO")
    stranger = Person.objects.create(first_name="Not", last_name="Named")

    with pytest.raises(ValidationError) as refused:
        revisions.correct_record(actor=hub.police_officer, **correction(record), person=stranger)

    assert list(refused.value.message_dict) == ["person"]


@pytest.mark.parametrize(
    "who", ["health_visitor", "researcher", "manager", "analyst", "auditor", "administrator"]
)
@pytest.mark.parametrize("service", ["correct", "withdraw"])
def test_only_a_practitioner_of_the_owning_agency_corrects_or_withdraws(hub, who, service):
    record = hub.record("non_sensitive", marker="OWN")
    actor = getattr(hub, who)
    works_on_it = who in ("health_visitor", "researcher", "manager")

    with pytest.raises(PermissionDenied if works_on_it else firewall_not_visible()):
        if service == "correct":
            revisions.correct_record(actor=actor, **correction(record, summary="Summary X"))
        else:
            revisions.withdraw_record(
                record_pk=record.pk, actor=actor, reason=WHY, expected_version=1
            )

    assert InformationRecord.objects.get(pk=record.pk).version == 1


def firewall_not_visible():
    from sharing.firewall import NotVisible

    return NotVisible


def test_a_practitioner_of_an_agency_not_asked_finds_no_record(client, hub):
    outsider = UserFactory(
        roles=[Role.PRACTITIONER], agency=AgencyFactory(name="Probation", kind=Agency.Kind.OTHER)
    )
    record = hub.record("non_sensitive", marker="UNASKED")
    client.force_login(outsider)

    for name in ("sharing-record-correct", "sharing-record-withdraw"):
        assert client.get(reverse(name, args=[record.pk])).status_code == 404
    api = APIClient()
    api.force_authenticate(outsider)
    for name in ("correct", "withdraw"):
        response = api.post(
            reverse(f"api:information-record-{name}", args=[record.pk]),
            {"reason": WHY, "expected_version": 1},
            format="json",
        )
        assert response.status_code == 404


def test_a_withdrawn_record_can_no_longer_be_corrected_or_released(hub):
    record = hub.record("sensitive", marker="GONE")
    revisions.withdraw_record(record_pk=record.pk, actor=hub.police_officer, expected_version=1)

    with pytest.raises(PermissionDenied, match="withdrawn"):
        revisions.correct_record(
            actor=hub.police_officer, **correction(record, summary="S", expected_version=2)
        )
    with pytest.raises(PermissionDenied, match="withdrawn"):
        services.request_release(
            record_pk=record.pk, actor=hub.researcher, reason="Needed.", channel="page"
        )


def test_withdrawing_closes_a_pending_release_request_and_tells_whoever_asked(hub):
    record = hub.record("release_requested", marker="PENDING")

    revisions.withdraw_record(
        record_pk=record.pk, actor=hub.police_officer, expected_version=record.version
    )

    record.refresh_from_db()
    assert record.release_status == ReleaseStatus.NOT_REQUESTED
    (notice,) = told(Notification.Kind.RECORD_WITHDRAWN)
    assert notice.recipient == hub.researcher
    assert "withdrew the record you asked it to release" in notice.message


def test_a_released_record_corrected_to_non_sensitive_needs_no_release_any_more(hub, client):
    record = read_by_the_hub(hub.record("released", marker="OPENED"))

    revisions.correct_record(
        actor=hub.police_officer,
        **correction(record, sensitivity=Sensitivity.NON_SENSITIVE, reason=WHY),
    )
    record.refresh_from_db()
    assert record.release_status == ReleaseStatus.NOT_REQUESTED
    # marked sensitive again, it is hidden again: the release's grant went with it
    revisions.correct_record(
        actor=hub.police_officer,
        **correction(record, sensitivity=Sensitivity.SENSITIVE, reason=WHY),
    )
    client.force_login(hub.researcher)
    assert "OPENED" not in client.get(hub.enquiry.get_absolute_url()).content.decode()


def test_a_released_record_corrected_and_still_sensitive_stays_released(hub, client):
    record = read_by_the_hub(hub.record("released", marker="KEPT"))

    revisions.correct_record(
        actor=hub.police_officer, **correction(record, detail="Detail NEWKEPT.", reason=WHY)
    )

    record.refresh_from_db()
    assert record.release_status == ReleaseStatus.RELEASED
    client.force_login(hub.researcher)
    assert "Detail NEWKEPT." in client.get(hub.enquiry.get_absolute_url()).content.decode()
    assert told(Notification.Kind.RECORD_CORRECTED)[0].recipient == hub.researcher


# When a record is read.


def test_the_hubs_enquiry_page_reads_a_non_sensitive_record_not_a_signpost(client, hub):
    plain = hub.record("non_sensitive", marker="PLAIN")
    secret = hub.record("sensitive", marker="SECRET")

    client.force_login(hub.police_officer)  # its own agency: not a read
    client.get(hub.enquiry.get_absolute_url())
    plain.refresh_from_db()
    assert plain.first_read_at is None

    client.force_login(hub.researcher)
    client.get(hub.enquiry.get_absolute_url())
    plain.refresh_from_db()
    secret.refresh_from_db()
    assert plain.first_read_at is not None
    assert secret.first_read_at is None

    first = plain.first_read_at
    client.get(hub.enquiry.get_absolute_url())
    plain.refresh_from_db()
    assert plain.first_read_at == first  # the first read stays the first


@pytest.mark.parametrize("path", ["record page", "export", "search", "API list", "person page"])
def test_every_path_that_shows_content_reads_it(client, hub, path):
    record = hub.record("released", marker="READS")
    client.force_login(hub.health_visitor)
    if path == "record page":
        client.get(reverse("sharing-record", args=[record.pk]))
    elif path == "export":
        client.get(reverse("enquiry-information-export", args=[hub.enquiry.reference]))
    elif path == "search":
        client.get(reverse("sharing-search"), {"q": "intelligence held"})
    elif path == "API list":
        client.get(reverse("api:information-record-list"))
    else:
        client.get(reverse("person-detail", args=[hub.enquiry.subject_id]))

    record.refresh_from_db()
    assert record.first_read_at is not None


# Pages and the API.


def test_the_owning_agency_sees_the_links_and_others_do_not(client, hub):
    record = hub.record("non_sensitive", marker="LINKS")
    page = reverse("sharing-record", args=[record.pk])
    links = (
        reverse("sharing-record-correct", args=[record.pk]),
        reverse("sharing-record-withdraw", args=[record.pk]),
    )

    client.force_login(hub.police_officer)
    html = client.get(page).content.decode()
    assert all(link in html for link in links)
    for who in (hub.researcher, hub.manager, hub.health_visitor):
        client.force_login(who)
        html = client.get(page).content.decode()
        assert not any(link in html for link in links)
        assert client.get(links[0]).status_code == 403
        assert client.get(links[1]).status_code == 403


def test_the_form_says_whether_a_reason_is_needed(client, hub):
    record = hub.record("non_sensitive", marker="FORM")
    client.force_login(hub.police_officer)
    url = reverse("sharing-record-correct", args=[record.pk])

    assert "Optional: nobody outside" in client.get(url).content.decode()
    read_by_the_hub(record)
    assert "Required: someone outside" in client.get(url).content.decode()


def test_correcting_on_the_page_then_the_hub_sees_that_it_was_corrected_not_what_it_said(
    client, hub
):
    record = read_by_the_hub(hub.record("non_sensitive", marker="OLDTEXT"))
    client.force_login(hub.police_officer)
    url = reverse("sharing-record-correct", args=[record.pk])
    form = {
        "person": hub.enquiry.subject_id,
        "summary": "Summary NEWTEXT",
        "detail": "Detail NEWTEXT.",
        "source_system": "Niche RMS",
        "information_date": "2025-10-01",
        "sensitivity": "non_sensitive",
        "conditions": "",
        "expected_version": 1,
    }

    without_reason = client.post(url, form)
    corrected = client.post(url, {**form, "reason": "Wrong date of incident."})
    owner_page = client.get(reverse("sharing-record", args=[record.pk])).content.decode()
    client.force_login(hub.researcher)
    hub_page = client.get(reverse("sharing-record", args=[record.pk])).content.decode()
    api = APIClient()
    api.force_authenticate(hub.researcher)
    api_text = api.get(reverse("api:information-record-detail", args=[record.pk])).content

    assert without_reason.status_code == 400
    assert "has read this record" in without_reason.content.decode()
    assert corrected.status_code == 302
    assert "OLDTEXT" in owner_page  # what it said before, to its agency
    assert "Wrong date of incident." in hub_page
    assert "Corrected by Thames Valley Police" in hub_page
    assert "NEWTEXT" in hub_page
    assert "OLDTEXT" not in hub_page
    assert b"OLDTEXT" not in api_text
    # the change log masks what it said before, as it masks the record's content
    changes = LogEntry.objects.filter(content_type__model="recordrevision")
    assert changes.exists()
    assert not any("OLDTEXT" in str(entry.changes) for entry in changes)


def test_a_stale_form_keeps_what_was_typed_and_says_what_changed(client, hub):
    record = hub.record("non_sensitive", marker="TYPED")
    revisions.correct_record(actor=hub.police_officer, **correction(record, summary="Summary A"))
    client.force_login(hub.police_officer)

    response = client.post(
        reverse("sharing-record-withdraw", args=[record.pk]),
        {"reason": "My typed reason.", "expected_version": 1},
    )

    html = response.content.decode()
    assert response.status_code == 409
    assert "My typed reason." in html
    assert 'name="expected_version" value="2"' in html
    assert InformationRecord.objects.get(pk=record.pk).withdrawn_at is None


def test_a_withdrawn_record_shows_who_withdrew_it_when_and_why(client, hub):
    record = read_by_the_hub(hub.record("non_sensitive", marker="WITHDRAWNTEXT"))
    client.force_login(hub.police_officer)
    withdrawn = client.post(
        reverse("sharing-record-withdraw", args=[record.pk]),
        {"reason": WHY, "expected_version": 1},
    )
    client.force_login(hub.researcher)
    html = client.get(hub.enquiry.get_absolute_url()).content.decode()
    export_url = reverse("enquiry-information-export", args=[hub.enquiry.reference])
    export = client.get(export_url).content.decode()

    assert withdrawn.status_code == 302
    assert "Withdrawn by Thames Valley Police on" in html
    assert WHY in html
    assert "WITHDRAWNTEXT" not in html
    assert "WITHDRAWNTEXT" not in export
    assert "Withdrawn by Thames Valley Police on" in export


def test_the_api_corrects_and_withdraws(hub):
    record = read_by_the_hub(hub.record("non_sensitive", marker="API"))
    api = APIClient()
    api.force_authenticate(hub.police_officer)
    base = {
        "summary": "Summary API2",
        "detail": "Detail API2.",
        "source_system": "Niche RMS",
        "information_date": "2025-10-01",
        "sensitivity": "sensitive",
        "expected_version": 1,
    }

    no_reason = api.post(
        reverse("api:information-record-correct", args=[record.pk]), base, format="json"
    )
    corrected = api.post(
        reverse("api:information-record-correct", args=[record.pk]),
        {**base, "reason": WHY},
        format="json",
    )
    stale = api.post(
        reverse("api:information-record-withdraw", args=[record.pk]),
        {"reason": WHY, "expected_version": 1},
        format="json",
    )
    withdrawn = api.post(
        reverse("api:information-record-withdraw", args=[record.pk]),
        {"reason": WHY, "expected_version": 2},
        format="json",
    )

    assert no_reason.status_code == 400
    assert list(no_reason.json()) == ["reason"]
    assert corrected.status_code == 200, corrected.json()
    assert (corrected.json()["version"], corrected.json()["sensitivity"]) == (2, "sensitive")
    assert stale.status_code == 409
    assert stale.json()["current_version"] == 2
    assert withdrawn.status_code == 200
    assert withdrawn.json()["withdrawn"]["reason"] == WHY
    assert withdrawn.json()["actions"] == []
    assert len(told(Notification.Kind.RECORD_CORRECTED)) == 1
    assert len(told(Notification.Kind.RECORD_WITHDRAWN)) == 1


def test_the_api_shows_others_a_withdrawn_record_as_its_withdrawal(hub):
    record = hub.record("non_sensitive", marker="APIGONE")
    revisions.withdraw_record(
        record_pk=record.pk, actor=hub.police_officer, reason=WHY, expected_version=1
    )
    api = APIClient()
    api.force_authenticate(hub.researcher)

    data = api.get(reverse("api:information-record-detail", args=[record.pk])).json()

    assert data["content"] is None
    assert data["signpost"].startswith("Withdrawn by Thames Valley Police on ")
    assert data["signpost"].endswith(WHY)
    assert data["withdrawn"]["reason"] == WHY
    assert "APIGONE" not in str(data)


@pytest.mark.parametrize("revised", [1, 6])
def test_the_record_page_runs_a_fixed_number_of_queries(
    client, hub, django_assert_max_num_queries, revised
):
    record = hub.record("non_sensitive", marker="COUNT")
    for n in range(revised):
        revisions.correct_record(
            actor=hub.police_officer,
            **correction(record, summary=f"Summary {n}", expected_version=n + 1),
        )
    client.force_login(hub.police_officer)

    # session, user, groups; the record through the firewall; its enquiry; the access log
    # (lock, last hash, insert); release requests, decisions, revisions; unread notifications
    with django_assert_max_num_queries(13):
        response = client.get(reverse("sharing-record", args=[record.pk]))
    assert response.status_code == 200


# The check before "Send the answer".


def test_send_the_answer_first_shows_what_is_sent_and_only_a_confirmation_sends_it(client, hub):
    hub.record("non_sensitive", marker="ONE")
    hub.record("sensitive", marker="TWO")
    client.force_login(hub.police_officer)
    url = reverse("sharing-request-answer", args=[hub.police_request.pk])
    version = InformationRequest.objects.get(pk=hub.police_request.pk).version

    check = client.post(url, {"expected_version": version})
    still_open = InformationRequest.objects.get(pk=hub.police_request.pk).is_open
    sent = client.post(url, {"expected_version": version, "confirmed": "yes"})

    html = check.content.decode()
    assert check.status_code == 200
    assert still_open
    assert "You are about to send 2 records to the hub" in html
    assert "Summary ONE" in html and "Summary TWO" in html
    assert "Non-sensitive" in html and "Sensitive" in html
    assert "visible to everyone working on" in html
    assert 'name="confirmed"' in html
    assert "Go back" in html
    assert sent.status_code == 302
    status = InformationRequest.objects.get(pk=hub.police_request.pk).status
    assert status == InformationRequest.Status.ANSWERED


def test_the_check_is_refused_to_someone_who_may_not_answer(client, hub):
    hub.record("non_sensitive", marker="ONE")
    client.force_login(hub.health_visitor)

    response = client.post(
        reverse("sharing-request-answer", args=[hub.police_request.pk]), {"expected_version": 2}
    )

    # another agency's practitioner sees the request (they work on the enquiry) but may not
    # answer it: refused at once, with no check page
    assert response.status_code == 403
    assert "You are about to send" not in response.content.decode()


@pytest.mark.parametrize("records", [1, 10])
def test_the_check_runs_a_fixed_number_of_queries(
    client, hub, django_assert_max_num_queries, records
):
    for n in range(records):
        hub.record(["sensitive", "non_sensitive"][n % 2], marker=f"C{n}")
    client.force_login(hub.police_officer)

    # session, user, groups; the request; the records through the firewall; the access log
    # (lock, last hash, insert); unread notifications
    with django_assert_max_num_queries(10):
        response = client.post(
            reverse("sharing-request-answer", args=[hub.police_request.pk]),
            {"expected_version": 2},
        )
    assert response.status_code == 200


def test_the_api_answers_in_one_call(hub):
    hub.record("non_sensitive", marker="ONECALL")
    api = APIClient()
    api.force_authenticate(hub.police_officer)
    version = InformationRequest.objects.get(pk=hub.police_request.pk).version

    response = api.post(
        reverse("api:information-request-answer", args=[hub.police_request.pk]),
        {"expected_version": version},
        format="json",
    )

    assert response.status_code == 200
    assert response.json()["status"] == "answered"


def test_information_date_in_the_correction_is_checked(hub):
    record = hub.record("non_sensitive", marker="DATE")

    with pytest.raises(ValidationError) as refused:
        revisions.correct_record(
            actor=hub.police_officer,
            **correction(record, information_date=date(2999, 1, 1)),
            now=NOW,
        )

    assert list(refused.value.message_dict) == ["information_date"]
