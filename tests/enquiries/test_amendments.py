"""Amending an enquiry after intake (enquiries/amendments.py), and the lawful basis at intake."""

from datetime import date, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from agencies.models import Role
from enquiries import amendments, services
from enquiries.exceptions import PersonChanged, StaleEdit
from enquiries.models import (
    Enquiry,
    EnquiryEvent,
    EnquiryPerson,
    LawfulBasis,
    Outcome,
    Person,
    PersonAlias,
    ReferrerType,
)
from enquiries.services import PersonDetails
from sharing import services as sharing
from sharing.models import Sensitivity
from tests.factories import AgencyFactory

pytestmark = pytest.mark.django_db

Kind = EnquiryEvent.Kind
Part = EnquiryPerson.Role


def log(actor, *names, last_name="Smith", others=(), **fields):
    intake = {
        "actor": actor,
        "received_at": timezone.now() - timedelta(hours=2),
        "referrer_name": "PC Jones",
        "referrer_type": ReferrerType.objects.get(code="police"),
        "subjects": [PersonDetails(first_name=name, last_name=last_name) for name in names],
        "subject_type": Enquiry.SubjectType.CHILD,
        "concern": "Domestic incident attended overnight; children present.",
        "categories": ["domestic_abuse"],
        "consent": Enquiry.Consent.NOT_SOUGHT,
        "consent_reason": "Police notification.",
        "lawful_basis": LawfulBasis.CHILDREN_ACT_2004_S11,
        "others": others,
    }
    return services.enquiry_intake(**(intake | fields))


def decide(enquiry, manager):
    return services.enquiry_decide(
        enquiry=enquiry,
        actor=manager,
        outcome=Outcome.objects.get(code="nfa"),
        rationale="No role for the hub.",
        expected_version=enquiry.version,
    )


def rate(enquiry, actor):
    return services.enquiry_rate(
        enquiry=enquiry,
        actor=actor,
        rating="amber",
        rationale="Triage.",
        expected_version=enquiry.version,
    )


def history(enquiry: Enquiry) -> list[str]:
    return list(enquiry.events.order_by("version", "id").values_list("kind", flat=True))


def counts() -> tuple[int, ...]:
    """Rows an amendment could leave behind: compared before and after a refusal."""
    return (
        Enquiry.objects.count(),
        EnquiryEvent.objects.count(),
        EnquiryPerson.objects.count(),
        Person.objects.count(),
        PersonAlias.objects.count(),
    )


def unchanged(enquiry: Enquiry) -> bool:
    version = enquiry.version
    enquiry.refresh_from_db()
    return enquiry.version == version


def mother() -> PersonDetails:
    return PersonDetails(first_name="Jo", last_name="Smith")


# Correcting a person


def test_correcting_a_surname_keeps_the_before_and_after_in_the_history(researcher):
    (amy,) = log(researcher, "Amy", last_name="Smtih")
    person = amy.subject

    amendments.person_correct(
        enquiry=amy,
        person=person,
        actor=researcher,
        reason="Surname mistyped at intake.",
        expected_version=1,
        last_name="Smith",
    )

    person.refresh_from_db()
    amy.refresh_from_db()
    assert (str(person), person.version, amy.version) == ("Amy Smith", 2, 2)
    event = amy.events.get(kind=Kind.PERSON_CORRECTED)
    assert event.changes == [["Last name", "Smtih", "Smith"]]
    assert (event.rationale, event.person, event.actor, event.version) == (
        "Surname mistyped at intake.",
        person,
        researcher,
        2,
    )
    assert not PersonAlias.objects.exists()


def test_every_detail_is_said_in_words(researcher):
    (amy,) = log(researcher, "Amy")

    amendments.person_correct(
        enquiry=amy,
        person=amy.subject,
        actor=researcher,
        reason="School records.",
        expected_version=1,
        first_name=" Amy ",
        date_of_birth=date(2018, 5, 1),
        approximate_age=7,
        address="1 Mill Lane",
        nhs_number="943 476 5919",
    )

    assert amy.events.get(kind=Kind.PERSON_CORRECTED).changes == [
        ["Date of birth", "", "1 May 2018"],
        ["Approximate age", "", "7"],
        ["Address", "", "1 Mill Lane"],
        ["NHS number", "", "9434765919"],
    ]


