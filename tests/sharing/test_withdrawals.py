"""Withdrawing information requests (sharing.withdrawals): by a researcher, and by the decision;
what the agency is told; answers after the withdrawal; chasing and the reports leave them out."""

from datetime import date, timedelta

import pytest
from auditlog.models import LogEntry
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from agencies.models import Role
from core.exceptions import StaleEdit
from enquiries import services as enquiry_services
from enquiries.models import Notification, Outcome
from reports.periods import Period
from reports.selectors import agency_response
from sharing import services, withdrawals
from sharing.chasing import chase_overdue_requests
from sharing.models import InformationRecord, InformationRequest, Sensitivity
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

Status = InformationRequest.Status
WITHDRAWN = Notification.Kind.REQUEST_WITHDRAWN
REASON = "The family has moved out of the county: the hub no longer needs this."


def withdraw(hub, *, actor=None, request=None, reason=REASON, version=None):
    request = request or hub.police_request
    return withdrawals.withdraw_request(
        request=request,
        actor=actor or hub.researcher,
        reason=reason,
        expected_version=request.version if version is None else version,
    )


def notices(kind=WITHDRAWN):
    return list(
        Notification.objects.filter(kind=kind)
        .order_by("recipient__username")
        .values_list("recipient__username", "message")
    )


def decide(hub, **fields):
    return enquiry_services.enquiry_decide(
        enquiry=hub.enquiry,
        actor=hub.manager,
        outcome=Outcome.objects.get(code="nfa"),
        rationale="Confidential: the mother's account was consistent.",
        expected_version=hub.enquiry.version,
        **fields,
    )


def add_record(hub, request=None):
    return services.add_information_record(
        request=request or hub.police_request,
        actor=hub.police_officer,
        person=hub.enquiry.subject,
        summary="Found after all",
        detail="A domestic incident in 2024.",
        source_system="Niche RMS",
        information_date=date(2024, 5, 1),
        sensitivity=Sensitivity.NON_SENSITIVE,
    )


# The service.


def test_a_researcher_withdraws_an_open_request_and_the_agency_is_told(hub):
    now = timezone.now().replace(second=0, microsecond=0)

    request = withdrawals.withdraw_request(
        request=hub.police_request,
        actor=hub.researcher,
        reason=REASON,
        expected_version=1,
        now=now,
    )

    request.refresh_from_db()
    assert (request.status, request.version) == (Status.WITHDRAWN, 2)
    assert (request.withdrawn_at, request.withdrawn_by, request.withdrawal_reason) == (
        now,
        hub.researcher,
        REASON,
    )
    assert (request.answered_at, request.response_minutes) == (None, None)
    assert notices() == [
        (
            "police_officer",
            f"{hub.enquiry.reference}: the hub withdrew its information request to Thames "
            f"Valley Police; no answer is needed. Why: {REASON}",
        )
    ]
    hub.health_request.refresh_from_db()
    assert hub.health_request.status == Status.REQUESTED


def test_a_stale_version_is_refused_and_changes_nothing(hub):
    add_record(hub)  # in progress now: version 2

    with pytest.raises(StaleEdit) as stale:
        withdraw(hub, version=1)

    assert stale.value.current_version == 2
    assert "it is now in progress" in stale.value.messages[0]
    hub.police_request.refresh_from_db()
    assert hub.police_request.status == Status.IN_PROGRESS
    assert notices() == []


@pytest.mark.parametrize(
    ("close", "message"),
    [
        ("nothing held", "Thames Valley Police has answered this request already"),
        ("withdrawn", "This request has been withdrawn already."),
    ],
)
def test_only_an_open_request_is_withdrawn(hub, close, message):
    if close == "nothing held":
        services.record_nothing_held(request=hub.police_request, actor=hub.police_officer)
    else:
        withdraw(hub)
    hub.police_request.refresh_from_db()

    with pytest.raises(ValidationError) as refused:
        withdraw(hub, reason="Again.")

    assert message in refused.value.messages[0]
    assert len(notices()) == (1 if close == "withdrawn" else 0)


def test_a_reason_is_required(hub):
    with pytest.raises(ValidationError) as refused:
        withdraw(hub, reason="  ")

    assert refused.value.message_dict == {
        "reason": ["Say why the hub no longer needs this information."]
    }


