"""Information sharing behind the firewall (docs/domain.md section 5).

A researcher asks each relevant agency what it holds (`InformationRequest`); the agency's
practitioner answers with `InformationRecord`s or "nothing held". A sensitive record's content
stays with its agency until one of its practitioners releases it for that enquiry
(`ReleaseDecision`), usually after someone asked (`ReleaseRequest`). Who may see or do what is
decided in one place only: `sharing.firewall`. Every look at sensitive content, and every
release, refusal, request for release and export, goes into the append-only access log
(`audit.AccessLogEntry`).
"""

from django.conf import settings
from django.db import models
from django.utils import timezone
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase

from agencies.models import Agency
from enquiries.models import Enquiry, Person


class SharingPolicy(models.Model):
    """The hub's sharing settings: one row, edited by an administrator."""

    request_due_percent = models.PositiveSmallIntegerField(
        default=75,
        help_text="An information request is due when this share of the enquiry's allowance "
        "has passed, so the answers arrive in time for the decision.",
    )
    chase_interval_minutes = models.PositiveIntegerField(
        default=60,
        help_text="After an overdue request is chased, wait this many minutes before chasing "
        "it again.",
    )
    lead_agency = models.ForeignKey(
        Agency,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="The agency that runs the hub: its information is the hub's own, so it is "
        "never sent an information request.",
    )
    # Bumped by every save, in its transaction: open requests' due times computed under an
    # older version are recomputed by the per-minute catch-up (sharing.timing).
    version = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        verbose_name = "sharing policy"
        verbose_name_plural = "sharing policy"

    def __str__(self) -> str:
        return "Sharing policy"

    def save(self, *args, **kwargs) -> None:
        if not self._state.adding:
            self.version = models.F("version") + 1
        super().save(*args, **kwargs)
        if not self._state.adding:
            self.refresh_from_db(fields=["version"])

    current_id = 1

    @classmethod
    def current(cls) -> "SharingPolicy":
        return cls.objects.get_or_create(pk=cls.current_id)[0]