def test_a_real_change_of_name_keeps_the_old_one_as_a_previous_name(researcher):
    (amy,) = log(researcher, "Amy")

    amendments.person_correct(
        enquiry=amy,
        person=amy.subject,
        actor=researcher,
        reason="Adopted; now known by her new family's name.",
        expected_version=1,
        last_name="Okafor",
        keep_old_name_as_previous=True,
    )

    (alias,) = PersonAlias.objects.all()
    assert (alias.person, alias.kind, str(alias)) == (
        amy.subject,
        PersonAlias.Kind.PREVIOUS_NAME,
        "Amy Smith",
    )


def test_keeping_the_old_name_needs_a_change_of_name(researcher):
    (amy,) = log(researcher, "Amy")
    before = counts()

    with pytest.raises(ValidationError) as refused:
        amendments.person_correct(
            enquiry=amy,
            person=amy.subject,
            actor=researcher,
            reason="Address found.",
            expected_version=1,
            address="1 Mill Lane",
            keep_old_name_as_previous=True,
        )

    assert "keep_old_name_as_previous" in refused.value.message_dict
    assert counts() == before and unchanged(amy)
    amy.subject.refresh_from_db()
    assert (amy.subject.address, amy.subject.version) == ("", 1)


def test_a_correction_that_changes_nothing_is_refused(researcher):
    (amy,) = log(researcher, "Amy")
    before = counts()

    with pytest.raises(ValidationError, match="Nothing has changed"):
        amendments.person_correct(
            enquiry=amy,
            person=amy.subject,
            actor=researcher,
            reason="Checking.",
            expected_version=1,
            first_name="Amy",
            last_name="Smith ",
        )

    assert counts() == before and unchanged(amy)


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"last_name": "  "}, "last_name"),
        ({"nhs_number": "9434765918"}, "nhs_number"),
        ({"date_of_birth": date(2099, 1, 1)}, "date_of_birth"),
        ({"approximate_age": 130}, "approximate_age"),
        ({"reason": " "}, "reason"),
    ],
    ids=["blank_name", "bad_check_digit", "born_in_future", "too_old", "no_reason"],
)
def test_bad_details_are_refused_on_their_field_and_nothing_is_saved(researcher, fields, field):
    (amy,) = log(researcher, "Amy")
    before = counts()
    arguments = {"reason": "Corrected.", "last_name": "Smyth"} | fields

    with pytest.raises(ValidationError) as refused:
        amendments.person_correct(
            enquiry=amy, person=amy.subject, actor=researcher, expected_version=1, **arguments
        )

    assert field in refused.value.message_dict
    assert counts() == before and unchanged(amy)
    amy.subject.refresh_from_db()
    assert amy.subject.last_name == "Smith"


def test_only_someone_named_in_the_enquiry_is_corrected_through_it(researcher):
    (amy,) = log(researcher, "Amy")
    (zed,) = log(researcher, "Zed", last_name="Ward")

    with pytest.raises(ValidationError) as refused:
        amendments.person_correct(
            enquiry=amy,
            person=zed.subject,
            actor=researcher,
            reason="Wrong page.",
            expected_version=1,
            last_name="Warde",
        )

    assert "person" in refused.value.message_dict
    zed.subject.refresh_from_db()
    assert zed.subject.last_name == "Ward"


def test_a_stale_correction_is_refused_with_what_changed(researcher, manager):
    (amy,) = log(researcher, "Amy", last_name="Smtih")
    rate(amy, manager)
    before = counts()

    with pytest.raises(StaleEdit) as refused:
        amendments.person_correct(
            enquiry=amy,
            person=amy.subject,
            actor=researcher,
            reason="Typo.",
            expected_version=1,
            last_name="Smith",
        )

    assert refused.value.current_version == 2
    assert [change.split(" at ")[0] for change in refused.value.changes] == [
        f"rag rating changed by {manager}",
        f"state changed by {manager}",
    ]
    assert counts() == before
    amy.subject.refresh_from_db()
    assert amy.subject.last_name == "Smtih"


