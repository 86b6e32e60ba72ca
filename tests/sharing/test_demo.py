"""The demo hub's information sharing: realistic, consistent with the services' rules, with
something for each demo login, and never duplicated by running the seed again."""

import json
import os
import subprocess
import sys
from collections import Counter, defaultdict
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db.models import Count, Q

from agencies.models import Agency, Role, User
from audit.models import AccessLogEntry
from demo.enquiries import seed_demo_enquiries
from demo.hub import seed_demo_hub
from demo.sharing import seed_demo_sharing
from enquiries.clock import clock_in_force
from enquiries.models import Enquiry, Notification
from enquiries.worktime import working_minutes_between
from sharing import firewall, selectors, services
from sharing import revisions as revisions_service
from sharing.chasing import chaser_message
from sharing.models import (
    Chaser,
    InformationRecord,
    InformationRequest,
    RecordGroupObjectPermission,
    RecordRevision,
    ReleaseDecision,
    ReleaseRequest,
    ReleaseStatus,
    Sensitivity,
    SharingPolicy,
)
from sharing.withdrawals import decision_reason, request_withdrawn_message
from tests.sqlite_template import migrated_sqlite

pytestmark = pytest.mark.django_db

Status = InformationRequest.Status
Kind = Notification.Kind
SHARING_MODELS = (
    InformationRequest,
    InformationRequest.people.through,
    Chaser,
    InformationRecord,
    ReleaseRequest,
    ReleaseDecision,
    RecordGroupObjectPermission,
    RecordRevision,
    AccessLogEntry,
)


@pytest.fixture
def demo():
    """The demo at the test's instant: the tests marked `any_instant` see it at the hours a
    wall-clock demo used to leave empty."""
    seed_demo_hub()
    seed_demo_enquiries(target=400)
    return seed_demo_sharing()


def counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in SHARING_MODELS}


def test_it_shares_on_the_newest_open_enquiries_and_a_sample_of_decided_ones(demo):
    asked = Enquiry.objects.filter(information_requests__isnull=False).distinct()

    assert demo.enquiries == asked.count() > 0
    assert demo.requests == InformationRequest.objects.count()
    assert demo.records == InformationRecord.objects.count()
    assert asked.filter(state__in=Enquiry.OPEN_STATES).exists()
    decided = asked.filter(decided_at__isnull=False)
    # Spread over the months, so reports have turnaround for every period.
    assert len({(e.received_at.year, e.received_at.month) for e in decided}) >= 5


def test_running_it_again_adds_nothing(demo):
    before = counts()

    again = seed_demo_sharing()

    assert (again.enquiries, again.requests, again.records, again.decisions) == (0, 0, 0, 0)
    assert counts() == before


def test_new_enquiries_get_their_sharing_and_the_rest_is_left_alone(demo):
    asked_before = set(InformationRequest.objects.values_list("enquiry_id", "agency_id"))

    seed_demo_enquiries(target=450)
    more = seed_demo_sharing()

    assert more.requests > 0
    pairs = list(InformationRequest.objects.values_list("enquiry_id", "agency_id"))
    assert len(pairs) == len(set(pairs)) == len(asked_before) + more.requests


@pytest.mark.any_instant
def test_the_demo_keeps_every_rule_of_the_services(demo):
    assert sharing_facts() == EXPECTED_FACTS


def test_each_agency_answers_in_its_own_voice(demo):
    police = InformationRecord.objects.filter(agency__kind=Agency.Kind.POLICE)
    education = InformationRecord.objects.filter(agency__kind=Agency.Kind.EDUCATION)
    acute = InformationRecord.objects.filter(agency__name="Acute Hospital Trust")

    assert set(police.values_list("source_system", flat=True)) <= {
        "Niche RMS",
        "Police National Computer",
        "Athena",
    }
    assert police.filter(summary="Domestic incident at the home address").exists()
    assert education.filter(summary__startswith="Attendance").exists()
    assert acute.filter(summary="A&E attendance with an injury").exists()
    record = acute.filter(summary="A&E attendance with an injury").select_related("person").first()
    assert record.detail.startswith(f"{record.person.first_name} attended the Emergency Department")


