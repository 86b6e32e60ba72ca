"""Enquiry services: intake, rating, moves, escalation, decision and feedback, on the clock."""

import functools
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from agencies.models import Role
from enquiries import services
from enquiries.exceptions import StaleEdit
from enquiries.models import Enquiry, EnquiryEvent, EnquiryPerson, Outcome, Person, ReferrerType
from enquiries.services import PersonDetails

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")
NOW = datetime(2026, 4, 1, 12, 0, tzinfo=LONDON)
Kind = EnquiryEvent.Kind


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=LONDON)


@pytest.fixture
def researcher(make_user):
    return make_user(Role.RESEARCHER)


@pytest.fixture
def manager(make_user):
    return make_user(Role.MANAGER)


def intake(actor, *, children=("Amy",), received_at="2026-03-27T16:00", **overrides):
    fields = {
        "actor": actor,
        "received_at": at(received_at) if isinstance(received_at, str) else received_at,
        "referrer_name": "Ms Head",
        "referrer_organisation": "Oak Primary School",
        "referrer_type": ReferrerType.objects.get(code="school"),
        "subjects": [PersonDetails(first_name=name, last_name="Smith") for name in children],
        "subject_type": Enquiry.SubjectType.CHILD,
        "concern": "Arrived at school hungry and bruised three days running.",
        "categories": ["neglect", "physical_abuse"],
        "consent": Enquiry.Consent.NO,
        "consent_reason": "Asking the parents could put the children at greater risk.",
        "lawful_basis": "children_act_1989_s47",
        "now": NOW,
    }
    fields.update(overrides)
    return services.enquiry_intake(**fields)


def kinds(enquiry: Enquiry) -> list[str]:
    return list(enquiry.events.values_list("kind", flat=True))


def test_a_family_intake_makes_one_enquiry_per_child_in_one_family(researcher):
    mother = PersonDetails(first_name="Jo", last_name="Smith")

    amy, ben = intake(
        researcher,
        children=("Amy", "Ben"),
        others=[(mother, EnquiryPerson.Role.PARENT_CARER)],
    )

    assert amy.family_id == ben.family_id
    assert (amy.reference, ben.reference) == ("MASH-2026-000001", "MASH-2026-000002")
    assert amy.family.reference == "MASH-F-2026-000001"
    roles = {(link.person.first_name, link.role) for link in amy.involvements.all()}
    assert roles == {("Amy", "subject"), ("Ben", "sibling"), ("Jo", "parent_carer")}
    assert Person.objects.filter(first_name="Jo").count() == 1
    assert kinds(amy) == [Kind.RECEIVED]
    assert amy.created_by == researcher


def test_intake_starts_the_clock_at_receipt_with_the_unrated_allowance(researcher):
    (enquiry,) = intake(researcher, received_at="2026-03-27T16:00:45")

    assert enquiry.received_at == at("2026-03-27T16:00")
    assert enquiry.rating == "none"
    assert enquiry.allowance_minutes == 1440
    # 60 minutes on Friday, then three full days (BST began on Sunday 29 March)
    assert enquiry.deadline == at("2026-04-01T16:00")
    assert enquiry.state == Enquiry.State.RECEIVED


def test_references_run_on_without_gaps_and_restart_each_year(researcher):
    intake(researcher, children=("Amy", "Ben"))
    (third,) = intake(researcher)
    (previous_year,) = intake(researcher, received_at="2025-12-31T16:00")

    assert third.reference == "MASH-2026-000003"
    assert previous_year.reference == "MASH-2025-000001"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"concern": "  "}, "concern"),
        ({"categories": []}, "categories"),
        ({"categories": ["witchcraft"]}, "categories"),
        ({"consent_reason": ""}, "consent_reason"),
        ({"consent": "maybe"}, "consent"),
        ({"received_at": at("2026-04-02T09:00")}, "received_at"),
        ({"received_at": datetime(2026, 3, 27, 16, 0)}, "received_at"),  # noqa: DTZ001
        ({"subjects": []}, "subjects"),
        ({"referrer_name": ""}, "referrer_name"),
        ({"subject_type": "cat"}, "subject_type"),
    ],
    ids=[
        "blank_concern",
        "no_category",
        "unknown_category",
        "no_reason_without_consent",
        "unknown_consent",
        "received_in_future",
        "naive_time",
        "no_subject",
        "no_referrer",
        "unknown_subject_type",
    ],
)
def test_bad_intake_names_the_field_and_saves_nothing(researcher, overrides, field):
    with pytest.raises(ValidationError) as raised:
        intake(researcher, **overrides)

    assert field in raised.value.message_dict
    assert not Enquiry.objects.exists()
    assert not Person.objects.exists()


