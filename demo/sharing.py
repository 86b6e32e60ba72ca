"""Realistic information sharing for the demo hub: requests, answers, records and releases.

The most recent enquiries being researched (up to `OPEN_ENQUIRIES`) get requests still
being worked on, some of them overdue and chased, and every agency has at least one waiting in
its inbox; those awaiting decision have every answer in; a sample of decided enquiries spread
over the months gets answered ones, so reports have each agency's turnaround. Each agency
answers in its own voice (police incidents, A&E attendances, school attendance...), about a
quarter of the records are sensitive, and some of those are waiting for a release decision,
released with conditions or refused. On the open enquiries, practitioners and researchers have
the notifications the services would have sent them. The newest enquiry being researched is a
showcase: the demo police officer has a sensitive record waiting for their decision and the
demo researcher sees another agency's signpost. A few decided enquiries had a request still
unanswered at the decision, withdrawn by it with a notice to the agency; and on the open
enquiries one record is corrected, and one withdrawn, by its agency after the hub read it.

Rows are built as plain values with the pure clock and written through `core.bulk`, like the
demo enquiries, so this adds about a second to `seed_demo`. Enquiries that already have
requests are left alone, so running it again adds nothing.
"""

import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache, partial
from math import ceil
from string import Formatter
from typing import Any

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group, Permission
from django.db import DEFAULT_DB_ALIAS, models, transaction
from django.db.models import Exists, OuterRef, Subquery
from django.db.models.functions import Mod
from django.utils import timezone
from django.utils.text import slugify

from agencies.models import WORKING_ROLES, Agency, Role, User
from audit.models import AccessLogEntry
from core.append_only import chain, last_hash
from core.bulk import insert_rows, refresh_statistics, reserve_ids
from demo.hub import DEMO_USERS
from enquiries.clock import ClockInForce, clock_in_force
from enquiries.models import Enquiry, Notification
from enquiries.worktime import add_working_minutes, working_minutes_between
from sharing.chasing import chaser_message
from sharing.firewall import VIEW_CONTENT
from sharing.models import (
    Chaser,
    InformationRecord,
    InformationRequest,
    LawfulBasis,
    RecordGroupObjectPermission,
    RecordRevision,
    ReleaseDecision,
    ReleaseRequest,
    ReleaseStatus,
    Sensitivity,
    SharingPolicy,
)
from sharing.revisions import REVISED_FIELDS, record_corrected_message, record_withdrawn_message
from sharing.services import (
    DEFAULT_QUESTION,
    information_answered_message,
    information_request_message,
    release_answer_message,
    release_request_message,
    usual_agencies,
)
from sharing.withdrawals import decision_reason, request_withdrawn_message

from .samples import sample

OPEN_ENQUIRIES = 1000
ASKING_STATES = (Enquiry.State.RESEARCHING, Enquiry.State.AWAITING_DECISION)
DECIDED_SAMPLE = 1500
MAX_CHASERS = 3
# The share of a decided enquiry's requests still unanswered at the decision, so withdrawn by
# it (sharing.withdrawals), and how long ago a withdrawal's notice is still unread.
WITHDRAWN_AT_DECISION = 0.06
UNREAD_FOR = timedelta(days=7)
# A correction and a withdrawal of a record after the hub read it (sharing.revisions).
CORRECTION_REASON = "The date was mistyped: this is the date the incident was recorded."
WITHDRAWAL_REASON = "Sent in error: it is about another family with the same surname."

Kind = Agency.Kind
Status = InformationRequest.Status
Row = dict[str, Any]

_HELD = sample("sharing")


def _by_kind(table: dict) -> dict:
    return {Kind(kind): value for kind, value in table.items()}


# How likely each kind of agency is to be asked about a child, and more so for some concerns.
ASKED = _by_kind(_HELD["asked"])
ASKED_ABOUT_ADULTS = _by_kind(_HELD["asked_about_adults"])
# An agency at least this likely to be asked about an enquiry is a natural one to wait on.
LIKELY = 0.1
ASKED_FOR_CONCERN = {
    concern: _by_kind(chances) for concern, chances in _HELD["asked_for_concern"].items()
}
# Typical working minutes from request to answer, and the share answering "nothing held".
RESPONSE_MINUTES = _by_kind(_HELD["response_minutes"])
SLOW_RESPONSE_MINUTES = 360
NOTHING_HELD = _by_kind(_HELD["nothing_held"])
USUALLY_NOTHING_HELD = 0.7

