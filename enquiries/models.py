"""Enquiries and the hub's clock.

An enquiry is one concern about one subject (docs/domain.md section 4); enquiries received together
about one household form a family enquiry. Their history is append-only `EnquiryEvent` rows.

The clock is data edited by administrators: one `HubClock` row holds the zone, bank
holidays and at-risk threshold; opening hours, closure days and the allowance of each RAG
rating hang off it. Every change bumps `HubClock.version`, which is how running processes know
to rebuild their cached calendar.
"""

from collections.abc import Iterable
from datetime import time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Value
from django.db.models.functions import Concat, Lower
from django.urls import reverse
from django.utils import timezone

from core.append_only import AppendOnlyModel

from . import worktime

HUB_CLOCK_ID = 1


class Rag(models.TextChoices):
    """The urgency rating of an enquiry; "none" is an enquiry not (yet) rated."""

    RED = "red", "Red"
    AMBER = "amber", "Amber"
    GREEN = "green", "Green"
    NONE = "none", "No RAG"


class Weekday(models.IntegerChoices):
    MONDAY = 0, "Monday"
    TUESDAY = 1, "Tuesday"
    WEDNESDAY = 2, "Wednesday"
    THURSDAY = 3, "Thursday"
    FRIDAY = 4, "Friday"
    SATURDAY = 5, "Saturday"
    SUNDAY = 6, "Sunday"


def validate_time_zone(name: str) -> None:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise ValidationError(
            "%(name)s is not a time zone name; use one like Europe/London.", params={"name": name}
        ) from error


def _minute_of_day(moment: time) -> int:
    return moment.hour * 60 + moment.minute


class HubClock(models.Model):
    """The hub's working calendar and RAG policy settings (a single row)."""

    class BankHolidays(models.TextChoices):
        ENGLAND_AND_WALES = "england-and-wales", "England and Wales"
        SCOTLAND = "scotland", "Scotland"
        NORTHERN_IRELAND = "northern-ireland", "Northern Ireland"
        NONE = "none", "None: the hub works on bank holidays"

    time_zone = models.CharField(
        max_length=64,
        default="Europe/London",
        validators=[validate_time_zone],
        help_text="Opening hours are wall-clock times in this zone.",
    )
    bank_holidays = models.CharField(
        max_length=32,
        choices=BankHolidays.choices,
        default=BankHolidays.ENGLAND_AND_WALES,
        help_text="Whose bank holidays close the hub.",
    )
    at_risk_percent = models.PositiveSmallIntegerField(
        "at risk from (% of allowance)",
        default=75,
        validators=[MinValueValidator(1), MaxValueValidator(100)],
        help_text="An open enquiry is at risk once it has used this share of its allowance.",
    )
    version = models.PositiveIntegerField(default=1, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "hub clock"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(id=HUB_CLOCK_ID), name="hub_clock_single_row"
            ),
            models.CheckConstraint(
                condition=models.Q(at_risk_percent__gte=1, at_risk_percent__lte=100),
                name="hub_clock_at_risk_percent_range",
            ),
        ]

    def __str__(self) -> str:
        return "Working calendar and RAG policy"

    def save(self, *args, **kwargs) -> None:
        self.pk = HUB_CLOCK_ID
        if not self._state.adding:
            self.version = F("version") + 1
        super().save(*args, **kwargs)
        self.refresh_from_db(fields=["version"])

    @staticmethod
    def changed() -> None:
        """Mark the configuration as changed, so every process rebuilds its calendar."""
        HubClock.objects.filter(pk=HUB_CLOCK_ID).update(version=F("version") + 1)


class HubClockPart(models.Model):
    """A row that belongs to the hub clock: saving or deleting it changes the clock."""

    hub_clock = models.ForeignKey(HubClock, on_delete=models.CASCADE, default=HUB_CLOCK_ID)

    class Meta:
        abstract = True

    def save(self, *args, **kwargs) -> None:
        super().save(*args, **kwargs)
        HubClock.changed()

    def delete(self, *args, **kwargs):
        result = super().delete(*args, **kwargs)
        HubClock.changed()
        return result


class OpeningHours(HubClockPart):
    """One opening interval on a weekday; a weekday may have several, or none (closed)."""

    weekday = models.PositiveSmallIntegerField(choices=Weekday.choices)
    opens = models.TimeField()
    closes = models.TimeField(help_text="00:00 means midnight at the end of the day.")

    class Meta:
        verbose_name = "opening hours"
        verbose_name_plural = "opening hours"
        ordering = ["weekday", "opens"]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.opens:%H:%M}-{self.closes:%H:%M}"

    @property
    def interval(self) -> tuple[int, int]:
        """Minutes since local midnight, with a 00:00 close meaning 24:00."""
        closes = _minute_of_day(self.closes) or worktime.MINUTES_PER_DAY
        return _minute_of_day(self.opens), closes

    def clean(self) -> None:
        if self.opens is not None and self.closes is not None:
            opens, closes = self.interval
            if opens >= closes:
                raise ValidationError({"closes": "The hub must close after it opens."})


def opening_week(rows: Iterable[OpeningHours]) -> worktime.Week:
    """Opening-hours rows as the clock's week: seven days, Monday first, intervals in order."""
    week: list[list[tuple[int, int]]] = [[] for _ in range(7)]
    for hours in rows:
        week[hours.weekday].append(hours.interval)
    return tuple(tuple(sorted(day)) for day in week)


