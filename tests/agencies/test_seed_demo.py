from collections import Counter
from datetime import date
from io import StringIO

import pytest
from django.contrib.auth import authenticate
from django.core.management import CommandError, call_command
from django.utils import timezone

from agencies.models import Agency, Role, User
from demo.hub import DEMO_AGENCIES, DEMO_USERS
from enquiries.models import (
    Enquiry,
    EnquiryEvent,
    EscalationRepeat,
    Notification,
    OutgoingEmail,
    Rag,
    SlaEvent,
)
from sharing import selectors
from sharing.models import (
    InformationRecord,
    InformationRequest,
    ReleaseRequest,
    ReleaseStatus,
    SharingPolicy,
)
from sharing.services import usual_agencies

Kind = Notification.Kind

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("pictures_not_typeset")]


def seed(*args: str) -> str:
    out = StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


def test_it_creates_the_agencies_of_a_county_mash():
    seed()

    names = set(Agency.objects.values_list("name", flat=True))
    assert names == {name for name, *_ in DEMO_AGENCIES}
    kinds = set(Agency.objects.values_list("kind", flat=True))
    assert {"childrens_social_care", "police", "health", "education", "probation"} <= kinds
    participations = set(Agency.objects.values_list("participation", flat=True))
    assert participations == {"co_located", "part_time", "virtual"}


def test_childrens_social_care_runs_the_hub_and_occasional_partners_are_not_asked_by_default():
    seed()
    # an administrator's change is put back by the next seed
    Agency.objects.filter(name="Fire and Rescue").update(asked_by_default=True)
    seed()

    assert SharingPolicy.current().lead_agency.name == "Children's Social Care"
    occasional = set(Agency.objects.filter(asked_by_default=False).values_list("name", flat=True))
    assert occasional == {"Fire and Rescue", "Ambulance Service"}
    usual = set(usual_agencies().values_list("name", flat=True))
    assert usual.isdisjoint({"Children's Social Care", "Fire and Rescue", "Ambulance Service"})
    assert {"Police", "Community Health", "Education"} <= usual


def test_it_creates_a_login_for_every_role_across_several_agencies():
    seed()

    users = User.objects.prefetch_related("groups")
    held = {role for user in users for role in user.roles}
    assert held == set(Role.values)
    assert len({user.agency_id for user in users}) >= 3


def test_every_printed_password_signs_in():
    output = seed()

    for demo in DEMO_USERS:
        assert f"{demo.username:<11} {demo.password}" in output
        assert authenticate(username=demo.username, password=demo.password) is not None


def test_running_it_twice_creates_nothing_twice():
    seed()
    counts = (Agency.objects.count(), User.objects.count())
    User.objects.filter(username="police").update(first_name="Changed")

    output = seed()

    assert (Agency.objects.count(), User.objects.count()) == counts
    assert "0 agencies and 0 people created" in output
    assert User.objects.get(username="police").first_name == "Paul"
    assert authenticate(username="police", password="police-demo-2026") is not None


def test_it_adds_demo_enquiries_on_request():
    assert "Demo enquiries" not in seed("--enquiries", "0")

    assert "Demo enquiries: 30 created" in seed("--enquiries", "30")

    with pytest.raises(CommandError, match="0 or more"):
        seed("--enquiries", "-1")


ADULT_CONCERNS = {
    "neglect",
    "domestic_abuse",
    "other",
    "mental_health",
    "substance_misuse",
    "physical_abuse",
}
CHILDREN_ONLY = {"csc_assessment", "strategy_discussion", "early_help"}


