"""A hub with something to act on for every form and API write that takes free text, and the
table of those writes (issue 8, item 7).

`WRITES` names every free-text field of every page form and API input with its limit: the
tests send each one too much, and each control character, and expect a message on that
field, the page or request refused, and nothing saved. `FILTERS` does the same for the
filters read from the query string."""

import dataclasses
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from core.text import TEXT_LIMIT
from enquiries import services as enquiry_services
from enquiries.models import (
    Enquiry,
    EnquiryEvent,
    FamilyEnquiry,
    IntakeKey,
    Notification,
    Outcome,
    Person,
    ReferrerType,
)
from sharing.models import (
    InformationRecord,
    InformationRequest,
    ReleaseDecision,
    ReleaseRequest,
)
from tests.database import made_once_for_many_tests
from tests.factories import PASSWORD
from tests.sharing.conftest import Hub, fresh_copies, log_child, make_hub


@dataclass
class Stage:
    """The hub, and one of each thing a write acts on."""

    hub: Hub
    to_request: InformationRecord  # sensitive, nobody has asked for it yet
    requested: InformationRecord  # sensitive, release requested: to release or refuse
    decided: Enquiry  # decided, awaiting feedback

    def __getattr__(self, name):
        return getattr(self.hub, name)

    def fresh(self) -> "Stage":
        return dataclasses.replace(self, hub=self.hub.fresh(), **fresh_copies(self))


def make_stage() -> Stage:
    hub = make_hub()
    decided = log_child(hub.researcher, "Dee", "Cided", minutes_ago=20)
    enquiry_services.enquiry_decide(
        enquiry=decided,
        actor=hub.manager,
        outcome=Outcome.objects.get(code="nfa"),
        rationale="Returned home; known to early help.",
        expected_version=decided.version,
    )
    decided.refresh_from_db()
    return Stage(
        hub=hub,
        to_request=hub.record("sensitive", marker="ASK"),
        requested=hub.record("release_requested", marker="DECIDE"),
        decided=decided,
    )


@pytest.fixture(scope="module")
def _stage_for_the_module(request, django_db_setup, django_db_blocker) -> Iterator[Stage]:
    """Made once per module: building the hub took longer than most of these tests."""
    with made_once_for_many_tests(django_db_blocker, request.node.nodeid, make_stage) as stage:
        yield stage


@pytest.fixture
def stage(db, _stage_for_the_module) -> Stage:
    return _stage_for_the_module.fresh()


def snapshot() -> dict:
    """Everything a write could change, but the access log, where refusals are recorded."""
    counted = [
        Enquiry,
        EnquiryEvent,
        FamilyEnquiry,
        Person,
        IntakeKey,
        Notification,
        InformationRequest,
        InformationRecord,
        ReleaseRequest,
        ReleaseDecision,
    ]
    versioned = [Enquiry, InformationRequest, InformationRecord]
    # One query rather than thirteen, as most tests here take two snapshots (the models have
    # plain managers, so counting their tables counts what `objects` would).
    tables = [connection.ops.quote_name(model._meta.db_table) for model in counted + versioned]
    # Table names from the models, quoted: nothing from outside.
    columns = [f"(SELECT count(*) FROM {table})" for table in tables[: len(counted)]]  # noqa: S608
    columns += [f"(SELECT sum(version) FROM {table})" for table in tables[len(counted) :]]  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {', '.join(columns)}")
        row = cursor.fetchone()
    state = {model.__name__: value for model, value in zip(counted, row, strict=False)}
    for model, total in zip(versioned, row[len(counted) :], strict=True):
        state[f"{model.__name__} versions"] = {"version__sum": total}
    return state


@dataclass(frozen=True)
class Write:
    """A form or API write: who sends it, where, a valid body, and its free-text fields with
    their limits. API field names may be paths into the body ("subjects.0.first_name")."""

    name: str
    persona: str
    api: bool
    url: Callable[[Stage], str]
    body: Callable[[Stage], dict]
    fields: dict[str, int]