class ClosureDay(HubClockPart):
    """A date the whole hub is closed beyond the bank holidays (a training day, say)."""

    date = models.DateField(unique=True)
    reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["date"]

    def __str__(self) -> str:
        return f"{self.date:%-d %B %Y}"

    def clean(self) -> None:
        if self.date and not worktime.MIN_YEAR <= self.date.year <= worktime.MAX_YEAR:
            raise ValidationError(
                {
                    "date": (
                        f"The clock covers {worktime.MIN_YEAR} to {worktime.MAX_YEAR}; "
                        "choose a date in those years."
                    )
                }
            )


class RagAllowance(HubClockPart):
    """How long a manager's decision may take for a rating, and which clock measures it."""

    class Clock(models.TextChoices):
        WORKING = "working", "Working minutes (hub calendar)"
        CONTINUOUS = "continuous", "Continuous (every minute, 24/7)"

    rating = models.CharField(max_length=8, choices=Rag.choices, unique=True)
    minutes = models.PositiveIntegerField(
        validators=[MinValueValidator(1)],
        help_text="From receipt to the manager's decision.",
    )
    clock = models.CharField(max_length=16, choices=Clock.choices, default=Clock.WORKING)

    class Meta:
        verbose_name = "RAG allowance"
        ordering = ["minutes", "rating"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(minutes__gte=1), name="rag_allowance_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_rating_display()}: {self.minutes} minutes"


POSITION_HELP = "Where it is offered in the list: lower numbers first; the same number, by name."


class ReferrerType(models.Model):
    """Who made the referral (police, school, GP...): a list the hub can extend."""

    code = models.SlugField(max_length=32, unique=True)
    name = models.CharField(max_length=100)
    is_active = models.BooleanField(default=True)
    position = models.PositiveSmallIntegerField(default=0, help_text=POSITION_HELP)

    class Meta:
        ordering = ["position", "name"]

    def __str__(self) -> str:
        return self.name


class OutcomeQuerySet(models.QuerySet):
    def fitting(self, subject_type: str) -> "OutcomeQuerySet":
        """The outcomes an enquiry about this kind of subject (child or adult) can have."""
        return self.filter(fits__in=[Outcome.Fits.ANY, subject_type])


class Outcome(models.Model):
    """A manager's decision on an enquiry (docs/domain.md section 6): a list the hub can extend.

    Some outcomes only make sense for one kind of subject: a child is not referred to adult
    social care, nor an adult to a child protection enquiry.
    """

    class Fits(models.TextChoices):
        ANY = "any", "Children and adults"
        CHILD = "child", "Children only"
        ADULT = "adult", "Adults at risk only"

    code = models.SlugField(max_length=32, unique=True)
    name = models.CharField(max_length=200)
    leads_to_referral = models.BooleanField(
        default=False, help_text="Counts as 'leading to referral' in the volumes report."
    )
    fits = models.CharField(
        max_length=8,
        choices=Fits.choices,
        default=Fits.ANY,
        help_text="Whether a decision on a child, an adult at risk or either may record it.",
    )
    is_active = models.BooleanField(default=True)
    position = models.PositiveSmallIntegerField(default=0, help_text=POSITION_HELP)

    objects = OutcomeQuerySet.as_manager()

    class Meta:
        ordering = ["position", "name"]

    def __str__(self) -> str:
        return self.name


class Person(models.Model):
    """Someone in the hub's person register, shared by every enquiry they appear in."""

    first_name = models.CharField(max_length=100)
    last_name = models.CharField(max_length=100)
    date_of_birth = models.DateField(null=True, blank=True)
    approximate_age = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="When the date of birth is not known."
    )
    address = models.TextField(blank=True)
    nhs_number = models.CharField("NHS number", max_length=10, blank=True, db_index=True)
    search_name = models.GeneratedField(
        expression=Lower(Concat("first_name", Value(" "), "last_name")),
        output_field=models.CharField(max_length=201),
        db_persist=True,
        help_text="Lower-case full name; trigram-indexed on PostgreSQL for the duplicate check.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    version = models.PositiveIntegerField(default=1)
    merged_into = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="merged_people",
        help_text="The person this one was found to be; set by a merge, cleared by its undo.",
    )

    class Meta:
        verbose_name_plural = "people"
        ordering = ["last_name", "first_name"]
        indexes = [
            models.Index(fields=["last_name", "first_name"]),
            models.Index(fields=["date_of_birth"], name="person_date_of_birth"),
        ]

    def __str__(self) -> str:
        return f"{self.first_name} {self.last_name}"

    def get_absolute_url(self) -> str:
        return reverse("person-detail", args=[self.pk])