def test_a_correction_made_meanwhile_from_another_enquiry_is_not_undone(researcher, manager):
    (first,) = log(researcher, "Amy")
    (second,) = log(researcher, subjects=[first.subject])
    amendments.person_correct(
        enquiry=first,
        person=first.subject,
        actor=manager,
        reason="Birth certificate seen.",
        expected_version=1,
        date_of_birth=date(2018, 5, 1),
        expected_person_version=1,
    )
    before = counts()

    with pytest.raises(PersonChanged) as refused:
        amendments.person_correct(
            enquiry=second,
            person=second.subject,
            actor=researcher,
            reason="Parent's account.",
            expected_version=1,
            date_of_birth=date(2018, 6, 1),
            expected_person_version=1,
        )

    assert refused.value.details()["current_person_version"] == 2
    assert refused.value.details()["current_version"] == 1
    assert refused.value.changes[0].startswith(f"details corrected on {first} by {manager}")
    assert counts() == before and unchanged(second)


def test_a_decided_enquiry_can_still_be_corrected(researcher, manager):
    (amy,) = log(researcher, "Amy")
    amy = decide(amy, manager)

    amy = amendments.person_correct(
        enquiry=amy,
        person=amy.subject,
        actor=manager,
        reason="Spelling.",
        expected_version=amy.version,
        first_name="Aimee",
    )

    assert amy.state == Enquiry.State.DECIDED
    assert history(amy)[-1] == Kind.PERSON_CORRECTED


# Adding and removing people


def test_a_person_added_joins_every_open_enquiry_of_the_family(researcher, manager):
    amy, ben, cal = log(researcher, "Amy", "Ben", "Cal")
    decide(ben, manager)
    partner = PersonDetails(first_name="Lee", last_name="Dunn", address="1 Mill Lane")

    amendments.enquiry_add_person(
        enquiry=amy,
        actor=researcher,
        person=partner,
        role=Part.HOUSEHOLD_MEMBER,
        reason="Mother's partner, living at the address.",
        expected_version=1,
    )

    lee = Person.objects.get(first_name="Lee")
    for enquiry in (amy, cal):
        enquiry.refresh_from_db()
        assert enquiry.involvements.filter(person=lee, role=Part.HOUSEHOLD_MEMBER).exists()
        assert enquiry.version == 2
        event = enquiry.events.get(kind=Kind.PERSON_ADDED)
        assert event.changes == [["Household member", "", "Lee Dunn"]]
        assert event.rationale == "Mother's partner, living at the address."
    assert not ben.involvements.filter(person=lee).exists()
    assert Kind.PERSON_ADDED not in history(ben)


def test_someone_from_the_register_may_be_added(researcher):
    (amy,) = log(researcher, "Amy")
    (earlier,) = log(researcher, "Lee", last_name="Dunn")

    amendments.enquiry_add_person(
        enquiry=amy,
        actor=researcher,
        person=earlier.subject,
        role=Part.ALLEGED_PERPETRATOR,
        reason="Named by the child.",
        expected_version=1,
    )

    assert amy.involvements.get(role=Part.ALLEGED_PERPETRATOR).person == earlier.subject
    assert Person.objects.filter(first_name="Lee").count() == 1


@pytest.mark.parametrize(
    ("role", "who", "field"),
    [
        (Part.PARENT_CARER, "mother", "person"),
        (Part.OTHER, "subject", "person"),
        (Part.SUBJECT, "new", "role"),
        (Part.SIBLING, "new", "role"),
        ("aunt", "new", "role"),
    ],
    ids=["same_part_twice", "the_subject", "as_subject", "as_sibling", "unknown_part"],
)
def test_a_person_is_not_added_twice_nor_as_a_child(researcher, role, who, field):
    (amy,) = log(researcher, "Amy", others=[(mother(), Part.PARENT_CARER)])
    person = {
        "mother": amy.involvements.get(role=Part.PARENT_CARER).person,
        "subject": amy.subject,
        "new": PersonDetails(first_name="Lee", last_name="Dunn"),
    }[who]
    before = counts()

    with pytest.raises(ValidationError) as refused:
        amendments.enquiry_add_person(
            enquiry=amy,
            actor=researcher,
            person=person,
            role=role,
            reason="Added.",
            expected_version=1,
        )

    assert field in refused.value.message_dict
    assert counts() == before and unchanged(amy)


def test_nobody_is_added_to_a_decided_enquiry(researcher, manager):
    (amy,) = log(researcher, "Amy")
    amy = decide(amy, manager)
    before = counts()

    with pytest.raises(ValidationError, match="decided"):
        amendments.enquiry_add_person(
            enquiry=amy,
            actor=researcher,
            person=mother(),
            role=Part.PARENT_CARER,
            reason="Found later.",
            expected_version=amy.version,
        )

    assert counts() == before