# (summary, detail, chance the agency marks it sensitive), per kind of agency. Health agencies
# differ enough to be told apart by name.
Template = tuple[str, str, float]
RECORDS: dict[str, list[Template]] = {
    kind: [(record["summary"], record["detail"], record["sensitive"]) for record in records]
    for kind, records in _HELD["records"].items()
}
SOURCE_SYSTEMS: dict[str, list[str]] = _HELD["source_systems"]
INJURIES = [tuple(injury) for injury in _HELD["injuries"]]
WORDS = {
    "time": lambda rng: f"{rng.randint(0, 23):02d}:{rng.choice([5, 20, 35, 50]):02d}",
    "dash": lambda rng: rng.choice(["standard", "medium", "high"]),
    "hours": lambda rng: rng.randint(3, 30),
    "grade": lambda rng: rng.choice(["B2", "C3", "B3"]),
    "n": lambda rng: rng.randint(2, 6),
    "pct": lambda rng: rng.choice([71, 78, 84, 88, 96, 98]),
    "injury": lambda rng: rng.choice(INJURIES),  # with its explanation
    "arrears": lambda rng: rng.choice([640, 1280, 2310]),
}
RELEASE_REASONS: list[str] = _HELD["release_reasons"]
RELEASED_BECAUSE: list[str] = _HELD["released_because"]
REFUSED_BECAUSE: list[str] = _HELD["refused_because"]
CONDITIONS: list[str] = _HELD["conditions"]
RELEASE_LAWFUL_BASES = [
    LawfulBasis.PUBLIC_TASK_SAFEGUARDING,
    LawfulBasis.CHILDREN_ACT_1989_S47,
    LawfulBasis.CHILDREN_ACT_2004_S11,
    LawfulBasis.CRIME_AND_DISORDER_S115,
]
JOB_TITLES = _by_kind(_HELD["job_titles"])
COLLEAGUE_NAMES = [tuple(name) for name in _HELD["colleague_names"]]


@dataclass(frozen=True)
class SharingSeedResult:
    enquiries: int
    requests: int
    records: int
    decisions: int


@dataclass(frozen=True)
class _Agency:
    id: int
    name: str
    kind: str

    @property
    def voice(self) -> str:
        """Which records and systems it has: health agencies by what they are called."""
        if self.kind == Kind.HEALTH:
            name = self.name.lower()
            if "hospital" in name or "acute" in name:
                return "acute"
            if "mental" in name:
                return "mental_health"
        return self.kind if self.kind in RECORDS else Kind.OTHER


@dataclass
class _Rows:
    requests: list[Row] = field(default_factory=list)
    people: list[Row] = field(default_factory=list)
    chasers: list[Row] = field(default_factory=list)
    records: list[Row] = field(default_factory=list)
    release_requests: list[Row] = field(default_factory=list)
    decisions: list[Row] = field(default_factory=list)
    grants: list[Row] = field(default_factory=list)
    log: list[Row] = field(default_factory=list)
    notifications: list[Row] = field(default_factory=list)
    revisions: list[Row] = field(default_factory=list)


@transaction.atomic
def seed_demo_sharing(*, seed: int = 2026, now: datetime | None = None) -> SharingSeedResult:
    """Give the demo enquiries their information sharing; enquiries that already have
    requests are left as they are, so running it twice adds nothing the second time."""
    now = (now or timezone.now()).astimezone(UTC).replace(second=0, microsecond=0)
    agencies = [_Agency(*row) for row in usual_agencies().values_list("id", "name", "kind")]
    researchers = {
        user.pk: (user.agency_id, str(user))  # named as the services name them
        for user in User.objects.filter(groups__name=Role.RESEARCHER, is_active=True).only(
            "agency_id", "first_name", "last_name", "username"
        )
    }
    open_enquiries, decided_enquiries = _enquiries_to_share_on()
    if not agencies or not researchers or not (open_enquiries or decided_enquiries):
        return SharingSeedResult(0, 0, 0, 0)

    policy = SharingPolicy.current()
    builder = _Builder(
        rng=random.Random(seed + len(open_enquiries) + len(decided_enquiries)),  # noqa: S311 - demo data, not secrets
        clock=clock_in_force(),
        now=now,
        due_percent=policy.request_due_percent,
        policy_version=policy.version,
        chase_interval=timedelta(minutes=max(policy.chase_interval_minutes, 1)),
        agencies=agencies,
        practitioners=_practitioners(agencies),
        researchers=researchers,
        view_content=Permission.objects.get(
            content_type__app_label="sharing", codename=VIEW_CONTENT
        ).pk,
        working_groups=list(
            Group.objects.filter(name__in=WORKING_ROLES).values_list("pk", flat=True)
        ),
    )
    showcase = _showcase_cast(researchers)
    researching = [e for e in open_enquiries if e["state"] == Enquiry.State.RESEARCHING]
    plans = _plans(builder, researching, showcase)
    showcased = researching[0]["id"] if researching else None
    for enquiry in open_enquiries:
        builder.enquiry(
            enquiry,
            plans=plans.get(enquiry["id"]),
            researcher=showcase.researcher if enquiry["id"] == showcased else None,
        )
    for enquiry in decided_enquiries:
        builder.enquiry(enquiry)
    builder.revise_after_read()
    rows = builder.rows
    _write(rows)
    return SharingSeedResult(
        enquiries=len(open_enquiries) + len(decided_enquiries),
        requests=len(rows.requests),
        records=len(rows.records),
        decisions=len(rows.decisions),
    )