class PersonAlias(models.Model):
    """Another name a person is known by, or a name they had before: found by people search
    as their own name is."""

    class Kind(models.TextChoices):
        ALIAS = "alias", "Also known as"
        PREVIOUS_NAME = "previous_name", "Previous name"
        MERGED = "merged", "Name on a merged record"

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="aliases")
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.ALIAS)
    first_name = models.CharField(max_length=100, blank=True)
    last_name = models.CharField(max_length=100)
    search_name = models.GeneratedField(
        expression=Lower(Concat("first_name", Value(" "), "last_name")),
        output_field=models.CharField(max_length=201),
        db_persist=True,
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "person aliases"
        ordering = ["kind", "last_name", "first_name", "id"]

    def __str__(self) -> str:
        return " ".join(part for part in (self.first_name, self.last_name) if part)


class PersonMerge(models.Model):
    """Two register entries found to be one person: what moved to the survivor, so the merge
    can be undone exactly (docs/domain.md section 4.7)."""

    survivor = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="merges_kept")
    merged = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="merges_into")
    reason = models.TextField()
    merged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    merged_at = models.DateTimeField()
    moved = models.JSONField(
        default=dict, help_text="The ids of the parts, subjects and aliases moved to the survivor."
    )
    undone_at = models.DateTimeField(null=True, blank=True)
    undone_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    undo_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["-merged_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(survivor=models.F("merged")), name="person_merge_two_people"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.merged_id} into {self.survivor_id}"


class FamilyEnquiry(models.Model):
    """Enquiries received together about the children of one household; a single child's
    enquiry is a family of one. Completed when its last enquiry is decided."""

    reference = models.CharField(max_length=32, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "family enquiries"

    def __str__(self) -> str:
        return self.reference


class ReferenceCounter(models.Model):
    """The last reference number given out each year; rows are locked while one is taken, so
    references have neither gaps nor duplicates."""

    year = models.PositiveSmallIntegerField(primary_key=True)
    last_number = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.year}: {self.last_number}"


class LawfulBasis(models.TextChoices):
    """What allows the hub to share information about the enquiry without consent
    (docs/domain.md section 4.2): recorded beside the consent answer and its reason."""

    CHILDREN_ACT_1989_S47 = (
        "children_act_1989_s47",
        "Children Act 1989, s.47: a child may be suffering significant harm",
    )
    CHILDREN_ACT_1989_S17 = "children_act_1989_s17", "Children Act 1989, s.17: a child in need"
    CHILDREN_ACT_2004_S11 = (
        "children_act_2004_s11",
        "Children Act 2004, s.10 and s.11: co-operation and the duty to safeguard",
    )
    CARE_ACT_2014_S42 = "care_act_2014_s42", "Care Act 2014, s.42 and s.45: adult safeguarding"
    CRIME_AND_DISORDER_S115 = (
        "crime_and_disorder_s115",
        "Crime and Disorder Act 1998, s.115: preventing crime",
    )
    PUBLIC_TASK_SAFEGUARDING = (
        "public_task_safeguarding",
        "UK GDPR Art. 6(1)(e) and 9(2)(g), DPA 2018 Sch. 1 para. 18: safeguarding",
    )
    VITAL_INTERESTS = "vital_interests", "UK GDPR Art. 6(1)(d): vital interests"


class Enquiry(models.Model):
    """One concern about one subject, from receipt at the front door to feedback."""

    class State(models.TextChoices):
        RECEIVED = "received", "Received"
        SCREENING = "screening", "Screening"
        RESEARCHING = "researching", "Researching"
        AWAITING_DECISION = "awaiting_decision", "Awaiting decision"
        DECIDED = "decided", "Decided"
        CLOSED = "closed", "Closed"

    class SubjectType(models.TextChoices):
        CHILD = "child", "Child"
        ADULT = "adult", "Adult at risk"

    class Consent(models.TextChoices):
        YES = "yes", "Yes"
        NO = "no", "No"
        NOT_SOUGHT = "not_sought", "Not sought"

    class Concern(models.TextChoices):
        NEGLECT = "neglect", "Neglect"
        PHYSICAL_ABUSE = "physical_abuse", "Physical abuse"
        SEXUAL_ABUSE = "sexual_abuse", "Sexual abuse"
        EMOTIONAL_ABUSE = "emotional_abuse", "Emotional abuse"
        CSE = "cse", "Child sexual exploitation"
        DOMESTIC_ABUSE = "domestic_abuse", "Domestic abuse"
        FGM = "fgm", "Female genital mutilation"
        MISSING = "missing", "Missing"
        MENTAL_HEALTH = "mental_health", "Mental health"
        SUBSTANCE_MISUSE = "substance_misuse", "Substance misuse"
        RADICALISATION = "radicalisation", "Radicalisation"
        OTHER = "other", "Other"

    OPEN_STATES = (
        State.RECEIVED,
        State.SCREENING,
        State.RESEARCHING,
        State.AWAITING_DECISION,
    )

    reference = models.CharField(max_length=32, unique=True)
    family = models.ForeignKey(FamilyEnquiry, on_delete=models.PROTECT, related_name="enquiries")
    received_at = models.DateTimeField()
    referrer_name = models.CharField(max_length=200)
    referrer_organisation = models.CharField(max_length=200, blank=True)
    referrer_type = models.ForeignKey(ReferrerType, on_delete=models.PROTECT)
    referrer_contact = models.CharField(
        max_length=200, blank=True, help_text="Telephone or email, for feedback on the outcome."
    )
    subject = models.ForeignKey(
        Person,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="subject_of",
        help_text="Empty only on enquiries imported from a system that did not send people.",
    )
    subject_type = models.CharField(max_length=8, choices=SubjectType.choices)
    categories = models.JSONField(default=list, help_text="Categories of concern.")
    concern = models.TextField(help_text="The concern as the referrer told it.")
    consent = models.CharField(max_length=16, choices=Consent.choices)
    consent_reason = models.TextField(
        blank=True, help_text="Why the hub proceeds without consent to share."
    )
    lawful_basis = models.CharField(
        max_length=32,
        choices=LawfulBasis.choices,
        blank=True,
        help_text="The law the hub shares under without consent; empty only on older records.",
    )

    state = models.CharField(max_length=20, choices=State.choices, default=State.RECEIVED)
    rating = models.CharField(max_length=8, choices=Rag.choices, default=Rag.NONE)
    rating_rationale = models.TextField(blank=True)
    allowance_minutes = models.PositiveIntegerField()
    deadline = models.DateTimeField(db_index=True)
    at_risk_from = models.DateTimeField()
    breached_from = models.DateTimeField()
    # The `HubClock.version` the four timing fields above were computed under: an open enquiry
    # behind the clock's version is recomputed by the per-minute catch-up (enquiries.timing),
    # so a recompute cut short heals itself. 0 is "unknown": computed by no known clock.
    timing_version = models.PositiveIntegerField(
        default=0, help_text="The hub clock's version its deadline was computed under."
    )
    escalated_at = models.DateTimeField(null=True, blank=True)
    # A manager taking the escalation on stops its repeats (enquiries.escalations); escalating
    # again clears both, so each escalation is acknowledged afresh.
    escalation_acknowledged_at = models.DateTimeField(
        null=True, blank=True, help_text="When a manager acknowledged the escalation."
    )
    escalation_acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,  # nothing looks enquiries up by who acknowledged them
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="assigned_enquiries",
    )

    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="decided_enquiries",
    )
    outcome = models.ForeignKey(Outcome, on_delete=models.PROTECT, null=True, blank=True)
    decision_rationale = models.TextField(blank=True)
    elapsed_minutes = models.PositiveIntegerField(
        null=True, blank=True, help_text="Minutes from receipt to decision on the rating's clock."
    )
    decided_on_time = models.BooleanField(null=True, blank=True)

    feedback_at = models.DateTimeField(null=True, blank=True)
    feedback_method = models.CharField(max_length=100, blank=True)
    feedback_text = models.TextField(blank=True)
    feedback_minutes = models.PositiveIntegerField(
        null=True, blank=True, help_text="Working minutes from the decision to the feedback."
    )

    imported_at = models.DateTimeField(
        null=True, blank=True, help_text="When this enquiry came from the hub's previous system."
    )
    version = models.PositiveIntegerField(default=1)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "enquiries"
        ordering = ["deadline"]
        indexes = [
            models.Index(fields=["state", "deadline"]),
            # Reports select by when enquiries arrived and when they were decided.
            models.Index(fields=["received_at"], name="enquiry_received_at"),
            models.Index(fields=["decided_at"], name="enquiry_decided_at"),
            # The catch-up's and the status panel's "open and behind the clock" (enquiries.timing).
            models.Index(
                fields=["timing_version"],
                condition=models.Q(
                    state__in=["received", "screening", "researching", "awaiting_decision"]
                ),
                name="enquiry_open_timing_version",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(decided_at__isnull=True)
                | models.Q(decided_at__gte=models.F("received_at")),
                name="enquiry_decided_after_received",
            ),
            models.CheckConstraint(
                condition=models.Q(state__in=["decided", "closed"], decided_at__isnull=False)
                | models.Q(~models.Q(state__in=["decided", "closed"]), decided_at__isnull=True),
                name="enquiry_decided_state_has_decision_time",
            ),
            models.CheckConstraint(
                condition=models.Q(
                    escalation_acknowledged_at__isnull=True,
                    escalation_acknowledged_by__isnull=True,
                )
                | models.Q(
                    escalation_acknowledged_at__isnull=False,
                    escalation_acknowledged_by__isnull=False,
                    escalated_at__isnull=False,
                ),
                name="enquiry_escalation_acknowledged_whole",
            ),
        ]

    def __str__(self) -> str:
        return self.reference

    def get_absolute_url(self) -> str:
        return reverse("enquiry-detail", args=[self.reference])

    @property
    def is_open(self) -> bool:
        return self.state in self.OPEN_STATES

    NO_SUBJECT = "No subject recorded (imported)"

    @property
    def subject_name(self) -> str:
        """Who the enquiry is about, as pages name them: enquiries imported from a system
        that sent no people have nobody."""
        return str(self.subject) if self.subject_id else self.NO_SUBJECT


