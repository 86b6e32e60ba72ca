"""The firewall: the one place that decides who may see or do what with agency information.

Everything that reads information records (pages, the API, search, exports, feedback, tasks,
reports) gets them from here, and every action on them is checked here (docs/domain.md section 5).

- Researchers and managers work on every enquiry. A practitioner works on the enquiries their
  agency was asked about. Analysts, auditors and administrators see no records at all.
- Whoever works on an enquiry sees that each of its records exists. They see its content if it
  is non-sensitive, if it belongs to their own agency, or if the owning agency released it.
  Otherwise they see a signpost, never the content.
- A record its agency withdrew is read by that agency's people only; everyone else sees that
  it was withdrawn, when and why (sharing.revisions). Only the agency's practitioners correct
  or withdraw a record, and only they read what a corrected record said before.
- A release is a django-guardian grant of `view_content` on that record to the hub's working
  roles. A record belongs to one enquiry, so the release reaches that enquiry only.
- Records a person may not see at all do not exist for them: `NotVisible` is a 404, so an
  id gives nothing away.

Querysets filter in the database; content fields of signposted records are blanked in SQL, so
their text never reaches Python for a person who may not read it.
"""

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, TypeAlias, TypedDict

from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.db.models import (
    BooleanField,
    Case,
    Exists,
    Expression,
    ExpressionWrapper,
    F,
    JSONField,
    OuterRef,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models.functions import JSONArray
from django.http import Http404
from django.utils import timezone

from agencies.models import HUB_ROLES, WORKING_ROLES, Agency, Role, User
from enquiries.models import Enquiry

from . import quotes
from .models import (
    DomesticAbuseNotification,
    InformationRecord,
    InformationRequest,
    RecordGroupObjectPermission,
    RecordRevision,
    RecordUserObjectPermission,
    ReleaseStatus,
    Sensitivity,
)


class _ContentVisible(TypedDict):
    content_visible: bool


if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

    # A record with whether this person may read its content (`visible_records`).
    VisibleRecord: TypeAlias = WithAnnotations[InformationRecord, _ContentVisible]

VIEW_CONTENT = "view_content"


class NotVisible(Http404):
    """The record, request or enquiry does not exist for this person."""


class Action(StrEnum):
    SEE = "see"
    READ_CONTENT = "read content"
    REQUEST_RELEASE = "request release"
    RELEASE = "release"
    REFUSE = "refuse"
    CORRECT = "correct"
    WITHDRAW = "withdraw"


def works_on_enquiries(user: User) -> bool:
    return user.has_role(*WORKING_ROLES)


def enquiry_rule(user: User, field: str = "pk") -> Q | None:
    """Which enquiries this person may know of, as a condition on the column `field` that
    names an enquiry; None for the hub, who see every one. Every list of enquiries, in this
    app or below it (`enquiries.visibility`), narrows by this."""
    if user.has_role(*HUB_ROLES):
        return None
    if user.has_role(Role.PRACTITIONER):
        return Q(
            Exists(
                InformationRequest.objects.filter(
                    enquiry_id=OuterRef(field), agency_id=user.agency_id
                )
            )
        )
    return Q(**{f"{field}__in": []})


def visible_enquiries(user: User) -> QuerySet[Enquiry]:
    """The enquiries whose information this person may work with."""
    rule = enquiry_rule(user)
    return Enquiry.objects.all() if rule is None else Enquiry.objects.filter(rule)


def can_see_enquiry(user: User, enquiry: Enquiry) -> bool:
    """Asked once per request and enquiry: a page checks before it reads the records, and the
    records' queryset checks again. Only a yes is remembered; requests are never deleted."""
    if user.has_role(*HUB_ROLES):
        return True
    if not user.has_role(Role.PRACTITIONER):
        return False
    seen = user.__dict__.setdefault("_firewall_enquiries_seen", set())
    if enquiry.pk not in seen:
        if not InformationRequest.objects.filter(
            enquiry=enquiry, agency_id=user.agency_id
        ).exists():
            return False
        seen.add(enquiry.pk)
    return True


class _Granted(Expression):
    """Whether a django-guardian grant of `view_content` on the record reaches this person:
    made to them, or to one of their role groups.

    The group ids go in as constants: as a subquery over the user's groups, PostgreSQL
    expected one match and hashed every grant the hub ever made (43 ms of a 50-record page's
    60). The permission is a scalar subquery, which PostgreSQL runs once before the rest,
    rather than an id cached in the process: flushing or migrating a database (tests do)
    makes permissions anew, with new ids.

    Written as SQL, not as three querysets: Django took longer to build and compile them
    (1.5 ms of every records query) than PostgreSQL to run them. The record's id is a column
    expression Django resolves and relabels, so it names the record however the query
    around it does; every value is a parameter."""

    conditional = True
    output_field = BooleanField()

    def __init__(self, record, *, user_id: int, group_ids: list[int]) -> None:
        super().__init__(output_field=BooleanField())
        self.record = record
        self.user_id = user_id
        self.group_ids = list(group_ids)

    def get_source_expressions(self):
        return [self.record]

    def set_source_expressions(self, exprs) -> None:
        (self.record,) = exprs

    def as_sql(self, compiler, connection):
        record, record_params = compiler.compile(self.record)
        q = connection.ops.quote_name
        # Only the models' table and column names go into the text, quoted; values are
        # parameters.
        permission = (
            f"(SELECT p.{q('id')} FROM {q(Permission._meta.db_table)} p"  # noqa: S608
            f" INNER JOIN {q(ContentType._meta.db_table)} c"
            f" ON p.{q('content_type_id')} = c.{q('id')}"
            f" WHERE p.{q('codename')} = %s AND c.{q('app_label')} = %s LIMIT 1)"
        )
        exists, params = [], []
        grants = (
            (RecordGroupObjectPermission, "group_id", self.group_ids),
            (RecordUserObjectPermission, "user_id", [self.user_id]),
        )
        for model, column, ids in grants:
            if not ids:
                continue
            exists.append(
                f"EXISTS(SELECT 1 FROM {q(model._meta.db_table)} granted"  # noqa: S608
                f" WHERE granted.{q('content_object_id')} = {record}"
                f" AND granted.{q(column)} IN ({', '.join(['%s'] * len(ids))})"
                f" AND granted.{q('permission_id')} = {permission})"
            )
            params += [*record_params, *ids, VIEW_CONTENT, "sharing"]
        return f"({' OR '.join(exists)})", params


def _granted(user: User) -> Q:
    """A django-guardian grant of `view_content` on the record, to the person or their roles."""
    return Q(_Granted(F("pk"), user_id=user.pk, group_ids=user.role_group_ids(*WORKING_ROLES)))


def content_rule(user: User) -> Q:
    """Which visible records this person may read: firewall rules 1, 2 and 4. A withdrawn
    record is read by its own agency only, released or not."""
    shared = Q(withdrawn_at__isnull=True) & (
        Q(sensitivity=Sensitivity.NON_SENSITIVE) | _granted(user)
    )
    return Q(agency_id=user.agency_id) | shared


def visible_records(user: User, *, enquiry: Enquiry | None = None) -> "QuerySet[VisibleRecord]":
    """Every record this person may know exists (content or signpost), each annotated with
    `content_visible`. Use `shown_records` to read them: it never carries hidden content."""
    nothing = InformationRecord.objects.none().annotate(
        content_visible=Value(False, output_field=BooleanField())
    )
    if not works_on_enquiries(user):
        return nothing
    records = InformationRecord.objects.all()
    if enquiry is not None:
        if not can_see_enquiry(user, enquiry):
            return nothing
        records = records.filter(enquiry=enquiry)
    elif not user.has_role(*HUB_ROLES):
        records = records.filter(enquiry__in=visible_enquiries(user))
    return records.annotate(
        content_visible=ExpressionWrapper(content_rule(user), output_field=BooleanField())
    )


def readable_records(user: User) -> "QuerySet[VisibleRecord]":
    """Visible records whose content this person may read: for search and exports."""
    return visible_records(user).filter(content_visible=True)


@dataclass(frozen=True)
class ShownRecord:
    """A record as one person may see it. For a signposted record the content fields are empty
    because the database never returned them."""

    pk: int
    enquiry_id: int
    enquiry_reference: str
    request_id: int
    agency_id: int
    agency_name: str
    person_id: int
    person_name: str
    information_date: date
    recorded_at: datetime
    sensitivity: str
    release_status: str
    content_visible: bool
    summary: str
    detail: str
    source_system: str
    conditions: str
    version: int = 1
    # When someone outside the owning agency first read it (sharing.reads), if anyone has.
    first_read_at: datetime | None = None
    withdrawn_at: datetime | None = None
    withdrawal_reason: str = ""
    # Given after the hub withdrew its request (sharing.withdrawals): kept, reopening nothing.
    added_after_withdrawal: bool = False

    @property
    def is_sensitive(self) -> bool:
        return self.sensitivity == Sensitivity.SENSITIVE

    @property
    def is_withdrawn(self) -> bool:
        return self.withdrawn_at is not None

    @property
    def withdrawal_notice(self) -> str:
        """What everyone who sees the enquiry is told of a withdrawn record, in place of it."""
        if self.withdrawn_at is None:
            return ""
        day = timezone.localtime(self.withdrawn_at)
        said = f"Withdrawn by {self.agency_name} on {day.day} {day:%B %Y}"
        return f"{said}: {self.withdrawal_reason}" if self.withdrawal_reason else f"{said}."

    @property
    def is_signpost(self) -> bool:
        return not self.content_visible

    @property
    def sensitivity_label(self) -> str:
        return Sensitivity(self.sensitivity).label

    @property
    def release_status_label(self) -> str:
        return ReleaseStatus(self.release_status).label

    @property
    def signpost(self) -> str:
        """What stands in for content this person may not read: the withdrawal, for a
        withdrawn record; otherwise who holds what and how to ask for it."""
        if self.is_withdrawn:
            return self.withdrawal_notice
        recorded = f"{self.information_date.day} {self.information_date:%B %Y}"
        return (
            f"{self.agency_name} holds sensitive information about {self.person_name}, "
            f"recorded on {recorded}. Ask {self.agency_name} to release it to the hub, or ask "
            "for it through the agency's normal routes."
        )


CONTENT_FIELDS = ("summary", "detail", "source_system", "conditions")


def shown_records(
    records: QuerySet[InformationRecord], *, window: slice | None = None
) -> list[ShownRecord]:
    """Read records from `visible_records` (or a filter of it) as `ShownRecord`s, in one
    query, with hidden content blanked by the database; only those in `window` of the
    records' order, if given (a page of them).

    The content comes as one array, NULL where this person may not read it, so the database
    weighs the content rule once a record: compiling the rule (two grant subqueries) for each
    content field and again for `content_visible` was 17 ms of Python on the enquiry page."""
    rows = records.annotate(
        shown_content=Case(
            When(content_visible=True, then=JSONArray(*CONTENT_FIELDS)),
            default=None,
            output_field=JSONField(),
        )
    ).values(
        "pk",
        "enquiry_id",
        "enquiry__reference",
        "request_id",
        "agency_id",
        "agency__name",
        "person_id",
        "person__first_name",
        "person__last_name",
        "information_date",
        "recorded_at",
        "sensitivity",
        "release_status",
        "version",
        "first_read_at",
        "withdrawn_at",
        "withdrawal_reason",
        "added_after_withdrawal",
        "shown_content",
    )
    if window is not None:
        rows = rows[window]
    blank = ("",) * len(CONTENT_FIELDS)
    return [
        ShownRecord(
            pk=row["pk"],
            enquiry_id=row["enquiry_id"],
            enquiry_reference=row["enquiry__reference"],
            request_id=row["request_id"],
            agency_id=row["agency_id"],
            agency_name=row["agency__name"],
            person_id=row["person_id"],
            person_name=f"{row['person__first_name']} {row['person__last_name']}",
            information_date=row["information_date"],
            recorded_at=row["recorded_at"],
            sensitivity=row["sensitivity"],
            release_status=row["release_status"],
            content_visible=content is not None,
            **dict(zip(CONTENT_FIELDS, blank if content is None else content, strict=True)),
            version=row["version"],
            first_read_at=row["first_read_at"],
            withdrawn_at=row["withdrawn_at"],
            withdrawal_reason=row["withdrawal_reason"],
            added_after_withdrawal=row["added_after_withdrawal"],
        )
        for row in rows
        for content in [row["shown_content"]]
    ]


def record_for(user: User, pk) -> ShownRecord:
    """One record as this person may see it, or `NotVisible`."""
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise NotVisible("No such information record.") from None
    shown = shown_records(visible_records(user).filter(pk=pk))
    if not shown:
        raise NotVisible("No such information record.")
    return shown[0]


def _is_owner_practitioner(user: User, record: ShownRecord | InformationRecord) -> bool:
    return user.has_role(Role.PRACTITIONER) and record.agency_id == user.agency_id


def refusal(user: User, action: Action, record: ShownRecord) -> str | None:
    """Why this person may not take `action` on a record they can see, or None if they may.
    Whether they can see it at all is `record_for`'s business."""
    if action == Action.SEE:
        return None
    if action == Action.READ_CONTENT:
        if record.content_visible:
            return None
        if record.is_withdrawn:
            return f"{record.agency_name} has withdrawn this."
        return "The owning agency has not released this."
    if action in (Action.CORRECT, Action.WITHDRAW):
        return revision_refusal(user, action, record)
    if record.is_withdrawn:
        return f"{record.agency_name} has withdrawn this record: there is nothing to {action}."
    if not record.is_sensitive:
        return "This record is not sensitive: everyone working on the enquiry can read it."
    status = record.release_status
    if action == Action.REQUEST_RELEASE:
        if record.agency_id == user.agency_id:
            return "This is your own agency's record: you can read it already."
        if status == ReleaseStatus.RELEASED:
            return "This record has already been released."
        if status == ReleaseStatus.REQUESTED:
            return "Release of this record has already been requested."
        return None
    if not _is_owner_practitioner(user, record):
        return f"Only a practitioner of {record.agency_name} can {action} this record."
    if status == ReleaseStatus.RELEASED:
        return "This record has already been released."
    if action == Action.REFUSE and status != ReleaseStatus.REQUESTED:
        return "Nobody has asked for this record to be released: there is nothing to refuse."
    return None


def revision_refusal(user: User, action: Action, record: ShownRecord) -> str | None:
    """Only a practitioner of the owning agency corrects or withdraws its record, until it is
    withdrawn (sharing.revisions)."""
    if not _is_owner_practitioner(user, record):
        return f"Only a practitioner of {record.agency_name} can {action} this record."
    if record.is_withdrawn:
        return "This record has been withdrawn: it can no longer be changed."
    return None


@dataclass(frozen=True)
class ShownRevision:
    """A correction or withdrawal as one person may see it: that it happened, when, by whom
    and why. `previous` (what the record said before) is as sensitive as the record, so the
    database returns it to the owning agency's practitioners only; to others it is None."""

    kind: str
    revised_at: datetime
    revised_by: str
    reason: str
    after_read: bool
    version: int
    previous: dict | None

    @property
    def kind_label(self) -> str:
        return RecordRevision.Kind(self.kind).label


def may_read_previous(user: User, record: ShownRecord) -> bool:
    return _is_owner_practitioner(user, record)


def revisions_for(user: User, record: ShownRecord) -> list[ShownRevision]:
    """The corrections and withdrawal of a record this person sees (`record_for`), oldest
    first, in one query."""
    reads_previous = may_read_previous(user, record)
    revisions = RecordRevision.objects.filter(record_id=record.pk).select_related("revised_by")
    if not reads_previous:
        revisions = revisions.defer("previous")
    return [
        ShownRevision(
            kind=revision.kind,
            revised_at=revision.revised_at,
            revised_by=str(revision.revised_by),
            reason=revision.reason,
            after_read=revision.after_read,
            version=revision.version,
            previous=revision.previous if reads_previous else None,
        )
        for revision in revisions.order_by("revised_at", "id")
    ]


def can(user: User, action: Action, record: ShownRecord) -> bool:
    return refusal(user, action, record) is None


def require(user: User, action: Action, record: ShownRecord) -> None:
    reason = refusal(user, action, record)
    if reason is not None:
        raise PermissionDenied(reason)


# Information requests: the agency inbox and answering.


def agency_requests(user: User) -> QuerySet[InformationRequest]:
    """Requests to the person's own agency, for its practitioners."""
    if not user.has_role(Role.PRACTITIONER):
        return InformationRequest.objects.none()
    return InformationRequest.objects.filter(agency_id=user.agency_id)


def visible_requests(user: User) -> QuerySet[InformationRequest]:
    """Requests on enquiries this person works on: all for the hub, their agency's for a
    practitioner (they see that others were asked on the enquiry page, through the enquiry)."""
    if user.has_role(*HUB_ROLES):
        return InformationRequest.objects.all()
    return InformationRequest.objects.filter(enquiry__in=visible_enquiries(user))


def countable_records(user: User | None) -> QuerySet[InformationRecord]:
    """Records the manager's dashboard may count (how many releases wait on each agency), for
    managers and analysts: counted in the database, never read."""
    if user is None or user.has_role(Role.MANAGER, Role.ANALYST):
        return InformationRecord.objects.all()
    return InformationRecord.objects.none()


def countable_requests(user: User | None) -> QuerySet[InformationRequest]:
    """Requests a report may count, for managers and analysts (and the command line, where
    `user` is None). Reports aggregate them to counts and times per agency; the question,
    the answer and the records never leave the database."""
    if user is None or user.has_role(Role.MANAGER, Role.ANALYST):
        return InformationRequest.objects.all()
    return InformationRequest.objects.none()


def request_for(user: User, pk) -> InformationRequest:
    try:
        return visible_requests(user).select_related("enquiry", "agency").get(pk=int(pk))
    except (InformationRequest.DoesNotExist, TypeError, ValueError):
        raise NotVisible("No such information request.") from None


def answers_for(user: User, request: InformationRequest) -> bool:
    """Whether this person is a practitioner of the agency the request asked: who answers it,
    whatever its state."""
    return user.has_role(Role.PRACTITIONER) and request.agency_id == user.agency_id


def answer_refusal(user: User, request: InformationRequest) -> str | None:
    if not answers_for(user, request):
        return f"Only a practitioner of {request.agency} can answer this request."
    if request.status == InformationRequest.Status.WITHDRAWN:
        return (
            "The hub withdrew this request: it needs no answer. You can still add a record, "
            "and the hub is told."
        )
    if not request.is_open:
        return "This request has been answered already."
    return None


def add_record_refusal(user: User, request: InformationRequest) -> str | None:
    """The asked agency's practitioners add records while the request waits for its answer,
    and after the hub withdrew it: such a record is kept and marked, and reopens nothing
    (sharing.withdrawals)."""
    if request.status == InformationRequest.Status.WITHDRAWN:
        if user.has_role(Role.PRACTITIONER) and request.agency_id == user.agency_id:
            return None
    return answer_refusal(user, request)


def withdraw_refusal(user: User, request: InformationRequest) -> str | None:
    """Researchers and managers withdraw a request the hub sent (sharing.withdrawals); the
    agency's practitioners answer it, and nobody else touches it. Whether the request still
    waits for an answer is the service's business: this is who may."""
    if not user.has_role(*HUB_ROLES):
        return ONLY_THE_HUB_WITHDRAWS
    return None


ONLY_THE_HUB_WITHDRAWS = "Only researchers and managers withdraw information requests."


def may_read_withdrawal_reason(user: User, request: InformationRequest) -> bool:
    """Why the hub withdrew a request is for the hub and the agency it told; another agency's
    practitioners, who see on the enquiry that it was asked, learn no more than that."""
    return user.has_role(*HUB_ROLES) or (
        user.has_role(Role.PRACTITIONER) and request.agency_id == user.agency_id
    )


def send_refusal(user: User, enquiry: Enquiry) -> str | None:
    if not user.has_role(*HUB_ROLES):
        return "Only researchers and managers send information requests."
    if not enquiry.is_open:
        return "This enquiry is decided: no more information requests."
    return None


# Feedback to the referrer.

# The record's fields a quote is looked for in: what its reader sees of it, bar where it came
# from (a system's name, "Niche RMS", says nothing about the person).
QUOTABLE_FIELDS = ("summary", "detail", "conditions")
# How much of a long quote a refusal shows: enough to find it in the text.
QUOTE_SHOWN_WORDS = 12


@dataclass(frozen=True)
class Quotation:
    """A text repeating a record its writer may read: the record, and the words repeated."""

    record: ShownRecord
    words: tuple[str, ...]

    @property
    def message(self) -> str:
        words = " ".join(self.words[:QUOTE_SHOWN_WORDS])
        more = "…" if len(self.words) > QUOTE_SHOWN_WORDS else ""
        day = self.record.information_date
        return (
            f"This repeats {self.record.agency_name}'s information about "
            f"{self.record.person_name}, recorded on {day.day} {day:%B %Y} (“{words}{more}”): "
            "feedback to the referrer gives the outcome and next steps only."
        )


def quoted_record(user: User, enquiry: Enquiry, text: str) -> Quotation | None:
    """The first record on the enquiry that `text` repeats (sharing.quotes), among those whose
    content `user` may read; None if it repeats none.

    Feedback goes to the referrer, outside the hub (rule 5), so it may not quote a record. Only
    readable records are compared: a record's hidden content never reaches Python, and a guess
    at it is answered exactly as any other text, so the check cannot confirm what a record the
    writer may not read says. (They cannot have read it here; rule 5 is about what leaves.)"""
    said = quotes.words(text)
    readable = visible_records(user, enquiry=enquiry).filter(content_visible=True)
    for record in shown_records(readable):
        for field in QUOTABLE_FIELDS:
            repeated = quotes.repeated(said, getattr(record, field))
            if repeated:
                return Quotation(record=record, words=repeated)
    return None


# Domestic-abuse notifications (docs/domain.md 5.7): a police force's own information until
# one of its practitioners refers a notification into the hub, and the notification itself
# stays the force's after that; the hub works on the enquiry the referral made.


def _police_practitioner(user: User) -> bool:
    return user.has_role(Role.PRACTITIONER) and user.agency.kind == Agency.Kind.POLICE


def domestic_abuse_notifications(user: User) -> QuerySet[DomesticAbuseNotification]:
    """The notifications this person may see: their own force's, for a police practitioner;
    none for anyone else (the hub, analysts, auditors, other agencies, other forces)."""
    if not user.has_role(Role.PRACTITIONER):
        return DomesticAbuseNotification.objects.none()
    return DomesticAbuseNotification.objects.filter(
        agency_id=user.agency_id, agency__kind=Agency.Kind.POLICE
    )


def notification_for(user: User, pk) -> DomesticAbuseNotification:
    """One notification this person may see, or `NotVisible`: missing and not theirs alike."""
    try:
        return (
            domestic_abuse_notifications(user)
            .select_related("agency", "triaged_by", "enquiry")
            .get(pk=int(pk))
        )
    except (DomesticAbuseNotification.DoesNotExist, TypeError, ValueError):
        raise NotVisible("No such domestic-abuse notification.") from None


def triage_refusal(user: User, notification: DomesticAbuseNotification) -> str | None:
    """Practitioners of the force that sent it triage it (once: the service's business)."""
    if not (user.has_role(Role.PRACTITIONER) and notification.agency_id == user.agency_id):
        return f"Only a practitioner of {notification.agency} can triage this notification."
    return None


def receive_notifications_refusal(user: User) -> str | None:
    """A police force's practitioners load its notifications, and nobody else."""
    if not _police_practitioner(user):
        return "Only police practitioners receive domestic-abuse notifications."
    return None


def countable_notifications(user: User | None) -> QuerySet[DomesticAbuseNotification]:
    """Notifications a report may count, for managers and analysts (and the command line):
    counted by risk and outcome in the database, never read."""
    if user is None or user.has_role(Role.MANAGER, Role.ANALYST):
        return DomesticAbuseNotification.objects.all()
    return DomesticAbuseNotification.objects.none()
