"""The schema is the contract (issue 21, item 7): schemathesis calls every operation of the API,
as each of four people, with what the schema says is valid and what it says is not, and checks
every answer against the schema: no server error, only the status codes it documents, each with
the body, headers and content type it documents; what it calls invalid refused, and (for reads)
what it calls valid accepted; credentials not ignored; and, where one answer names something a
later call can use, the calls chained (stateful testing).

The API is served by a live server (pytest-django's, over HTTP on loopback), over a small hub
as real as the firewall needs: an enquiry police and health were asked about with records in
every state of release, an escalated one, a decided one referred on, a merge, a domestic-abuse
notification. Each operation is called at the real enquiry, record, person... it names, so that
its rules run rather than its 404; the firewall then decides what each person sees. The run is
the same every time (a fixed seed, derandomised) and bounded (`MAX_EXAMPLES` an operation in
the fuzzing and stateful phases; the coverage phase's every boundary as `EVERY_BOUNDARY`), and
writes its totals to var/api-contract/<role>.json (<role>-every-boundary-<n>.json for a part of
the coverage phase).
"""

import json
import time
from datetime import timedelta
from pathlib import Path

import pytest
import schemathesis
from django.conf import settings
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator
from schemathesis.engine import events
from schemathesis.engine.statistic import Statistic

from enquiries import referrals, services
from enquiries.merging import people_merge
from enquiries.models import Enquiry, OnwardReferral, Outcome, Person
from sharing import domestic_abuse
from tests.factories import api_key_for
from tests.sharing.conftest import log_child, make_hub

SEED = 20260321
MAX_EXAMPLES = 5
ROLES = ("manager", "researcher", "police", "analyst")
# The coverage phase (every boundary and every kind of wrong value of every field, about 3,000
# calls) as the manager, whose rights reach the most writes; the police's own writes (records,
# answers, releases, domestic abuse) are called with wrong values in their fuzzing phase. The
# others' runs of it (30 to 70 s each) found nothing the manager's did not; the suite's ten
# minutes could not hold them.
EVERY_BOUNDARY = ("manager",)
# That coverage phase is most of the run (about 3,000 of its 3,300 calls): it runs as this many
# tests, each over a share of the operations (no call in it depends on another), so that xdist's
# workers share it rather than one worker taking a minute over it at the end of the suite.
BOUNDARY_PARTS = 5
TOTALS = Path(settings.BASE_DIR) / "var" / "api-contract"
ADDRESS = "192.0.2.21"
# Reads whose every valid request should succeed; the others refuse some that the schema cannot
# tell apart (a search with nothing to look for, a chronology ending before it starts, an NHS
# number failing its check digit, an assignee who is not on the hub's staff) with a 400 saying
# why.
NOT_EVERY_VALID_READ_SUCCEEDS = (
    "people_search",
    "people_matches_list",
    "people_chronology",
    "enquiries_list",
)