class EnquiryPerson(models.Model):
    """A person's part in an enquiry."""

    class Role(models.TextChoices):
        SUBJECT = "subject", "Subject"
        PARENT_CARER = "parent_carer", "Parent or carer"
        SIBLING = "sibling", "Sibling"
        HOUSEHOLD_MEMBER = "household_member", "Household member"
        ALLEGED_PERPETRATOR = "alleged_perpetrator", "Alleged perpetrator"
        OTHER = "other", "Other"

    enquiry = models.ForeignKey(Enquiry, on_delete=models.CASCADE, related_name="involvements")
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="involvements")
    role = models.CharField(max_length=24, choices=Role.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["enquiry", "person", "role"], name="enquiry_person_role_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.person} ({self.get_role_display()}) in {self.enquiry}"


class OpenEnquiryName(models.Model):
    """The `search_name` of each person in an open enquiry, one row per `EnquiryPerson`, so
    the triage queue's name search reads one small trigram index rather than every open
    enquiry's people one by one (at 1,000,000 enquiries, 20,202 open: 6 ms, from 134 ms).

    PostgreSQL only, and written by nobody but its triggers (migration 0026): they follow
    every insert, delete and relink of an enquiry's people, every change of a person's name
    and every enquiry opened or closed, COPYs included. The demo's SQLite database leaves it
    empty and searches the old way (`enquiries.selectors.narrowed`).
    """

    involvement = models.OneToOneField(
        EnquiryPerson,
        primary_key=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    enquiry = models.ForeignKey(
        Enquiry, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    search_name = models.CharField(max_length=201)

    def __str__(self) -> str:
        return self.search_name


class EnquiryEvent(models.Model):
    """One line of an enquiry's history: never edited, never deleted."""

    class Kind(models.TextChoices):
        RECEIVED = "received", "Received"
        STATE = "state", "State changed"
        RATING = "rating", "RAG rating changed"
        ASSIGNEE = "assignee", "Assigned"
        ESCALATED = "escalated", "Escalated for immediate protection"
        ESCALATION_ACKNOWLEDGED = "escalation_acknowledged", "Escalation acknowledged"
        DECISION = "decision", "Decision recorded"
        FEEDBACK = "feedback", "Feedback sent to the referrer"
        PERSON_CORRECTED = "person_corrected", "Person's details corrected"
        PERSON_ADDED = "person_added", "Person added"
        PERSON_REMOVED = "person_removed", "Person removed (added in error)"
        CHILD_ADDED = "child_added", "Child added to the family enquiry"
        REFERRAL_CORRECTED = "referral_corrected", "Referral corrected"
        PEOPLE_MERGED = "people_merged", "People merged"
        MERGE_UNDONE = "merge_undone", "Merge of people undone"
        REFERRED_ON = "referred_on", "Referred on"
        REFERRAL_ANSWERED = "referral_answered", "Receiving team answered the referral"

    enquiry = models.ForeignKey(Enquiry, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=32, choices=Kind.choices)
    at = models.DateTimeField()
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    from_value = models.CharField(max_length=200, blank=True)
    to_value = models.CharField(max_length=200, blank=True)
    rationale = models.TextField(blank=True)
    version = models.PositiveIntegerField(help_text="The enquiry's version this change made.")
    person = models.ForeignKey(
        Person,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="Whom an amendment was about, if anyone.",
    )
    changes = models.JSONField(
        default=list,
        blank=True,
        help_text="An amendment's fields, each [label, before, after].",
    )

    class Meta:
        # Versions order the changes even when a late entry back-dates `at`.
        ordering = ["version", "id"]
        indexes = [models.Index(fields=["enquiry", "version"])]

    def __str__(self) -> str:
        return f"{self.enquiry}: {self.get_kind_display()}"


class SlaEvent(models.Model):
    """An open enquiry crossed a threshold of its clock: recorded once per enquiry and kind.

    The unique constraint, not the scan's care, is what makes "once" hold when several workers
    scan at the same minute. `occurred_at` is the threshold minute under the clock in force
    when it was recorded; the rating and deadline are as they stood then.
    """

    class Kind(models.TextChoices):
        AT_RISK = "at_risk", "At risk"
        BREACHED = "breached", "Breached"

    # The unique constraint's index starts with the enquiry, so the foreign key needs no other.
    enquiry = models.ForeignKey(
        Enquiry, on_delete=models.CASCADE, related_name="sla_events", db_index=False
    )
    kind = models.CharField(max_length=16, choices=Kind.choices)
    occurred_at = models.DateTimeField(help_text="The minute the enquiry crossed the threshold.")
    recorded_at = models.DateTimeField(help_text="When the scan noticed it.")
    rating = models.CharField(max_length=8, choices=Rag.choices)
    deadline = models.DateTimeField()

    class Meta:
        verbose_name = "SLA event"
        ordering = ["occurred_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["enquiry", "kind"], name="sla_event_once_per_kind"),
        ]

    def __str__(self) -> str:
        return f"{self.enquiry}: {self.get_kind_display()}"


class EscalationPolicy(models.Model):
    """How an escalation no manager has acknowledged is sent again (docs/domain.md 4.10): one
    row, edited by an administrator, with its ordered `contacts`."""

    repeat_minutes = models.PositiveIntegerField(
        default=15,
        validators=[MinValueValidator(1)],
        help_text="An escalation no manager has acknowledged goes again to the next manager "
        "after this many minutes, at any hour: escalations do not wait for opening hours.",
    )
    # Bumped by every save, so a change checked on the hub settings pages is refused if someone
    # else saved the policy after the check (enquiries.clock_settings).
    version = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        verbose_name = "escalation policy"
        verbose_name_plural = "escalation policy"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(repeat_minutes__gte=1), name="escalation_repeat_minutes_positive"
            ),
        ]

    def __str__(self) -> str:
        return "Escalation policy"

    def save(self, *args, **kwargs) -> None:
        if not self._state.adding:
            self.version = F("version") + 1
        super().save(*args, **kwargs)
        if not self._state.adding:
            self.refresh_from_db(fields=["version"])

    @classmethod
    def current(cls) -> "EscalationPolicy":
        return cls.objects.get_or_create(pk=1)[0]


class EscalationContact(models.Model):
    """A manager in the order an unacknowledged escalation is repeated in; with nobody listed,
    every active manager is, by name."""

    policy = models.ForeignKey(EscalationPolicy, on_delete=models.CASCADE, related_name="contacts")
    manager = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    position = models.PositiveSmallIntegerField(default=1, help_text="The lowest is told first.")

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["policy", "manager"], name="escalation_contact_once"),
        ]

    def __str__(self) -> str:
        return f"{self.position}. {self.manager}"


