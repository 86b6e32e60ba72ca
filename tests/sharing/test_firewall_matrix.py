"""The firewall as a matrix: role x record state x action, over the pages and the API.

Each cell is generated from the tables below and checks what the response says, not only its
status: the record's summary and detail carry a marker string that must appear exactly where
the firewall lets this person read the record, and nowhere else.
"""

from datetime import timedelta

import pytest
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from audit.models import AccessLogEntry
from enquiries import services as enquiry_services
from enquiries.models import Enquiry, Outcome
from sharing.models import LawfulBasis, ReleaseStatus
from tests.factories import PASSWORD

from .conftest import REVISED_STATES, STATES

pytestmark = pytest.mark.django_db

ROLES = {
    # role in the matrix: the Hub attribute holding a person in it
    "researcher": "researcher",
    "practitioner of the owning agency": "police_officer",
    "practitioner of another agency": "health_visitor",
    "manager": "manager",
    "analyst": "analyst",
    "auditor": "auditor",
    "administrator": "administrator",
}
WORKING = {
    "researcher",
    "practitioner of the owning agency",
    "practitioner of another agency",
    "manager",
}

# Where each role reads the record's content (rules 1, 2 and 4 of docs/domain.md section 5).
READS = {
    "researcher": {"non_sensitive", "released"},
    "practitioner of the owning agency": {*STATES, *REVISED_STATES},
    "practitioner of another agency": {"non_sensitive", "released"},
    "manager": {"non_sensitive", "released"},
    "analyst": set(),
    "auditor": set(),
    "administrator": set(),
}
# Who may release or refuse, from which states (rule 2 and 3).
RELEASES = {"practitioner of the owning agency": {"sensitive", "release_requested", "refused"}}
REFUSES = {"practitioner of the owning agency": {"release_requested"}}
# Who records feedback to the referrer: nobody may quote agency information they can read in it
# (rule 5).
GIVES_FEEDBACK = {"researcher", "manager"}

READ_ACTIONS = ["see in list", "open page", "API list", "API detail", "search hit", "export"]
WRITE_ACTIONS = ["feedback text", "release", "refuse", "API release", "API refuse"]
ACTIONS = READ_ACTIONS + WRITE_ACTIONS


def expected_read(role: str, action: str, state: str) -> tuple[int, bool]:
    """(status, content shown) for a reading action."""
    if role not in WORKING:
        # Their role opens none of these pages. The API lists nothing and finds nothing.
        return {"API list": 200, "API detail": 404}.get(action, 403), False
    return 200, state in READS[role]


def expected_write(role: str, action: str, state: str) -> tuple[int, str]:
    """(status, release status afterwards) for a release or refusal."""
    kind = action.removeprefix("API ")
    allowed = RELEASES if kind == "release" else REFUSES
    start = STATE_RELEASE_STATUS[state]
    if state in allowed.get(role, set()):
        ok = 201 if action.startswith("API") else 302
        return ok, ReleaseStatus.RELEASED if kind == "release" else ReleaseStatus.REFUSED
    if role not in WORKING and action.startswith("API"):
        return 404, start
    return 403, start


STATE_RELEASE_STATUS = {
    "non_sensitive": ReleaseStatus.NOT_REQUESTED,
    "sensitive": ReleaseStatus.NOT_REQUESTED,
    "release_requested": ReleaseStatus.REQUESTED,
    "released": ReleaseStatus.RELEASED,
    "refused": ReleaseStatus.REFUSED,
}

CELLS = [(role, state, action) for role in ROLES for state in STATES for action in ACTIONS]


def marker_for(state: str) -> str:
    return f"QX{STATES.index(state)}Z7731"


def read(client, hub, record, action: str, marker: str):
    enquiry = hub.enquiry
    if action == "see in list":
        return client.get(enquiry.get_absolute_url())
    if action == "open page":
        return client.get(reverse("sharing-record", args=[record.pk]))
    if action == "API list":
        return client.get(reverse("api:information-record-list"), {"enquiry": enquiry.reference})
    if action == "API detail":
        return client.get(reverse("api:information-record-detail", args=[record.pk]))
    if action == "search hit":
        # words only the record's detail holds: the page repeats what was searched for
        return client.get(reverse("sharing-search"), {"q": "intelligence held about"})
    if action == "export":
        return client.get(reverse("enquiry-information-export", args=[enquiry.reference]))
    raise AssertionError(action)


def body(response) -> str:
    if hasattr(response, "streaming_content"):
        return b"".join(response.streaming_content).decode()
    return response.content.decode()


class Undo(Exception):
    """Raised to roll a cell's writes back, so the next role starts from the same state."""


def check_cell(client, hub, record, role: str, state: str, action: str, marker: str) -> None:
    user = getattr(hub, ROLES[role])
    client.force_login(user)
    views_before = AccessLogEntry.objects.filter(user=user, action="view").count()

    if action in READ_ACTIONS:
        status, shows = expected_read(role, action, state)
        response = read(client, hub, record, action, marker)
        assert response.status_code == status, body(response)[:300]
        assert (marker in body(response)) is shows, "content shown" if not shows else "missing"
        if shows and state != "non_sensitive":
            # every look at sensitive content is logged
            assert AccessLogEntry.objects.filter(user=user, action="view").count() > views_before
        if shows and state == "released":
            assert "not to be shared with the family" in body(response)
        return

    if action == "feedback text":
        check_feedback(client, hub, role, state, marker)
        return

    status, after = expected_write(role, action, state)
    response = write(client, record, action)
    assert response.status_code == status, body(response)[:300]
    record.refresh_from_db()
    assert record.release_status == after
    if status in (302, 201):
        kind = "release" if "release" in action else "refuse"
        assert AccessLogEntry.objects.filter(user=user, action=kind, record=record).exists()
    else:
        assert marker not in body(response) or state in READS[role]
        if role in WORKING:
            assert AccessLogEntry.objects.filter(user=user, action="denied").exists()


