import json
import os
import subprocess
import sys
from collections import Counter
from io import StringIO
from pathlib import Path

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone

from agencies.models import User
from demo.enquiries import seed_demo_enquiries
from demo.hub import seed_demo_hub
from enquiries import services
from enquiries.clock import clock_in_force
from enquiries.models import (
    Enquiry,
    EnquiryEvent,
    EnquiryPerson,
    FamilyEnquiry,
    Notification,
    Outcome,
    Person,
    ReferrerType,
    SlaEvent,
)
from enquiries.services import PersonDetails
from enquiries.sla_scan import ScanResult, record_sla_events
from tests.sqlite_template import migrated_sqlite

pytestmark = pytest.mark.django_db


@pytest.fixture
def hub():
    seed_demo_hub()


def test_it_tops_the_hub_up_to_the_number_asked_for_and_no_further(hub):
    assert seed_demo_enquiries(target=400) == 400
    assert seed_demo_enquiries(target=400) == 0
    assert seed_demo_enquiries(target=450) == 50
    assert Enquiry.objects.count() == 450


@pytest.mark.any_instant
def test_the_demo_covers_every_state_and_rating_with_families_and_repeat_subjects(hub):
    seed_demo_enquiries(target=300)
    seed_demo_enquiries(target=600)

    enquiries = Enquiry.objects.all()
    assert set(enquiries.values_list("state", flat=True)) == set(Enquiry.State.values)
    assert set(enquiries.values_list("rating", flat=True)) == {"red", "amber", "green", "none"}
    family_sizes = Counter(enquiries.values_list("family_id", flat=True))
    assert max(family_sizes.values()) > 1
    assert Person.objects.count() < Enquiry.objects.count()
    decided = enquiries.filter(decided_at__isnull=False)
    assert decided.filter(decided_on_time=True).exists()
    assert decided.filter(decided_on_time=False).exists()
    assert not decided.filter(elapsed_minutes__isnull=True).exists()


@pytest.mark.any_instant
def test_demo_history_is_consistent_with_each_enquiry(hub):
    seed_demo_enquiries(target=200)

    for enquiry in Enquiry.objects.prefetch_related("events"):
        versions = [event.version for event in enquiry.events.all()]
        assert versions == list(range(1, enquiry.version + 1))
        kinds = {event.kind for event in enquiry.events.all()}
        assert (EnquiryEvent.Kind.DECISION in kinds) == (enquiry.decided_at is not None)


def test_a_real_enquiry_after_the_demo_gets_the_next_reference(hub):
    seed_demo_enquiries(target=100)
    latest = Enquiry.objects.order_by("-received_at").first()

    (enquiry,) = services.enquiry_intake(
        actor=User.objects.get(username="researcher"),
        received_at=latest.received_at,
        referrer_name="GP",
        referrer_type=ReferrerType.objects.get(code="gp"),
        subjects=[PersonDetails(first_name="New", last_name="Child")],
        subject_type=Enquiry.SubjectType.CHILD,
        concern="Concern.",
        categories=["neglect"],
        consent=Enquiry.Consent.YES,
    )

    numbers = sorted(
        int(reference.rsplit("-", 1)[1])
        for reference in Enquiry.objects.filter(
            reference__startswith=enquiry.reference[:10]
        ).values_list("reference", flat=True)
    )
    assert numbers == list(range(1, len(numbers) + 1))


def test_the_first_demo_of_an_empty_hub_already_has_repeat_subjects(hub):
    seed_demo_enquiries(target=500)

    enquiries_per_subject = Counter(Enquiry.objects.values_list("subject_id", flat=True))
    repeats = sum(count - 1 for count in enquiries_per_subject.values())
    assert 20 <= repeats <= 80  # about one in ten
    # A repeat subject's earlier enquiry really is earlier: they came back.
    person_id = enquiries_per_subject.most_common(1)[0][0]
    first, *later = Enquiry.objects.filter(subject_id=person_id).order_by("received_at", "id")
    assert first.family_id != later[0].family_id


def test_every_enquiry_names_its_subject_once(hub):
    seed_demo_enquiries(target=300)

    links = EnquiryPerson.objects.values_list("enquiry_id", "person_id", "role")
    assert sorted(links) == sorted(
        (enquiry_id, subject_id, EnquiryPerson.Role.SUBJECT)
        for enquiry_id, subject_id in Enquiry.objects.values_list("id", "subject_id")
    )


def test_rows_made_after_the_demo_get_ids_of_their_own(hub):
    seed_demo_enquiries(target=100)
    highest = {
        model: model.objects.order_by("-id").values_list("id", flat=True).first()
        for model in (FamilyEnquiry, Person, Enquiry, EnquiryPerson, EnquiryEvent)
    }

    (enquiry,) = services.enquiry_intake(
        actor=User.objects.get(username="researcher"),
        received_at=Enquiry.objects.order_by("-received_at").first().received_at,
        referrer_name="GP",
        referrer_type=ReferrerType.objects.get(code="gp"),
        subjects=[PersonDetails(first_name="New", last_name="Child")],
        subject_type=Enquiry.SubjectType.CHILD,
        concern="Concern.",
        categories=["neglect"],
        consent=Enquiry.Consent.YES,
    )

    assert enquiry.id > highest[Enquiry]
    assert enquiry.family_id > highest[FamilyEnquiry]
    assert enquiry.subject_id > highest[Person]
    assert enquiry.involvements.get().id > highest[EnquiryPerson]
    assert enquiry.events.get().id > highest[EnquiryEvent]