def _received() -> str:
    return (timezone.localtime() - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")


def intake_form(stage: Stage) -> dict:
    return {
        "received_at": _received(),
        "referrer_name": "Ms Head",
        "referrer_organisation": "Oak Primary School",
        "referrer_type": ReferrerType.objects.get(code="school").pk,
        "referrer_contact": "01234 567890",
        "subject_type": "child",
        "categories": ["neglect"],
        "concern": "Arrives hungry most days.",
        "consent": "no",
        "consent_reason": "Mother would move the children away.",
        "lawful_basis": "children_act_1989_s47",
        "subjects-TOTAL_FORMS": "1",
        "subjects-INITIAL_FORMS": "0",
        "subjects-0-first_name": "Kit",
        "subjects-0-last_name": "Quillon",
        "subjects-0-address": "1 Mill Lane",
        "subjects-0-nhs_number": "",
        "others-TOTAL_FORMS": "1",
        "others-INITIAL_FORMS": "0",
        "others-0-role": "parent_carer",
        "others-0-first_name": "Jo",
        "others-0-last_name": "Quillon",
        "others-0-address": "1 Mill Lane",
    }


def intake_json(stage: Stage) -> dict:
    return {
        "received_at": timezone.now().replace(microsecond=0).isoformat(),
        "referrer_name": "Ms Head",
        "referrer_organisation": "Oak Primary School",
        "referrer_type": "school",
        "referrer_contact": "01234 567890",
        "subject_type": "child",
        "subjects": [
            {"first_name": "Kit", "last_name": "Quillon", "address": "1 Mill Lane"}
            | {"nhs_number": "", "confirmed_new": True}
        ],
        "others": [
            {"first_name": "Jo", "last_name": "Quillon", "address": "1 Mill Lane"}
            | {"role": "parent_carer", "confirmed_new": True}
        ],
        "concern": "Arrives hungry most days.",
        "categories": ["neglect"],
        "consent": "no",
        "consent_reason": "Mother would move the children away.",
        "lawful_basis": "children_act_1989_s47",
    }


def _enquiry_url(name: str, *, api: bool = False, decided: bool = False):
    def url(stage: Stage) -> str:
        enquiry = stage.decided if decided else stage.enquiry
        view = f"api:enquiry-{name}" if api else f"enquiry-{name}"
        return reverse(view, args=[enquiry.reference])

    return url


def _versioned(decided: bool = False, **fields):
    def body(stage: Stage) -> dict:
        enquiry = stage.decided if decided else stage.enquiry
        return {"expected_version": enquiry.version, **fields}

    return body


def _decision(*, api: bool):
    def body(stage: Stage) -> dict:
        outcome = Outcome.objects.get(code="nfa")
        return {
            "expected_version": stage.enquiry.version,
            "rationale": "Known to early help.",
            "outcome": outcome.code if api else outcome.pk,
        }

    return body


def _record_url(name: str, record: str, *, api: bool = False):
    def url(stage: Stage) -> str:
        pk = getattr(stage, record).pk
        view = f"api:information-record-{name}" if api else f"sharing-record-{name}"
        return reverse(view, args=[pk])

    return url


def _send_requests(stage: Stage) -> dict:
    return {
        "agencies": [stage.csc.pk],
        "question": "What do you hold?",
        "people": [stage.enquiry.subject_id],
    }


def _new_record(stage: Stage) -> dict:
    return {
        "person": stage.enquiry.subject_id,
        "summary": "Domestic incident, June",
        "detail": "Police attended the family home.",
        "source_system": "Niche RMS",
        "information_date": "2025-06-14",
        "sensitivity": "non_sensitive",
    }


def _release(*, api: bool):
    def body(stage: Stage) -> dict:
        return {
            "reason": "Pertinent to the risk.",
            "necessary_and_proportionate": True if api else "on",
            "lawful_basis": "children_act_1989_s47",
            "conditions": "Not to be shared with the family.",
            "password": PASSWORD,
        }

    return body


PERSON_FIELDS = {"first_name": 100, "last_name": 100, "address": 500, "nhs_number": 12}
REFERRAL_FIELDS = {
    "referrer_name": 200,
    "referrer_organisation": 200,
    "referrer_contact": 200,
    "concern": TEXT_LIMIT,
    "consent_reason": TEXT_LIMIT,
}

WRITES = [
    Write(
        "intake page",
        "researcher",
        False,
        lambda stage: reverse("enquiry-intake"),
        intake_form,
        REFERRAL_FIELDS
        | {f"subjects-0-{name}": limit for name, limit in PERSON_FIELDS.items()}
        | {f"others-0-{name}": limit for name, limit in PERSON_FIELDS.items()},
    ),
    Write(
        "intake API",
        "researcher",
        True,
        lambda stage: reverse("api:enquiry-list"),
        intake_json,
        REFERRAL_FIELDS
        | {f"subjects.0.{name}": limit for name, limit in PERSON_FIELDS.items()}
        | {f"others.0.{name}": limit for name, limit in PERSON_FIELDS.items()},
    ),
    Write(
        "rate page",
        "researcher",
        False,
        _enquiry_url("rate"),
        _versioned(rating="amber", rationale="Triage."),
        {"rationale": TEXT_LIMIT},
    ),
    Write(
        "rate API",
        "researcher",
        True,
        _enquiry_url("rate", api=True),
        _versioned(rating="amber", rationale="Triage."),
        {"rationale": TEXT_LIMIT},
    ),
    Write(
        "escalate page",
        "researcher",
        False,
        _enquiry_url("escalate"),
        _versioned(reason="Injury seen today."),
        {"reason": TEXT_LIMIT},
    ),
    Write(
        "escalate API",
        "researcher",
        True,
        _enquiry_url("escalate", api=True),
        lambda stage: {"reason": "Injury seen today."},
        {"reason": TEXT_LIMIT},
    ),
    Write(
        "decide page",
        "manager",
        False,
        _enquiry_url("decide"),
        _decision(api=False),
        {"rationale": TEXT_LIMIT},
    ),
    Write(
        "decide API",
        "manager",
        True,
        _enquiry_url("decide", api=True),
        _decision(api=True),
        {"rationale": TEXT_LIMIT},
    ),
    Write(
        "feedback page",
        "researcher",
        False,
        _enquiry_url("feedback", decided=True),
        _versioned(decided=True, method="Telephone", text="Told of the outcome."),
        {"text": TEXT_LIMIT},
    ),
    Write(
        "feedback API",
        "researcher",
        True,
        _enquiry_url("feedback", api=True, decided=True),
        _versioned(decided=True, method="Telephone", text="Told of the outcome."),
        {"method": 100, "text": TEXT_LIMIT},
    ),
    Write(
        "information request page",
        "researcher",
        False,
        _enquiry_url("send-requests"),
        # the confirming post: the first one only shows what would be sent
        lambda stage: _send_requests(stage) | {"confirmed": "1"},
        {"question": 4000},
    ),
    Write(
        "information request API",
        "researcher",
        True,
        lambda stage: reverse("api:information-request-list"),
        lambda stage: _send_requests(stage) | {"enquiry": stage.enquiry.reference},
        {"question": 4000},
    ),
    Write(
        "record page",
        "police_officer",
        False,
        lambda stage: reverse("sharing-request-add-record", args=[stage.police_request.pk]),
        _new_record,
        {"summary": 200, "detail": TEXT_LIMIT, "source_system": 100},
    ),
    Write(
        "record API",
        "police_officer",
        True,
        lambda stage: reverse("api:information-request-records", args=[stage.police_request.pk]),
        _new_record,
        {"summary": 200, "detail": TEXT_LIMIT, "source_system": 100},
    ),
    Write(
        "release request page",
        "researcher",
        False,
        _record_url("request-release", "to_request"),
        lambda stage: {"reason": "Needed for the risk assessment."},
        {"reason": TEXT_LIMIT},
    ),
    Write(
        "release request API",
        "researcher",
        True,
        _record_url("release-request", "to_request", api=True),
        lambda stage: {"reason": "Needed for the risk assessment."},
        {"reason": TEXT_LIMIT},
    ),
    Write(
        "release page",
        "police_officer",
        False,
        _record_url("release", "requested"),
        _release(api=False),
        {"reason": TEXT_LIMIT, "conditions": TEXT_LIMIT},
    ),
    Write(
        "release API",
        "police_officer",
        True,
        _record_url("release", "requested", api=True),
        _release(api=True),
        {"reason": TEXT_LIMIT, "conditions": TEXT_LIMIT},
    ),
    Write(
        "refusal page",
        "police_officer",
        False,
        _record_url("refuse", "requested"),
        lambda stage: {"reason": "A live investigation."},
        {"reason": TEXT_LIMIT},
    ),
    Write(
        "refusal API",
        "police_officer",
        True,
        _record_url("refuse", "requested", api=True),
        lambda stage: {"reason": "A live investigation."},
        {"reason": TEXT_LIMIT},
    ),
]


def _subject_url(name: str, *, api: bool = False):
    def url(stage: Stage) -> str:
        view = f"api:enquiry-{name}" if api else f"enquiry-{name}"
        return reverse(view, args=[stage.enquiry.reference, stage.enquiry.subject_id])

    return url


def _person_correction(stage: Stage) -> dict:
    subject = stage.enquiry.subject
    return {
        "first_name": subject.first_name,
        "last_name": subject.last_name,
        "address": "2 Mill Lane",
        "nhs_number": "",
        "expected_version": stage.enquiry.version,
        "expected_person_version": subject.version,
        "reason": "Address from the school.",
    }


def _referral_correction(*, api: bool):
    def body(stage: Stage) -> dict:
        enquiry = stage.enquiry
        return {
            "referrer_name": enquiry.referrer_name,
            "referrer_organisation": enquiry.referrer_organisation,
            "referrer_type": enquiry.referrer_type.code if api else enquiry.referrer_type_id,
            "referrer_contact": "01234 567890",
            "categories": enquiry.categories,
            "concern": enquiry.concern,
            "consent": enquiry.consent,
            "consent_reason": enquiry.consent_reason,
            "expected_version": enquiry.version,
            "reason": "The school's number.",
        }

    return body


def _new_person(*, child: bool, api: bool):
    def body(stage: Stage) -> dict:
        person = {"first_name": "Lee", "last_name": "Dunn", "address": "", "nhs_number": ""}
        if api:
            return {
                "child" if child else "person": person | {"confirmed_new": True},
                **({} if child else {"role": "household_member"}),
                "expected_version": stage.enquiry.version,
                "reason": "Found at the home visit.",
            }
        return person | {
            **({} if child else {"role": "household_member"}),
            "expected_version": stage.enquiry.version,
            "reason": "Found at the home visit.",
        }

    return body


AMENDMENT_WRITES = [
    Write(
        "correct person page",
        "researcher",
        False,
        _subject_url("person-correct"),
        _person_correction,
        PERSON_FIELDS | {"reason": TEXT_LIMIT},
    ),
    Write(
        "correct person API",
        "researcher",
        True,
        _subject_url("correct-person", api=True),
        _person_correction,
        PERSON_FIELDS | {"reason": TEXT_LIMIT},
    ),
    Write(
        "correct referral page",
        "researcher",
        False,
        _enquiry_url("referral-correct"),
        _referral_correction(api=False),
        REFERRAL_FIELDS | {"reason": TEXT_LIMIT},
    ),
    Write(
        "correct referral API",
        "researcher",
        True,
        _enquiry_url("correct-referral", api=True),
        _referral_correction(api=True),
        REFERRAL_FIELDS | {"reason": TEXT_LIMIT},
    ),
    Write(
        "add person page",
        "researcher",
        False,
        _enquiry_url("person-add"),
        _new_person(child=False, api=False),
        PERSON_FIELDS | {"reason": TEXT_LIMIT},
    ),
    Write(
        "add person API",
        "researcher",
        True,
        _enquiry_url("add-person", api=True),
        _new_person(child=False, api=True),
        {f"person.{name}": limit for name, limit in PERSON_FIELDS.items()} | {"reason": TEXT_LIMIT},
    ),
    Write(
        "add child page",
        "researcher",
        False,
        _enquiry_url("child-add"),
        _new_person(child=True, api=False),
        PERSON_FIELDS | {"reason": TEXT_LIMIT},
    ),
    Write(
        "add child API",
        "researcher",
        True,
        _enquiry_url("add-child", api=True),
        _new_person(child=True, api=True),
        {f"child.{name}": limit for name, limit in PERSON_FIELDS.items()} | {"reason": TEXT_LIMIT},
    ),
]

WRITE_FIELDS = [(write, field) for write in [*WRITES, *AMENDMENT_WRITES] for field in write.fields]


@dataclass(frozen=True)
class Filter:
    """A list's filter read from the query string, and the status a refused one answers."""

    name: str
    persona: str
    api: bool
    url: Callable[[], str]
    field: str
    limit: int
    status: int
    error_id: str = ""
    others: dict = dataclasses.field(default_factory=dict)  # the rest of a valid query


FILTERS = [
    Filter("queue", "researcher", False, lambda: reverse("triage-queue"), "q", 100, 200),
    Filter("audit user", "auditor", False, lambda: reverse("audit-log"), "user", 150, 200),
    Filter("audit enquiry", "auditor", False, lambda: reverse("audit-log"), "enquiry", 32, 200),
    Filter("search", "researcher", False, lambda: reverse("sharing-search"), "q", 100, 400),
    Filter("enquiries API", "researcher", True, lambda: reverse("api:enquiry-list"), "q", 100, 400),
    Filter(
        "people API",
        "researcher",
        True,
        lambda: reverse("api:person-match-list"),
        "last_name",
        100,
        400,
        others={"first_name": "Amy"},
    ),
    Filter(
        "requests API",
        "researcher",
        True,
        lambda: reverse("api:information-request-list"),
        "enquiry",
        32,
        400,
    ),
    Filter(
        "records API",
        "researcher",
        True,
        lambda: reverse("api:information-record-list"),
        "q",
        100,
        400,
    ),
]


def client_for(stage: Stage, persona: str, *, api: bool):
    user = getattr(stage, persona)
    client = APIClient() if api else Client()
    client.force_login(user)
    # A 500 is an answer to check for here, not an exception to stop at.
    client.raise_request_exception = False
    return client


def with_value(body: dict, path: str, value: str) -> dict:
    """`body` with `value` at `path` ("subjects.0.first_name" reaches into lists)."""
    *parents, last = path.split(".")
    target = body
    for step in parents:
        target = target[int(step)] if isinstance(target, list) else target[step]
    target[last] = value
    return body


def error_at(errors: dict, path: str):
    """The API's errors for the field at `path`, keyed by index in lists."""
    for step in path.split("."):
        errors = errors[step]
    return errors


def send(stage: Stage, write: Write, field: str, value: str, *, client=None):
    """`write` with `value` in `field`, by a client of the write's persona (`client` if it is
    one already signed in, as signing in costs more than most of what is sent)."""
    client = client or client_for(stage, write.persona, api=write.api)
    body = with_value(write.body(stage), field, value)
    if write.api:
        return client.post(write.url(stage), body, format="json")
    return client.post(write.url(stage), body)