def test_a_stale_addition_saves_nobody(researcher, manager):
    (amy,) = log(researcher, "Amy")
    rate(amy, manager)
    before = counts()

    with pytest.raises(StaleEdit):
        amendments.enquiry_add_person(
            enquiry=amy,
            actor=researcher,
            person=mother(),
            role=Part.PARENT_CARER,
            reason="Found later.",
            expected_version=1,
        )

    assert counts() == before


def test_someone_named_in_error_comes_off_the_familys_open_enquiries(researcher, manager):
    amy, ben, cal = log(researcher, "Amy", "Ben", "Cal", others=[(mother(), Part.PARENT_CARER)])
    decide(cal, manager)
    link = amy.involvements.get(role=Part.PARENT_CARER)

    amendments.enquiry_remove_person(
        enquiry=amy,
        actor=researcher,
        involvement=link,
        reason="Not their mother: a neighbour who called the police.",
        expected_version=1,
    )

    jo = link.person
    assert not EnquiryPerson.objects.filter(enquiry__in=[amy, ben], person=jo).exists()
    assert cal.involvements.filter(person=jo).exists()  # decided: as it was decided
    for enquiry in (amy, ben):
        event = enquiry.events.get(kind=Kind.PERSON_REMOVED)
        assert event.changes == [["Parent or carer", "Jo Smith", ""]]
        assert event.version == 2
    assert Person.objects.filter(pk=jo.pk).exists()


@pytest.mark.parametrize("role", [Part.SUBJECT, Part.SIBLING])
def test_a_child_of_the_family_is_never_removed(researcher, role):
    amy, _ben = log(researcher, "Amy", "Ben")
    before = counts()

    with pytest.raises(ValidationError) as refused:
        amendments.enquiry_remove_person(
            enquiry=amy,
            actor=researcher,
            involvement=amy.involvements.get(role=role),
            reason="Error.",
            expected_version=1,
        )

    assert "involvement" in refused.value.message_dict
    assert counts() == before and unchanged(amy)


def test_a_person_an_agency_recorded_information_about_stays(researcher, make_user):
    (amy,) = log(researcher, "Amy", others=[(mother(), Part.PARENT_CARER)])
    police = AgencyFactory(name="Police", kind="police")
    (request,) = sharing.send_information_requests(
        enquiry=amy, actor=researcher, agencies=[police], people=[amy.subject]
    )
    link = amy.involvements.get(role=Part.PARENT_CARER)
    sharing.add_information_record(
        request=request,
        actor=make_user(Role.PRACTITIONER, agency=police),
        person=link.person,
        summary="Known to police.",
        detail="Two call-outs to the address last year.",
        source_system="Niche RMS",
        information_date=date(2025, 10, 1),
        sensitivity=Sensitivity.NON_SENSITIVE,
    )
    amy.refresh_from_db()
    before = counts()

    with pytest.raises(ValidationError, match="An agency has recorded information about Jo"):
        amendments.enquiry_remove_person(
            enquiry=amy,
            actor=researcher,
            involvement=link,
            reason="Named in error.",
            expected_version=amy.version,
        )

    assert counts() == before and unchanged(amy)


def test_a_person_an_information_request_asks_about_stays(researcher):
    (amy,) = log(researcher, "Amy", others=[(mother(), Part.PARENT_CARER)])
    sharing.send_information_requests(
        enquiry=amy, actor=researcher, agencies=[AgencyFactory(name="Health", kind="health")]
    )
    amy.refresh_from_db()

    with pytest.raises(ValidationError, match="An information request on this enquiry asks"):
        amendments.enquiry_remove_person(
            enquiry=amy,
            actor=researcher,
            involvement=amy.involvements.get(role=Part.PARENT_CARER),
            reason="Named in error.",
            expected_version=amy.version,
        )


# Adding a child to a family