@pytest.mark.parametrize("who", ["police_officer", "health_visitor", "analyst", "auditor"])
def test_only_researchers_and_managers_withdraw(hub, who):
    with pytest.raises(PermissionDenied, match="Only researchers and managers withdraw"):
        withdraw(hub, actor=getattr(hub, who))

    hub.police_request.refresh_from_db()
    assert hub.police_request.status == Status.REQUESTED


def test_a_manager_may_withdraw_too(hub):
    assert withdraw(hub, actor=hub.manager).status == Status.WITHDRAWN


# The decision.


def test_deciding_withdraws_every_open_request_and_tells_each_agency(hub):
    services.record_nothing_held(request=hub.police_request, actor=hub.police_officer)

    enquiry = decide(hub)

    hub.police_request.refresh_from_db()
    hub.health_request.refresh_from_db()
    assert hub.police_request.status == Status.NOTHING_HELD
    assert hub.health_request.status == Status.WITHDRAWN
    assert hub.health_request.withdrawn_by == hub.manager
    day = timezone.localtime(enquiry.decided_at)
    reason = f"The hub decided this enquiry on {day.day} {day:%B %Y}: No further action."
    assert hub.health_request.withdrawal_reason == reason
    # the rationale stays in the hub
    assert notices() == [
        (
            "health_visitor",
            f"{hub.enquiry.reference}: the hub withdrew its information request to Oxford "
            f"Health; no answer is needed. Why: {reason}",
        )
    ]


def test_a_refused_decision_withdraws_nothing(hub):
    with pytest.raises(ValidationError):
        decide(hub, decided_at=hub.enquiry.received_at - timedelta(days=1))

    assert set(InformationRequest.objects.values_list("status", flat=True)) == {Status.REQUESTED}
    assert notices() == []


def test_the_decide_page_says_which_requests_it_will_withdraw(
    client, hub, django_assert_max_num_queries
):
    client.force_login(hub.manager)
    address = reverse("enquiry-decide", args=[hub.enquiry.reference])

    # sign-in, the enquiry, the outcomes, the open requests with their agencies, the session
    with django_assert_max_num_queries(12):
        page = client.get(address).content.decode()

    assert "Oxford Health: asked" in page and "Thames Valley Police: asked" in page
    assert "These 2 requests will be withdrawn, and each agency told." in page
    response = client.post(
        address,
        {
            "outcome": Outcome.objects.get(code="nfa").pk,
            "rationale": "No risk found.",
            "expected_version": hub.enquiry.version,
        },
    )
    assert response.status_code == 302
    assert set(InformationRequest.objects.values_list("status", flat=True)) == {Status.WITHDRAWN}
    assert [name for name, _ in notices()] == ["health_visitor", "police_officer"]


def test_the_api_decision_withdraws_too(hub):
    api = APIClient()
    api.force_authenticate(hub.manager)

    response = api.post(
        reverse("api:enquiry-decide", args=[hub.enquiry.reference]),
        {"outcome": "nfa", "rationale": "No risk.", "expected_version": hub.enquiry.version},
        format="json",
    )

    assert response.status_code == 200, response.json()
    assert set(InformationRequest.objects.values_list("status", flat=True)) == {Status.WITHDRAWN}
    assert len(notices()) == 2


# After the withdrawal.


def test_an_agency_may_still_add_a_record_which_reopens_nothing_and_the_hub_is_told(hub):
    withdraw(hub)

    record = add_record(hub)

    assert record.added_after_withdrawal
    hub.police_request.refresh_from_db()
    assert (hub.police_request.status, hub.police_request.version) == (Status.WITHDRAWN, 2)
    assert notices(Notification.Kind.INFORMATION_ANSWERED) == [
        (
            "researcher",
            f"{hub.enquiry.reference}: Thames Valley Police added information after the hub "
            "withdrew its request.",
        )
    ]
    # and the addition is in the change log
    added = LogEntry.objects.get_for_object(record).get(action=LogEntry.Action.CREATE)
    assert added.changes_dict["added_after_withdrawal"][1] == "True"