ENQUIRY_FIELDS = (
    "id",
    "reference",
    "received_at",
    "state",
    "rating",
    "allowance_minutes",
    "decided_at",
    "subject_id",
    "assignee_id",
    "subject_type",
    "subject__first_name",
    "subject__last_name",
    "categories",
    "decided_by_id",
    "outcome__name",
)


def _enquiries_to_share_on() -> tuple[list[Row], list[Row]]:
    """The newest enquiries being researched or awaiting decision, and about
    `DECIDED_SAMPLE` decided ones spread evenly over the ids (so over time), leaving out any
    that already have requests and those imported with no subject (the demo's records are
    about the subject). Enquiries still being received or screened have asked nobody yet."""
    asked = Exists(InformationRequest.objects.filter(enquiry=OuterRef("pk")))
    newest_open = (
        Enquiry.objects.filter(state__in=ASKING_STATES, subject__isnull=False)
        .order_by("-received_at", "-id")
        .values("id")[:OPEN_ENQUIRIES]
    )
    open_enquiries = list(
        Enquiry.objects.filter(id__in=Subquery(newest_open))
        .exclude(asked)
        .order_by("-received_at", "-id")
        .values(*ENQUIRY_FIELDS)
    )
    decided = Enquiry.objects.filter(decided_at__isnull=False, subject__isnull=False)
    step = max(1, ceil(decided.count() / DECIDED_SAMPLE))
    decided_enquiries = list(
        decided.annotate(slot=Mod("id", step))
        .filter(slot=0)
        .exclude(asked)
        .order_by("id")
        .values(*ENQUIRY_FIELDS)
    )
    return open_enquiries, decided_enquiries


def _practitioners(agencies: list[_Agency]) -> dict[int, list[int]]:
    """Each agency's active practitioners; an agency with none gets a demo colleague (who
    cannot sign in until an administrator sets a password), so someone answers for it."""
    found = defaultdict(list)
    for user_id, agency_id in (
        User.objects.filter(
            groups__name=Role.PRACTITIONER,
            is_active=True,
            agency_id__in=[agency.id for agency in agencies],
        )
        .order_by("pk")
        .values_list("pk", "agency_id")
    ):
        found[agency_id].append(user_id)
    wanted = {f"{slugify(a.name)}-practitioner"[:150]: a for a in agencies if a.id not in found}
    taken = set(User.objects.filter(username__in=wanted).values_list("username", flat=True))
    new = [
        User(
            username=username,
            first_name=COLLEAGUE_NAMES[index % len(COLLEAGUE_NAMES)][0],
            last_name=COLLEAGUE_NAMES[index % len(COLLEAGUE_NAMES)][1],
            job_title=JOB_TITLES.get(agency.kind, "Safeguarding lead"),
            email=f"{username}@demo.mash.invalid",
            agency_id=agency.id,
            password=make_password(None),
        )
        for index, (username, agency) in enumerate(sorted(wanted.items()))
        if username not in taken
    ]
    if new:
        User.objects.bulk_create(new)
        practitioner = Group.objects.get(name=Role.PRACTITIONER)
        User.groups.through.objects.bulk_create(
            User.groups.through(user_id=user.pk, group_id=practitioner.pk) for user in new
        )
        for user in new:
            found[user.agency_id].append(user.pk)
    return found


@dataclass(frozen=True)
class _Showcase:
    researcher: int
    police: int | None  # the demo police officer's agency
    health: int | None
    others: list[int]

    def plans(self) -> dict[int, str]:
        """What each demo login's agency has on the showcase enquiry."""
        plans = dict.fromkeys(self.others, "open")
        if self.police:
            plans[self.police] = "awaiting_release"
        if self.health:
            plans[self.health] = "signpost"
        return plans