def test_a_child_found_later_gets_an_enquiry_of_their_own_in_the_family(researcher, manager):
    partner = (PersonDetails(first_name="Lee", last_name="Dunn"), Part.HOUSEHOLD_MEMBER)
    amy, ben, cal = log(
        researcher, "Amy", "Ben", "Cal", others=[(mother(), "parent_carer"), partner]
    )
    decide(cal, manager)

    dee = amendments.family_add_child(
        enquiry=amy,
        actor=researcher,
        child=PersonDetails(first_name="Dee", last_name="Smith", approximate_age=2),
        reason="A toddler at the address, found at the home visit.",
        expected_version=1,
    )

    assert dee.reference == "MASH-2026-000004"
    assert (dee.family_id, dee.received_at, dee.state, dee.rating) == (
        amy.family_id,
        amy.received_at,
        Enquiry.State.RECEIVED,
        "none",
    )
    assert (dee.referrer_name, dee.concern, dee.categories, dee.lawful_basis) == (
        amy.referrer_name,
        amy.concern,
        amy.categories,
        amy.lawful_basis,
    )
    assert dee.deadline == amy.deadline  # the same clock, from the same receipt
    parts = {(link.person.first_name, link.role) for link in dee.involvements.all()}
    assert parts == {
        ("Dee", Part.SUBJECT),
        ("Amy", Part.SIBLING),
        ("Ben", Part.SIBLING),
        ("Cal", Part.SIBLING),
        ("Jo", Part.PARENT_CARER),
        ("Lee", Part.HOUSEHOLD_MEMBER),
    }
    assert history(dee) == [Kind.RECEIVED, Kind.CHILD_ADDED]
    for sibling in (amy, ben):
        sibling.refresh_from_db()
        assert sibling.involvements.filter(person=dee.subject, role=Part.SIBLING).exists()
        assert sibling.version == 2
        assert sibling.events.get(kind=Kind.CHILD_ADDED).changes == [["Sibling", "", "Dee Smith"]]
    assert not cal.involvements.filter(person=dee.subject).exists()


def test_a_child_may_be_added_from_a_decided_enquiry_of_a_family_still_open(researcher, manager):
    amy, ben = log(researcher, "Amy", "Ben")
    amy = decide(amy, manager)

    dee = amendments.family_add_child(
        enquiry=amy,
        actor=researcher,
        child=PersonDetails(first_name="Dee", last_name="Smith"),
        reason="Found later.",
        expected_version=amy.version,
    )

    assert ben.involvements.filter(person=dee.subject, role=Part.SIBLING).exists()
    assert unchanged(amy)


def test_a_family_whose_enquiries_are_all_decided_takes_no_child(researcher, manager):
    (amy,) = log(researcher, "Amy")
    amy = decide(amy, manager)
    before = counts()

    with pytest.raises(ValidationError, match="Every enquiry in this family has been decided"):
        amendments.family_add_child(
            enquiry=amy,
            actor=researcher,
            child=PersonDetails(first_name="Dee", last_name="Smith"),
            reason="Found later.",
            expected_version=amy.version,
        )

    assert counts() == before


def test_a_child_already_named_in_the_family_is_refused(researcher):
    (amy,) = log(researcher, "Amy", others=[(mother(), Part.PARENT_CARER)])
    before = counts()

    with pytest.raises(ValidationError) as refused:
        amendments.family_add_child(
            enquiry=amy,
            actor=researcher,
            child=amy.involvements.get(role=Part.PARENT_CARER).person,
            reason="Found later.",
            expected_version=1,
        )

    assert "child" in refused.value.message_dict
    assert counts() == before


def test_a_stale_child_is_not_added(researcher, manager):
    (amy,) = log(researcher, "Amy")
    rate(amy, manager)
    before = counts()

    with pytest.raises(StaleEdit):
        amendments.family_add_child(
            enquiry=amy,
            actor=researcher,
            child=PersonDetails(first_name="Dee", last_name="Smith"),
            reason="Found later.",
            expected_version=1,
        )

    assert counts() == before


# Correcting the referral


def test_correcting_the_referral_records_each_change_in_words(researcher):
    (amy,) = log(researcher, "Amy")

    amy = amendments.referral_correct(
        enquiry=amy,
        actor=researcher,
        reason="The officer rang back with the right details.",
        expected_version=1,
        referrer_name="PC Jonas",
        referrer_contact="101 ext 4455",
        categories=["domestic_abuse", "neglect"],
        consent=Enquiry.Consent.NO,
        consent_reason="Mother refused; the risk is too high to stop.",
        lawful_basis=LawfulBasis.CHILDREN_ACT_1989_S47,
    )

    amy.refresh_from_db()
    assert (amy.referrer_name, amy.consent, amy.lawful_basis, amy.version) == (
        "PC Jonas",
        "no",
        "children_act_1989_s47",
        2,
    )
    event = amy.events.get(kind=Kind.REFERRAL_CORRECTED)
    assert event.rationale == "The officer rang back with the right details."
    assert event.changes == [
        ["Referrer's name", "PC Jones", "PC Jonas"],
        ["Contact for feedback", "", "101 ext 4455"],
        ["Categories of concern", "Domestic abuse", "Domestic abuse, Neglect"],
        ["Consent to share", "Not sought", "No"],
        [
            "Why the hub proceeds without consent",
            "Police notification.",
            "Mother refused; the risk is too high to stop.",
        ],
        [
            "Lawful basis for sharing without consent",
            LawfulBasis.CHILDREN_ACT_2004_S11.label,
            LawfulBasis.CHILDREN_ACT_1989_S47.label,
        ],
    ]