@pytest.mark.parametrize("answer", [services.send_answer, services.record_nothing_held])
def test_a_withdrawn_request_cannot_be_answered(hub, answer):
    withdraw(hub)
    hub.police_request.refresh_from_db()
    if answer is services.send_answer:
        add_record(hub)

    with pytest.raises(ValidationError, match="The hub withdrew this request"):
        answer(request=hub.police_request, actor=hub.police_officer)

    hub.police_request.refresh_from_db()
    assert hub.police_request.status == Status.WITHDRAWN


def test_the_agency_sees_it_withdrawn_may_add_a_record_and_is_refused_an_answer(
    client, hub, django_assert_max_num_queries
):
    withdraw(hub)
    client.force_login(hub.police_officer)
    address = reverse("sharing-request", args=[hub.police_request.pk])

    with django_assert_max_num_queries(20):
        page = client.get(address).content.decode()
    refused = client.post(
        reverse("sharing-request-nothing-held", args=[hub.police_request.pk]),
        {"expected_version": 2},
    )

    assert 'data-testid="request-status">Withdrawn' in page
    assert 'data-testid="request-withdrawn"' in page and REASON in page
    assert 'data-testid="record-form"' in page
    assert "Nothing held" not in page and "Send the answer" not in page
    assert refused.status_code == 400
    assert "The hub withdrew this request: it needs no answer." in refused.content.decode()
    hub.police_request.refresh_from_db()
    assert hub.police_request.status == Status.WITHDRAWN


def test_the_record_added_after_withdrawal_says_so_to_the_hub(client, hub):
    withdraw(hub)
    add_record(hub)
    client.force_login(hub.researcher)

    page = client.get(hub.enquiry.get_absolute_url()).content.decode()

    assert "Added after the request was withdrawn" in page
    assert f'data-testid="request-status-{hub.police_request.pk}">Withdrawn' in page


def test_the_inbox_shows_a_withdrawn_request_as_withdrawn_not_open(client, hub):
    withdraw(hub)
    client.force_login(hub.police_officer)

    page = client.get(reverse("agency-inbox")).content.decode()

    assert 'data-testid="inbox-empty"' in page
    assert 'data-testid="withdrawn"' in page and REASON in page


def test_withdrawn_requests_are_never_chased(hub):
    withdraw(hub)
    later = hub.police_request.due_at + timedelta(hours=2)

    assert chase_overdue_requests(now=later) == 1  # health's only
    assert set(
        InformationRequest.objects.filter(chase_count__gt=0).values_list("agency__name", flat=True)
    ) == {"Oxford Health"}


def test_a_withdrawn_request_is_neither_answered_nor_late_in_the_agency_report(hub):
    withdraw(hub)
    requested = hub.police_request.requested_at
    period = Period(requested.date() - timedelta(days=1), requested.date() + timedelta(days=1))

    rows = {
        row["agency"]: row
        for row in agency_response(period, now=hub.police_request.due_at + timedelta(days=1)).rows
    }

    police, health = rows["Thames Valley Police"], rows["Oxford Health"]
    assert (police["requests"], police["answered"], police["answered_by_due_percent"]) == (
        1,
        0,
        None,
    )
    assert (health["answered"], health["answered_by_due_percent"]) == (0, 0)


# The page and the API.


def test_the_researcher_withdraws_from_the_enquiry_page(client, hub, django_assert_max_num_queries):
    client.force_login(hub.researcher)
    enquiry_page = client.get(hub.enquiry.get_absolute_url()).content.decode()
    address = reverse("sharing-request-withdraw", args=[hub.police_request.pk])
    assert f'href="{address}"' in enquiry_page

    # sign-in, the request with its enquiry and agency, the access log's write, the session
    with django_assert_max_num_queries(14):
        form = client.get(address)
    blank = client.post(address, {"reason": "", "expected_version": 1})
    done = client.post(address, {"reason": REASON, "expected_version": 1})
    stale = client.post(address, {"reason": REASON, "expected_version": 1})

    assert form.status_code == 200
    assert blank.status_code == 400
    assert "Say why the hub no longer needs this information." in blank.content.decode()
    assert done.status_code == 302
    assert stale.status_code == 409
    hub.police_request.refresh_from_db()
    assert hub.police_request.status == Status.WITHDRAWN