class EscalationRepeat(models.Model):
    """An escalation no manager had acknowledged, sent again to one manager.

    Once per escalation (its `escalated_at`), round and manager: the unique constraint, not the
    job's care, is what keeps anyone from being told twice in one round when two workers run
    at the same minute. A round is one pass down the order; the next starts when all are told.
    """

    # The unique constraint's index starts with the enquiry, so the foreign key needs no other.
    enquiry = models.ForeignKey(
        Enquiry, on_delete=models.CASCADE, related_name="escalation_repeats", db_index=False
    )
    escalated_at = models.DateTimeField(help_text="The escalation repeated.")
    round = models.PositiveIntegerField(help_text="1 for the first pass down the order, and so on.")
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    sent_at = models.DateTimeField()

    class Meta:
        ordering = ["sent_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["enquiry", "escalated_at", "round", "recipient"],
                name="escalation_repeat_once_per_round",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.enquiry}: round {self.round} to {self.recipient}"


class Notification(models.Model):
    """A message in one person's in-app notifications, about one enquiry or (for auditors)
    about the logs."""

    class Kind(models.TextChoices):
        AT_RISK = "at_risk", "At risk"
        BREACHED = "breached", "Breached"
        INFORMATION_REQUEST = "information_request", "Information request"
        CHASER = "chaser", "Information request overdue"
        RELEASE_REQUEST = "release_request", "Release requested"
        RELEASE_ANSWER = "release_answer", "Release answered"
        INFORMATION_ANSWERED = "information_answered", "Information answered"
        ESCALATED = "escalated", "Escalated"
        ESCALATION_REPEATED = "escalation_repeated", "Escalation not yet acknowledged"
        REQUEST_WITHDRAWN = "request_withdrawn", "Information request withdrawn"
        RECORD_CORRECTED = "record_corrected", "Record corrected"
        RECORD_WITHDRAWN = "record_withdrawn", "Record withdrawn"
        REFERRAL_RETURNED = "referral_returned", "Referral returned"
        NFA_REVIEWED = "nfa_reviewed", "NFA decision reviewed"
        LOG_BROKEN = "log_broken", "Access log broken"
        BACKGROUND_FAULT = "background_fault", "Background work failing"
        BACKGROUND_RECOVERED = "background_recovered", "Background work back to normal"

    # Covered by both indexes below, which start with the recipient.
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="notifications",
        db_index=False,
    )
    enquiry = models.ForeignKey(
        Enquiry,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="notifications",
        help_text="Empty for news about the hub itself, such as a broken access log.",
    )
    sla_event = models.ForeignKey(
        SlaEvent,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="notifications",
        db_index=False,  # covered by notification_once_per_event
        help_text="The SLA event this tells the recipient about, if any.",
    )
    kind = models.CharField(max_length=24, choices=Kind.choices)
    message = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["recipient", "-created_at", "-id"], name="notification_newest"),
            models.Index(
                fields=["recipient", "-created_at"],
                condition=models.Q(read_at__isnull=True),
                name="notification_unread",
            ),
        ]
        constraints = [
            # A second guard, beside the SLA event's own, against telling anyone twice.
            models.UniqueConstraint(
                fields=["sla_event", "recipient"], name="notification_once_per_event"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.recipient}: {self.message}"

    @property
    def is_unread(self) -> bool:
        return self.read_at is None

    @property
    def tag(self) -> str:
        return NOTIFICATION_TAGS[self.kind][0]

    @property
    def tag_colour(self) -> str:
        return NOTIFICATION_TAGS[self.kind][1]

    @property
    def awaits_acknowledgement(self) -> bool:
        """News of an escalation still open that no manager has acknowledged yet (read with
        the notification: `notifications.user_notifications`)."""
        enquiry = self.enquiry if self.enquiry_id else None
        return (
            self.kind in ESCALATION_NOTICES
            and enquiry is not None
            and enquiry.is_open
            and enquiry.escalated_at is not None
            and enquiry.escalation_acknowledged_at is None
        )


# What tells managers of an escalation, which they may acknowledge from the notification.
ESCALATION_NOTICES = (Notification.Kind.ESCALATED, Notification.Kind.ESCALATION_REPEATED)


class NotificationGroup(models.TextChoices):
    """What the notifications page filters by: kinds a person reads together."""

    DEADLINES = "deadlines", "Deadlines at risk or missed"
    ESCALATIONS = "escalations", "Escalations"
    INFORMATION = "information", "Information asked, answered or chased"
    RELEASES = "releases", "Releases"
    REFERRALS = "referrals", "Referrals and reviews"
    HUB = "hub", "The hub itself"


# Each kind's tag (its words and GOV.UK colour) and group: only a deadline warns in orange or
# red, so that a tag means what it says at a glance.
NOTIFICATION_TAGS: dict[str, tuple[str, str, str]] = {
    Notification.Kind.AT_RISK: ("Deadline at risk", "orange", NotificationGroup.DEADLINES),
    Notification.Kind.BREACHED: ("Deadline missed", "red", NotificationGroup.DEADLINES),
    Notification.Kind.ESCALATED: ("Escalated", "red", NotificationGroup.ESCALATIONS),
    Notification.Kind.ESCALATION_REPEATED: (
        "Escalation not yet acknowledged",
        "red",
        NotificationGroup.ESCALATIONS,
    ),
    Notification.Kind.INFORMATION_REQUEST: (
        "Information asked",
        "blue",
        NotificationGroup.INFORMATION,
    ),
    Notification.Kind.CHASER: ("Chased", "yellow", NotificationGroup.INFORMATION),
    Notification.Kind.INFORMATION_ANSWERED: (
        "Information answered",
        "green",
        NotificationGroup.INFORMATION,
    ),
    Notification.Kind.REQUEST_WITHDRAWN: (
        "Request withdrawn",
        "grey",
        NotificationGroup.INFORMATION,
    ),
    Notification.Kind.RECORD_CORRECTED: (
        "Record corrected",
        "purple",
        NotificationGroup.INFORMATION,
    ),
    Notification.Kind.RECORD_WITHDRAWN: ("Record withdrawn", "grey", NotificationGroup.INFORMATION),
    Notification.Kind.RELEASE_REQUEST: ("Release requested", "purple", NotificationGroup.RELEASES),
    Notification.Kind.RELEASE_ANSWER: ("Release decided", "turquoise", NotificationGroup.RELEASES),
    Notification.Kind.REFERRAL_RETURNED: ("Referral returned", "pink", NotificationGroup.REFERRALS),
    Notification.Kind.NFA_REVIEWED: ("NFA reviewed", "blue", NotificationGroup.REFERRALS),
    Notification.Kind.LOG_BROKEN: ("Access log broken", "red", NotificationGroup.HUB),
    Notification.Kind.BACKGROUND_FAULT: ("Background failing", "red", NotificationGroup.HUB),
    Notification.Kind.BACKGROUND_RECOVERED: (
        "Background recovered",
        "green",
        NotificationGroup.HUB,
    ),
}


def notification_kinds_in(group: str) -> list[str]:
    return [kind for kind, (_, _, of) in NOTIFICATION_TAGS.items() if of == group]


# What comes by email as well to someone who has not chosen: what must not wait for them to
# look at the hub (docs/domain.md section 9).
DEFAULT_EMAIL_KINDS = (
    Notification.Kind.ESCALATED,
    Notification.Kind.ESCALATION_REPEATED,
    Notification.Kind.BREACHED,
    Notification.Kind.RELEASE_REQUEST,
    Notification.Kind.RELEASE_ANSWER,
    # An administrator may not sign in for days: deadlines are not being checked.
    Notification.Kind.BACKGROUND_FAULT,
)


class EmailPreference(models.Model):
    """Which kinds of a person's notifications also come by email; without a row, the
    defaults (`DEFAULT_EMAIL_KINDS`)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="email_preference",
    )
    kinds = models.JSONField(default=list, help_text="Notification kinds also sent by email.")
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.user}: {', '.join(self.kinds) or 'no email'}"


class OutgoingEmail(models.Model):
    """An email the hub sends (docs/domain.md sections 6.1 and 9): feedback to a referrer, or
    a notification someone chose to have by email. Queued in the transaction that made it,
    sent after the commit by a worker; the exact text sent and whether it went are kept."""

    class Kind(models.TextChoices):
        FEEDBACK = "feedback", "Feedback to the referrer"
        NOTIFICATION = "notification", "Notification"

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"

    kind = models.CharField(max_length=16, choices=Kind.choices)
    to_address = models.EmailField()
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="The person in the hub it went to; empty for a referrer.",
    )
    enquiry = models.ForeignKey(
        Enquiry, on_delete=models.PROTECT, null=True, blank=True, related_name="emails"
    )
    notification = models.ForeignKey(
        Notification, on_delete=models.SET_NULL, null=True, blank=True, related_name="emails"
    )
    subject = models.CharField(max_length=200)
    body = models.TextField(help_text="Exactly the text sent.")
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.QUEUED)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    queued_at = models.DateTimeField()
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="Who sent it; empty for what the hub sends by itself (the SLA scan).",
    )

    class Meta:
        ordering = ["queued_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(status="sent") | models.Q(sent_at__isnull=False),
                name="outgoing_email_sent_has_a_time",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.subject} to {self.to_address} ({self.get_status_display()})"


class OnwardReferral(models.Model):
    """The hub handing an enquiry on after its decision (docs/domain.md section 6.2): to whom,
    when and how, with the picture as it was sent, and what the receiving team answered."""

    class Destination(models.TextChoices):
        CSC_ASSESSMENT = "csc_assessment", "Children's social care: assessment"
        CSC_STRATEGY = "csc_strategy", "Children's social care: strategy discussion (s.47)"
        EARLY_HELP = "early_help", "Early help"
        POLICE = "police", "Police"
        ADULT_SOCIAL_CARE = "adult_social_care", "Adult social care"
        MARAC = "marac", "MARAC"
        OTHER_LOCAL_AUTHORITY = "other_local_authority", "Another local authority"
        HEALTH = "health", "Health"
        OTHER = "other", "Other"

    class Method(models.TextChoices):
        SECURE_EMAIL = "secure_email", "Secure email"
        CASE_SYSTEM = "case_system", "Their case management system"
        PHONE = "phone", "Phone, confirmed in writing"
        IN_PERSON = "in_person", "In person, confirmed in writing"

    class Status(models.TextChoices):
        SENT = "sent", "Sent, awaiting acknowledgement"
        ACCEPTED = "accepted", "Accepted"
        RETURNED = "returned", "Returned"

    enquiry = models.ForeignKey(Enquiry, on_delete=models.PROTECT, related_name="referrals")
    destination = models.CharField(max_length=24, choices=Destination.choices)
    team = models.CharField(
        max_length=200,
        blank=True,
        help_text="The receiving team or authority by name, such as 'Leeds City Council'.",
    )
    method = models.CharField(max_length=16, choices=Method.choices)
    sent_at = models.DateTimeField()
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    note = models.TextField(blank=True)
    picture = models.BinaryField(
        editable=False, help_text="The picture as a PDF, compiled when the referral was sent."
    )
    picture_compiled_at = models.DateTimeField()
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.SENT)
    answered_at = models.DateTimeField(
        null=True, blank=True, help_text="When the receiving team accepted or returned it."
    )
    answer_recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    answered_by_name = models.CharField(
        max_length=200, blank=True, help_text="Who in the receiving team answered."
    )
    returned_reason = models.TextField(blank=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["sent_at", "id"]
        indexes = [models.Index(fields=["sent_at"], name="onward_referral_sent")]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(status="returned") | ~models.Q(returned_reason=""),
                name="onward_referral_returned_with_reason",
            ),
            models.CheckConstraint(
                condition=models.Q(status="sent", answered_at__isnull=True)
                | (~models.Q(status="sent") & models.Q(answered_at__isnull=False)),
                name="onward_referral_answer_has_a_time",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.enquiry} to {self.get_destination_display()}"


class IntakeKey(models.Model):
    """The key an intake was sent with (the form's hidden field, the API's `Idempotency-Key`
    header) and the family it logged: the same submission again, a double click or a client's
    retry, is answered with that family rather than logging the concern twice."""

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    key = models.CharField(max_length=200)
    fingerprint = models.CharField(max_length=64, help_text="SHA-256 of what was submitted.")
    family = models.ForeignKey(
        FamilyEnquiry,
        on_delete=models.CASCADE,
        null=True,
        related_name="+",
        help_text="Empty only inside the transaction that logs the family.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["created_by", "key"], name="intake_key_once_per_user")
        ]

    def __str__(self) -> str:
        return self.key


class Heartbeat(models.Model):
    """When a scheduled task last finished, for /healthz. Kept in the database rather than
    Redis, so that while Redis is down its age is still known, and still growing."""

    task = models.CharField(max_length=200, primary_key=True)
    finished_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.task} at {self.finished_at:%Y-%m-%d %H:%M:%S}"

    @classmethod
    def record(cls, task: str) -> None:
        """Note that `task` has just finished (one upsert, committed at once: concurrent runs
        never wait on each other's scan for it)."""
        Heartbeat.objects.bulk_create(
            [Heartbeat(task=task, finished_at=timezone.now())],
            update_conflicts=True,
            unique_fields=["task"],
            update_fields=["finished_at"],
        )


class BackgroundHealth(models.Model):
    """Where the background check (mash.health) stands between its runs: since when it has
    been failing and when the administrators were told, so that they are told once per spell
    of failure, and told again when it is over. One row, made by the first run."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    bad_since = models.DateTimeField(
        null=True, blank=True, help_text="When the check was first seen failing, if it is."
    )
    alerted_at = models.DateTimeField(
        null=True, blank=True, help_text="When the administrators were told of this failure."
    )
    checked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "background health"

    def __str__(self) -> str:
        return f"failing since {self.bad_since:%Y-%m-%d %H:%M}" if self.bad_since else "healthy"


class HubSettingsChange(AppendOnlyModel):
    """One change an administrator saved on the hub settings pages: who, when, why, the
    setting's version before and after, and its values before and after. Append-only: the
    history of the hub's settings is never rewritten."""

    log_name = "history of hub settings"

    class Area(models.TextChoices):
        OPENING_HOURS = "opening_hours", "Opening hours and time zone"
        CLOSURE_DAYS = "closure_days", "Closure days and bank holidays"
        ALLOWANCES = "allowances", "RAG allowances and at-risk share"
        ESCALATION = "escalation", "Escalation policy"
        SHARING = "sharing", "Sharing policy"
        AGENCIES = "agencies", "Agencies"
        PEOPLE = "people", "People and roles"
        OUTCOMES = "outcomes", "Outcomes"
        REFERRER_TYPES = "referrer_types", "Referrer types"

    area = models.CharField(max_length=32, choices=Area.choices)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    changed_at = models.DateTimeField()
    reason = models.TextField(help_text="Why the administrator made the change.")
    version_before = models.PositiveIntegerField()
    version_after = models.PositiveIntegerField()
    before = models.JSONField(help_text="The settings changed, as they were.")
    after = models.JSONField(help_text="The settings changed, as they became.")
    changes = models.JSONField(
        default=list, help_text="What changed, as the preview said it: [what, old, new]."
    )
    effect = models.CharField(max_length=300, help_text="What the preview said the change moves.")

    class Meta:
        ordering = ["-changed_at", "-id"]
        indexes = [models.Index(fields=["-changed_at", "-id"], name="hub_settings_change_recent")]

    def __str__(self) -> str:
        return f"{self.get_area_display()} changed {self.changed_at:%Y-%m-%d %H:%M}"
