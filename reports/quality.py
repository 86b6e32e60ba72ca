"""Quality assurance of no-further-action decisions (issue 20, item 3; docs/domain.md 7.1).

Every Monday the beat draws the sampling share of the previous week's NFA decisions into the
review queue. The draw is reproducible: the decisions are ordered by a hash of the week and
their id, so drawing the same week again picks the same ones, and nobody chooses which are
looked at. A reviewer is one the administrator named (or, with none named, any manager) and
never the manager who made the decision; a disagreement says what should have happened and
tells the deciding manager.
"""

import math
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import CharField, QuerySet, Value
from django.db.models.functions import MD5, Cast, Concat
from django.utils import timezone

from agencies.models import Role, User
from enquiries.exceptions import StaleEdit
from enquiries.mail import email_notifications
from enquiries.models import Enquiry, Notification, Outcome

from .models import NfaReview, NfaSampling

NFA = "nfa"
Verdict = NfaReview.Verdict


def week_of(day: date) -> date:
    """The Monday of the week `day` falls in."""
    return day - timedelta(days=day.weekday())


def _hub_midnight(day: date) -> datetime:
    return datetime.combine(day, datetime.min.time(), tzinfo=timezone.get_current_timezone())


def nfa_decisions_in_week(week_start: date) -> QuerySet[Enquiry]:
    start = _hub_midnight(week_start)
    return Enquiry.objects.filter(
        outcome__code=NFA, decided_at__gte=start, decided_at__lt=start + timedelta(days=7)
    )


@dataclass(frozen=True)
class Draw:
    week_start: date
    decisions: int
    drawn: int


@transaction.atomic
def draw_nfa_sample(*, week_start: date, now: datetime | None = None) -> Draw:
    """Draw the sampling share of the week's NFA decisions into the review queue: at least
    one when there was any and the share is above nought. Drawing a week again adds nothing
    (a decision is reviewed once); the settings row is locked so two beats cannot both draw."""
    if week_start.weekday() != 0:
        raise ValueError(f"a week starts on a Monday, not {week_start:%A}")
    policy = NfaSampling.objects.select_for_update().get(pk=NfaSampling.current().pk)
    decisions = nfa_decisions_in_week(week_start)
    total = decisions.count()
    wanted = math.ceil(total * policy.share_percent / 100)
    if NfaReview.objects.filter(week_start=week_start).exists() or not wanted:
        return Draw(week_start, total, 0)
    order = MD5(Concat(Value(f"{week_start.isoformat()}:"), Cast("pk", CharField())))
    chosen = list(
        decisions.exclude(nfa_review__isnull=False)
        .annotate(draw_order=order)
        .order_by("draw_order", "pk")
        .values_list("pk", flat=True)[:wanted]
    )
    now = now or timezone.now()
    NfaReview.objects.bulk_create(
        NfaReview(enquiry_id=pk, week_start=week_start, drawn_at=now) for pk in chosen
    )
    return Draw(week_start, total, len(chosen))


def draw_last_weeks_sample(*, now: datetime | None = None) -> Draw:
    """The beat's Monday job: the week before this one."""
    now = now or timezone.now()
    return draw_nfa_sample(
        week_start=week_of(timezone.localdate(now)) - timedelta(weeks=1), now=now
    )


def may_review(user: User) -> bool:
    """Named reviewers, or with none named every manager; only the hub reads enquiries."""
    if not user.has_role(Role.RESEARCHER, Role.MANAGER):
        return False
    named = NfaSampling.current().reviewers
    if named.exists():
        return named.filter(pk=user.pk).exists()
    return user.has_role(Role.MANAGER)


def review_queue(user: User) -> QuerySet[NfaReview]:
    """The reviews waiting, oldest week first, without those of the reader's own decisions;
    empty for anyone who may not review."""
    if not may_review(user):
        return NfaReview.objects.none()
    return (
        NfaReview.objects.filter(reviewed_at__isnull=True)
        .exclude(enquiry__decided_by=user)
        .select_related("enquiry__subject", "enquiry__decided_by")
        .order_by("week_start", "id")
    )


def review_refusal(user: User, review: NfaReview) -> str | None:
    if not may_review(user):
        return "Only the hub's NFA reviewers review decisions."
    if review.enquiry.decided_by_id == user.pk:
        return "You made this decision: someone else reviews it."
    return None


def record_review(
    *,
    review: NfaReview,
    actor: User,
    verdict: str,
    expected_version: int,
    should_have_been: Outcome | None = None,
    what_should_have_happened: str = "",
    learning: str = "",
    now: datetime | None = None,
) -> NfaReview:
    """The reviewer's verdict, once. A disagreement says what should have happened and
    tells the manager who decided."""
    refusal = review_refusal(actor, review)
    if refusal:
        raise PermissionDenied(refusal)
    errors: dict[str, str] = {}
    if verdict not in Verdict.values:
        errors["verdict"] = "Say whether you agree with the decision."
    what = (what_should_have_happened or "").strip()
    if verdict == Verdict.DISAGREE and not what:
        errors["what_should_have_happened"] = "Say what should have happened instead."
    if (
        verdict == Verdict.DISAGREE
        and should_have_been is not None
        and should_have_been.code == NFA
    ):
        errors["should_have_been"] = "Choose an outcome other than no further action."
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        current = NfaReview.objects.select_for_update().select_related("enquiry").get(pk=review.pk)
        if current.version != expected_version or current.is_done:
            raise StaleEdit(
                changes=["it was reviewed since you opened it"],
                current_version=current.version,
                what="review",
            )
        now = now or timezone.now()
        current.verdict = verdict
        current.should_have_been = should_have_been if verdict == Verdict.DISAGREE else None
        current.what_should_have_happened = what if verdict == Verdict.DISAGREE else ""
        current.learning = (learning or "").strip()
        current.reviewer, current.reviewed_at = actor, now
        current.version += 1
        current.save()
        decider = current.enquiry.decided_by_id
        if verdict == Verdict.DISAGREE and decider is not None:
            told = Notification.objects.create(
                recipient_id=decider,
                enquiry=current.enquiry,
                kind=Notification.Kind.NFA_REVIEWED,
                message=(
                    f"{current.enquiry.reference}: a quality review disagreed with your "
                    f"no-further-action decision. Read the review: {what}"
                ),
                created_at=now,
            )
            email_notifications([told], now=now)
    return current


def reviews_for_deciders(user: User) -> QuerySet[NfaReview]:
    """Done reviews of the reader's own decisions, newest first: what a manager learns."""
    return (
        NfaReview.objects.filter(reviewed_at__isnull=False, enquiry__decided_by=user)
        .select_related("enquiry", "reviewer", "should_have_been")
        .order_by("-reviewed_at", "-id")
    )