def test_the_command_records_what_the_sla_scan_would_have_by_now(pictures_not_typeset):
    # given: the clock stopped, so the scan and the check below agree on the minute
    now = timezone.now().replace(second=0, microsecond=0)

    # when
    with time_machine.travel(now, tick=False):
        call_command("seed_demo", "--enquiries", "1000", stdout=StringIO())

    # then: every open enquiry past a threshold has its event (the breach alone once
    # breached), each told to someone, and a scan a moment later finds nothing new
    past_a_threshold = Enquiry.objects.filter(
        state__in=Enquiry.OPEN_STATES, at_risk_from__lte=now
    ).values_list("id", "breached_from")
    expected = {
        (enquiry_id, SlaEvent.Kind.BREACHED if breached_from <= now else SlaEvent.Kind.AT_RISK)
        for enquiry_id, breached_from in past_a_threshold
    }
    recorded = set(SlaEvent.objects.values_list("enquiry_id", "kind"))
    assert recorded == expected
    assert {kind for _, kind in recorded} == {SlaEvent.Kind.AT_RISK, SlaEvent.Kind.BREACHED}
    told = set(Notification.objects.exclude(sla_event=None).values_list("sla_event", flat=True))
    assert told == set(SlaEvent.objects.values_list("id", flat=True))
    assert record_sla_events(now=now) == ScanResult(at_risk=0, breached=0, notifications=0)


@pytest.mark.any_instant
def test_the_demo_is_exact_against_the_clock_on_postgresql(hub):
    seed_demo_enquiries(target=300)
    seed_demo_enquiries(target=400)

    assert demo_facts() == EXPECTED_FACTS


def test_the_demo_is_the_same_on_sqlite(tmp_path):
    # A fresh database, seeded by the command, run again to the same size, then topped up, at
    # this test's instant.
    root = Path(__file__).resolve().parents[2]
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "mash.settings",
        "DEBUG": "true",
        "DATABASE_URL": f"sqlite:///{migrated_sqlite(tmp_path / 'demo.sqlite3')}",
    }

    result = subprocess.run(
        [sys.executable, "-m", "tests.at_instant", "tests.demo_on_sqlite", "enquiries"],
        env=environment,
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.splitlines()[-1])
    assert report["created"] == [0, 100]
    assert 300 < report["seeded"] <= 305
    assert report["facts"] == EXPECTED_FACTS | {"enquiries": report["seeded"] + 100}


EXPECTED_FACTS = {
    "enquiries": 400,
    "ratings": ["amber", "green", "none", "red"],
    "families_of_several": True,
    "repeat_subjects": True,
    "decided_on_time_and_late": [False, True],
    "open_states": sorted(Enquiry.OPEN_STATES),
    "subject_types": ["adult", "child"],
    "outcomes_not_fitting": [],
    "escalated": True,
    "timing_mismatches": [],
    "sla_mismatches": [],
    "history_mismatches": [],
    "new_rows_collide": False,
}


def demo_facts() -> dict:
    """What must hold of the demo on any database; shared with the SQLite run above."""
    clock = clock_in_force()
    enquiries = list(
        Enquiry.objects.select_related("outcome").prefetch_related("events").order_by("id")
    )
    timing_mismatches, sla_mismatches, history_mismatches = [], [], []
    for enquiry in enquiries:
        timing = clock.timing(rating=enquiry.rating, received_at=enquiry.received_at)
        stored = (enquiry.deadline, enquiry.at_risk_from, enquiry.breached_from)
        if stored != (timing.deadline, timing.at_risk_from, timing.breached_from):
            timing_mismatches.append(enquiry.reference)
        if enquiry.decided_at is not None:
            sla = clock.sla(
                rating=enquiry.rating,
                received_at=enquiry.received_at,
                now=enquiry.decided_at,
                decided_at=enquiry.decided_at,
            )
            if (enquiry.elapsed_minutes, enquiry.decided_on_time) != (
                sla.elapsed,
                sla.remaining >= 0,
            ):
                sla_mismatches.append(enquiry.reference)
        events = list(enquiry.events.all())
        kinds = [event.kind for event in events]
        if (
            [event.version for event in events] != list(range(1, enquiry.version + 1))
            or kinds[0] != EnquiryEvent.Kind.RECEIVED
            or (EnquiryEvent.Kind.DECISION in kinds) != (enquiry.decided_at is not None)
            or (EnquiryEvent.Kind.FEEDBACK in kinds) != (enquiry.state == Enquiry.State.CLOSED)
        ):
            history_mismatches.append(enquiry.reference)
    try:
        FamilyEnquiry.objects.create(reference="after-the-demo")
        Person.objects.create(first_name="After", last_name="Demo")
        collide = False
    except Exception:  # noqa: BLE001 - any failure here is the fact being reported
        collide = True
    return {
        "enquiries": len(enquiries),
        "ratings": sorted({enquiry.rating for enquiry in enquiries}),
        "families_of_several": max(Counter(e.family_id for e in enquiries).values()) > 1,
        "repeat_subjects": len({e.subject_id for e in enquiries}) < len(enquiries),
        "decided_on_time_and_late": sorted(
            {e.decided_on_time for e in enquiries if e.decided_at is not None}
        ),
        "open_states": sorted({e.state for e in enquiries if e.is_open}),
        "subject_types": sorted({e.subject_type for e in enquiries}),
        "outcomes_not_fitting": [
            e.reference
            for e in enquiries
            if e.outcome and e.outcome.fits not in (Outcome.Fits.ANY, e.subject_type)
        ],
        "escalated": any(e.escalated_at for e in enquiries),
        "timing_mismatches": timing_mismatches,
        "sla_mismatches": sla_mismatches,
        "history_mismatches": history_mismatches,
        "new_rows_collide": collide,
    }