def test_consent_found_later_drops_the_lawful_basis(researcher):
    (amy,) = log(researcher, "Amy")

    amendments.referral_correct(
        enquiry=amy,
        actor=researcher,
        reason="Mother gave consent on the phone this morning.",
        expected_version=1,
        consent=Enquiry.Consent.YES,
    )

    amy.refresh_from_db()
    assert (amy.consent, amy.lawful_basis) == ("yes", "")


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"concern": " "}, "concern"),
        ({"referrer_name": ""}, "referrer_name"),
        ({"categories": []}, "categories"),
        ({"categories": ["witchcraft"]}, "categories"),
        ({"consent": "maybe"}, "consent"),
        ({"consent": "no", "consent_reason": ""}, "consent_reason"),
        ({"consent": "no", "lawful_basis": ""}, "lawful_basis"),
        ({"lawful_basis": "because"}, "lawful_basis"),
        ({"concern": "Corrected.", "reason": ""}, "reason"),
    ],
    ids=[
        "blank_concern",
        "no_referrer",
        "no_category",
        "unknown_category",
        "unknown_consent",
        "no_reason_without_consent",
        "no_lawful_basis_without_consent",
        "unknown_lawful_basis",
        "no_reason_for_the_correction",
    ],
)
def test_a_corrected_referral_must_pass_intakes_rules(researcher, fields, field):
    (amy,) = log(researcher, "Amy")
    before = counts()

    with pytest.raises(ValidationError) as refused:
        amendments.referral_correct(
            enquiry=amy,
            actor=researcher,
            expected_version=1,
            **({"reason": "Corrected."} | fields),
        )

    assert field in refused.value.message_dict
    assert counts() == before and unchanged(amy)


def test_a_retired_referrer_type_is_refused_unless_the_enquiry_already_names_it(researcher):
    (amy,) = log(researcher, "Amy")
    ReferrerType.objects.filter(code__in=["police", "school"]).update(is_active=False)
    police, school = (
        ReferrerType.objects.get(code="police"),
        ReferrerType.objects.get(code="school"),
    )

    with pytest.raises(ValidationError) as refused:
        amendments.referral_correct(
            enquiry=amy, actor=researcher, reason="x", expected_version=1, referrer_type=school
        )
    amendments.referral_correct(
        enquiry=amy,
        actor=researcher,
        reason="Officer's name.",
        expected_version=1,
        referrer_type=police,
        referrer_name="PC Jonas",
    )

    assert "referrer_type" in refused.value.message_dict
    amy.refresh_from_db()
    assert (amy.referrer_type, amy.referrer_name) == (police, "PC Jonas")


def test_a_referral_correction_that_changes_nothing_is_refused(researcher):
    (amy,) = log(researcher, "Amy")

    with pytest.raises(ValidationError, match="Nothing has changed"):
        amendments.referral_correct(
            enquiry=amy,
            actor=researcher,
            reason="Checking.",
            expected_version=1,
            referrer_name=" PC Jones ",
            categories=["domestic_abuse", "domestic_abuse"],
        )

    assert unchanged(amy)


def test_a_closed_enquirys_referral_can_be_corrected(researcher, manager):
    (amy,) = log(researcher, "Amy")
    amy = decide(amy, manager)
    amy = services.enquiry_record_feedback(
        enquiry=amy, actor=researcher, method="Telephone", text="NFA.", expected_version=2
    )

    amy = amendments.referral_correct(
        enquiry=amy,
        actor=manager,
        reason="Organisation missing.",
        expected_version=amy.version,
        referrer_organisation="Thames Valley Police",
    )

    assert (amy.state, amy.referrer_organisation) == ("closed", "Thames Valley Police")


