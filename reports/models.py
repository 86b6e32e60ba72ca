"""Quality assurance of no-further-action decisions (issue 20, item 3; docs/domain.md 7.1).

Each week a share of the previous week's NFA decisions is drawn, reproducibly, into a review
queue; a reviewer who did not make the decision says whether they agree, what should have
happened and what the hub can learn. The QA report counts agreement; the reviews themselves
are for the hub's managers and reviewers only.
"""

from django.conf import settings
from django.core.validators import MaxValueValidator
from django.db import models

from enquiries.models import Enquiry, Outcome, Rag


class NfaSampling(models.Model):
    """The hub's sampling setting: one row, edited by an administrator."""

    share_percent = models.PositiveSmallIntegerField(
        default=10,
        validators=[MaxValueValidator(100)],
        help_text="The share of each week's no-further-action decisions drawn for review.",
    )
    reviewers = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="+",
        help_text="Who may review (researchers or managers); with nobody chosen, every manager.",
    )

    class Meta:
        verbose_name = "NFA quality sampling"
        verbose_name_plural = "NFA quality sampling"

    def __str__(self) -> str:
        return f"Sample {self.share_percent}% of no-further-action decisions each week"

    @classmethod
    def current(cls) -> "NfaSampling":
        return cls.objects.get_or_create(pk=1)[0]


class NfaReview(models.Model):
    """One NFA decision drawn for review, and the review when it is done."""

    class Verdict(models.TextChoices):
        AGREE = "agree", "Agree with the decision"
        DISAGREE = "disagree", "Disagree with the decision"

    enquiry = models.OneToOneField(Enquiry, on_delete=models.PROTECT, related_name="nfa_review")
    week_start = models.DateField(
        help_text="The Monday of the week whose decisions it was drawn from."
    )
    drawn_at = models.DateTimeField()
    verdict = models.CharField(max_length=8, choices=Verdict.choices, blank=True)
    should_have_been = models.ForeignKey(
        Outcome,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="The outcome the reviewer would have chosen, if they disagree.",
    )
    what_should_have_happened = models.TextField(blank=True)
    learning = models.TextField(blank=True)
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["week_start", "id"]
        indexes = [
            models.Index(
                fields=["week_start", "id"],
                condition=models.Q(reviewed_at__isnull=True),
                name="nfa_review_waiting",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(verdict="", reviewed_at__isnull=True, reviewer__isnull=True)
                | (
                    ~models.Q(verdict="")
                    & models.Q(reviewed_at__isnull=False, reviewer__isnull=False)
                ),
                name="nfa_review_done_whole",
            ),
            models.CheckConstraint(
                condition=~models.Q(verdict="disagree") | ~models.Q(what_should_have_happened=""),
                name="nfa_review_disagreement_says_what",
            ),
        ]

    def __str__(self) -> str:
        return f"NFA review of {self.enquiry}"

    @property
    def is_done(self) -> bool:
        return self.reviewed_at is not None


class DecisionSummary(models.Model):
    """The hub's decisions counted by day in one time zone (the hub's, `TIME_ZONE`), so the
    dashboard reads twelve weeks of decisions as a few hundred rows rather than adding up
    half a million enquiries on each request (issue 23).

    PostgreSQL keeps the counts itself: triggers on the enquiries table add each statement's
    decisions to their day as they are written, however they are written (a decision, an
    import's COPY, a correction in the shell), in the transaction that writes them. No row
    for the zone, and the dashboard counts the enquiries instead (reports.decisions)."""

    zone = models.CharField(max_length=64, unique=True)
    built_at = models.DateTimeField()

    class Meta:
        verbose_name_plural = "decision summaries"

    def __str__(self) -> str:
        return f"Decisions by day in {self.zone}"


class DecisionDay(models.Model):
    """The decisions of one day (in the summary's zone) of one rating that ran under one
    allowance: how many, how many on time, and the first of them (which orders a rating's
    allowances when one changed: "480 then 120")."""

    summary = models.ForeignKey(
        DecisionSummary,
        on_delete=models.CASCADE,
        related_name="days",
        db_index=False,  # the unique constraint starts with it
    )
    day = models.DateField()
    rating = models.CharField(max_length=8, choices=Rag.choices)
    allowance_minutes = models.PositiveIntegerField()
    decided = models.PositiveIntegerField()
    on_time = models.PositiveIntegerField()
    first_decided_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["summary", "day", "rating", "allowance_minutes"],
                name="decision_day_once",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.day}: {self.decided} {self.rating} decided"