def test_a_person_from_the_register_named_twice_is_refused(researcher):
    (earlier,) = intake(researcher)
    amy = earlier.subject

    with pytest.raises(ValidationError) as raised:
        intake(researcher, subjects=[amy], others=[(amy, EnquiryPerson.Role.PARENT_CARER)])

    assert "Amy Smith is named more than once" in raised.value.message_dict["others"][0]
    assert Enquiry.objects.count() == 1


def test_consent_given_needs_no_reason(researcher):
    (enquiry,) = intake(researcher, consent=Enquiry.Consent.YES, consent_reason="")

    assert enquiry.consent == "yes"


@pytest.mark.parametrize("role", [Role.PRACTITIONER, Role.ANALYST, Role.AUDITOR])
def test_only_researchers_and_managers_log_enquiries(make_user, role):
    with pytest.raises(PermissionDenied):
        intake(make_user(role))


def test_rating_moves_the_deadline_from_receipt_and_starts_screening(researcher):
    (enquiry,) = intake(researcher)

    rated = services.enquiry_rate(
        enquiry=enquiry,
        actor=researcher,
        rating="red",
        rationale="Visible injuries.",
        expected_version=enquiry.version,
        now=NOW,
    )

    assert rated.deadline == at("2026-03-30T12:00")
    assert (rated.allowance_minutes, rated.state, rated.version) == (240, "screening", 2)
    events = list(rated.events.values_list("kind", "from_value", "to_value", "rationale"))
    assert events == [
        (Kind.RECEIVED, "", "", ""),
        (Kind.RATING, "none", "red", "Visible injuries."),
        (Kind.STATE, "received", "screening", ""),
    ]


def test_a_rating_needs_a_rationale(researcher):
    (enquiry,) = intake(researcher)

    with pytest.raises(ValidationError) as raised:
        services.enquiry_rate(
            enquiry=enquiry, actor=researcher, rating="amber", rationale=" ", expected_version=1
        )

    assert "rationale" in raised.value.message_dict
    enquiry.refresh_from_db()
    assert enquiry.rating == "none"


def test_a_stale_edit_is_refused_and_says_what_changed(researcher, manager):
    (enquiry,) = intake(researcher)
    services.enquiry_rate(
        enquiry=enquiry, actor=manager, rating="amber", rationale="Bruising.", expected_version=1
    )

    with pytest.raises(StaleEdit) as raised:
        services.enquiry_rate(
            enquiry=enquiry,
            actor=researcher,
            rating="green",
            rationale="Seems fine.",
            expected_version=1,
        )

    assert raised.value.current_version == 2
    assert any(f"rag rating changed by {manager}" in change for change in raised.value.changes)
    assert "Nothing you entered was saved" in raised.value.messages[0]
    enquiry.refresh_from_db()
    assert enquiry.rating == "amber"


@pytest.mark.parametrize(
    ("path", "allowed"),
    [
        (["screening", "researching", "awaiting_decision"], True),
        (["screening", "awaiting_decision", "researching"], True),
        (["researching"], False),
        (["screening", "decided"], False),
        (["screening", "closed"], False),
        (["screening", "nowhere"], False),
    ],
)
def test_enquiries_move_only_along_the_process(researcher, path, allowed):
    (enquiry,) = intake(researcher)

    def walk():
        current = enquiry
        for state in path:
            current = services.enquiry_move(
                enquiry=current, actor=researcher, to_state=state, expected_version=current.version
            )
        return current

    if allowed:
        assert walk().state == path[-1]
    else:
        with pytest.raises(ValidationError) as raised:
            walk()
        assert "cannot move to" in raised.value.message_dict["to_state"][0]