def test_the_demo_logins_have_work_waiting(demo):
    police, health, education, researcher = (
        User.objects.get(username=name) for name in ("police", "health", "education", "researcher")
    )

    assert selectors.open_inbox(police).exists()
    assert selectors.open_inbox(health).exists()
    assert selectors.open_inbox(education).exists()
    _, awaiting = selectors.awaiting_release_page(police, 1)
    assert awaiting
    assert all(record.is_sensitive and record.agency_id == police.agency_id for record in awaiting)
    shown = firewall.shown_records(
        firewall.visible_records(researcher).filter(enquiry__state__in=Enquiry.OPEN_STATES)
    )
    signposts = [record for record in shown if record.is_signpost]
    assert signposts
    assert all(record.detail == "" for record in signposts)
    released = firewall.shown_records(
        firewall.visible_records(researcher).filter(release_status=ReleaseStatus.RELEASED)
    )
    assert released
    assert all(record.content_visible and record.detail for record in released)


def test_practitioners_and_researchers_are_told_as_the_services_tell_them(demo):
    practitioners = defaultdict(set)
    for user_id, agency_id in User.objects.filter(groups__name=Role.PRACTITIONER).values_list(
        "id", "agency_id"
    ):
        practitioners[agency_id].add(user_id)
    told = Counter(
        Notification.objects.values_list("kind", "enquiry_id", "recipient_id", "message")
    )
    chasers = Counter(Chaser.objects.values_list("request_id", flat=True))
    on_open_enquiries = {"enquiry__state__in": Enquiry.OPEN_STATES}
    requests = InformationRequest.objects.filter(**on_open_enquiries).select_related(
        "enquiry", "agency"
    )
    asked_to_release = ReleaseRequest.objects.filter(
        **{f"record__{key}": value for key, value in on_open_enquiries.items()}
    ).select_related("record__enquiry", "record__agency", "record__person", "requested_by")

    assert requests and asked_to_release
    for request in requests:
        reference, agency = request.enquiry.reference, request.agency.name
        asked = services.information_request_message(
            reference=reference, agency=agency, due_at=request.due_at
        )
        overdue = chaser_message(reference=reference, agency=agency, due_at=request.due_at)
        for practitioner in practitioners[request.agency_id]:
            assert told[Kind.INFORMATION_REQUEST, request.enquiry_id, practitioner, asked] == 1
            assert (
                told[Kind.CHASER, request.enquiry_id, practitioner, overdue] == chasers[request.pk]
            )
    expected = Counter()
    for release_request in asked_to_release:
        record = release_request.record
        about = {
            "reference": record.enquiry.reference,
            "agency": record.agency.name,
            "person": str(record.person),
        }
        asked = services.release_request_message(
            requester=str(release_request.requested_by), **about
        )
        for practitioner in practitioners[record.agency_id]:
            expected[Kind.RELEASE_REQUEST, record.enquiry_id, practitioner, asked] += 1
        if record.release_status != ReleaseStatus.REQUESTED:
            answer = services.release_answer_message(
                released=record.release_status == ReleaseStatus.RELEASED, **about
            )
            requester = release_request.requested_by_id
            expected[Kind.RELEASE_ANSWER, record.enquiry_id, requester, answer] += 1
    releases = (Kind.RELEASE_REQUEST, Kind.RELEASE_ANSWER)
    assert {key: count for key, count in told.items() if key[0] in releases} == expected
    # The decided enquiries' news would long since have been read: the demo leaves it out,
    # bar the notice that the decision withdrew a request, once to each of its practitioners.
    withdrawn = InformationRequest.objects.filter(status=Status.WITHDRAWN).select_related(
        "enquiry", "agency"
    )
    assert withdrawn
    expected = Counter()
    for request in withdrawn:
        assert request.withdrawn_at == request.enquiry.decided_at
        assert request.withdrawn_by_id == request.enquiry.decided_by_id
        message = request_withdrawn_message(
            reference=request.enquiry.reference,
            agency=request.agency.name,
            reason=decision_reason(
                decided_at=request.enquiry.decided_at, outcome=str(request.enquiry.outcome)
            ),
        )
        for practitioner in practitioners[request.agency_id]:
            expected[Kind.REQUEST_WITHDRAWN, request.enquiry_id, practitioner, message] += 1
    assert {key: n for key, n in told.items() if key[0] == Kind.REQUEST_WITHDRAWN} == expected
    assert (
        not Notification.objects.filter(enquiry__decided_at__isnull=False)
        .exclude(kind=Kind.REQUEST_WITHDRAWN)
        .exists()
    )