class InformationRequest(models.Model):
    """One agency asked, for one enquiry, what it knows about the people concerned."""

    class Status(models.TextChoices):
        REQUESTED = "requested", "Requested"
        IN_PROGRESS = "in_progress", "In progress"
        ANSWERED = "answered", "Answered"
        NOTHING_HELD = "nothing_held", "Nothing held"
        WITHDRAWN = "withdrawn", "Withdrawn"

    OPEN_STATUSES = (Status.REQUESTED, Status.IN_PROGRESS)

    enquiry = models.ForeignKey(
        Enquiry, on_delete=models.PROTECT, related_name="information_requests"
    )
    agency = models.ForeignKey(
        Agency, on_delete=models.PROTECT, related_name="information_requests", db_index=False
    )
    question = models.TextField()
    people = models.ManyToManyField(Person, related_name="information_requests")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.REQUESTED)
    requested_at = models.DateTimeField()
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    due_at = models.DateTimeField()
    # The hub clock's and the sharing policy's versions `due_at` was computed under; an open
    # request behind either is recomputed by the per-minute catch-up (sharing.timing). 0 is
    # "unknown".
    clock_version = models.PositiveIntegerField(default=0)
    policy_version = models.PositiveIntegerField(default=0)
    answered_at = models.DateTimeField(null=True, blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    response_minutes = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="Working minutes from the request to the agency's answer, for its turnaround.",
    )
    last_chased_at = models.DateTimeField(null=True, blank=True)
    chase_count = models.PositiveIntegerField(default=0)
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    withdrawal_reason = models.TextField(blank=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["due_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["agency", "enquiry"],
                name="information_request_once_per_agency",
                violation_error_message="This agency has already been asked about this enquiry.",
            ),
        ]
        indexes = [
            models.Index(
                fields=["agency", "due_at", "id"],
                condition=models.Q(status__in=["requested", "in_progress"]),
                name="information_request_open",
            ),
            models.Index(
                fields=["agency", "-answered_at", "-id"],
                condition=models.Q(answered_at__isnull=False),
                name="information_request_answered",
            ),
            # The agency inbox's "withdrawn by the hub lately".
            models.Index(
                fields=["agency", "-withdrawn_at", "-id"],
                condition=models.Q(withdrawn_at__isnull=False),
                name="information_request_withdrawn",
            ),
            # The catch-up's and the status panel's "open and behind the clock or the policy".
            models.Index(
                fields=["clock_version"],
                condition=models.Q(status__in=["requested", "in_progress"]),
                name="request_open_clock_version",
            ),
            models.Index(
                fields=["policy_version"],
                condition=models.Q(status__in=["requested", "in_progress"]),
                name="request_open_policy_version",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.enquiry} to {self.agency}"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES


class Chaser(models.Model):
    """An overdue request chased: once per request per chase interval, whoever runs the task."""

    request = models.ForeignKey(
        InformationRequest, on_delete=models.CASCADE, related_name="chasers"
    )
    chased_at = models.DateTimeField()

    class Meta:
        ordering = ["chased_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["request", "chased_at"], name="chaser_once_a_minute"),
        ]

    def __str__(self) -> str:
        return f"{self.request} chased at {self.chased_at:%Y-%m-%d %H:%M}"


class Sensitivity(models.TextChoices):
    NON_SENSITIVE = "non_sensitive", "Non-sensitive"
    SENSITIVE = "sensitive", "Sensitive"


class ReleaseStatus(models.TextChoices):
    """Where a sensitive record stands with its owning agency. Non-sensitive records stay at
    NOT_REQUESTED: they never need releasing."""

    NOT_REQUESTED = "not_requested", "Not requested"
    REQUESTED = "requested", "Release requested"
    RELEASED = "released", "Released"
    REFUSED = "refused", "Release refused"


class LawfulBasis(models.TextChoices):
    """The bases a practitioner may name when releasing (UK GDPR, DPA 2018, safeguarding law)."""

    PUBLIC_TASK_SAFEGUARDING = (
        "public_task_safeguarding",
        "UK GDPR Art. 6(1)(e) and 9(2)(g) with DPA 2018 Sch. 1 para. 18 (safeguarding)",
    )
    CHILDREN_ACT_1989_S47 = "children_act_1989_s47", "Children Act 1989, s.47 enquiries"
    CHILDREN_ACT_2004_S11 = "children_act_2004_s11", "Children Act 2004, s.11 duty to safeguard"
    CARE_ACT_2014_S42 = "care_act_2014_s42", "Care Act 2014, s.42 adult safeguarding enquiry"
    CRIME_AND_DISORDER_S115 = "crime_and_disorder_s115", "Crime and Disorder Act 1998, s.115"
    VITAL_INTERESTS = "vital_interests", "UK GDPR Art. 6(1)(d) vital interests"
    CONSENT = "consent", "Consent of the person concerned"


class InformationRecord(models.Model):
    """What one agency holds about one person in the enquiry, as its practitioner gave it.

    `enquiry` and `agency` repeat the request's so the firewall can filter in one join."""

    request = models.ForeignKey(
        InformationRequest, on_delete=models.PROTECT, related_name="records"
    )
    enquiry = models.ForeignKey(
        Enquiry, on_delete=models.PROTECT, related_name="information_records"
    )
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="information_records")
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="information_records")
    summary = models.CharField(max_length=200)
    detail = models.TextField()
    source_system = models.CharField(max_length=100)
    information_date = models.DateField(help_text="When the agency recorded the information.")
    sensitivity = models.CharField(max_length=16, choices=Sensitivity.choices)
    release_status = models.CharField(
        max_length=16, choices=ReleaseStatus.choices, default=ReleaseStatus.NOT_REQUESTED
    )
    conditions = models.TextField(
        blank=True, help_text="The owning agency's conditions on use, shown with the content."
    )
    recorded_at = models.DateTimeField(default=timezone.now)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    added_after_withdrawal = models.BooleanField(
        default=False,
        help_text="Added after the hub withdrew the request: kept and logged, reopens nothing.",
    )
    first_read_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When someone outside the owning agency first saw its content. After that a "
        "correction or withdrawal needs a reason, and the hub is told.",
    )
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    withdrawal_reason = models.TextField(blank=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["agency__name", "recorded_at", "id"]
        permissions = [
            ("view_content", "May read the content of this information record"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(sensitivity="sensitive")
                | models.Q(release_status="not_requested"),
                name="information_record_only_sensitive_released",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.agency} record {self.pk} on {self.enquiry}"

    @property
    def is_sensitive(self) -> bool:
        return self.sensitivity == Sensitivity.SENSITIVE


class RecordRevision(models.Model):
    """A practitioner's correction or withdrawal of their agency's record, with what it said
    before: as sensitive as the record itself, so only the owning agency reads `previous`."""

    class Kind(models.TextChoices):
        CORRECTED = "corrected", "Corrected"
        WITHDRAWN = "withdrawn", "Withdrawn"

    record = models.ForeignKey(
        InformationRecord, on_delete=models.PROTECT, related_name="revisions"
    )
    kind = models.CharField(max_length=16, choices=Kind.choices)
    revised_at = models.DateTimeField()
    revised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    reason = models.TextField(blank=True)
    after_read = models.BooleanField(
        help_text="Made after someone outside the agency had read it: the hub was told."
    )
    previous = models.JSONField(help_text="The record's fields as they were before.")
    version = models.PositiveIntegerField(help_text="The record's version this revision made.")

    class Meta:
        ordering = ["revised_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(after_read=False) | ~models.Q(reason=""),
                name="record_revision_after_read_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.record}"


class RecordUserObjectPermission(UserObjectPermissionBase):
    """Direct foreign keys, so the firewall's grant check is a join, not a text match."""

    content_object = models.ForeignKey(InformationRecord, on_delete=models.CASCADE)


class RecordGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(InformationRecord, on_delete=models.CASCADE)


class ReleaseRequest(models.Model):
    """Someone working on the enquiry asks the owning agency to release a sensitive record."""

    record = models.ForeignKey(
        InformationRecord, on_delete=models.PROTECT, related_name="release_requests"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField()
    reason = models.TextField()

    class Meta:
        ordering = ["requested_at", "id"]

    def __str__(self) -> str:
        return f"Release of {self.record} requested by {self.requested_by}"


class ReleaseDecision(models.Model):
    """The owning agency's answer: release (to the hub, for this enquiry only) or refusal."""

    class Decision(models.TextChoices):
        RELEASED = "released", "Released"
        REFUSED = "refused", "Refused"

    record = models.ForeignKey(
        InformationRecord, on_delete=models.PROTECT, related_name="decisions"
    )
    release_request = models.ForeignKey(
        ReleaseRequest,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="decisions",
        help_text="The request it answers; empty when the agency released unasked.",
    )
    decision = models.CharField(max_length=16, choices=Decision.choices)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField()
    reason = models.TextField()
    necessary_and_proportionate = models.BooleanField(default=False)
    lawful_basis = models.CharField(max_length=32, choices=LawfulBasis.choices, blank=True)
    conditions = models.TextField(blank=True)

    class Meta:
        ordering = ["decided_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["record"],
                condition=models.Q(decision="released"),
                name="release_decision_released_once",
            ),
            models.CheckConstraint(
                condition=models.Q(decision="refused")
                | (models.Q(necessary_and_proportionate=True) & ~models.Q(lawful_basis="")),
                name="release_decision_release_is_justified",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_decision_display()}: {self.record}"


class DomesticAbuseNotification(models.Model):
    """A police force's notification of a domestic-abuse incident, triaged by the force's own
    practitioners before anything reaches the hub (seed 004 sections 16-17; docs/domain.md 5.7).

    Police information behind the firewall: only the force's practitioners see it
    (`sharing.firewall.domestic_abuse_notifications`). Referring it makes a hub enquiry with
    its people and concern (`sharing.domestic_abuse.triage`); the notification stays police-only.
    `people` is a list of {"part", "first_name", "last_name", "date_of_birth"} (ISO date or
    null), parts from `Part`."""

    class Status(models.TextChoices):
        NEW = "new", "New"
        REFERRED = "referred", "Referred to the hub"
        NO_FURTHER_ACTION = "nfa", "No further action"

    class RiskLevel(models.TextChoices):
        """As the DASH risk checklist grades it."""

        STANDARD = "standard", "Standard"
        MEDIUM = "medium", "Medium"
        HIGH = "high", "High"

    class Part(models.TextChoices):
        VICTIM = "victim", "Victim"
        ALLEGED_PERPETRATOR = "alleged_perpetrator", "Alleged perpetrator"
        CHILD = "child", "Child in the household"

    agency = models.ForeignKey(
        Agency, on_delete=models.PROTECT, related_name="domestic_abuse_notifications"
    )
    police_reference = models.CharField(max_length=50)
    incident_at = models.DateTimeField()
    received_at = models.DateTimeField(help_text="When the notification reached mash.")
    address = models.CharField(max_length=300, blank=True)
    people = models.JSONField(default=list)
    summary = models.TextField(help_text="What happened, as the police recorded it.")
    consent = models.CharField(
        max_length=16,
        choices=Enquiry.Consent.choices,
        default=Enquiry.Consent.NOT_SOUGHT,
        help_text="Whether the victim agreed to the information being shared, as police "
        "recorded it.",
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.NEW)
    risk_level = models.CharField(max_length=16, choices=RiskLevel.choices, blank=True)
    triaged_at = models.DateTimeField(null=True, blank=True)
    triaged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    triage_minutes = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="Working minutes from receipt to triage, for the report.",
    )
    rationale = models.TextField(blank=True)
    enquiry = models.ForeignKey(
        Enquiry,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="domestic_abuse_notifications",
        help_text="The hub enquiry it was referred as (its first, for a family).",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["received_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["agency", "police_reference"],
                name="domestic_abuse_notification_reference_once",
                violation_error_message="This force has already sent a notification with this "
                "reference.",
            ),
            models.CheckConstraint(
                condition=models.Q(status="new")
                | (~models.Q(risk_level="") & models.Q(triaged_at__isnull=False)),
                name="domestic_abuse_notification_triaged_with_risk",
            ),
            models.CheckConstraint(
                condition=~models.Q(status="nfa") | ~models.Q(rationale=""),
                name="domestic_abuse_notification_nfa_has_rationale",
            ),
            models.CheckConstraint(
                condition=models.Q(status="referred", enquiry__isnull=False)
                | (~models.Q(status="referred") & models.Q(enquiry__isnull=True)),
                name="domestic_abuse_notification_referred_has_enquiry",
            ),
        ]
        indexes = [
            # The police queue: new first, oldest first.
            models.Index(
                fields=["agency", "status", "received_at", "id"],
                name="da_notification_queue",
            ),
            # The report: received in a period.
            models.Index(fields=["received_at"], name="da_notification_received"),
        ]

    def __str__(self) -> str:
        return f"{self.agency} domestic-abuse notification {self.police_reference}"

    def named(self, part: str) -> list[dict]:
        return [person for person in self.people if person.get("part") == part]

    @property
    def victim_name(self) -> str:
        victims = self.named(self.Part.VICTIM)
        return _full_name(victims[0]) if victims else ""

    @property
    def children_count(self) -> int:
        return len(self.named(self.Part.CHILD))


def _full_name(person: dict) -> str:
    return f"{person.get('first_name', '')} {person.get('last_name', '')}".strip()
