"""A small hub for the firewall's tests: three agencies, one person in each role, and an
enquiry that police and health were both asked about."""

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from django.utils import timezone

from agencies.models import Agency, Role, User
from enquiries import services as enquiry_services
from enquiries.models import Enquiry, ReferrerType
from enquiries.services import PersonDetails
from sharing import revisions, services
from sharing.models import InformationRecord, InformationRequest, LawfulBasis, Sensitivity
from tests.database import made_once_for_many_tests
from tests.factories import PASSWORD, AgencyFactory, UserFactory

STATES = ("non_sensitive", "sensitive", "release_requested", "released", "refused")
# Records their agency took back after the hub had read them (sharing.revisions): a released
# record withdrawn, and a non-sensitive one corrected to sensitive.
REVISED_STATES = ("withdrawn", "corrected_to_sensitive")


@dataclass
class Hub:
    police: Agency
    health: Agency
    csc: Agency
    researcher: User
    manager: User
    police_officer: User
    health_visitor: User
    analyst: User
    auditor: User
    administrator: User
    enquiry: Enquiry
    police_request: InformationRequest
    health_request: InformationRequest

    def fresh(self) -> "Hub":
        """The same hub read again from the database, for a test that shares it with others."""
        return dataclasses.replace(self, **fresh_copies(self))

    def record(self, state: str, *, marker: str, agency: str = "police") -> InformationRecord:
        """A record of `agency` in one of STATES or REVISED_STATES, its summary and detail
        carrying `marker`."""
        owner = self.police_officer if agency == "police" else self.health_visitor
        if state in REVISED_STATES:
            return self._revised(state, marker=marker, agency=agency, owner=owner)
        request = self.police_request if agency == "police" else self.health_request
        record = services.add_information_record(
            request=request,
            actor=owner,
            person=self.enquiry.subject,
            summary=f"Summary {marker}",
            detail=f"Detail {marker}: intelligence held about the household.",
            source_system="Niche RMS" if agency == "police" else "SystmOne",
            information_date=date(2025, 10, 1),
            sensitivity=Sensitivity.NON_SENSITIVE
            if state == "non_sensitive"
            else Sensitivity.SENSITIVE,
        )
        if state in ("release_requested", "released", "refused"):
            services.request_release(
                record_pk=record.pk, actor=self.researcher, reason="Needed to assess the risk."
            )
        if state == "released":
            services.release_record(
                record_pk=record.pk,
                actor=owner,
                reason="Pertinent to the risk assessment.",
                necessary_and_proportionate=True,
                lawful_basis=LawfulBasis.CHILDREN_ACT_1989_S47,
                password=PASSWORD,
                conditions=f"Condition {marker}: not to be shared with the family.",
            )
        if state == "refused":
            services.refuse_release(record_pk=record.pk, actor=owner, reason="Live investigation.")
        record.refresh_from_db()
        return record

    def _revised(self, state: str, *, marker: str, agency: str, owner: User) -> InformationRecord:
        withdrawn = state == "withdrawn"
        record = self.record(
            "released" if withdrawn else "non_sensitive", marker=marker, agency=agency
        )
        # the hub read it (sharing.reads), so its agency must say why, and the hub is told
        InformationRecord.objects.filter(pk=record.pk).update(first_read_at=timezone.now())
        if withdrawn:
            revisions.withdraw_record(
                record_pk=record.pk,
                actor=owner,
                reason="Sent in error: it is about another family.",
                expected_version=record.version,
            )
        else:
            revisions.correct_record(
                record_pk=record.pk,
                actor=owner,
                summary=record.summary,
                detail=record.detail,
                source_system=record.source_system,
                information_date=record.information_date,
                sensitivity=Sensitivity.SENSITIVE,
                reason="It names a witness: it should have been marked sensitive.",
                expected_version=record.version,
            )
        record.refresh_from_db()
        return record


def fresh_copies(holder) -> dict:
    """Each model instance a dataclass holds, read again from the database."""
    return {
        field.name: type(value).objects.get(pk=value.pk)
        for field in dataclasses.fields(holder)
        if hasattr(value := getattr(holder, field.name), "pk")
    }


def log_child(researcher: User, first_name: str, last_name: str, *, minutes_ago: int) -> Enquiry:
    """A school's concern about one child, received `minutes_ago` minutes ago."""
    return enquiry_services.enquiry_intake(
        actor=researcher,
        received_at=timezone.now() - timedelta(minutes=minutes_ago),
        referrer_name="Ms Head",
        referrer_type=ReferrerType.objects.get(code="school"),
        subjects=[PersonDetails(first_name=first_name, last_name=last_name)],
        subject_type=Enquiry.SubjectType.CHILD,
        concern="Bruising noticed at school.",
        categories=["physical_abuse"],
        consent=Enquiry.Consent.YES,
    )[0]


def make_hub() -> Hub:
    police = AgencyFactory(name="Thames Valley Police", kind=Agency.Kind.POLICE)
    health = AgencyFactory(name="Oxford Health", kind=Agency.Kind.HEALTH)
    csc = AgencyFactory(name="Children's Social Care", kind=Agency.Kind.CHILDRENS_SOCIAL_CARE)
    researcher = UserFactory(roles=[Role.RESEARCHER], agency=csc, username="researcher")
    manager = UserFactory(roles=[Role.MANAGER], agency=csc, username="manager")
    enquiry = log_child(researcher, "Amy", "Firewall", minutes_ago=30)
    police_request, health_request = services.send_information_requests(
        enquiry=enquiry, actor=researcher, agencies=[police, health]
    )
    return Hub(
        police=police,
        health=health,
        csc=csc,
        researcher=researcher,
        manager=manager,
        police_officer=UserFactory(
            roles=[Role.PRACTITIONER], agency=police, username="police_officer"
        ),
        health_visitor=UserFactory(
            roles=[Role.PRACTITIONER], agency=health, username="health_visitor"
        ),
        analyst=UserFactory(roles=[Role.ANALYST], agency=csc, username="analyst"),
        auditor=UserFactory(roles=[Role.AUDITOR], agency=csc, username="auditor"),
        administrator=UserFactory(
            roles=[Role.ADMINISTRATOR], agency=police, username="administrator"
        ),
        enquiry=enquiry,
        police_request=police_request,
        health_request=health_request,
    )


@pytest.fixture(scope="module")
def _hub_for_the_module(request, django_db_setup, django_db_blocker) -> Iterator[Hub]:
    """Made once per module and shared: most firewall tests took longer building the hub than
    checking it. A module whose tests run at several instants makes its own (test_chasing.py)."""
    with made_once_for_many_tests(django_db_blocker, request.node.nodeid, make_hub) as hub:
        yield hub


@pytest.fixture
def hub(db, _hub_for_the_module) -> Hub:
    return _hub_for_the_module.fresh()