def test_a_record_is_corrected_and_one_withdrawn_after_the_hub_read_them(demo):
    revisions = RecordRevision.objects.select_related("record__enquiry", "record__agency")

    assert sorted(revisions.values_list("kind", flat=True)) == ["corrected", "withdrawn"]
    for revision in revisions:
        record = revision.record
        assert revision.after_read and revision.reason
        assert record.first_read_at < revision.revised_at
        assert revision.version == record.version
        assert revision.revised_by_id == record.recorded_by_id
        withdrawn = revision.kind == RecordRevision.Kind.WITHDRAWN
        assert (record.withdrawn_at is not None) == withdrawn
        message = (
            revisions_service.record_withdrawn_message
            if withdrawn
            else revisions_service.record_corrected_message
        )(reference=record.enquiry.reference, agency=record.agency.name, reason=revision.reason)
        assert (
            Notification.objects.filter(
                kind=Kind.RECORD_WITHDRAWN if withdrawn else Kind.RECORD_CORRECTED,
                enquiry_id=record.enquiry_id,
                message=message,
            ).count()
            == 1
        )


def test_agencies_without_a_practitioner_get_a_demo_colleague_who_cannot_sign_in(demo):
    colleagues = User.objects.filter(username__endswith="-practitioner")

    asked = set(InformationRequest.objects.values_list("agency_id", flat=True))
    answering = set(
        User.objects.filter(groups__name="practitioner", is_active=True).values_list(
            "agency_id", flat=True
        )
    )
    assert asked <= answering
    assert colleagues.exists()
    assert not any(colleague.has_usable_password() for colleague in colleagues)
    seed_demo_sharing()
    assert User.objects.filter(username__endswith="-practitioner").count() == colleagues.count()


def test_an_empty_hub_gets_nothing():
    seed_demo_hub()

    result = seed_demo_sharing()

    assert result.requests == 0
    assert counts() == dict.fromkeys(counts(), 0)


def test_seed_demo_adds_the_sharing_and_says_so(pictures_not_typeset):
    out = StringIO()
    call_command("seed_demo", "--enquiries", "100", stdout=out)
    call_command("seed_demo", "--enquiries", "100", stdout=out)

    first, second = [
        line for line in out.getvalue().splitlines() if line.startswith("Demo information sharing")
    ]
    assert not first.startswith("Demo information sharing: 0 requests")
    assert second.startswith("Demo information sharing: 0 requests and 0 records on 0 enquiries")


def test_the_demo_is_the_same_on_sqlite(tmp_path):
    root = Path(__file__).resolve().parents[2]
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "mash.settings",
        "DEBUG": "true",
        # As `make demo` has it, so the auditor's pages open with a password alone.
        "TWO_FACTOR_REQUIRED": "false",
        "DATABASE_URL": f"sqlite:///{migrated_sqlite(tmp_path / 'demo.sqlite3')}",
    }

    result = subprocess.run(
        [sys.executable, "-m", "tests.at_instant", "tests.demo_on_sqlite", "sharing"],
        env=environment,
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.splitlines()[-1])
    assert report["again"] == 0
    assert report["facts"] == EXPECTED_FACTS
    # The auditor's logs, filtered by an enquiry or a record, as on PostgreSQL: on SQLite the
    # change log's filter once ran a compound query SQLite refuses (a 500).
    assert {page: found["status"] for page, found in report["audit"].items()} == {
        "access by enquiry": 200,
        "access by record": 200,
        "changes by enquiry": 200,
        "changes by record": 200,
    }
    assert all(found["rows"] for found in report["audit"].values()), report["audit"]


EXPECTED_FACTS = {
    "due_mismatches": [],
    "response_mismatches": [],
    "answer_mismatches": [],
    "release_mismatches": [],
    "chaser_mismatches": [],
    "open_requests_on_decided_enquiries": 0,
    "open_requests_awaiting_decision": 0,
    "requests_before_screening": 0,
    "statuses": sorted(Status.values),
    "overdue_open_requests": True,
    "release_states": sorted(ReleaseStatus.values),
    "sensitive_about_a_quarter": True,
    "unfilled_placeholders": 0,
    "every_asked_agency_has_turnaround": True,
}