def test_a_stale_referral_correction_is_refused(researcher, manager):
    (amy,) = log(researcher, "Amy")
    rate(amy, manager)

    with pytest.raises(StaleEdit) as refused:
        amendments.referral_correct(
            enquiry=amy, actor=researcher, reason="x", expected_version=1, concern="Corrected."
        )

    assert refused.value.current_version == 2
    amy.refresh_from_db()
    assert amy.concern.startswith("Domestic incident")


# Who may amend


def amend_with(name: str, enquiry: Enquiry, actor):
    link = enquiry.involvements.get(role=Part.PARENT_CARER)
    common = {"enquiry": enquiry, "actor": actor, "reason": "x", "expected_version": 1}
    return {
        "person_correct": lambda: amendments.person_correct(
            person=enquiry.subject, last_name="Smyth", **common
        ),
        "enquiry_add_person": lambda: amendments.enquiry_add_person(
            person=PersonDetails(first_name="Lee", last_name="Dunn"), role="other", **common
        ),
        "enquiry_remove_person": lambda: amendments.enquiry_remove_person(
            involvement=link, **common
        ),
        "family_add_child": lambda: amendments.family_add_child(
            child=PersonDetails(first_name="Dee", last_name="Smith"), **common
        ),
        "referral_correct": lambda: amendments.referral_correct(concern="Corrected.", **common),
    }[name]


AMENDMENTS = [
    "person_correct",
    "enquiry_add_person",
    "enquiry_remove_person",
    "family_add_child",
    "referral_correct",
]


@pytest.mark.parametrize("amendment", AMENDMENTS)
@pytest.mark.parametrize(
    "role", [Role.PRACTITIONER, Role.ANALYST, Role.AUDITOR, Role.ADMINISTRATOR]
)
def test_only_researchers_and_managers_amend(researcher, make_user, amendment, role):
    (amy,) = log(researcher, "Amy", others=[(mother(), Part.PARENT_CARER)])
    before = counts()

    with pytest.raises(PermissionDenied):
        amend_with(amendment, amy, make_user(role))()

    assert counts() == before and unchanged(amy)


@pytest.mark.parametrize("amendment", AMENDMENTS)
@pytest.mark.parametrize("role", [Role.RESEARCHER, Role.MANAGER])
def test_researchers_and_managers_may_make_each_amendment(researcher, make_user, amendment, role):
    (amy,) = log(researcher, "Amy", others=[(mother(), Part.PARENT_CARER)])

    amend_with(amendment, amy, make_user(role))()

    amy.refresh_from_db()
    assert amy.version == 2


def test_the_enquiry_page_offers_only_what_the_services_allow(researcher, manager, make_user):
    amy, ben = log(researcher, "Amy", "Ben")
    amy = decide(amy, manager)
    amy = Enquiry.objects.prefetch_related("family__enquiries").get(pk=amy.pk)

    assert amendments.amendments_for(researcher, amy) == amendments.Amendments(
        correct=True, add_person=False, add_child=True
    )
    assert amendments.amendments_for(make_user(Role.PRACTITIONER), amy) is None
    decide(ben, manager)
    amy = Enquiry.objects.prefetch_related("family__enquiries").get(pk=amy.pk)
    assert amendments.amendments_for(manager, amy).add_child is False


# The lawful basis at intake


def test_intake_without_consent_needs_a_lawful_basis(researcher):
    with pytest.raises(ValidationError) as refused:
        log(researcher, "Amy", lawful_basis="")

    assert refused.value.message_dict["lawful_basis"] == [
        "Choose the lawful basis for sharing without consent."
    ]
    assert not Enquiry.objects.exists()


def test_intake_refuses_a_lawful_basis_it_does_not_know(researcher):
    with pytest.raises(ValidationError) as refused:
        log(researcher, "Amy", lawful_basis="because")

    assert "lawful_basis" in refused.value.message_dict


def test_intake_without_consent_records_the_lawful_basis(researcher):
    (amy,) = log(researcher, "Amy", consent="no", lawful_basis=LawfulBasis.CHILDREN_ACT_1989_S47)

    assert amy.lawful_basis == "children_act_1989_s47"


def test_with_consent_no_lawful_basis_is_recorded(researcher):
    (amy,) = log(
        researcher,
        "Amy",
        consent=Enquiry.Consent.YES,
        consent_reason="",
        lawful_basis=LawfulBasis.CHILDREN_ACT_1989_S47,
    )

    amy.refresh_from_db()
    assert amy.lawful_basis == ""