def _showcase_cast(researchers: dict[int, tuple[int, str]]) -> _Showcase:
    """The demo logins' agencies, so the newest enquiry being researched has something for
    each."""
    names = [demo.username for demo in DEMO_USERS if Role.PRACTITIONER in demo.roles]
    agencies = dict(
        User.objects.filter(username__in=names, is_active=True).values_list(
            "agency_id", "agency__kind"
        )
    )
    police = next((pk for pk, kind in agencies.items() if kind == Kind.POLICE), None)
    health = next((pk for pk, kind in agencies.items() if kind == Kind.HEALTH), None)
    researcher = (
        User.objects.filter(username="researcher", pk__in=researchers)
        .values_list("pk", flat=True)
        .first()
    )
    return _Showcase(
        researcher=researcher or min(researchers),
        police=police,
        health=health,
        others=[pk for pk in agencies if pk not in (police, health)],
    )


def _plans(
    builder: "_Builder", researching: list[Row], showcase: _Showcase
) -> dict[int, dict[int, str]]:
    """What must be on the enquiries being researched (newest first) whatever the dice say,
    by enquiry and agency: the showcase on the newest and, in every agency's inbox, a request
    still waiting, overdue (so chased) where any enquiry is far enough on, so that every
    practitioner has work at any hour."""
    if not researching:
        return {}
    newest, *others = researching
    plans: dict[int, dict[int, str]] = defaultdict(dict, {newest["id"]: showcase.plans()})
    overdue = [e for e in others if builder.due_at(e) < builder.now] or others or [newest]
    for agency in builder.agencies:
        likely = [e for e in overdue if _chance(agency, e) >= LIKELY] or overdue
        plans[builder.rng.choice(likely)["id"]].setdefault(agency.id, "open")
    return plans