def test_who_may_open_the_withdraw_page(client, hub):
    stranger = UserFactory(roles=[Role.PRACTITIONER], agency=hub.csc, username="stranger")
    address = reverse("sharing-request-withdraw", args=[hub.police_request.pk])
    expected = {
        hub.researcher: 200,
        hub.manager: 200,
        hub.police_officer: 403,
        hub.health_visitor: 403,
        stranger: 404,  # their agency was not asked: the request does not exist for them
        hub.analyst: 403,
        hub.auditor: 403,
    }

    found = {}
    for user in expected:
        client.force_login(user)
        found[user] = client.get(address).status_code

    assert found == expected


def api_for(user) -> APIClient:
    api = APIClient()
    api.force_authenticate(user)
    return api


def test_the_api_withdraws_with_a_reason_at_a_version(hub):
    address = reverse("api:information-request-withdraw", args=[hub.police_request.pk])
    stranger = UserFactory(roles=[Role.PRACTITIONER], agency=hub.csc, username="stranger")

    codes = {
        name: api_for(user)
        .post(address, {"reason": REASON, "expected_version": 1}, format="json")
        .status_code
        for name, user in [
            ("stranger", stranger),
            ("police", hub.police_officer),
            ("analyst", hub.analyst),
            ("auditor", hub.auditor),
        ]
    }
    blank = api_for(hub.researcher).post(address, {"expected_version": 1}, format="json")
    done = api_for(hub.researcher).post(
        address, {"reason": REASON, "expected_version": 1}, format="json"
    )
    stale = api_for(hub.researcher).post(
        address, {"reason": REASON, "expected_version": 1}, format="json"
    )

    assert codes == {"stranger": 404, "police": 403, "analyst": 403, "auditor": 403}
    assert blank.status_code == 400
    assert blank.json()["reason"] == ["Say why the hub no longer needs this information."]
    assert done.status_code == 200, done.json()
    body = done.json()
    assert (body["status"], body["withdrawal_reason"], body["actions"]) == (
        "withdrawn",
        REASON,
        [],
    )
    assert stale.status_code == 409
    # the agency may still add a record to it, and says so
    police = api_for(hub.police_officer).get(
        reverse("api:information-request-detail", args=[hub.police_request.pk])
    )
    assert police.json()["actions"] == ["add_record"]


def test_the_api_leaves_the_lead_agency_out_of_the_usual_set_and_refuses_it_by_name(hub):
    from sharing.models import SharingPolicy
    from tests.factories import AgencyFactory

    housing = AgencyFactory(name="Housing", asked_by_default=True)
    policy = SharingPolicy.current()
    policy.lead_agency = hub.csc
    policy.save()
    address = reverse("api:information-request-list")
    api = api_for(hub.researcher)

    named = api.post(
        address, {"enquiry": hub.enquiry.reference, "agencies": [hub.csc.pk]}, format="json"
    )
    usual = api.post(
        address, {"enquiry": hub.enquiry.reference, "agencies": "usual"}, format="json"
    )

    assert named.status_code == 400
    assert named.json()["agencies"] == [
        "Children's Social Care runs the hub: its information is already the hub's."
    ]
    assert usual.status_code == 201, usual.json()
    assert [row["agency"]["id"] for row in usual.json()] == [housing.pk]
    assert not InformationRecord.objects.exists()


def test_another_agency_sees_the_request_withdrawn_but_not_why(client, hub):
    withdraw(hub)
    detail = reverse("api:information-request-detail", args=[hub.police_request.pk])
    client.force_login(hub.health_visitor)

    enquiry_page = client.get(hub.enquiry.get_absolute_url()).content.decode()
    request_page = client.get(reverse("sharing-request", args=[hub.police_request.pk]))
    health = api_for(hub.health_visitor).get(detail).json()
    police = api_for(hub.police_officer).get(detail).json()
    researcher = api_for(hub.researcher).get(detail).json()

    assert f'data-testid="request-status-{hub.police_request.pk}">Withdrawn' in enquiry_page
    assert REASON not in enquiry_page
    assert request_page.status_code == 200
    assert REASON not in request_page.content.decode()
    assert (health["status"], health["withdrawal_reason"]) == ("withdrawn", "")
    assert police["withdrawal_reason"] == researcher["withdrawal_reason"] == REASON