def test_escalation_makes_it_red_at_once_even_after_someone_elses_edit(researcher, manager):
    (enquiry,) = intake(researcher)
    services.enquiry_rate(
        enquiry=enquiry, actor=manager, rating="green", rationale="Low risk.", expected_version=1
    )

    escalated = services.enquiry_escalate(
        enquiry=enquiry, actor=researcher, reason="Child disclosed abuse on the phone.", now=NOW
    )

    assert escalated.rating == "red"
    assert escalated.escalated_at == NOW
    assert escalated.deadline == at("2026-03-30T12:00")
    assert kinds(escalated)[-2:] == [Kind.ESCALATED, Kind.RATING]


def test_assignment_is_recorded_and_only_a_manager_takes_work_from_someone_else(
    researcher, manager, make_user
):
    (enquiry,) = intake(researcher)
    enquiry = services.enquiry_assign(
        enquiry=enquiry, actor=researcher, assignee=researcher, expected_version=1
    )
    other = make_user(Role.RESEARCHER)

    with pytest.raises(PermissionDenied):
        services.enquiry_assign(
            enquiry=enquiry, actor=other, assignee=other, expected_version=enquiry.version
        )
    enquiry = services.enquiry_assign(
        enquiry=enquiry, actor=manager, assignee=other, expected_version=enquiry.version
    )

    assert enquiry.assignee == other
    assert list(enquiry.events.filter(kind=Kind.ASSIGNEE).values_list("to_value", flat=True)) == [
        str(researcher),
        str(other),
    ]


def test_work_goes_only_to_researchers_and_managers(researcher, make_user):
    (enquiry,) = intake(researcher)

    with pytest.raises(ValidationError):
        services.enquiry_assign(
            enquiry=enquiry,
            actor=researcher,
            assignee=make_user(Role.PRACTITIONER),
            expected_version=1,
        )


def decide(enquiry, actor, **overrides):
    fields = {
        "enquiry": enquiry,
        "actor": actor,
        "outcome": Outcome.objects.get(code="nfa"),
        "rationale": "Family known to early help; no risk of significant harm.",
        "expected_version": enquiry.version,
        "now": NOW,
    }
    fields.update(overrides)
    return services.enquiry_decide(**fields)


def test_a_managers_decision_stops_the_clock_and_settles_on_time(researcher, manager):
    (enquiry,) = intake(researcher)
    enquiry = services.enquiry_rate(
        enquiry=enquiry, actor=manager, rating="red", rationale="Injuries.", expected_version=1
    )

    on_time = decide(enquiry, manager, decided_at=at("2026-03-30T12:00"))

    assert on_time.state == Enquiry.State.DECIDED
    assert (on_time.elapsed_minutes, on_time.decided_on_time) == (240, True)
    assert on_time.decided_by == manager
    assert kinds(on_time)[-1] == Kind.DECISION


def test_a_decision_a_minute_late_is_late(researcher, manager):
    (enquiry,) = intake(researcher)
    enquiry = services.enquiry_rate(
        enquiry=enquiry, actor=manager, rating="red", rationale="Injuries.", expected_version=1
    )

    late = decide(enquiry, manager, decided_at=at("2026-03-30T12:01"))

    assert (late.elapsed_minutes, late.decided_on_time) == (241, False)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"rationale": ""}, "rationale"),
        ({"decided_at": at("2026-03-27T15:59")}, "decided_at"),
        ({"decided_at": at("2026-04-01T12:01")}, "decided_at"),
    ],
    ids=["no_rationale", "before_receipt", "in_future"],
)
def test_bad_decisions_name_the_field_and_change_nothing(researcher, manager, overrides, field):
    (enquiry,) = intake(researcher)

    with pytest.raises(ValidationError) as raised:
        decide(enquiry, manager, **overrides)

    assert field in raised.value.message_dict
    enquiry.refresh_from_db()
    assert enquiry.state == Enquiry.State.RECEIVED
    assert enquiry.decided_at is None