@pytest.mark.any_instant
def test_the_demo_is_a_live_hub_at_any_hour():
    # when
    output = seed("--enquiries", "500")

    # then: open work in every state, some of it at risk or breached, as the scan recorded
    now = timezone.now()
    enquiries = Enquiry.objects.select_related("subject", "outcome")
    open_work = enquiries.filter(state__in=Enquiry.OPEN_STATES)
    in_state = Counter(open_work.values_list("state", flat=True))
    assert all(in_state[state] >= 40 for state in Enquiry.OPEN_STATES), in_state
    at_risk = set(
        open_work.filter(at_risk_from__lte=now, breached_from__gt=now).values_list("id", flat=True)
    )
    breached = set(open_work.filter(breached_from__lte=now).values_list("id", flat=True))
    assert len(at_risk) >= 5 and len(breached) >= 5
    events = set(SlaEvent.objects.values_list("enquiry_id", "kind"))
    assert events == {(pk, SlaEvent.Kind.AT_RISK) for pk in at_risk} | {
        (pk, SlaEvent.Kind.BREACHED) for pk in breached
    }
    managers = set(User.objects.filter(groups__name=Role.MANAGER).values_list("id", flat=True))
    for enquiry_id, kind, recipient, assignee in Notification.objects.exclude(
        sla_event=None
    ).values_list("enquiry_id", "kind", "recipient_id", "enquiry__assignee_id"):
        assert enquiry_id in (at_risk if kind == SlaEvent.Kind.AT_RISK else breached)
        assert recipient in managers | {assignee}

    # escalated for immediate protection, as enquiry_escalate records it; some acknowledged
    # by a manager, the rest repeated to the managers in turn, as the per-minute job does
    escalated = list(open_work.exclude(escalated_at=None).prefetch_related("events"))
    assert len(escalated) >= 2
    assert {e.escalation_acknowledged_at is None for e in escalated} == {True, False}
    for enquiry in escalated:
        assert enquiry.rating == Rag.RED
        assert enquiry.received_at <= enquiry.escalated_at <= now
        acknowledged = enquiry.escalation_acknowledged_at
        history = [(e.kind, e.at, e.to_value) for e in enquiry.events.all()]
        escalation = [
            (EnquiryEvent.Kind.ESCALATED, enquiry.escalated_at, ""),
            (EnquiryEvent.Kind.RATING, enquiry.escalated_at, Rag.RED),
        ]
        if acknowledged is None:
            assert history[-2:] == escalation
        else:
            assert enquiry.escalated_at <= acknowledged <= now
            assert enquiry.escalation_acknowledged_by.has_role(Role.MANAGER)
            assert history[-3:] == [
                *escalation,
                (EnquiryEvent.Kind.ESCALATION_ACKNOWLEDGED, acknowledged, ""),
            ]
        repeats = list(
            EscalationRepeat.objects.filter(enquiry=enquiry).values_list("sent_at", flat=True)
        )
        repeated = Notification.objects.filter(enquiry=enquiry, kind=Kind.ESCALATION_REPEATED)
        assert sorted(repeated.values_list("created_at", flat=True)) == repeats
        assert all(sent <= (acknowledged or now) for sent in repeats)
    waiting = [e for e in escalated if e.escalation_acknowledged_at is None]
    assert all(EscalationRepeat.objects.filter(enquiry=e).count() == 3 for e in waiting)

    # about one enquiry in ten is about an adult at risk, with an adult's concerns
    adults = [e for e in enquiries if e.subject_type == Enquiry.SubjectType.ADULT]
    assert 35 <= len(adults) <= 75
    for enquiry in enquiries:
        age = years_old(enquiry.subject.date_of_birth, on=enquiry.received_at.date())
        if enquiry.subject_type == Enquiry.SubjectType.ADULT:
            assert age >= 18 and set(enquiry.categories) <= ADULT_CONCERNS
        else:
            assert age < 18

    # outcomes fit the subject, decisions spread over six months, mostly on time
    decided = [e for e in enquiries if e.decided_at is not None]
    for enquiry in decided:
        if enquiry.subject_type == Enquiry.SubjectType.CHILD:
            assert enquiry.outcome.code != "adult_social_care"
        else:
            assert enquiry.outcome.code not in CHILDREN_ONLY
    assert {e.outcome.code for e in adults if e.outcome} >= {"adult_social_care"}
    assert len({(e.decided_at.year, e.decided_at.month) for e in decided}) >= 6
    on_time = sum(e.decided_on_time for e in decided)
    assert 0.6 * len(decided) <= on_time < len(decided)

    # every agency has requests waiting, some overdue and chased, and some answered
    waiting = InformationRequest.objects.filter(
        status__in=InformationRequest.OPEN_STATUSES, enquiry__state__in=Enquiry.OPEN_STATES
    )
    assert set(waiting.values_list("agency_id", flat=True)) == set(
        usual_agencies().values_list("id", flat=True)
    )
    # (the manager's agency, children's social care, runs the hub: it is never asked)
    for username in ("police", "health", "education"):
        user = User.objects.get(username=username)
        inbox = selectors.open_inbox(user)
        assert inbox.filter(enquiry__state__in=Enquiry.OPEN_STATES, chase_count__gt=0).exists()
        assert (
            selectors.inbox(user)
            .filter(enquiry__state__in=Enquiry.OPEN_STATES, answered_at__isnull=False)
            .exists()
        )
    releases = InformationRecord.objects.filter(
        release_status=ReleaseStatus.REQUESTED, enquiry__state__in=Enquiry.OPEN_STATES
    )
    assert releases.filter(agency__kind=Agency.Kind.POLICE).exists()
    assert releases.values("agency").distinct().count() >= 3

    # feedback emailed where the referrer was told by email: sent, but for a few refused
    emailed = {e.pk: e for e in enquiries.filter(feedback_method="Email")}
    feedback = OutgoingEmail.objects.filter(kind=OutgoingEmail.Kind.FEEDBACK)
    assert sorted(feedback.values_list("enquiry_id", flat=True)) == sorted(emailed)
    for email in feedback:
        enquiry = emailed[email.enquiry_id]
        assert email.to_address == enquiry.referrer_contact
        assert email.queued_at == enquiry.feedback_at
        assert email.body.startswith(enquiry.feedback_text)
        assert email.status in {OutgoingEmail.Status.SENT, OutgoingEmail.Status.FAILED}
    assert feedback.filter(status=OutgoingEmail.Status.SENT).count() > 0.9 * len(emailed)

    # everyone told as the services tell them; the demo's access log holds, so no auditor
    # is told it was tampered with
    told = Counter(Notification.objects.values_list("kind", flat=True))
    assert set(told) == set(Notification.Kind.values) - {Kind.LOG_BROKEN}
    asked = set(InformationRequest.objects.values_list("enquiry_id", "agency_id"))
    for kind, enquiry_id, recipient_agency in Notification.objects.filter(
        kind__in=[Kind.INFORMATION_REQUEST, Kind.CHASER, Kind.RELEASE_REQUEST]
    ).values_list("kind", "enquiry_id", "recipient__agency_id"):
        assert (enquiry_id, recipient_agency) in asked, kind
    requesters = set(ReleaseRequest.objects.values_list("record__enquiry_id", "requested_by_id"))
    for pair in Notification.objects.filter(kind=Kind.RELEASE_ANSWER).values_list(
        "enquiry_id", "recipient_id"
    ):
        assert pair in requesters

    # and the command says so
    assert (
        f"Open enquiries: {sum(in_state.values())} ("
        f"{in_state['received']} received, {in_state['screening']} screening" in output
    )
    assert f"{len(at_risk)} at risk, {len(breached)} breached, {len(escalated)} escalated" in output
    # the 500 asked for, and the enquiries of the police's demo referral into the hub
    assert f"Adults at risk: {len(adults)} of {len(enquiries)} enquiries." in output
    assert 500 < len(enquiries) <= 505
    assert f"{told[Kind.CHASER]} information request overdue;" in output


def years_old(born: date, *, on: date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))