@dataclass
class _Builder:
    rng: random.Random
    clock: ClockInForce
    now: datetime
    due_percent: int
    policy_version: int
    chase_interval: timedelta
    agencies: list[_Agency]
    practitioners: dict[int, list[int]]
    researchers: dict[int, tuple[int, str]]  # id: (agency id, name)
    view_content: int
    working_groups: list[int]
    rows: _Rows = field(default_factory=_Rows)
    _enquiries: dict[int, Row] = field(default_factory=dict)

    def due_at(self, enquiry: Row) -> datetime:
        """As `services.request_due_at` computes it: a share of the allowance on the
        enquiry's own clock, from when it arrived."""
        return add_working_minutes(
            self.clock.calendar_for(enquiry["rating"]),
            enquiry["received_at"],
            ceil(enquiry["allowance_minutes"] * self.due_percent / 100),
        ).astimezone(UTC)

    def enquiry(
        self, enquiry: Row, *, plans: dict[int, str] | None = None, researcher: int | None = None
    ) -> None:
        self._enquiries[enquiry["id"]] = enquiry
        received = enquiry["received_at"]
        # Work stops at the decision; before it, at the demo's now.
        limit = enquiry["decided_at"] or self.now
        due_at = self.due_at(enquiry)
        soon = timedelta(minutes=self.rng.randint(10, 90))
        requested_at = _minute(received + min(soon, (limit - received) / 4))
        researcher = researcher or self._researcher()
        plans = plans or {}
        for agency in self.agencies:
            if agency.id in plans or self.rng.random() < _chance(agency, enquiry):
                self._request(
                    enquiry,
                    agency,
                    requested_at=requested_at,
                    requested_by=researcher,
                    due_at=due_at,
                    limit=limit,
                    plan=plans.get(agency.id),
                )

    def _researcher(self) -> int:
        return self.rng.choice(list(self.researchers))

    def _request(
        self,
        enquiry: Row,
        agency: _Agency,
        *,
        requested_at: datetime,
        requested_by: int,
        due_at: datetime,
        limit: datetime,
        plan: str | None,
    ) -> None:
        rng = self.rng
        decided = enquiry["decided_at"] is not None
        # Once the picture is compiled (or the decision made), every answer is in.
        settled = decided or enquiry["state"] == Enquiry.State.AWAITING_DECISION
        practitioners = self.practitioners.get(agency.id)
        answerer = rng.choice(practitioners) if practitioners else None
        mean = RESPONSE_MINUTES.get(agency.kind, SLOW_RESPONSE_MINUTES)
        answered_at = add_working_minutes(
            self.clock.calendar, requested_at, 10 + int(rng.expovariate(1 / mean))
        ).astimezone(UTC)
        if settled and answered_at > limit:
            answered_at = _minute(requested_at + (limit - requested_at) * rng.uniform(0.3, 0.95))
        request: Row = {
            "enquiry_id": enquiry["id"],
            "agency_id": agency.id,
            "question": DEFAULT_QUESTION,
            "status": Status.REQUESTED,
            "requested_at": requested_at,
            "requested_by_id": requested_by,
            "due_at": due_at,
            "clock_version": self.clock.version,
            "policy_version": self.policy_version,
            "answered_at": None,
            "answered_by_id": None,
            "response_minutes": None,
            "last_chased_at": None,
            "chase_count": 0,
            "withdrawn_at": None,
            "withdrawn_by_id": None,
            "withdrawal_reason": "",
            "version": 1,
        }
        # Some agencies are late: the hub's chasers are for them.
        overdue = not decided and due_at < self.now
        records = 0
        if answerer is None or plan == "open":
            pass
        elif decided and rng.random() < WITHDRAWN_AT_DECISION:
            # Still unanswered when the manager decided: withdrawn by the decision.
            records = rng.choice([0, 1])
            self._withdrawn_at_decision(request, enquiry, agency, records=records)
        elif plan is not None:
            request |= {"status": Status.IN_PROGRESS, "version": 2}
        elif answered_at <= limit and (settled or rng.random() < (0.6 if overdue else 0.85)):
            nothing_held = rng.random() < NOTHING_HELD.get(agency.kind, USUALLY_NOTHING_HELD)
            request |= {
                "status": Status.NOTHING_HELD if nothing_held else Status.ANSWERED,
                "answered_at": answered_at,
                "answered_by_id": answerer,
                "response_minutes": working_minutes_between(
                    self.clock.calendar, requested_at, answered_at
                ),
                "version": 2 if nothing_held else 3,
            }
            records = 0 if nothing_held else rng.choice([1, 1, 1, 1, 2, 2, 3])
        elif rng.random() < 0.5:
            request |= {"status": Status.IN_PROGRESS, "version": 2}
            records = 1
        self.rows.requests.append(request)
        self.rows.people.append({"informationrequest": request, "person_id": enquiry["subject_id"]})
        if not decided:
            self._notify(
                self.practitioners.get(agency.id, []),
                enquiry,
                kind=Notification.Kind.INFORMATION_REQUEST,
                message=information_request_message(
                    reference=enquiry["reference"], agency=agency.name, due_at=due_at
                ),
                at=requested_at,
                read_at=request["answered_at"],
            )
            if request["status"] in InformationRequest.OPEN_STATUSES:
                self._chase(request, enquiry, agency)
            else:
                self._notify(
                    [enquiry["assignee_id"] or requested_by],
                    enquiry,
                    kind=Notification.Kind.INFORMATION_ANSWERED,
                    message=information_answered_message(
                        reference=enquiry["reference"],
                        agency=agency.name,
                        nothing_held=request["status"] == Status.NOTHING_HELD,
                    ),
                    at=request["answered_at"],
                )

        if answerer is None:  # no practitioner: nothing answered, so nothing recorded
            return
        recorded_until = request["answered_at"] or limit
        if request["status"] == Status.WITHDRAWN:
            recorded_until = requested_at + (limit - requested_at) / 2
        record = partial(self._record, enquiry, agency, request, answerer, limit=limit)
        for n in range(records):
            record(recorded_at=requested_at + (recorded_until - requested_at) * (0.5 + n / 8))
        if plan == "awaiting_release":
            record(recorded_at=requested_at, showcase_sensitive=False)
            record(
                recorded_at=requested_at,
                showcase_sensitive=True,
                release=ReleaseStatus.REQUESTED,
                release_requester=requested_by,
            )
        elif plan == "signpost":
            record(
                recorded_at=requested_at,
                showcase_sensitive=True,
                release=ReleaseStatus.NOT_REQUESTED,
            )

    def _withdrawn_at_decision(
        self, request: Row, enquiry: Row, agency: _Agency, *, records: int
    ) -> None:
        """As `withdrawals.withdraw_on_decision` leaves it: withdrawn when decided, by the
        manager who decided, with the day and the outcome, and the agency told."""
        decided_at = enquiry["decided_at"]
        reason = decision_reason(decided_at=decided_at, outcome=enquiry["outcome__name"])
        request |= {
            "status": Status.WITHDRAWN,
            "withdrawn_at": decided_at,
            "withdrawn_by_id": enquiry["decided_by_id"],
            "withdrawal_reason": reason,
            # requested, then in progress with a record, then withdrawn
            "version": 3 if records else 2,
        }
        self._notify(
            self.practitioners.get(agency.id, []),
            enquiry,
            kind=Notification.Kind.REQUEST_WITHDRAWN,
            message=request_withdrawn_message(
                reference=enquiry["reference"], agency=agency.name, reason=reason
            ),
            at=decided_at,
            read_at=None if decided_at > self.now - UNREAD_FOR else decided_at,
        )

    def revise_after_read(self) -> None:
        """One record corrected and one withdrawn by its agency after the hub read it, on
        open enquiries, as `sharing.revisions` writes them: the revision with what the record
        said before, its version moved on, the access log, and whoever works on the enquiry
        told."""
        candidates = [
            record
            for record in self.rows.records
            if record["sensitivity"] == Sensitivity.NON_SENSITIVE
            and record["request"]["status"] == Status.ANSWERED
            and self._enquiries[record["enquiry_id"]]["decided_at"] is None
            and record["recorded_at"] + timedelta(minutes=90) <= self.now
        ]
        for record, withdrawn in zip(candidates[:2], (False, True), strict=False):
            self._revise(record, withdrawn=withdrawn)

    def _revise(self, record: Row, *, withdrawn: bool) -> None:
        enquiry = self._enquiries[record["enquiry_id"]]
        agency = next(agency for agency in self.agencies if agency.id == record["agency_id"])
        read_at = record["recorded_at"] + timedelta(minutes=30)
        revised_at = _minute(read_at + (self.now - read_at) / 2)
        previous = {name: record[name] for name in REVISED_FIELDS}
        previous["information_date"] = record["information_date"].isoformat()
        reason = WITHDRAWAL_REASON if withdrawn else CORRECTION_REASON
        record["first_read_at"] = read_at
        record["version"] += 1
        if withdrawn:
            record |= {
                "withdrawn_at": revised_at,
                "withdrawn_by_id": record["recorded_by_id"],
                "withdrawal_reason": reason,
            }
        else:
            record["information_date"] -= timedelta(days=1)
        self.rows.revisions.append(
            {
                "record": record,
                "kind": RecordRevision.Kind.WITHDRAWN
                if withdrawn
                else RecordRevision.Kind.CORRECTED,
                "revised_at": revised_at,
                "revised_by_id": record["recorded_by_id"],
                "reason": reason,
                "after_read": True,
                "previous": previous,
                "version": record["version"],
            }
        )
        self.rows.log.append(
            _logged(
                record,
                user=record["recorded_by_id"],
                agency=record["agency_id"],
                role=Role.PRACTITIONER,
                action=(
                    AccessLogEntry.Action.WITHDRAW_RECORD
                    if withdrawn
                    else AccessLogEntry.Action.CORRECT_RECORD
                ),
                at=revised_at,
                reason=reason,
            )
        )
        message = (record_withdrawn_message if withdrawn else record_corrected_message)(
            reference=enquiry["reference"], agency=agency.name, reason=reason
        )
        self._notify(
            [enquiry["assignee_id"] or record["request"]["requested_by_id"]],
            enquiry,
            kind=(
                Notification.Kind.RECORD_WITHDRAWN
                if withdrawn
                else Notification.Kind.RECORD_CORRECTED
            ),
            message=message,
            at=revised_at,
        )

    def _chase(self, request: Row, enquiry: Row, agency: _Agency) -> None:
        """Chasers as the task would have sent them (the first few only), each telling the
        agency's practitioners."""
        at = _minute(request["due_at"]) + timedelta(minutes=5)
        chased: list[datetime] = []
        while at <= self.now and len(chased) < MAX_CHASERS:
            chased.append(at)
            at += self.chase_interval
        if chased:
            request |= {"last_chased_at": chased[-1], "chase_count": len(chased)}
            self.rows.chasers += [{"request": request, "chased_at": at} for at in chased]
        message = chaser_message(
            reference=enquiry["reference"], agency=agency.name, due_at=request["due_at"]
        )
        for at in chased:
            self._notify(
                self.practitioners.get(agency.id, []),
                enquiry,
                kind=Notification.Kind.CHASER,
                message=message,
                at=at,
            )

    def _notify(
        self,
        recipients: list[int],
        enquiry: Row,
        *,
        kind: str,
        message: str,
        at: datetime,
        read_at: datetime | None = None,
    ) -> None:
        """Notifications as the services send them, read once acted on."""
        self.rows.notifications += [
            {
                "recipient_id": recipient,
                "enquiry_id": enquiry["id"],
                "sla_event_id": None,
                "kind": kind,
                "message": message,
                "created_at": at,
                "read_at": read_at,
            }
            for recipient in recipients
        ]

    def _record(
        self,
        enquiry: Row,
        agency: _Agency,
        request: Row,
        author: int,
        *,
        recorded_at: datetime,
        limit: datetime,
        showcase_sensitive: bool | None = None,
        release: str | None = None,
        release_requester: int | None = None,
    ) -> None:
        rng = self.rng
        templates = RECORDS[agency.voice]
        if showcase_sensitive is not None:
            # The agency's most (or least) sensitive kind of record.
            pick = (max if showcase_sensitive else min)(chance for _, _, chance in templates)
            templates = [template for template in templates if template[2] == pick]
        summary, detail, chance = rng.choice(templates)
        sensitive = showcase_sensitive if showcase_sensitive is not None else rng.random() < chance
        information_date = recorded_at.date() - timedelta(days=rng.randint(3, 1200))
        words = _words(rng, summary + detail, child=enquiry["subject__first_name"])
        words["date"] = f"{information_date.day} {information_date:%B %Y}"
        record: Row = {
            "request": request,
            "enquiry_id": enquiry["id"],
            "agency_id": agency.id,
            "person_id": enquiry["subject_id"],
            "summary": summary.format(**words),
            "detail": detail.format(**words),
            "source_system": rng.choice(SOURCE_SYSTEMS[agency.voice]),
            "information_date": information_date,
            "sensitivity": Sensitivity.SENSITIVE if sensitive else Sensitivity.NON_SENSITIVE,
            "release_status": ReleaseStatus.NOT_REQUESTED,
            "conditions": "",
            "recorded_at": _minute(recorded_at),
            "recorded_by_id": author,
            "added_after_withdrawal": False,
            "first_read_at": None,
            "withdrawn_at": None,
            "withdrawn_by_id": None,
            "withdrawal_reason": "",
            "version": 1,
        }
        self.rows.records.append(record)
        if sensitive:
            decided = enquiry["decided_at"] is not None
            self._release(
                record,
                release or self._release_status(decided=decided),
                enquiry=enquiry,
                agency=agency,
                limit=limit,
                requester=release_requester or self._researcher(),
            )

    def _release_status(self, *, decided: bool) -> str:
        """Requests still waiting only on open enquiries: a decided enquiry's are settled."""
        if decided:
            weights = {"not_requested": 45, "released": 35, "refused": 20}
        else:
            weights = {"not_requested": 35, "requested": 30, "released": 20, "refused": 15}
        return self.rng.choices(list(weights), weights=list(weights.values()))[0]

    def _release(
        self,
        record: Row,
        status: str,
        *,
        enquiry: Row,
        agency: _Agency,
        limit: datetime,
        requester: int,
    ) -> None:
        """Someone asks for the record and, unless still waiting, the owning agency answers,
        each step in the access log and a release granted to the hub's working roles; while
        the enquiry is open, each side is told as the services tell them."""
        rng, rows = self.rng, self.rows
        window = limit - record["recorded_at"]
        if status == ReleaseStatus.NOT_REQUESTED or window < timedelta(minutes=3):
            return
        child = enquiry["subject__first_name"]
        person = f"{child} {enquiry['subject__last_name']}"
        asked: Row = {
            "record": record,
            "requested_by_id": requester,
            "requested_at": _minute(record["recorded_at"] + window * rng.uniform(0.05, 0.3)),
            "reason": rng.choice(RELEASE_REASONS).format(child=child),
        }
        rows.release_requests.append(asked)
        rows.log.append(
            _logged(
                record,
                user=requester,
                agency=self.researchers[requester][0],
                role=Role.RESEARCHER,
                action=AccessLogEntry.Action.RELEASE_REQUEST,
                at=asked["requested_at"],
                reason=asked["reason"],
            )
        )
        record |= {"release_status": ReleaseStatus.REQUESTED, "version": 2}
        tell = enquiry["decided_at"] is None
        if status == ReleaseStatus.REQUESTED:
            if tell:
                self._tell_owners(asked, enquiry, agency, person, read_at=None)
            return

        released = status == ReleaseStatus.RELEASED
        decision: Row = {
            "record": record,
            "release_request": asked,
            "decision": status,
            "decided_by_id": record["recorded_by_id"],
            "decided_at": _minute(
                asked["requested_at"] + (limit - asked["requested_at"]) * rng.uniform(0.2, 0.8)
            ),
            "reason": rng.choice(RELEASED_BECAUSE if released else REFUSED_BECAUSE),
            "necessary_and_proportionate": released,
            "lawful_basis": rng.choice(RELEASE_LAWFUL_BASES) if released else "",
            "conditions": rng.choice(CONDITIONS) if released else "",
        }
        rows.decisions.append(decision)
        logged_reason = decision["reason"]
        if released:
            logged_reason += f" Lawful basis: {LawfulBasis(decision['lawful_basis']).label}."
            if decision["conditions"]:
                logged_reason += f" Conditions: {decision['conditions']}"
            rows.grants += [
                {"content_object": record, "group_id": group, "permission_id": self.view_content}
                for group in self.working_groups
            ]
        rows.log.append(
            _logged(
                record,
                user=decision["decided_by_id"],
                agency=record["agency_id"],
                role=Role.PRACTITIONER,
                action=AccessLogEntry.Action.RELEASE if released else AccessLogEntry.Action.REFUSE,
                at=decision["decided_at"],
                reason=logged_reason,
            )
        )
        record |= {"release_status": status, "conditions": decision["conditions"], "version": 3}
        if tell:
            self._tell_owners(asked, enquiry, agency, person, read_at=decision["decided_at"])
            self._notify(
                [requester],
                enquiry,
                kind=Notification.Kind.RELEASE_ANSWER,
                message=release_answer_message(
                    reference=enquiry["reference"],
                    agency=agency.name,
                    person=person,
                    released=released,
                ),
                at=decision["decided_at"],
            )

    def _tell_owners(
        self, asked: Row, enquiry: Row, agency: _Agency, person: str, *, read_at: datetime | None
    ) -> None:
        self._notify(
            self.practitioners.get(agency.id, []),
            enquiry,
            kind=Notification.Kind.RELEASE_REQUEST,
            message=release_request_message(
                reference=enquiry["reference"],
                requester=self.researchers[asked["requested_by_id"]][1],
                agency=agency.name,
                person=person,
            ),
            at=asked["requested_at"],
            read_at=read_at,
        )