@pytest.mark.parametrize("action", ACTIONS)
@pytest.mark.parametrize("state", STATES)
def test_the_firewall_matrix(client, hub, state, action):
    """One record in `state`; every role tries `action` on it, each inside a savepoint that is
    rolled back, and every cell that disagrees with the tables is reported."""
    marker = marker_for(state)
    record = hub.record(state, marker=marker)
    failures = []
    for role in ROLES:
        try:
            with transaction.atomic():
                check_cell(client, hub, record, role, state, action, marker)
                raise Undo
        except Undo:
            pass
        except AssertionError as error:
            failures.append(f"{role} / {state} / {action}: {str(error).splitlines()[0][:200]}")
        record.refresh_from_db()
        hub.enquiry.refresh_from_db()
    assert not failures, "\n".join(failures)


RELEASE_FORM = {
    "necessary_and_proportionate": "on",
    "lawful_basis": LawfulBasis.CHILDREN_ACT_1989_S47,
    "reason": "Pertinent to the strategy discussion.",
    "conditions": "",
    "password": PASSWORD,
}


def write(client, record, action: str):
    if action == "release":
        return client.post(reverse("sharing-record-release", args=[record.pk]), RELEASE_FORM)
    if action == "refuse":
        return client.post(
            reverse("sharing-record-refuse", args=[record.pk]), {"reason": "Live investigation."}
        )
    if action == "API release":
        return client.post(
            reverse("api:information-record-release", args=[record.pk]),
            {**RELEASE_FORM, "necessary_and_proportionate": True},
            content_type="application/json",
        )
    if action == "API refuse":
        return client.post(
            reverse("api:information-record-refuse", args=[record.pk]),
            {"reason": "Live investigation."},
            content_type="application/json",
        )
    raise AssertionError(action)


def check_feedback(client, hub, role, state, marker):
    """Feedback leaves the hub: the form never offers agency information, and a text that
    quotes a record its writer can read is refused on its field, naming the record, and logged.
    A text that matches a record they cannot read is taken like any other: refusing it would
    tell them what the record says."""
    enquiry = enquiry_services.enquiry_decide(
        enquiry=hub.enquiry,
        actor=hub.manager,
        outcome=Outcome.objects.get(code="nfa"),
        rationale="No role for the hub.",
        expected_version=hub.enquiry.version,
        decided_at=timezone.now() - timedelta(minutes=1),
    )
    url = reverse("enquiry-feedback", args=[enquiry.reference])
    page = client.get(url)
    assert marker not in body(page)
    response = client.post(
        url,
        {
            "method": "Email",
            "email_to": "school@example.org",
            "sent_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
            "text": "Outcome: no further action. Police told us: "
            f"Detail {marker}: intelligence held about the household.",
            "expected_version": enquiry.version,
        },
    )
    enquiry.refresh_from_db()
    user = getattr(hub, ROLES[role])
    refusals = AccessLogEntry.objects.filter(user=user, action="denied", record__isnull=False)
    if role in GIVES_FEEDBACK and state in READS[role]:
        assert response.status_code == 200
        assert "feedback to the referrer gives the outcome and next steps only" in body(response)
        assert enquiry.state == Enquiry.State.DECIDED
        assert refusals.exists()
    elif role in GIVES_FEEDBACK:
        assert response.status_code == 302
        assert enquiry.state == Enquiry.State.CLOSED
        assert not refusals.exists()
    else:
        assert response.status_code == 403
        assert marker not in body(response)
        assert enquiry.state == Enquiry.State.DECIDED


@pytest.mark.parametrize("action", [*READ_ACTIONS, "feedback text"])
@pytest.mark.parametrize("state", REVISED_STATES)
def test_a_record_taken_back_is_read_by_its_agency_alone(client, hub, state, action):
    """A record withdrawn, or corrected to sensitive, after the hub read it: from then on only
    its agency reads it, on every path, and feedback may repeat it like any other text."""
    marker = f"QX{state[:4].upper()}Z7731"
    record = hub.record(state, marker=marker)
    failures = []
    for role in ROLES:
        try:
            with transaction.atomic():
                check_cell(client, hub, record, role, state, action, marker)
                raise Undo
        except Undo:
            pass
        except AssertionError as error:
            failures.append(f"{role} / {state} / {action}: {str(error).splitlines()[0][:200]}")
        record.refresh_from_db()
        hub.enquiry.refresh_from_db()
    assert not failures, "\n".join(failures)


def test_the_matrix_covers_every_cell():
    assert len(CELLS) == len(ROLES) * len(STATES) * len(ACTIONS) == 385
    assert {(state, action) for _, state, action in CELLS} == {
        (state, action) for state in STATES for action in ACTIONS
    }


def test_feedback_without_agency_information_closes_the_enquiry(client, hub):
    hub.record("released", marker="QUOTED")
    enquiry = enquiry_services.enquiry_decide(
        enquiry=hub.enquiry,
        actor=hub.manager,
        outcome=Outcome.objects.get(code="nfa"),
        rationale="No role for the hub.",
        expected_version=hub.enquiry.version,
        decided_at=timezone.now() - timedelta(minutes=1),
    )
    client.force_login(hub.manager)
    response = client.post(
        reverse("enquiry-feedback", args=[enquiry.reference]),
        {
            "method": "Email",
            "email_to": "school@example.org",
            "sent_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
            "text": "No further action by the hub; the school will keep watching.",
            "expected_version": enquiry.version,
        },
    )
    assert response.status_code == 302
    enquiry.refresh_from_db()
    assert enquiry.state == Enquiry.State.CLOSED