class ContractHub:
    """The hub the API is called over, and what each operation's path names."""

    def __init__(self) -> None:
        hub = make_hub()
        self.hub = hub
        for user in (hub.researcher, hub.manager, hub.police_officer, hub.analyst):
            # Names of their own, so that what the run counts against a name (wrong
            # passwords at release) is no other test's.
            user.username = f"contract-{user.username}"
            user.save(update_fields=["username"])
        self.records = {
            state: hub.record(state, marker=f"CONTRACT-{state.upper()}")
            for state in ("non_sensitive", "sensitive", "release_requested", "released")
        }
        hub.record("refused", marker="CONTRACT-REFUSED")
        hub.record("non_sensitive", marker="CONTRACT-HEALTH", agency="health")
        self.escalated = log_child(hub.researcher, "Ben", "Escalated", minutes_ago=20)
        services.enquiry_escalate(
            enquiry=self.escalated, actor=hub.researcher, reason="Disclosure this morning."
        )
        self.decided = self._decided_and_referred()
        self.merge = people_merge(
            survivor=Person.objects.create(first_name="Kept", last_name="Contract"),
            merged=Person.objects.create(first_name="Twin", last_name="Contract"),
            actor=hub.manager,
            reason="One person, recorded twice.",
        )
        (self.notification,) = domestic_abuse.receive_notifications(
            actor=hub.police_officer,
            rows=[
                {
                    "police_reference": "TVP-CONTRACT-1",
                    "incident_at": timezone.now() - timedelta(hours=5),
                    "address": "1 Contract Road",
                    "summary": "Shouting heard by neighbours.",
                    "consent": Enquiry.Consent.NOT_SOUGHT,
                    "people": [
                        {
                            "part": "victim",
                            "first_name": "Dana",
                            "last_name": "Contract",
                            "date_of_birth": None,
                        }
                    ],
                }
            ],
        )
        self.users = {
            "manager": hub.manager,
            "researcher": hub.researcher,
            "police": hub.police_officer,
            "analyst": hub.analyst,
        }

    def _decided_and_referred(self) -> Enquiry:
        hub = self.hub
        enquiry = log_child(hub.researcher, "Cal", "Decided", minutes_ago=40)
        enquiry = services.enquiry_decide(
            enquiry=enquiry,
            actor=hub.manager,
            outcome=Outcome.objects.get(code="csc_assessment"),
            rationale="Threshold met for an assessment.",
            expected_version=enquiry.version,
        )
        self.referral = referrals.refer_on(
            enquiry=enquiry,
            actor=hub.manager,
            destination=OnwardReferral.Destination.CSC_ASSESSMENT,
            method=OnwardReferral.Method.SECURE_EMAIL,
        )
        enquiry.refresh_from_db()
        return enquiry

    def path_parameters(self) -> list[dict]:
        """Each operation's path parameters: the real thing it names. schemathesis matches
        the most specific first (the order of the list)."""
        hub = self.hub
        subject = hub.enquiry.subject
        involvement = hub.enquiry.involvements.get(person=subject)
        paths = {
            "/api/v1/enquiries/{reference}/referrals/{id}/answer/": {
                "reference": self.decided.reference,
                "id": self.referral.pk,
            },
            "/api/v1/enquiries/{reference}/referrals/{id}/picture/": {
                "reference": self.decided.reference,
                "id": self.referral.pk,
            },
            "/api/v1/enquiries/{reference}/referrals/": {"reference": self.decided.reference},
            "/api/v1/enquiries/{reference}/acknowledge-escalation/": {
                "reference": self.escalated.reference
            },
            "/api/v1/enquiries/{reference}/people/{involvement_id}/remove/": {
                "reference": hub.enquiry.reference,
                "involvement_id": involvement.pk,
            },
            "/api/v1/enquiries/{reference}/people/{person_id}/correct/": {
                "reference": hub.enquiry.reference,
                "person_id": subject.pk,
            },
            "/api/v1/people/merges/{id}/undo/": {"id": self.merge.pk},
            "/api/v1/people/{id}/merge/": {"id": self.merge.survivor_id},
        }
        by_prefix = {
            "/api/v1/enquiries/{reference}/": {"reference": hub.enquiry.reference},
            "/api/v1/information-requests/{id}/": {"id": hub.police_request.pk},
            "/api/v1/information-records/{id}/": {"id": self.records["release_requested"].pk},
            "/api/v1/people/{id}/": {"id": subject.pk},
            "/api/v1/domestic-abuse-notifications/{id}/": {"id": self.notification.pk},
        }
        operations = [
            {"include-path": path, "parameters": _in_path(values)} for path, values in paths.items()
        ]
        operations += [
            {"include-path-regex": f"^{_regex(prefix)}", "parameters": _in_path(values)}
            for prefix, values in by_prefix.items()
        ]
        return operations


def _in_path(values: dict) -> dict:
    return {f"path.{name}": value for name, value in values.items()}


def _regex(path: str) -> str:
    return path.replace("{", r"\{").replace("}", r"\}")


def api_schema() -> dict:
    """The schema as /api/schema/ serves it, without a request for it."""
    return SchemaGenerator().get_schema(request=None, public=True)


def configuration(
    role: str, key: str, hub: ContractHub, base_url: str, *, every_boundary: bool
) -> schemathesis.Config:
    """The fuzzing and stateful phases, or (`every_boundary`) the coverage phase alone."""
    # Writes are refused for reasons of state (an enquiry already decided, a stale version,
    # a wrong password) whatever their shape, so only reads must accept all valid data.
    checks_for_reads = {"positive_data_acceptance": {"enabled": True}}
    return schemathesis.Config.from_dict(
        {
            "base-url": base_url,
            # From an address of its own (TEST-NET-1, through the one proxy the test trusts),
            # so that what the run counts against an address is no other test's.
            "headers": {"X-Forwarded-For": ADDRESS},
            "seed": SEED,
            "workers": 1,
            "generation": {"max-examples": MAX_EXAMPLES, "deterministic": True},
            "checks": {"enabled": True, "positive_data_acceptance": {"enabled": False}},
            "auth": {"openapi": {"tokenAuth": {"api_key": f"Token {key}"}}},
            "phases": {
                "coverage": {
                    "enabled": every_boundary,
                    # Methods no route takes: the ones a client might try.
                    "unexpected-methods": ["put", "patch", "delete"],
                },
                "fuzzing": {"enabled": not every_boundary},
                "stateful": {"enabled": not every_boundary},
            },
            "operations": [
                *hub.path_parameters(),
                {
                    "include-method": "GET",
                    "exclude-operation-id": list(NOT_EVERY_VALID_READ_SUCCEEDS),
                    "checks": checks_for_reads,
                },
            ],
        }
    )