def test_a_retired_outcome_cannot_be_chosen(researcher, manager):
    (enquiry,) = intake(researcher)
    Outcome.objects.filter(code="marac").update(is_active=False)

    with pytest.raises(ValidationError):
        decide(enquiry, manager, outcome=Outcome.objects.get(code="marac"))


def test_only_a_manager_decides(researcher):
    (enquiry,) = intake(researcher)

    with pytest.raises(PermissionDenied):
        decide(enquiry, researcher)


def test_a_decided_enquiry_no_longer_changes(researcher, manager):
    (enquiry,) = intake(researcher)
    enquiry = decide(enquiry, manager)

    with pytest.raises(ValidationError, match="can no longer change"):
        services.enquiry_rate(
            enquiry=enquiry,
            actor=manager,
            rating="red",
            rationale="Too late.",
            expected_version=enquiry.version,
        )


def test_feedback_to_the_referrer_closes_the_enquiry(researcher, manager):
    (enquiry,) = intake(researcher)
    enquiry = decide(enquiry, manager)

    closed = services.enquiry_record_feedback(
        enquiry=enquiry,
        actor=researcher,
        method="Telephone",
        text="No further action; the school will monitor and refer again if worried.",
        expected_version=enquiry.version,
        now=NOW,
    )

    assert closed.state == Enquiry.State.CLOSED
    assert closed.feedback_at == NOW
    assert kinds(closed) == [Kind.RECEIVED, Kind.DECISION, Kind.FEEDBACK]
    assert list(closed.events.values_list("version", flat=True)) == [1, 2, 3]


def test_feedback_before_the_decision_is_refused(researcher):
    (enquiry,) = intake(researcher)

    with pytest.raises(ValidationError, match="not decided"):
        services.enquiry_record_feedback(
            enquiry=enquiry, actor=researcher, method="Email", text="Hi", expected_version=1
        )


def test_the_stored_thresholds_follow_the_domains_rule_to_the_minute(researcher):
    (enquiry,) = intake(researcher, received_at="2026-03-27T13:00")

    rated = services.enquiry_rate(
        enquiry=enquiry, actor=researcher, rating="red", rationale="Injury.", expected_version=1
    )

    assert rated.deadline == at("2026-03-27T17:00")
    assert rated.at_risk_from == at("2026-03-27T16:00")  # 180 of 240 minutes: 75%
    # Nothing passes between Friday 17:00 and Monday 09:00, so it is not late until 09:01.
    assert rated.breached_from == at("2026-03-30T09:01")


@pytest.mark.parametrize(
    ("subject_type", "code", "fits"),
    [
        ("child", "adult_social_care", False),
        ("adult", "csc_assessment", False),
        ("adult", "early_help", False),
        ("child", "csc_assessment", True),
        ("adult", "adult_social_care", True),
        ("adult", "nfa", True),
    ],
)
def test_a_decision_records_only_an_outcome_that_fits_the_subject(
    researcher, manager, subject_type, code, fits
):
    enquiry = services.enquiry_intake(
        actor=researcher,
        received_at=timezone.now() - timedelta(minutes=30),
        referrer_name="PC Jones",
        referrer_type=ReferrerType.objects.get(code="police"),
        subjects=[PersonDetails(first_name="Sam", last_name="Fits")],
        subject_type=subject_type,
        concern="Concern.",
        categories=["neglect"],
        consent=Enquiry.Consent.YES,
    )[0]
    decide = functools.partial(
        services.enquiry_decide,
        enquiry=enquiry,
        actor=manager,
        outcome=Outcome.objects.get(code=code),
        rationale="Reasons.",
        expected_version=enquiry.version,
    )
    if fits:
        assert decide().outcome.code == code
        return
    with pytest.raises(ValidationError) as refused:
        decide()
    subject = "a child" if subject_type == "child" else "an adult"
    assert refused.value.message_dict["outcome"] == [
        f"{Outcome.objects.get(code=code)} is not an outcome for an enquiry about {subject}."
    ]
    enquiry.refresh_from_db()
    assert enquiry.state == Enquiry.State.RECEIVED and enquiry.decided_at is None