def _words(rng: random.Random, text: str, *, child: str) -> dict[str, Any]:
    """Values for the placeholders in a record's text, drawing only the ones it uses."""
    words: dict[str, Any] = {"child": child}
    for name in _placeholders(text):
        if name in WORDS:
            words[name] = WORDS[name](rng)
    if "injury" in words:
        words["injury"], words["explanation"] = words["injury"]
    return words


@cache
def _placeholders(text: str) -> tuple[str, ...]:
    """In order of appearance, so a seed gives the same demo in every process."""
    return tuple(dict.fromkeys(name for _, name, _, _ in Formatter().parse(text) if name))


def _chance(agency: _Agency, enquiry: Row) -> float:
    if enquiry["subject_type"] == Enquiry.SubjectType.ADULT:
        chance = ASKED_ABOUT_ADULTS.get(agency.kind, ASKED.get(agency.kind, 0.1))
    else:
        chance = ASKED.get(agency.kind, 0.1)
    for category in enquiry["categories"]:
        chance = max(chance, ASKED_FOR_CONCERN.get(category, {}).get(agency.kind, 0))
    return chance


def _minute(moment: datetime) -> datetime:
    return moment.replace(second=0, microsecond=0)


def _logged(
    record: Row, *, user: int, agency: int, role: str, action: str, at: datetime, reason: str
) -> Row:
    return {
        "at": at,
        "user_id": user,
        "agency_id": agency,
        "role": role,
        "action": action,
        "channel": AccessLogEntry.Channel.PAGE,
        "record": record,
        "enquiry_id": record["enquiry_id"],
        "person_id": record["person_id"],
        "account_id": None,
        "reason": reason,
        "terms": "",
        "address": None,
        "request_id": "",
    }