def boundary_share(part: int) -> set[str]:
    """The paths whose every boundary part `part` calls: every `BOUNDARY_PARTS`th in order, so
    that each operation is in exactly one part, with the others of its path (the methods no
    route takes are called once a path)."""
    paths = sorted({path for _, path in api_operations()})
    return set(paths[part::BOUNDARY_PARTS])


def labels_at(paths: set[str]) -> set[str]:
    """The operations at `paths`, as schemathesis labels them."""
    return {f"{method.upper()} {path}" for method, path in api_operations() if path in paths}


def run(
    role: str, hub: ContractHub, base_url: str, *, part: int | None
) -> tuple[Statistic, list, dict]:
    every_boundary = part is not None
    config = configuration(
        role, api_key_for(hub.users[role]), hub, base_url, every_boundary=every_boundary
    )
    schema = schemathesis.openapi.from_dict(api_schema(), config=config)
    if every_boundary:
        share = boundary_share(part)
        # An exclusion (an inclusion would add to the configuration's own, which takes all).
        schema = schema.exclude(lambda context: context.operation.path not in share)
    statistic = Statistic()
    errors = []
    phases: dict[str, str] = {}
    for event in schemathesis.engine.from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished) and event.is_test_scenario:
            statistic.on_scenario_finished(event.recorder)
        elif isinstance(event, events.NonFatalError | events.FatalError):
            errors.append(event)
        elif isinstance(event, events.PhaseFinished):
            phases[event.phase.name.value] = event.status.value
        elif isinstance(event, events.EngineFinished) and event.failures:
            statistic.record_run_check_failures(event.failures, label="after run")
    return statistic, errors, phases


def describe(statistic: Statistic, errors: list) -> str:
    lines = []
    for label, groups in statistic.failures.items():
        for group in groups.values():
            for failure in group.failures:
                lines.append(f"{label}: {failure.title}\n    {failure.message}")
            if group.code_sample:
                lines.append(f"    {group.code_sample}")
    for error in errors:
        lines.append(f"error: {getattr(error, 'info', None) or error}")
        value = getattr(error, "value", None) or getattr(error, "exception", None)
        if value is not None:
            lines.append(f"    {value!r}")
    return "\n".join(lines)


RUNS = [pytest.param(role, None, id=role) for role in ROLES] + [
    pytest.param(role, part, id=f"{role}-every-boundary-{part + 1}-of-{BOUNDARY_PARTS}")
    for role in EVERY_BOUNDARY
    for part in range(BOUNDARY_PARTS)
]


@pytest.mark.usefixtures("migration_data")
@pytest.mark.parametrize(("role", "part"), RUNS)
def test_the_api_keeps_to_its_schema(role, part, settings, live_server):
    settings.TRUSTED_PROXY_COUNT = 1
    hub = ContractHub()
    started = time.monotonic()

    statistic, errors, phases = run(role, hub, live_server.url, part=part)

    name = role if part is None else f"{role}-every-boundary-{part + 1}"
    totals = {
        "role": role,
        "part": None if part is None else f"{part + 1} of {BOUNDARY_PARTS}",
        "operations": len(api_operations()),
        "operations_tested": len(statistic.tested_operations),
        "cases": statistic.total_cases,
        "cases_with_failures": statistic.cases_with_failures,
        "errored_cases": statistic.errored_cases,
        "passed": statistic.total_cases
        - statistic.cases_with_failures
        - statistic.errored_cases
        - statistic.cases_without_checks,
        "phases": phases,
        "seconds": round(time.monotonic() - started, 1),
        "seed": SEED,
        "max_examples": MAX_EXAMPLES,
    }
    TOTALS.mkdir(parents=True, exist_ok=True)
    (TOTALS / f"{name}.json").write_text(json.dumps(totals, indent=2) + "\n")
    print(json.dumps(totals))
    assert not statistic.failures and not errors, describe(statistic, errors)
    assert statistic.tested_operations, totals
    if part is not None:
        assert statistic.tested_operations == labels_at(boundary_share(part)), totals


def test_the_parts_of_every_boundary_call_each_operation_once():
    shares = [labels_at(boundary_share(part)) for part in range(BOUNDARY_PARTS)]

    assert set().union(*shares) == labels_at({path for _, path in api_operations()})
    assert sum(len(share) for share in shares) == len(api_operations())
    assert all(shares)


def api_operations() -> list[tuple[str, str]]:
    paths = api_schema()["paths"]
    return [(method, path) for path, item in paths.items() for method in item]
