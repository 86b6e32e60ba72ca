"""The firewall's rules and the sharing services, below the pages and the API."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from audit.models import AccessLogEntry
from sharing import firewall, services
from sharing.models import InformationRequest, LawfulBasis, ReleaseStatus
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def contents(user, hub):
    return {
        shown.summary: shown.content_visible
        for shown in firewall.shown_records(firewall.visible_records(user, enquiry=hub.enquiry))
    }


def test_a_request_is_due_at_three_quarters_of_the_allowance(hub):
    request = hub.police_request
    assert request.status == InformationRequest.Status.REQUESTED
    assert request.requested_at <= request.due_at <= hub.enquiry.deadline
    assert list(request.people.all()) == [hub.enquiry.subject]


def test_agencies_already_asked_are_not_asked_twice(hub):
    with pytest.raises(ValidationError) as error:
        services.send_information_requests(
            enquiry=hub.enquiry, actor=hub.researcher, agencies=[hub.police]
        )
    assert "agencies" in error.value.message_dict
    assert [
        r.agency
        for r in services.send_information_requests(
            enquiry=hub.enquiry, actor=hub.researcher, agencies=[hub.police, hub.csc]
        )
    ] == [hub.csc]


def test_sensitive_content_stays_with_its_agency_until_released(hub):
    record = hub.record("sensitive", marker="S1")
    shown = firewall.record_for(hub.researcher, record.pk)
    assert shown.is_signpost
    assert shown.summary == shown.detail == shown.source_system == ""
    assert "Thames Valley Police holds sensitive information about Amy Firewall" in shown.signpost
    assert firewall.record_for(hub.police_officer, record.pk).detail.startswith("Detail S1")
    assert firewall.record_for(hub.health_visitor, record.pk).is_signpost
    for outsider in (hub.analyst, hub.auditor, hub.administrator):
        with pytest.raises(firewall.NotVisible):
            firewall.record_for(outsider, record.pk)


def test_a_release_opens_the_content_to_the_hub_with_its_conditions(hub):
    record = hub.record("released", marker="R1")
    assert record.release_status == ReleaseStatus.RELEASED
    for user in (hub.researcher, hub.manager, hub.health_visitor, hub.police_officer):
        shown = firewall.record_for(user, record.pk)
        assert shown.content_visible and "R1" in shown.conditions
    actions = list(AccessLogEntry.objects.filter(record=record).values_list("action", flat=True))
    assert sorted(actions) == ["release", "release_request"]


def test_only_the_owning_agency_releases_and_only_once(hub):
    record = hub.record("release_requested", marker="X")
    for user in (hub.researcher, hub.manager, hub.health_visitor):
        with pytest.raises(PermissionDenied):
            services.release_record(
                record_pk=record.pk,
                actor=user,
                reason="r",
                necessary_and_proportionate=True,
                lawful_basis=LawfulBasis.CONSENT,
                password=PASSWORD,
            )
    with pytest.raises(firewall.NotVisible):
        services.release_record(
            record_pk=record.pk,
            actor=hub.analyst,
            reason="r",
            necessary_and_proportionate=True,
            lawful_basis=LawfulBasis.CONSENT,
            password=PASSWORD,
        )
    release = dict(
        reason="Pertinent.",
        necessary_and_proportionate=True,
        lawful_basis=LawfulBasis.CONSENT,
        password=PASSWORD,
    )
    services.release_record(record_pk=record.pk, actor=hub.police_officer, **release)
    with pytest.raises(PermissionDenied, match="already been released"):
        services.release_record(record_pk=record.pk, actor=hub.police_officer, **release)
    assert AccessLogEntry.objects.filter(action="denied").count() == 5


def test_a_release_needs_reason_proportionality_and_basis(hub):
    record = hub.record("release_requested", marker="X")
    with pytest.raises(ValidationError) as error:
        services.release_record(
            record_pk=record.pk,
            actor=hub.police_officer,
            reason=" ",
            necessary_and_proportionate=False,
            lawful_basis="because",
            password=PASSWORD,
        )
    assert set(error.value.message_dict) == {
        "reason",
        "necessary_and_proportionate",
        "lawful_basis",
    }
    record.refresh_from_db()
    assert record.release_status == ReleaseStatus.REQUESTED
    assert AccessLogEntry.objects.filter(action="denied", record=record).count() == 1


def test_refusing_needs_a_reason_and_a_request(hub):
    record = hub.record("sensitive", marker="X")
    with pytest.raises(PermissionDenied, match="nothing to refuse"):
        services.refuse_release(record_pk=record.pk, actor=hub.police_officer, reason="No.")
    services.request_release(record_pk=record.pk, actor=hub.manager, reason="Risk.")
    with pytest.raises(ValidationError):
        services.refuse_release(record_pk=record.pk, actor=hub.police_officer, reason="")
    services.refuse_release(record_pk=record.pk, actor=hub.police_officer, reason="Live case.")
    assert firewall.record_for(hub.manager, record.pk).is_signpost


def test_practitioners_answer_only_their_own_agencys_requests(hub):
    with pytest.raises(PermissionDenied):
        services.record_nothing_held(request=hub.police_request, actor=hub.health_visitor)
    services.record_nothing_held(request=hub.police_request, actor=hub.police_officer)
    hub.police_request.refresh_from_db()
    assert hub.police_request.status == "nothing_held"
    assert hub.police_request.response_minutes is not None


def test_practitioners_see_only_enquiries_their_agency_was_asked_about(hub, make_user):
    record = hub.record("non_sensitive", marker="N")
    from tests.factories import AgencyFactory

    stranger = make_user("practitioner", agency=AgencyFactory(name="Housing"))
    with pytest.raises(firewall.NotVisible):
        firewall.record_for(stranger, record.pk)
    assert firewall.record_for(hub.health_visitor, record.pk).content_visible


def test_the_visible_records_query_is_one_query(hub, django_assert_num_queries):
    for n in range(5):
        hub.record("sensitive", marker=f"S{n}")
    hub.researcher.roles  # noqa: B018 - read the roles before counting
    with django_assert_num_queries(1):
        shown = firewall.shown_records(
            firewall.visible_records(hub.researcher, enquiry=hub.enquiry)
        )
    assert len(shown) == 5 and all(s.is_signpost for s in shown)


def test_re_rating_moves_open_requests_due_times_with_the_allowance(hub):
    from enquiries import services as enquiry_services

    services.record_nothing_held(request=hub.health_request, actor=hub.health_visitor)
    answered_due = InformationRequest.objects.get(pk=hub.health_request.pk).due_at
    before = hub.police_request.due_at

    enquiry = enquiry_services.enquiry_rate(
        enquiry=hub.enquiry,
        actor=hub.researcher,
        rating="red",
        rationale="Injury.",
        expected_version=hub.enquiry.version,
    )

    police = InformationRequest.objects.get(pk=hub.police_request.pk)
    assert police.due_at < before
    assert police.due_at == services.request_due_at(enquiry, percent=75)
    assert InformationRequest.objects.get(pk=hub.health_request.pk).due_at == answered_due