def _with_ids(rows: list[Row], *related: str) -> list[Row]:
    """The rows ready to insert: each related row (a dict given its id by `_give_ids`)
    swapped for its id."""
    return [
        {
            (f"{key}_id" if key in related else key): (value["id"] if key in related else value)
            for key, value in row.items()
        }
        for row in rows
    ]


def _give_ids(model: type[models.Model], rows: list[Row]) -> None:
    """Number new rows up front, so the rows that refer to them can be written with them."""
    for row, row_id in zip(rows, reserve_ids(model, len(rows)), strict=True):
        row["id"] = row_id


def _write(rows: _Rows) -> None:
    _give_ids(InformationRequest, rows.requests)
    _give_ids(InformationRecord, rows.records)
    _give_ids(ReleaseRequest, rows.release_requests)
    log = _with_ids(rows.log, "record")
    for row, row_id in zip(log, reserve_ids(AccessLogEntry, len(log)), strict=True):
        row["id"] = row_id
    chain(AccessLogEntry, log, previous=last_hash(AccessLogEntry, using=DEFAULT_DB_ALIAS))
    written: list[tuple[type[models.Model], list[Row], tuple[str, ...]]] = [
        (InformationRequest, rows.requests, ()),
        (InformationRequest.people.through, rows.people, ("informationrequest",)),
        (Chaser, rows.chasers, ("request",)),
        (InformationRecord, rows.records, ("request",)),
        (ReleaseRequest, rows.release_requests, ("record",)),
        (ReleaseDecision, rows.decisions, ("record", "release_request")),
        (RecordGroupObjectPermission, rows.grants, ("content_object",)),
        (RecordRevision, rows.revisions, ("record",)),
        (AccessLogEntry, log, ()),
        (Notification, rows.notifications, ()),
    ]
    for model, model_rows, related in written:
        insert_rows(model, _with_ids(model_rows, *related))
    refresh_statistics(*(model for model, _, _ in written))