def sharing_facts() -> dict:
    """What must hold of the demo's sharing on any database; shared with the SQLite run."""
    clock = clock_in_force()
    percent = SharingPolicy.current().request_due_percent
    requests = list(
        InformationRequest.objects.select_related("enquiry").annotate(
            records_given=Count("records")
        )
    )
    due: dict[int, object] = {}
    due_mismatches, response_mismatches, answer_mismatches, chaser_mismatches = [], [], [], []
    chasers = Counter(Chaser.objects.values_list("request_id", flat=True))
    for request in requests:
        enquiry = request.enquiry
        if enquiry.pk not in due:
            due[enquiry.pk] = services.request_due_at(enquiry, percent=percent)
        if request.due_at != due[enquiry.pk]:
            due_mismatches.append(request.pk)
        closed = request.status in (Status.ANSWERED, Status.NOTHING_HELD)
        if closed and request.response_minutes != working_minutes_between(
            clock.calendar, request.requested_at, request.answered_at
        ):
            response_mismatches.append(request.pk)
        if (
            closed != (request.answered_at is not None and request.answered_by_id is not None)
            or (request.status == Status.ANSWERED) != (closed and request.records_given > 0)
            or (request.status == Status.REQUESTED and request.records_given)
            or request.requested_at < enquiry.received_at
            or (closed and request.answered_at < request.requested_at)
            or (enquiry.decided_at and closed and request.answered_at > enquiry.decided_at)
        ):
            answer_mismatches.append(request.pk)
        if chasers[request.pk] != request.chase_count or (
            request.chase_count and request.last_chased_at <= request.due_at
        ):
            chaser_mismatches.append(request.pk)

    records = list(
        InformationRecord.objects.select_related("request").annotate(
            asked=Count("release_requests", distinct=True),
            released=Count("decisions", filter=_decided("released"), distinct=True),
            refused=Count("decisions", filter=_decided("refused"), distinct=True),
            grants=Count("recordgroupobjectpermission", distinct=True),
            logged=Count("access_log_entries", distinct=True),
            revised=Count("revisions", distinct=True),
        )
    )
    expected = {
        ReleaseStatus.NOT_REQUESTED: (0, 0, 0, 0, 0),
        ReleaseStatus.REQUESTED: (1, 0, 0, 0, 1),
        ReleaseStatus.RELEASED: (1, 1, 0, 3, 2),
        ReleaseStatus.REFUSED: (1, 0, 1, 0, 2),
    }
    release_mismatches = [
        record.pk
        for record in records
        # a correction or withdrawal is in the access log too (sharing.revisions)
        if (
            record.asked,
            record.released,
            record.refused,
            record.grants,
            record.logged - record.revised,
        )
        != expected[record.release_status]
        or record.recorded_at < record.request.requested_at
        or bool(record.conditions)
        and record.release_status != ReleaseStatus.RELEASED
    ]
    released = ReleaseDecision.objects.filter(decision="released")
    release_mismatches += list(
        released.exclude(necessary_and_proportionate=True).values_list("record_id", flat=True)
    )
    sensitive = sum(record.sensitivity == Sensitivity.SENSITIVE for record in records)
    open_statuses = InformationRequest.OPEN_STATUSES
    agencies_asked = {request.agency_id for request in requests}
    agencies_answering = {
        request.agency_id for request in requests if request.response_minutes is not None
    }
    return {
        "due_mismatches": due_mismatches,
        "response_mismatches": response_mismatches,
        "answer_mismatches": answer_mismatches,
        "release_mismatches": release_mismatches,
        "chaser_mismatches": chaser_mismatches,
        "open_requests_on_decided_enquiries": sum(
            request.status in open_statuses and request.enquiry.decided_at is not None
            for request in requests
        ),
        "open_requests_awaiting_decision": sum(
            request.status in open_statuses
            and request.enquiry.state == Enquiry.State.AWAITING_DECISION
            for request in requests
        ),
        "requests_before_screening": sum(
            request.enquiry.state in (Enquiry.State.RECEIVED, Enquiry.State.SCREENING)
            for request in requests
        ),
        "statuses": sorted({request.status for request in requests}),
        "overdue_open_requests": any(
            request.status in open_statuses and request.chase_count > 0 for request in requests
        ),
        "release_states": sorted({record.release_status for record in records}),
        "sensitive_about_a_quarter": 0.15 <= sensitive / len(records) <= 0.4,
        "unfilled_placeholders": sum(
            "{" in record.summary + record.detail + record.conditions for record in records
        ),
        "every_asked_agency_has_turnaround": agencies_asked == agencies_answering,
    }


def _decided(decision: str) -> Q:
    return Q(decisions__decision=decision)
